// /api/exchanges: list, show, declare, delete, publish, and an exchange's bindings. Publishing
// goes through core's one entry point, VHost.publish, like an AMQP basic.publish.
import type { Exchange } from '../../core/exchange/exchange.js';
import { Message } from '../../core/message.js';
import { PublishResult } from '../../core/publish.js';
import type { VHost } from '../../core/vhost.js';
import type { ManagementContext } from '../context.js';
import { HttpError } from '../errors.js';
import { jsonToTable } from '../json.js';
import { byVhostAndName, listReply } from '../list.js';
import { payloadFromJson, propertiesFromJson, requireKeys } from '../messages.js';
import { bodyObject, created, json, noContent, param, type Reply, type Req } from '../request.js';
import type { Router } from '../router.js';
import { bindingView, defaultBindingView, exchangeView } from '../views.js';
import { boolField, exchangeName, vhostForCreate, vhostParam, vhostsOf } from './common.js';

function exchangeParam(req: Req, ctx: ManagementContext): [VHost, Exchange] {
  const v = vhostParam(req, ctx);
  const x = v.exchanges.get(exchangeName(param(req, 'name')));
  if (x === undefined) throw HttpError.notFound();
  return [v, x];
}

function list(req: Req, ctx: ManagementContext): Reply {
  const items = vhostsOf(req, ctx).flatMap((v) => [...v.exchanges.values()].map((x) => exchangeView(x, v.name, ctx)));
  items.sort(byVhostAndName);
  return listReply(req, items);
}

function declare(req: Req, ctx: ManagementContext): Reply {
  const v = vhostForCreate(req, ctx);
  const body = bodyObject(req);
  const name = exchangeName(param(req, 'name'));
  const existed = v.exchanges.has(name);
  v.declareExchange(name, typeof body.type === 'string' ? body.type : 'direct', {
    passive: false,
    durable: boolField(body, 'durable', true),
    autoDelete: boolField(body, 'auto_delete', false),
    internal: boolField(body, 'internal', false),
    args: jsonToTable(body.arguments, 'arguments'),
  });
  return existed ? noContent() : created();
}

function remove(req: Req, ctx: ManagementContext): Reply {
  const [v, x] = exchangeParam(req, ctx);
  v.deleteExchange(x.name, req.query.get('if-unused') === 'true');
  return noContent();
}

const result = new PublishResult();

/** POST /api/exchanges/v/x/publish: {"routed": true} when at least one queue got it. */
function publish(req: Req, ctx: ManagementContext): Reply {
  const [v, x] = exchangeParam(req, ctx);
  const body = bodyObject(req);
  requireKeys(body, ['properties', 'routing_key', 'payload', 'payload_encoding']);
  const msg = new Message(x.name, String(body.routing_key), propertiesFromJson(body.properties), payloadFromJson(body.payload, body.payload_encoding));
  if (x.internal) throw HttpError.notAuthorised('Access refused.');
  const r = v.publish(x, msg, result);
  return json({ routed: !r.unroutable });
}

function bindingsAs(role: 'source' | 'destination') {
  return (req: Req, ctx: ManagementContext): Reply => {
    const [v, x] = exchangeParam(req, ctx);
    if (role === 'source') {
      const own = x.bindings.map((b) => bindingView(b, v.name));
      return json(x.name === '' ? [...v.queues.values()].map((q) => defaultBindingView(q, v.name)) : own);
    }
    return json([...x.inbound].map((b) => bindingView(b, v.name)));
  };
}

export function exchangeRoutes(r: Router): void {
  r.get('/api/exchanges', list);
  r.get('/api/exchanges/:vhost', list);
  r.get('/api/exchanges/:vhost/:name', (req, ctx) => {
    const [v, x] = exchangeParam(req, ctx);
    return json({ ...exchangeView(x, v.name, ctx), incoming: [], outgoing: [] });
  });
  r.put('/api/exchanges/:vhost/:name', declare);
  r.delete('/api/exchanges/:vhost/:name', remove);
  r.post('/api/exchanges/:vhost/:name/publish', publish);
  r.get('/api/exchanges/:vhost/:name/bindings/source', bindingsAs('source'));
  r.get('/api/exchanges/:vhost/:name/bindings/destination', bindingsAs('destination'));
}
