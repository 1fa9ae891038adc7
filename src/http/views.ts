// The JSON objects of the management API, field by field as RabbitMQ 3.10's returns them
// (client code indexes into these). Counters come from core's stats objects and rates from the
// sampler; fields Warren has nothing truthful for are left out rather than made up.
import type { Connection } from '../amqp/connection.js';
import type { Session } from '../amqp/session.js';
import type { Binding, Exchange } from '../core/exchange/exchange.js';
import type { Consumer } from '../core/queue/consumer.js';
import type { MessageQueue } from '../core/queue/types.js';
import { effectiveDefinition } from '../core/policy.js';
import type { MessageStats } from '../core/stats.js';
import type { ManagementContext } from './context.js';
import { tableToJson } from './json.js';
import type { RateSampler, Sampled } from './rates.js';

type View = Record<string, unknown>;

/** `name` and `name_details: {rate}` for each counter. */
function withRates(rates: RateSampler, obj: Sampled, values: Record<string, number>): View {
  const out: View = {};
  for (const [k, v] of Object.entries(values)) {
    out[k] = v;
    out[`${k}_details`] = { rate: rates.rate(obj, k) };
  }
  return out;
}

export function queueStatsValues(s: MessageStats): Record<string, number> {
  return {
    ack: s.ack, deliver: s.deliver, deliver_get: s.deliverGet, deliver_no_ack: s.deliverNoAck, get: s.get,
    get_empty: s.getEmpty, get_no_ack: s.getNoAck, publish: s.publish, redeliver: s.redeliver,
  };
}

export function channelStatsValues(s: MessageStats): Record<string, number> {
  return {
    ...queueStatsValues(s), confirm: s.confirm, drop_unroutable: s.dropUnroutable, return_unroutable: s.returnUnroutable,
  };
}

export function exchangeStatsValues(s: MessageStats): Record<string, number> {
  return { publish_in: s.publishIn, publish_out: s.publishOut };
}

export function queueDepthValues(q: MessageQueue): { messages: number; messages_ready: number; messages_unacknowledged: number } {
  return { messages: q.messageCount + q.unackedCount, messages_ready: q.messageCount, messages_unacknowledged: q.unackedCount };
}

/**
 * A stream as RabbitMQ 3.10 shows one: no byte counts, consumer capacity or single active
 * consumer fields, and its (one-node) members. Its memory, readers and reductions are
 * osiris process figures Warren has no counterpart for.
 */
function streamView(q: MessageQueue, vhost: string, ctx: ManagementContext): View {
  const { consumer_capacity: _a, consumer_utilisation: _b, exclusive_consumer_tag: _c, head_message_timestamp: _d,
    message_bytes: _e, message_bytes_ready: _f, recoverable_slaves: _g, single_active_consumer_tag: _h, ...rest } = classicView(q, vhost, ctx);
  return { ...rest, members: [ctx.nodeName], online: [ctx.nodeName] };
}

export function queueView(q: MessageQueue, vhost: string, ctx: ManagementContext): View {
  return q.type === 'stream' ? streamView(q, vhost, ctx) : classicView(q, vhost, ctx);
}

function classicView(q: MessageQueue, vhost: string, ctx: ManagementContext): View {
  const consumers = q.consumers;
  const exclusive = consumers.find((c) => c.exclusive);
  const withRoom = consumers.filter((c) => c.owner.canTake(c)).length;
  return {
    arguments: tableToJson(q.args),
    auto_delete: q.autoDelete,
    consumer_capacity: consumers.length === 0 ? 0 : withRoom / consumers.length,
    consumer_utilisation: consumers.length === 0 ? 0 : withRoom / consumers.length,
    consumers: consumers.length,
    durable: q.durable,
    effective_policy_definition: effectiveDefinition(q.policy, q.operatorPolicy),
    exclusive: q.exclusiveOwner !== null,
    exclusive_consumer_tag: exclusive?.tag ?? null,
    head_message_timestamp: null,
    message_bytes: q.messageBytes,
    message_bytes_ready: q.messageBytes,
    message_stats: withRates(ctx.rates, q, queueStatsValues(q.stats)),
    ...withRates(ctx.rates, q.stats, queueDepthValues(q)),
    name: q.name,
    node: ctx.nodeName,
    operator_policy: q.operatorPolicy?.name ?? null,
    policy: q.policy?.name ?? null,
    recoverable_slaves: null,
    single_active_consumer_tag: q.singleActiveConsumer ? (consumers.find((c) => isActive(q, c))?.tag ?? null) : null,
    state: 'running',
    type: q.type,
    vhost,
  };
}

function isActive(q: MessageQueue, c: Consumer): boolean {
  return !q.singleActiveConsumer || (q as { activeConsumer?: Consumer | null }).activeConsumer === c;
}

export function exchangeView(x: Exchange, vhost: string, ctx: ManagementContext): View {
  return {
    arguments: tableToJson(x.args),
    auto_delete: x.autoDelete,
    durable: x.durable,
    internal: x.internal,
    message_stats: withRates(ctx.rates, x, exchangeStatsValues(x.stats)),
    name: x.name,
    // As RabbitMQ: the field is there only when a policy applies.
    ...(x.policy !== null ? { policy: x.policy.name } : {}),
    type: x.type,
    user_who_performed_action: 'rmq-internal',
    vhost,
  };
}

/**
 * RabbitMQ's properties_key: the routing key, percent-encoded, and for a binding with arguments
 * "~" and a hash of them. (RabbitMQ's hash is Erlang's phash2; Warren's is its own, stable for
 * the same arguments, which is all the key is for: naming one binding in a later request.)
 */
export function propertiesKey(routingKey: string, args: Record<string, unknown>): string {
  const key = encodeURIComponent(routingKey).replace(/%2E/gi, '.');
  if (Object.keys(args).length === 0) return routingKey === '' ? '~' : key;
  let h = 0x811c9dc5;
  for (const ch of JSON.stringify(args)) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  const b = Buffer.alloc(4);
  b.writeUInt32BE(h);
  return `${key}~${b.toString('base64url')}`;
}

export function bindingView(b: Binding, vhost: string): View {
  const args = tableToJson(b.args);
  return {
    source: b.source,
    vhost,
    destination: b.destination.name,
    destination_type: b.destination.kind,
    routing_key: b.routingKey,
    arguments: args,
    properties_key: propertiesKey(b.routingKey, args),
  };
}

/** The bindings RabbitMQ lists for the default exchange: one per queue, keyed by its name. */
export function defaultBindingView(q: MessageQueue, vhost: string): View {
  return {
    source: '', vhost, destination: q.name, destination_type: 'queue', routing_key: q.name, arguments: {},
    properties_key: propertiesKey(q.name, {}),
  };
}

export function connectionView(c: Connection, ctx: ManagementContext): View {
  const p = c.peer;
  return {
    auth_mechanism: c.authMechanism,
    channel_max: c.channelMax,
    channels: c.channels.size,
    client_properties: tableToJson(c.clientProperties),
    connected_at: c.connectedAt,
    frame_max: c.frameMax,
    host: p.localAddress,
    name: c.name,
    node: ctx.nodeName,
    peer_cert_issuer: null,
    peer_cert_subject: null,
    peer_cert_validity: null,
    peer_host: p.remoteAddress,
    peer_port: p.remotePort,
    port: p.localPort,
    protocol: 'AMQP 0-9-1',
    recv_cnt: c.stats.recvCnt,
    ...withRates(ctx.rates, c.stats, { recv_oct: c.stats.recvOct }),
    send_cnt: c.stats.sendCnt,
    ...withRates(ctx.rates, c.stats, { send_oct: c.stats.sendOct }),
    send_pend: c.socket.writableLength,
    ssl: false,
    ssl_cipher: null,
    ssl_hash: null,
    ssl_key_exchange: null,
    ssl_protocol: null,
    state: c.gate.blockedByAlarm ? 'blocked' : c.gate.throttledBy.size > 0 ? 'flow' : c.running ? 'running' : c.state,
    timeout: c.heartbeat,
    type: 'network',
    user: c.user?.name ?? null,
    user_who_performed_action: c.user?.name ?? null,
    vhost: c.running ? c.vhost.name : null,
  };
}

export function channelName(c: Connection, number: number): string {
  return `${c.name} (${number})`;
}

export function channelView(c: Connection, number: number, s: Session, ctx: ManagementContext): View {
  return {
    acks_uncommitted: s.tx ? s.tx.settles.reduce((n, t) => n + t.held.length, 0) : 0,
    confirm: s.confirms !== null,
    connection_details: { name: c.name, peer_host: c.peer.remoteAddress, peer_port: c.peer.remotePort },
    consumer_count: s.consumers.size,
    global_prefetch_count: s.channelPrefetch,
    message_stats: withRates(ctx.rates, s.stats, channelStatsValues(s.stats)),
    messages_unacknowledged: s.unacked.size,
    messages_uncommitted: s.tx ? s.tx.publishes.length : 0,
    messages_unconfirmed: s.confirms?.unconfirmed ?? 0,
    name: channelName(c, number),
    node: ctx.nodeName,
    number,
    pending_raft_commands: 0,
    prefetch_count: s.consumerPrefetch,
    state: 'running',
    transactional: s.tx !== null,
    user: c.user?.name ?? null,
    user_who_performed_action: c.user?.name ?? null,
    vhost: s.vhost.name,
  };
}

export function consumerView(c: Connection, number: number, consumer: Consumer, vhost: string, ctx: ManagementContext): View {
  const q = consumer.queue;
  const active = isActive(q, consumer);
  return {
    ack_required: !consumer.noAck,
    active,
    activity_status: q.singleActiveConsumer ? (active ? 'single_active' : 'waiting') : 'up',
    arguments: tableToJson(consumer.args),
    channel_details: {
      connection_name: c.name, name: channelName(c, number), node: ctx.nodeName, number,
      peer_host: c.peer.remoteAddress, peer_port: c.peer.remotePort, user: c.user?.name ?? null,
    },
    consumer_tag: consumer.tag,
    exclusive: consumer.exclusive,
    prefetch_count: consumer.prefetch,
    queue: { name: q.name, vhost },
  };
}
