// /api/bindings in its four forms: all, per vhost, between an exchange and a queue or another
// exchange (list and create), and one binding by its properties key (show and delete). Creating
// and deleting call the same core operations as queue.bind / exchange.bind and their unbinds.
import type { Binding, Exchange } from '../../core/exchange/exchange.js';
import type { VHost } from '../../core/vhost.js';
import type { ManagementContext } from '../context.js';
import { HttpError } from '../errors.js';
import { jsonToTable, tableToJson } from '../json.js';
import { listReply } from '../list.js';
import { bodyObject, json, noContent, param, type Reply, type Req } from '../request.js';
import type { Router } from '../router.js';
import { bindingView, defaultBindingView, propertiesKey } from '../views.js';
import { exchangeName, httpActor, vhostParam, vhostsOf } from './common.js';

type DestKind = 'queue' | 'exchange';

function all(req: Req, ctx: ManagementContext): Reply {
  const items = vhostsOf(req, ctx).flatMap((v) => [
    ...[...v.queues.values()].map((q) => defaultBindingView(q, v.name)),
    ...[...v.exchanges.values()].filter((x) => x.name !== '').flatMap((x) => x.bindings.map((b) => bindingView(b, v.name))),
  ]);
  return listReply(req, items);
}

function ends(req: Req, ctx: ManagementContext, kind: DestKind): [VHost, Exchange, string] {
  const v = vhostParam(req, ctx);
  const x = v.exchanges.get(exchangeName(param(req, 'source')));
  const dest = param(req, 'destination');
  const found = kind === 'queue' ? v.queues.has(dest) : v.exchanges.has(exchangeName(dest));
  if (x === undefined || !found) throw HttpError.notFound();
  return [v, x, kind === 'queue' ? dest : exchangeName(dest)];
}

function between(x: Exchange, kind: DestKind, dest: string): Binding[] {
  return x.bindings.filter((b) => b.destination.kind === kind && b.destination.name === dest);
}

function listBetween(kind: DestKind) {
  return (req: Req, ctx: ManagementContext): Reply => {
    const [v, x, dest] = ends(req, ctx, kind);
    return json(between(x, kind, dest).map((b) => bindingView(b, v.name)));
  };
}

function create(kind: DestKind) {
  return (req: Req, ctx: ManagementContext): Reply => {
    const [v, x, dest] = ends(req, ctx, kind);
    const body = bodyObject(req);
    const key = body.routing_key === undefined ? '' : String(body.routing_key);
    const args = jsonToTable(body.arguments, 'arguments');
    if (kind === 'queue') v.bindQueue(dest, x.name, key, args, httpActor(req, v));
    else v.bindExchange(dest, x.name, key, args);
    // RabbitMQ's Location is relative to the request path: "<destination>/<escaped props key>".
    const location = `${enc(dest)}/${enc(propertiesKey(key, tableToJson(args)))}`;
    return { status: 201, headers: { location } };
  };
}

function find(req: Req, ctx: ManagementContext, kind: DestKind): [VHost, Exchange, Binding] {
  const [v, x, dest] = ends(req, ctx, kind);
  const props = param(req, 'props');
  // The key holds percent-escapes of its own: accept it escaped again (as clients send it) or not.
  const b = between(x, kind, dest).find((c) => {
    const key = propertiesKey(c.routingKey, tableToJson(c.args));
    return key === props || decodeURIComponent(key) === props;
  });
  if (b === undefined) throw HttpError.notFound();
  return [v, x, b];
}

function remove(kind: DestKind) {
  return (req: Req, ctx: ManagementContext): Reply => {
    const [v, x, b] = find(req, ctx, kind);
    if (kind === 'queue') v.unbindQueue(b.destination.name, x.name, b.routingKey, b.args, httpActor(req, v));
    else v.unbindExchange(b.destination.name, x.name, b.routingKey, b.args);
    return noContent();
  };
}

const enc = (s: string) => encodeURIComponent(s);

export function bindingRoutes(r: Router): void {
  r.get('/api/bindings', all);
  r.get('/api/bindings/:vhost', all);
  for (const [letter, kind] of [['q', 'queue'], ['e', 'exchange']] as const) {
    r.get(`/api/bindings/:vhost/e/:source/${letter}/:destination`, listBetween(kind));
    r.post(`/api/bindings/:vhost/e/:source/${letter}/:destination`, create(kind));
    r.get(`/api/bindings/:vhost/e/:source/${letter}/:destination/:props`, (req, ctx) => json(bindingView(find(req, ctx, kind)[2], vhostParam(req, ctx).name)));
    r.delete(`/api/bindings/:vhost/e/:source/${letter}/:destination/:props`, remove(kind));
  }
}
