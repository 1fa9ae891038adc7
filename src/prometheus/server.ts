// The Prometheus listener, as rabbitmq_prometheus's: GET /metrics (aggregated) and
// GET /metrics/per-object, text exposition format 0.0.4, gzip when the scraper accepts it (as
// Prometheus does); anything else is RabbitMQ's JSON 404. No authentication, as RabbitMQ's.
// node:http, like the management listener: two routes need no framework.
//
// The metric families (metrics.ts, exposition.ts) and node:zlib are imported by the first
// scrape: a broker nobody scrapes (a test suite's) carries only the listener and the lag
// checkpoints, which must run from the start.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { closeHttp, listenHttp } from '../http/listener.js';
import type { PrometheusContext } from './context.js';
import { CHECKPOINT_INTERVAL_MS, LagTracker } from './lag.js';
import type { Mode } from './metrics.js';

const CONTENT_TYPE = 'text/plain; version=0.0.4';
const NOT_FOUND = JSON.stringify({ error: 'Object Not Found', reason: 'Not Found' });
const PATHS: Record<string, Mode> = { '/metrics': 'aggregated', '/metrics/per-object': 'per-object' };

export class PrometheusServer {
  private server: http.Server | null = null;
  private timer: NodeJS.Timeout | null = null;
  readonly lag = new LagTracker();

  constructor(private readonly ctx: PrometheusContext) {}

  async listen(port: number, host: string): Promise<AddressInfo> {
    const { server, address } = await listenHttp((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    }, port, host);
    this.server = server;
    // Lag checkpoints between scrapes (see lag.ts).
    this.checkpoint();
    this.timer = setInterval(() => this.checkpoint(), CHECKPOINT_INTERVAL_MS);
    this.timer.unref();
    return address;
  }

  /** Note every queue's next sequence number against the clock. */
  checkpoint(now = Date.now()): void {
    for (const v of this.ctx.vhosts.values()) for (const q of v.queues.values()) this.lag.observe(q, now);
  }

  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    const s = this.server;
    this.server = null;
    if (s !== null) await closeHttp(s);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    req.resume();
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const mode = PATHS[path];
    if (mode === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(NOT_FOUND) });
      res.end(req.method === 'HEAD' ? undefined : NOT_FOUND);
      return;
    }
    const { render } = await import('./metrics.js');
    const text = Buffer.from(render(this.ctx, this.lag, mode, Date.now()));
    const zipped = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = zipped ? await promisify((await import('node:zlib')).gzip)(text) : text;
    res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-encoding': zipped ? 'gzip' : 'identity', 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}
