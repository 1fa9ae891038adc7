// /api/users, /api/vhosts (create, delete), /api/permissions and /api/topic-permissions, over
// core's registry (the same operations `broker.addVhost`, `users.addUser`, `setPermissions`
// and definitions import use), with rabbitmq_management 3.10's shapes, codes and reasons.
import { DEFAULT_HASHING, isHashingAlgorithm } from '../../core/password.js';
import type { UserRecord } from '../../core/users.js';
import type { ManagementContext } from '../context.js';
import { HttpError } from '../errors.js';
import { listReply } from '../list.js';
import { requireKeys } from '../messages.js';
import { bodyObject, created, json, noContent, param, type Reply, type Req } from '../request.js';
import type { Router } from '../router.js';

export function userView(u: UserRecord): Record<string, unknown> {
  return { name: u.name, password_hash: u.passwordHash.toString('base64'), hashing_algorithm: u.hashingAlgorithm, tags: u.tags, limits: {} };
}

/** Tags as the API takes them: "a,b" or ["a", "b"]. */
function tagsOf(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String).filter((t) => t !== '');
  return String(v).split(',').map((t) => t.trim()).filter((t) => t !== '');
}

function userParam(req: Req, ctx: ManagementContext): UserRecord {
  const name = param(req, 'user');
  const u = ctx.registry.users.list().find((x) => x.name === name);
  if (u === undefined) throw HttpError.notFound();
  return u;
}

/** PUT /api/users/u: {password | password_hash (+ hashing_algorithm), tags} (tags required, as RabbitMQ). */
function putUser(req: Req, ctx: ManagementContext): Reply {
  const name = param(req, 'user');
  const body = bodyObject(req);
  if (body.tags === undefined) throw HttpError.badRequest('tags_not_present');
  const users = ctx.registry.users;
  const existed = users.has(name);
  const tags = tagsOf(body.tags);
  if (typeof body.password === 'string') {
    if (existed) {
      users.changePassword(name, body.password);
      users.setTags(name, tags);
    } else users.addUser(name, body.password, tags);
  } else if (typeof body.password_hash === 'string') {
    const algorithm = body.hashing_algorithm ?? DEFAULT_HASHING;
    if (!isHashingAlgorithm(algorithm)) throw HttpError.badRequest(`invalid hashing algorithm: ${String(algorithm)}`);
    users.put({ name, passwordHash: Buffer.from(body.password_hash, 'base64'), hashingAlgorithm: algorithm, tags });
  } else if (existed) {
    users.setTags(name, tags);
  } else {
    // No password at all: a user that cannot log in with a password (EXTERNAL only).
    users.put({ name, passwordHash: Buffer.alloc(0), hashingAlgorithm: DEFAULT_HASHING, tags });
  }
  return existed ? noContent() : created();
}

function deleteUser(req: Req, ctx: ManagementContext): Reply {
  ctx.registry.users.deleteUser(userParam(req, ctx).name);
  return noContent();
}

/** POST /api/users/bulk-delete {"users": [...]}: deletes in order; an unknown one stops it with 400. */
function bulkDelete(req: Req, ctx: ManagementContext): Reply {
  const body = bodyObject(req);
  const names = Array.isArray(body.users) ? body.users.map(String) : [];
  for (const n of names) {
    if (!ctx.registry.users.has(n)) throw HttpError.badRequest(['no_such_user', n]);
    ctx.registry.users.deleteUser(n);
  }
  return noContent();
}

/** PUT /api/vhosts/v: creates (201, the creating user gets full permissions, as RabbitMQ) or updates (204). */
function putVhost(req: Req, ctx: ManagementContext): Reply {
  const name = param(req, 'vhost');
  const body = bodyObject(req);
  const existed = ctx.vhosts.has(name);
  ctx.registry.addVhost(name, { description: typeof body.description === 'string' ? body.description : '', tags: body.tags === undefined ? [] : tagsOf(body.tags) });
  if (!existed) ctx.registry.setPermissions(req.user.name, name, { configure: '.*', write: '.*', read: '.*' });
  return existed ? noContent() : created();
}

function deleteVhost(req: Req, ctx: ManagementContext): Reply {
  const name = param(req, 'vhost');
  if (!ctx.vhosts.has(name)) throw HttpError.notFound();
  ctx.registry.deleteVhost(name);
  return noContent();
}

function permissionItems(ctx: ManagementContext, pick: (p: { user: string; vhost: string }) => boolean, vhostFirst = false): Record<string, unknown>[] {
  return ctx.registry.permissions.list().filter(pick).map((p) => vhostFirst
    ? { vhost: p.vhost, user: p.user, configure: p.configure, write: p.write, read: p.read }
    : { user: p.user, vhost: p.vhost, configure: p.configure, write: p.write, read: p.read });
}

function topicItems(ctx: ManagementContext, pick: (p: { user: string; vhost: string }) => boolean): Record<string, unknown>[] {
  return ctx.registry.permissions.listTopic().filter(pick).map((p) => ({ user: p.user, vhost: p.vhost, exchange: p.exchange, write: p.write, read: p.read }));
}

function bothExist(req: Req, ctx: ManagementContext): [string, string] {
  const vhost = param(req, 'vhost');
  const user = param(req, 'user');
  if (!ctx.vhosts.has(vhost) || !ctx.registry.users.has(user)) throw HttpError.badRequest('vhost_or_user_not_found');
  return [vhost, user];
}

function putPermissions(req: Req, ctx: ManagementContext): Reply {
  const [vhost, user] = bothExist(req, ctx);
  const body = bodyObject(req);
  requireKeys(body, ['configure', 'write', 'read']);
  const existed = ctx.registry.permissions.get(user, vhost) !== undefined;
  try {
    ctx.registry.setPermissions(user, vhost, { configure: String(body.configure), write: String(body.write), read: String(body.read) });
  } catch (e) {
    throw HttpError.badRequest((e as Error).message);
  }
  return existed ? noContent() : created();
}

function putTopicPermissions(req: Req, ctx: ManagementContext): Reply {
  const [vhost, user] = bothExist(req, ctx);
  const body = bodyObject(req);
  requireKeys(body, ['exchange', 'write', 'read']);
  try {
    ctx.registry.setTopicPermissions(user, vhost, { exchange: String(body.exchange), write: String(body.write), read: String(body.read) });
  } catch (e) {
    throw HttpError.badRequest((e as Error).message);
  }
  return created();
}

export function accessRoutes(r: Router): void {
  r.get('/api/users', (req, ctx) => listReply(req, ctx.registry.users.list().map(userView)), 'administrator');
  r.get('/api/users/without-permissions', (req, ctx) => {
    const withPerms = new Set(ctx.registry.permissions.list().map((p) => p.user));
    return json(ctx.registry.users.list().filter((u) => !withPerms.has(u.name)).map(userView));
  }, 'administrator');
  r.post('/api/users/bulk-delete', bulkDelete, 'administrator');
  r.get('/api/users/:user', (req, ctx) => json(userView(userParam(req, ctx))), 'administrator');
  r.put('/api/users/:user', putUser, 'administrator');
  r.delete('/api/users/:user', deleteUser, 'administrator');
  r.get('/api/users/:user/permissions', (req, ctx) => {
    const u = userParam(req, ctx).name;
    return json(permissionItems(ctx, (p) => p.user === u));
  }, 'administrator');
  r.get('/api/users/:user/topic-permissions', (req, ctx) => {
    const u = userParam(req, ctx).name;
    return json(topicItems(ctx, (p) => p.user === u));
  }, 'administrator');
  r.put('/api/vhosts/:vhost', putVhost, 'administrator');
  r.delete('/api/vhosts/:vhost', deleteVhost, 'administrator');
  r.get('/api/vhosts/:vhost/permissions', (req, ctx) => {
    const v = param(req, 'vhost');
    if (!ctx.vhosts.has(v)) throw HttpError.notFound();
    return json(permissionItems(ctx, (p) => p.vhost === v, true));
  }, 'administrator');
  r.get('/api/vhosts/:vhost/topic-permissions', (req, ctx) => {
    const v = param(req, 'vhost');
    if (!ctx.vhosts.has(v)) throw HttpError.notFound();
    return json(topicItems(ctx, (p) => p.vhost === v));
  }, 'administrator');
  r.get('/api/permissions', (req, ctx) => listReply(req, permissionItems(ctx, () => true)), 'administrator');
  r.get('/api/permissions/:vhost/:user', (req, ctx) => {
    const [vhost, user] = [param(req, 'vhost'), param(req, 'user')];
    const p = ctx.registry.permissions.get(user, vhost);
    if (p === undefined) throw HttpError.notFound();
    return json({ user, vhost, configure: p.configure, write: p.write, read: p.read });
  }, 'administrator');
  r.put('/api/permissions/:vhost/:user', putPermissions, 'administrator');
  r.delete('/api/permissions/:vhost/:user', (req, ctx) => {
    const [vhost, user] = [param(req, 'vhost'), param(req, 'user')];
    if (ctx.registry.permissions.get(user, vhost) === undefined) throw HttpError.notFound();
    ctx.registry.clearPermissions(user, vhost);
    return noContent();
  }, 'administrator');
  r.get('/api/topic-permissions', (req, ctx) => listReply(req, topicItems(ctx, () => true)), 'administrator');
  r.get('/api/topic-permissions/:vhost/:user', (req, ctx) => {
    const [vhost, user] = [param(req, 'vhost'), param(req, 'user')];
    const items = topicItems(ctx, (p) => p.vhost === vhost && p.user === user);
    if (items.length === 0) throw HttpError.notFound();
    return json(items);
  }, 'administrator');
  r.put('/api/topic-permissions/:vhost/:user', putTopicPermissions, 'administrator');
  r.delete('/api/topic-permissions/:vhost/:user', (req, ctx) => {
    const [vhost, user] = [param(req, 'vhost'), param(req, 'user')];
    if (topicItems(ctx, (p) => p.vhost === vhost && p.user === user).length === 0) throw HttpError.notFound();
    ctx.registry.clearTopicPermissions(user, vhost);
    return noContent();
  }, 'administrator');
}
