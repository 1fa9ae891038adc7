// What a management API handler gets and returns. Handlers are plain functions of the request
// and the broker's management view; they call core operations and return a Reply.
import type { IncomingHttpHeaders } from 'node:http';
import type { User } from '../core/users.js';
import type { ManagementContext } from './context.js';
import { HttpError } from './errors.js';

export interface Req {
  readonly method: string;
  /** Path parameters, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** The user the request authenticated as. */
  readonly user: User;
  readonly rawBody: Buffer;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (req: Req, ctx: ManagementContext) => Reply | Promise<Reply>;

export const json = (body: unknown, status = 200): Reply => ({ status, body });
export const noContent = (): Reply => ({ status: 204 });
export const created = (location?: string): Reply => ({ status: 201, headers: location ? { location } : {} });

/**
 * The request body as a JSON object, as rabbitmq_management reads it: an empty body is {},
 * anything that does not parse is 400 bad_request.
 */
export function bodyObject(req: Req): Record<string, unknown> {
  if (req.rawBody.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(req.rawBody.toString('utf8'));
  } catch {
    v = undefined;
  }
  // RabbitMQ says "not_json" for both: text that does not parse, and JSON that is no object.
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw HttpError.badRequest('not_json');
  return v as Record<string, unknown>;
}

/** A path parameter that the route pattern guarantees. */
export function param(req: Req, name: string): string {
  const v = req.params[name];
  if (v === undefined) throw new Error(`route has no parameter '${name}'`);
  return v;
}
