// The management API client warren ctl talks through: node's fetch with basic auth and a
// timeout. Failures every command shares become CtlErrors here with rabbitmqctl's exit codes:
// nothing listening (69, as for an unreachable node), credentials refused (77), no answer in
// time (75), and an endpoint this broker does not offer (69, see notOffered).
import { CtlError, EXIT, type Target } from './args.js';

export interface Reply {
  status: number;
  /** Parsed JSON, or undefined for an empty or non-JSON body. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

/** A vhost, user, queue or connection name as one path segment. */
export const seg = (name: string) => encodeURIComponent(name);

function unreachable(base: string, cause: string): CtlError {
  return new CtlError(EXIT.unavailable, `Error: unable to perform an operation on the management API at ${base}. Please see diagnostics information and suggestions below.

Most common reasons for this are:

 * Target broker is unreachable (e.g. due to hostname resolution, TCP connection or firewall issues)
 * The management API listens on another host or port (--host, --management-port) or is turned off
 * Target broker is not running

DIAGNOSTICS
===========

attempted to contact: ${base}

 * ${cause}`);
}

export class Client {
  constructor(readonly target: Target) {}

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const { base, username, password, timeoutMs } = this.target;
    const h: Record<string, string> = { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`, ...headers };
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      h['content-type'] = 'application/json';
    }
    let res: Response;
    let text: string;
    try {
      res = await fetch(base + path, { method, headers: h, body: payload, signal: AbortSignal.timeout(timeoutMs) });
      text = await res.text();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      if (e.name === 'TimeoutError') throw new CtlError(EXIT.tempfail, `Error: operation ${method} ${path} on ${base} timed out after ${timeoutMs / 1000} seconds`);
      throw unreachable(base, e.cause?.message ?? e.message);
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch { /* not JSON */ }
    if (res.status === 401) {
      const reason = (parsed as { reason?: string } | undefined)?.reason ?? text;
      throw new CtlError(EXIT.noperm, `Error:\nthe management API at ${base} refused user '${username}': 401 (${reason})`);
    }
    if (res.status === 405) throw this.notOffered(method, path, 405);
    return { status: res.status, body: parsed, text };
  }

  /** GET that must answer 200; anything else is reported with the API's reason. */
  async get(path: string): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const r = await this.request('GET', path);
    if (r.status !== 200) throw this.failed(r);
    return r.body;
  }

  /** Whether GET `path` answers 200 (false on 404). */
  async exists(path: string): Promise<boolean> {
    const r = await this.request('GET', path);
    if (r.status === 200) return true;
    if (r.status === 404) return false;
    throw this.failed(r);
  }

  /** A 404 on `path` that may mean "no such endpoint": it does if `collection` is not found either. */
  async checkOffered(collection: string, method: string, path: string): Promise<void> {
    const r = await this.request('GET', collection);
    if (r.status === 404) throw this.notOffered(method, path, 404);
  }

  notOffered(method: string, path: string, status: number): CtlError {
    return new CtlError(EXIT.unavailable, `Error:\nthe management API at ${this.target.base} does not offer ${method} ${path} (${status}): this broker does not support the command yet`);
  }

  /** An unexpected answer: the API's reason, 65 for a refused request body, 70 otherwise. */
  failed(r: Reply): CtlError {
    const reason = r.body?.reason ?? r.body?.error ?? r.text;
    const text = typeof reason === 'string' ? reason : JSON.stringify(reason);
    return new CtlError(r.status === 400 ? EXIT.dataerr : EXIT.software, `Error:\n${text}`);
  }
}
