// The management listener: node:http, one route table (routes/), basic auth on every API
// request, JSON in and out, errors in RabbitMQ's shape. node:http rather than a framework: the
// whole dispatcher is this file and router.ts, it adds nothing to start-up time, and every byte
// of a response (status, empty bodies, header names) is ours to match RabbitMQ's.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { requireLevel, authenticate } from './auth.js';
import type { ManagementContext } from './context.js';
import { HttpError, toHttpError } from './errors.js';
import type { Reply, Req } from './request.js';
import type { Router } from './router.js';
import { closeHttp, listenHttp } from './listener.js';
import { StaticFiles } from './static.js';

/** Larger bodies (a definitions file of many thousand objects) are refused with 413. */
const MAX_BODY = 64 * 1024 * 1024;

export class ManagementServer {
  private server: http.Server | null = null;
  /** The web UI's files: `/` and `/ui/...`, outside /api/ and without authentication. */
  private readonly files = new StaticFiles();

  /** The route table, loaded by the first API request (index.ts says why). */
  private router: Promise<Router> | null = null;

  constructor(private readonly ctx: ManagementContext, private readonly loadRouter: () => Promise<Router>) {}

  private routes(): Promise<Router> {
    // A failed load (files missing under a running broker) is not remembered: the next request tries again.
    return (this.router ??= this.loadRouter().catch((err: unknown) => {
      this.router = null;
      throw err;
    }));
  }

  async listen(port: number, host: string): Promise<AddressInfo> {
    const { server, address } = await listenHttp((req, res) => this.handle(req, res), port, host);
    this.server = server;
    return address;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s !== null) await closeHttp(s);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if ((req.method === 'GET' || req.method === 'HEAD') && this.serveFile(req, res)) return;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return this.send(req, res, errorReply(new HttpError(413, 'bad_request', 'request body too large')));
      this.dispatch(req, Buffer.concat(chunks)).then(
        (reply) => this.send(req, res, reply),
        (err) => this.send(req, res, errorReply(toHttpError(err), this.ctx, err, fromScript(req))),
      );
    });
  }

  /** A web UI file: true when the path is the UI's (answered, found or not). */
  private serveFile(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0]!;
    if (!StaticFiles.owns(path)) return false;
    req.resume();
    const f = this.files.lookup(path);
    if (f === null) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : 'Not Found');
      return true;
    }
    res.writeHead(200, { 'content-type': f.type, 'content-length': f.body.length, 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : f.body);
    return true;
  }

  private async dispatch(req: http.IncomingMessage, rawBody: Buffer): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const m = (await this.routes()).match(req.method ?? 'GET', url.pathname);
    if (m.kind === 'none') throw HttpError.notFound();
    if (m.kind === 'wrong-method') throw HttpError.methodNotAllowed();
    const user = authenticate(this.ctx.users, req.headers, req.socket.remoteAddress);
    requireLevel(user, m.level);
    const r: Req = { method: req.method ?? 'GET', params: m.params, query: url.searchParams, headers: req.headers, user, rawBody };
    return m.handler(r, this.ctx);
  }

  private send(req: http.IncomingMessage, res: http.ServerResponse, reply: Reply): void {
    const headers: Record<string, string> = { vary: 'origin', ...reply.headers };
    let body: string | undefined;
    if (reply.body !== undefined && reply.status !== 204) {
      body = JSON.stringify(reply.body);
      headers['content-type'] = 'application/json';
    }
    res.writeHead(reply.status, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

function errorReply(e: HttpError, ctx?: ManagementContext, cause?: unknown, noChallenge = false): Reply {
  if (e.status === 500) ctx?.log.error('management API internal error', { error: e.reason, stack: (cause as Error)?.stack });
  let headers = e.headers;
  if (noChallenge && 'www-authenticate' in headers) {
    headers = { ...headers };
    delete headers['www-authenticate'];
  }
  return { status: e.status, headers, body: e.empty ? undefined : { error: e.error, reason: e.reason } };
}

/**
 * A request from a script in a browser page (the web UI) says so with X-Requested-With; its 401
 * then carries no WWW-Authenticate challenge, which would make the browser hold the request
 * for its own login dialog. Everything else gets RabbitMQ's answer unchanged.
 */
function fromScript(req: http.IncomingMessage): boolean {
  return req.headers['x-requested-with'] === 'XMLHttpRequest';
}
