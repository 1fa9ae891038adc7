// Routes of the management API by method and path pattern. Patterns are the paths RabbitMQ's
// dispatcher uses, with `:name` for a segment ('/api/queues/:vhost/:name'). A request path is
// split on '/' before its segments are percent-decoded, so a vhost named '/' arrives as '%2F'
// and matches one segment, as in RabbitMQ.
import type { Level } from './auth.js';
import type { Handler } from './request.js';

export type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';

interface Route {
  readonly method: Method;
  readonly segments: readonly string[];
  readonly handler: Handler;
  /** The user level the route needs (auth.ts). */
  readonly level: Level;
}

export type Match =
  | { kind: 'found'; handler: Handler; params: Record<string, string>; level: Level }
  | { kind: 'wrong-method' }
  | { kind: 'none' };

export class Router {
  private readonly routes: Route[] = [];

  add(method: Method, pattern: string, handler: Handler, level: Level = 'management'): this {
    this.routes.push({ method, segments: pattern.split('/').slice(1), handler, level });
    return this;
  }

  get(pattern: string, h: Handler, level?: Level): this { return this.add('GET', pattern, h, level); }
  put(pattern: string, h: Handler, level?: Level): this { return this.add('PUT', pattern, h, level); }
  post(pattern: string, h: Handler, level?: Level): this { return this.add('POST', pattern, h, level); }
  delete(pattern: string, h: Handler, level?: Level): this { return this.add('DELETE', pattern, h, level); }

  /** `rawPath` is the path as received, still percent-encoded. */
  match(method: string, rawPath: string): Match {
    const parts = rawPath.split('/').slice(1);
    if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop(); // a trailing slash
    let pathMatched = false;
    for (const r of this.routes) {
      const params = matchSegments(r.segments, parts);
      if (params === null) continue;
      if (r.method === method || (method === 'HEAD' && r.method === 'GET')) return { kind: 'found', handler: r.handler, params, level: r.level };
      pathMatched = true;
    }
    return pathMatched ? { kind: 'wrong-method' } : { kind: 'none' };
  }
}

function matchSegments(pattern: readonly string[], parts: readonly string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    let part: string;
    try {
      part = decodeURIComponent(parts[i]!);
    } catch {
      return null;
    }
    if (p.startsWith(':')) params[p.slice(1)] = part;
    else if (p !== part) return null;
  }
  return params;
}
