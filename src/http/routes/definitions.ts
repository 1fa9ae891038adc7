// /api/definitions (and per vhost): export and import in RabbitMQ's definitions format, the
// path for moving an environment between brokers (Warren to RabbitMQ and back). Import goes
// through src/definitions.ts, the same checked, all-or-nothing importer `--definitions` uses.
import { importDefinitions } from '../../definitions.js';
import type { VHost } from '../../core/vhost.js';
import type { ManagementContext } from '../context.js';
import { HttpError } from '../errors.js';
import { tableToJson } from '../json.js';
import { json, noContent, type Reply, type Req } from '../request.js';
import type { Router } from '../router.js';
import { userView } from './access.js';
import { policyView } from './policies.js';
import { limitsParameter } from './vhost-limits.js';
import { vhostParam } from './common.js';

/** The RabbitMQ release whose definitions format this is. */
const RABBITMQ_VERSION = '3.10.8';

/** Queues, exchanges (not the default or amq.* ones) and bindings (not the default exchange's). */
function vhostObjects(v: VHost): Record<string, unknown[]> {
  const queues = [...v.queues.values()].filter((q) => q.exclusiveOwner === null).map((q) => ({
    name: q.name, vhost: v.name, durable: q.durable, auto_delete: q.autoDelete, arguments: tableToJson(q.args),
  }));
  const exchanges = [...v.exchanges.values()].filter((x) => x.name !== '' && !x.name.startsWith('amq.')).map((x) => ({
    name: x.name, vhost: v.name, type: x.type, durable: x.durable, auto_delete: x.autoDelete, internal: x.internal, arguments: tableToJson(x.args),
  }));
  const bindings = [...v.exchanges.values()].filter((x) => x.name !== '').flatMap((x) => x.bindings.map((b) => ({
    source: b.source, vhost: v.name, destination: b.destination.name, destination_type: b.destination.kind,
    routing_key: b.routingKey, arguments: tableToJson(b.args),
  })));
  return { queues, exchanges, bindings };
}

/** Runtime parameters: Warren's only kind is vhost-limits (which keep their vhost field in a per-vhost export too). */
const parametersOf = (vhosts: VHost[]) => vhosts.map(limitsParameter).filter((p) => p !== null);

function exportAll(_req: Req, ctx: ManagementContext): Reply {
  const vhosts = [...ctx.vhosts.values()];
  const objects = vhosts.map(vhostObjects);
  const r = ctx.registry;
  return json({
    rabbit_version: RABBITMQ_VERSION,
    rabbitmq_version: RABBITMQ_VERSION,
    product_name: ctx.config.product,
    product_version: ctx.version,
    users: r.users.list().map(userView),
    vhosts: vhosts.map((v) => {
      const m = r.vhostMeta(v.name) ?? { description: '', tags: [] };
      return { name: v.name, description: m.description, tags: m.tags, metadata: { description: m.description, tags: m.tags } };
    }),
    permissions: r.permissions.list().map((p) => ({ user: p.user, vhost: p.vhost, configure: p.configure, write: p.write, read: p.read })),
    topic_permissions: r.permissions.listTopic().map((p) => ({ user: p.user, vhost: p.vhost, exchange: p.exchange, write: p.write, read: p.read })),
    parameters: parametersOf(vhosts),
    global_parameters: [],
    policies: vhosts.flatMap((v) => v.policies.list('policy').map(policyView)),
    queues: objects.flatMap((o) => o.queues!),
    exchanges: objects.flatMap((o) => o.exchanges!),
    bindings: objects.flatMap((o) => o.bindings!),
  });
}

function exportVhost(req: Req, ctx: ManagementContext): Reply {
  const v = vhostParam(req, ctx);
  const o = vhostObjects(v);
  // As RabbitMQ's per-vhost export: no vhost fields on the objects, no users or permissions.
  const strip = (items: unknown[]) => items.map((i) => {
    const { vhost: _v, ...rest } = i as Record<string, unknown>;
    return rest;
  });
  // Policies keep their vhost field there, as in RabbitMQ's.
  return json({ rabbit_version: RABBITMQ_VERSION, parameters: parametersOf([v]), policies: v.policies.list('policy').map(policyView), queues: strip(o.queues!), exchanges: strip(o.exchanges!), bindings: strip(o.bindings!) });
}

function parseBody(req: Req): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(req.rawBody.toString('utf8'));
  } catch {
    throw HttpError.badRequest('failed_to_parse_json');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw HttpError.badRequest('failed_to_parse_json');
  return v as Record<string, unknown>;
}

function importAll(req: Req, ctx: ManagementContext): Reply {
  return runImport(ctx, parseBody(req));
}

/** POST /api/definitions/v: the objects are for that vhost whatever they say. */
function importVhost(req: Req, ctx: ManagementContext): Reply {
  const v = vhostParam(req, ctx);
  const body = parseBody(req);
  const into = (k: string) => (Array.isArray(body[k]) ? (body[k] as Record<string, unknown>[]).map((i) => ({ ...i, vhost: v.name })) : []);
  return runImport(ctx, { queues: into('queues'), exchanges: into('exchanges'), bindings: into('bindings'), policies: into('policies'), parameters: into('parameters') });
}

function runImport(ctx: ManagementContext, defs: Record<string, unknown>): Reply {
  for (const q of [...(arr(defs.queues)), ...(arr(defs.exchanges)), ...(arr(defs.bindings)), ...(arr(defs.policies)), ...(arr(defs.parameters))]) {
    const vhost = (q as Record<string, unknown>).vhost;
    if (typeof vhost === 'string' && !ctx.vhosts.has(vhost) && !arr(defs.vhosts).some((v) => (v as Record<string, unknown>).name === vhost)) {
      throw HttpError.badRequest(['no_such_vhost', vhost]);
    }
  }
  try {
    importDefinitions(ctx.registry, defs, ctx.log);
  } catch (e) {
    throw HttpError.badRequest((e as Error).message);
  }
  return noContent();
}

const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function definitionRoutes(r: Router): void {
  r.get('/api/definitions', exportAll, 'administrator');
  r.post('/api/definitions', importAll, 'administrator');
  r.get('/api/definitions/:vhost', exportVhost, 'administrator');
  r.post('/api/definitions/:vhost', importVhost, 'administrator');
}
