// Helpers the route families share: vhost lookup with RabbitMQ's 404s, the Actor an HTTP
// request acts as, and which objects a user may see.
import type { Connection } from '../../amqp/connection.js';
import type { Actor } from '../../core/actor.js';
import type { VHost } from '../../core/vhost.js';
import { hasLevel } from '../auth.js';
import type { ManagementContext } from '../context.js';
import { HttpError } from '../errors.js';
import { param, type Req } from '../request.js';

/**
 * The vhost named by the `vhost` path parameter; 404 "Object Not Found" when there is none, and
 * 401 "User not authorised to access virtual host" when the user may not see it
 * (rabbit_mgmt_util:is_authorized_vhost, checked against 3.10.8).
 */
export function vhostParam(req: Req, ctx: ManagementContext): VHost {
  const v = ctx.vhosts.get(param(req, 'vhost'));
  if (v === undefined) throw HttpError.notFound();
  return authorised(req, ctx, v);
}

/** For creating things in a vhost: RabbitMQ answers a missing vhost with its own 404 body. */
export function vhostForCreate(req: Req, ctx: ManagementContext): VHost {
  const v = ctx.vhosts.get(param(req, 'vhost'));
  if (v === undefined) throw new HttpError(404, 'not_found', 'vhost_not_found');
  return authorised(req, ctx, v);
}

function authorised(req: Req, ctx: ManagementContext, v: VHost): VHost {
  if (hasLevel(req.user, 'monitoring') || ctx.registry.permissions.canOpen(req.user.name, v.name)) return v;
  throw HttpError.notAuthorised('User not authorised to access virtual host');
}

/**
 * The vhosts whose objects the user sees: all for an administrator (or a monitoring user), else
 * those the user has permissions in, as rabbit_mgmt_util:list_visible_vhosts.
 */
export function visibleVhosts(req: Req, ctx: ManagementContext): VHost[] {
  const all = [...ctx.vhosts.values()];
  if (hasLevel(req.user, 'monitoring')) return all;
  return all.filter((v) => ctx.registry.permissions.canOpen(req.user.name, v.name));
}

/** The vhosts of the `vhost` parameter if given, else all visible ones. */
export function vhostsOf(req: Req, ctx: ManagementContext): VHost[] {
  return req.params.vhost !== undefined ? [vhostParam(req, ctx)] : visibleVhosts(req, ctx);
}

/**
 * An HTTP request acts as its user, with that user's permissions in the vhost (so a declare over
 * HTTP needs configure, as over AMQP); no connection owns what it declares.
 */
export function httpActor(req: Req, vhost: VHost, ctx: ManagementContext): Actor {
  return { user: req.user, vhost: vhost.name, connection: 'management API', access: ctx.registry.permissions };
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
