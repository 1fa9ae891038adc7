// Helpers the route families share: vhost lookup with RabbitMQ's 404s, the Actor an HTTP
// request acts as, and which objects a user may see.
import type { Connection } from '../../amqp/connection.js';
import type { Actor } from '../../core/actor.js';
import type { VHost } from '../../core/vhost.js';
import { hasLevel } from '../auth.js';
import type { ManagementContext } from '../context.js';
import { HttpError } from '../errors.js';
import { param, type Req } from '../request.js';

/** The vhost named by the `vhost` path parameter; 404 "Object Not Found" when there is none. */
export function vhostParam(req: Req, ctx: ManagementContext): VHost {
  const v = ctx.vhosts.get(param(req, 'vhost'));
  if (v === undefined) throw HttpError.notFound();
  return v;
}

/** For creating things in a vhost: RabbitMQ answers a missing vhost with its own 404 body. */
export function vhostForCreate(req: Req, ctx: ManagementContext): VHost {
  const v = ctx.vhosts.get(param(req, 'vhost'));
  if (v === undefined) throw new HttpError(404, 'not_found', 'vhost_not_found');
  return v;
}

/** The vhosts whose objects the user sees (every vhost until per-vhost permissions exist). */
export function visibleVhosts(_req: Req, ctx: ManagementContext): VHost[] {
  return [...ctx.vhosts.values()];
}

/** The vhosts of the `vhost` parameter if given, else all visible ones. */
export function vhostsOf(req: Req, ctx: ManagementContext): VHost[] {
  return req.params.vhost !== undefined ? [vhostParam(req, ctx)] : visibleVhosts(req, ctx);
}

/** An HTTP request acts as its user; no connection owns what it declares. */
export function httpActor(req: Req, vhost: VHost): Actor {
  return { user: req.user, vhost: vhost.name, connection: 'management API' };
}

/** Connections the user sees: all for monitoring users, else their own (as RabbitMQ). */
export function visibleConnections(req: Req, ctx: ManagementContext): Connection[] {
  const all = [...ctx.connections].filter((c) => c.running || c.state === 'closing');
  return hasLevel(req.user, 'monitoring') ? all : all.filter((c) => c.user?.name === req.user.name);
}

/** `amq.default` in a URL is the default exchange, whose name is ''. */
export function exchangeName(name: string): string {
  return name === 'amq.default' ? '' : name;
}

/** A boolean field of a request body: absent means `dflt`, anything but a boolean is 400. */
export function boolField(body: Record<string, unknown>, key: string, dflt: boolean): boolean {
  const v = body[key];
  if (v === undefined) return dflt;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  throw HttpError.badRequest(`${key} must be a boolean`);
}
