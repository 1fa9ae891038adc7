// /api/queues: list, show, declare, delete, purge, get messages, and a queue's bindings. Each
// operation is the core call the AMQP method makes (declareQueue, deleteQueue, purge, get), so
// the same checks and texts apply.
import type { Message } from '../../core/message.js';
import type { DeliveryHandle, GetOwner, MessageQueue } from '../../core/queue/types.js';
import type { VHost } from '../../core/vhost.js';
import type { ManagementContext } from '../context.js';
import { HttpError } from '../errors.js';
import { jsonToTable } from '../json.js';
import { byVhostAndName, listReply } from '../list.js';
import { payloadToJson, propertiesToJson, requireKeys } from '../messages.js';
import { bodyObject, created, json, noContent, param, type Reply, type Req } from '../request.js';
import type { Router } from '../router.js';
import { bindingView, defaultBindingView, queueView } from '../views.js';
import { boolField, httpActor, vhostForCreate, vhostParam, vhostsOf } from './common.js';

function queueParam(req: Req, ctx: ManagementContext): [VHost, MessageQueue] {
  const v = vhostParam(req, ctx);
  const q = v.queues.get(param(req, 'name'));
  if (q === undefined) throw HttpError.notFound();
  return [v, q];
}

function list(req: Req, ctx: ManagementContext): Reply {
  const items = vhostsOf(req, ctx).flatMap((v) => [...v.queues.values()].map((q) => queueView(q, v.name, ctx)));
  items.sort(byVhostAndName);
  return listReply(req, items);
}

function declare(req: Req, ctx: ManagementContext): Reply {
  const v = vhostForCreate(req, ctx);
  const body = bodyObject(req);
  const name = param(req, 'name');
  const existed = v.queues.has(name);
  v.declareQueue(name, {
    passive: false,
    durable: boolField(body, 'durable', false),
    autoDelete: boolField(body, 'auto_delete', false),
    exclusive: false,
    args: jsonToTable(body.arguments, 'arguments'),
  }, httpActor(req, v));
  return existed ? noContent() : created();
}

function remove(req: Req, ctx: ManagementContext): Reply {
  const [v, q] = queueParam(req, ctx);
  v.deleteQueue(q.name, req.query.get('if-unused') === 'true', req.query.get('if-empty') === 'true', httpActor(req, v));
  return noContent();
}

function purge(req: Req, ctx: ManagementContext): Reply {
  queueParam(req, ctx)[1].purge();
  return noContent();
}

type AckMode = 'ack_requeue_true' | 'ack_requeue_false' | 'reject_requeue_true' | 'reject_requeue_false';
const ACK_MODES: readonly string[] = ['ack_requeue_true', 'ack_requeue_false', 'reject_requeue_true', 'reject_requeue_false'];

interface Taken { h: DeliveryHandle; msg: Message; redelivered: boolean; left: number }

/**
 * POST /api/queues/v/q/get: basic.get `count` times, then settle every message as `ackmode`
 * says (requeued ones only after all are taken, so one request never sees a message twice).
 */
function getMessages(req: Req, ctx: ManagementContext): Reply {
  const [, q] = queueParam(req, ctx);
  const body = bodyObject(req);
  requireKeys(body, ['ackmode', 'encoding']);
  const mode = String(body.ackmode);
  if (!ACK_MODES.includes(mode)) throw HttpError.badRequest(`Invalid ackmode: ${mode}`);
  const encoding = String(body.encoding);
  if (encoding !== 'auto' && encoding !== 'base64') throw HttpError.badRequest(`Invalid encoding: ${encoding}`);
  const count = body.count === undefined ? 1 : Number(body.count);
  const truncate = body.truncate === undefined || body.truncate === null ? null : Number(body.truncate);
  const taken: Taken[] = [];
  const into: GetOwner = { gotMessage: (queue, h, msg, redelivered) => taken.push({ h, msg, redelivered, left: queue.messageCount }) };
  while (taken.length < count && q.get(into, false));
  for (const t of taken) settle(q, t.h, mode as AckMode);
  if (taken.length > 0) q.dispatch();
  return json(taken.map((t) => ({
    payload_bytes: t.msg.body.length,
    redelivered: t.redelivered,
    exchange: t.msg.exchange,
    routing_key: t.msg.routingKey,
    message_count: t.left,
    properties: propertiesToJson(t.msg),
    ...payloadToJson(t.msg.body, encoding, truncate),
  })));
}

function settle(q: MessageQueue, h: DeliveryHandle, mode: AckMode): void {
  if (mode === 'ack_requeue_false') q.ack(h, null);
  else if (mode === 'reject_requeue_false') q.reject(h, null);
  else q.requeue(h, null);
}

function bindings(req: Req, ctx: ManagementContext): Reply {
  const [v, q] = queueParam(req, ctx);
  return json([defaultBindingView(q, v.name), ...[...q.bindings].map((b) => bindingView(b, v.name))]);
}

export function queueRoutes(r: Router): void {
  r.get('/api/queues', (req, ctx) => list(req, ctx));
  r.get('/api/queues/:vhost', (req, ctx) => list(req, ctx));
  r.get('/api/queues/:vhost/:name', (req, ctx) => {
    const [v, q] = queueParam(req, ctx);
    return json(queueView(q, v.name, ctx));
  });
  r.put('/api/queues/:vhost/:name', declare);
  r.delete('/api/queues/:vhost/:name', remove);
  r.delete('/api/queues/:vhost/:name/contents', purge);
  r.post('/api/queues/:vhost/:name/get', getMessages);
  r.get('/api/queues/:vhost/:name/bindings', bindings);
}
