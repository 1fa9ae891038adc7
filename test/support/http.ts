// The frame the management API suites stand in: interopSuite() with the management listener on
// a free port, and a small client for it. In differential mode (WARREN_EXTERNAL_URL, plus
// WARREN_EXTERNAL_HTTP=http://127.0.0.1:15711 for the management plugin of the same RabbitMQ)
// the same requests go to RabbitMQ, so every assertion is checked against the real thing.
import { ANY_FREE_PORT } from '../../src/config.js';
import { external, interopSuite, type InteropSuite, type SuiteOptions } from './suite.js';

export const externalHttp = process.env.WARREN_EXTERNAL_HTTP;

export interface HttpReply {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the text when it is not JSON ('' for an empty body). */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

export interface HttpSuite extends InteropSuite {
  /** The management API's base URL (no trailing slash). */
  readonly http: string;
  /** A request as `user` (guest:guest unless given); `body` is sent as JSON unless a string. */
  api(method: string, path: string, body?: unknown, opts?: { user?: string; pass?: string; headers?: Record<string, string> }): Promise<HttpReply>;
}

export function httpSuite(options: SuiteOptions = {}): HttpSuite {
  const s = interopSuite({ ...options, broker: { managementPort: ANY_FREE_PORT, managementSampleIntervalMs: 200, ...options.broker } });
  if (external && externalHttp === undefined) throw new Error('differential mode needs WARREN_EXTERNAL_HTTP for the management suites');
  const base = () => (external ? externalHttp!.replace(/\/$/, '') : `http://127.0.0.1:${s.warren!.managementPort}`);
  const extra = {
    get http() { return base(); },
    async api(method: string, path: string, body?: unknown, opts: { user?: string; pass?: string; headers?: Record<string, string> } = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.user !== '') headers.authorization = `Basic ${Buffer.from(`${opts.user ?? 'guest'}:${opts.pass ?? 'guest'}`).toString('base64')}`;
      let payload: string | undefined;
      if (body !== undefined) {
        payload = typeof body === 'string' ? body : JSON.stringify(body);
        headers['content-type'] = 'application/json';
      }
      const res = await fetch(base() + path, { method, headers, body: payload });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text === '' ? '' : JSON.parse(text);
      } catch { /* not JSON: keep the text */ }
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
  };
  // Descriptors, not Object.assign, so the getters stay getters (the broker starts later).
  return Object.defineProperties(Object.create(s), Object.getOwnPropertyDescriptors(extra)) as HttpSuite;
}

/** A vhost name as it goes into an API path. */
export const vh = (name: string) => encodeURIComponent(name);
