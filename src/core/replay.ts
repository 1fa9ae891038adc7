// Dead-letter replay (a Warren extension; RabbitMQ needs a hand-made shovel for it): take
// dead-lettered messages from a queue and publish each again to where it died from, the
// exchange and routing keys of its first (most recent) x-death entry, or to a named queue.
//
// At least once. Each message is taken with basic.get semantics (unacked in the dead-letter
// queue, marked delivered in its journal), published through VHost.publish, and acked from the
// dead-letter queue only once the publish is durable: when the PublishResult says a store
// write is pending, after Persistence.afterCommit (as publisher confirms wait). A crash at any
// point loses nothing; at most the window in flight is found in both places after a restart.
//
// The republished message keeps its properties, its x-death history and its x-first-death-*
// headers, and gets `x-warren-replayed` (a long: how many times it was replayed, 1 the first
// time). Messages that cannot go anywhere stay in the dead-letter queue, in order, marked
// redelivered: those without x-death (unless `to` is given), those whose exchange is gone,
// those no queue would take (nothing bound; a queue refusing it with x-overflow).
import { ByteWriter } from '../protocol/byte-writer.js';
import { setOwn, type FieldTable, type FieldValue } from '../protocol/field-table.js';
import { writeBasicProperties, type BasicProperties } from '../protocol/generated/amqp.js';
import type { Exchange } from './exchange/exchange.js';
import { Message } from './message.js';
import type { Persistence } from './persistence.js';
import { PublishResult } from './publish.js';
import type { DeliveryHandle, GetOwner, MessageQueue } from './queue/types.js';
import type { VHost } from './vhost.js';

export const REPLAYED_HEADER = 'x-warren-replayed';

export interface ReplayRequest {
  /** How many messages to take from the head; 'all' is every message ready when it starts. */
  count: number | 'all';
  /** A queue of the same vhost to move them to (through the default exchange) instead. */
  to: string | null;
  /** Messages published before waiting for their commit (default 256). */
  window?: number;
}

export interface ReplayReport {
  replayed: number;
  /** Left in the dead-letter queue, by reason. */
  skipped: { not_dead_lettered: number; exchange_gone: number; unroutable: number; refused: number };
  /** Messages ready in the dead-letter queue afterwards. */
  remaining: number;
}

type Skip = keyof ReplayReport['skipped'];

const writer = new ByteWriter(4096);
const text = (v: FieldValue | undefined): string | undefined =>
  v === undefined || v.type !== 'S' ? undefined : typeof v.value === 'string' ? v.value : v.value.toString('utf8');
const field = (t: FieldTable, k: string): FieldValue | undefined => (Object.hasOwn(t, k) ? t[k] : undefined);

/** Where a dead-lettered message died from: its first x-death entry's exchange and routing keys. */
export function diedFrom(msg: Message): { exchange: string; routingKeys: string[] } | null {
  if (msg.hasNoProperties) return null;
  const h = msg.props.headers;
  const deaths = h === undefined ? undefined : field(h, 'x-death');
  if (deaths?.type !== 'A' || deaths.value.length === 0) return null;
  const first = deaths.value[0]!;
  if (first.type !== 'F') return null;
  const exchange = text(field(first.value, 'exchange'));
  const keys = field(first.value, 'routing-keys');
  if (exchange === undefined || keys?.type !== 'A') return null;
  const routingKeys = keys.value.map(text).filter((k): k is string => k !== undefined);
  return routingKeys.length === 0 ? null : { exchange, routingKeys };
}

/** The message as replayed: same body and properties, `x-warren-replayed` counted up. */
export function replayedMessage(msg: Message, exchange: string, routingKeys: string[]): Message {
  const props: BasicProperties = msg.hasNoProperties ? {} : { ...msg.props };
  const headers: FieldTable = {};
  if (props.headers !== undefined) for (const k of Object.keys(props.headers)) setOwn<FieldValue>(headers, k, props.headers[k]!);
  const before = field(headers, REPLAYED_HEADER);
  const n = before !== undefined && (typeof before.value === 'number' || typeof before.value === 'bigint') ? Number(before.value) : 0;
  setOwn<FieldValue>(headers, REPLAYED_HEADER, { type: 'l', value: n + 1 });
  props.headers = headers;
  writeBasicProperties(writer, props);
  const parts = writer.take();
  const raw = parts.length === 1 ? Buffer.from(parts[0]!) : Buffer.concat(parts);
  const out = new Message(exchange, routingKeys[0]!, raw, msg.body);
  // Routed by exactly these keys (CC headers, if any, are already among them).
  out.routeKeys = routingKeys;
  return out;
}

function committed(p: Persistence): Promise<void> {
  return new Promise((resolve, reject) => p.afterCommit((err) => (err === null ? resolve() : reject(err))));
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/**
 * Replays from `q` (a queue of `v`). Resolves once every replayed message is durable where it
 * went and gone from `q` (durably, when `q` is durable). Throws if `to` names no queue.
 */
export async function replayDeadLetters(v: VHost, q: MessageQueue, req: ReplayRequest): Promise<ReplayReport> {
  const report: ReplayReport = { replayed: 0, skipped: { not_dead_lettered: 0, exchange_gone: 0, unroutable: 0, refused: 0 }, remaining: 0 };
  const window = Math.max(1, req.window ?? 256);
  // 'all' means what is there now: messages that die back into q while it runs wait for the next replay.
  let left = req.count === 'all' ? q.messageCount : req.count;
  const held: DeliveryHandle[] = []; // skipped ones, requeued at the end so the loop never meets them again
  const result = new PublishResult();
  const taken: { h: DeliveryHandle; msg: Message }[] = [];
  const into: GetOwner = { gotMessage: (_q, h, msg) => taken.push({ h, msg }) };
  const skip = (h: DeliveryHandle, why: Skip) => { held.push(h); report.skipped[why]++; };
  try {
    while (left > 0 && !q.deleted) {
      taken.length = 0;
      while (taken.length < Math.min(window, left) && q.get(into, false));
      if (taken.length === 0) break;
      left -= taken.length;
      const acks: DeliveryHandle[] = [];
      let stored = false;
      for (const { h, msg } of taken) {
        let x: Exchange | undefined;
        let keys: string[];
        if (req.to !== null) {
          x = v.exchanges.get('');
          keys = [req.to];
        } else {
          const from = diedFrom(msg);
          if (from === null) { skip(h, 'not_dead_lettered'); continue; }
          x = v.exchanges.get(from.exchange);
          keys = from.routingKeys;
        }
        if (x === undefined) { skip(h, 'exchange_gone'); continue; }
        // Unroutable or refused everywhere: nothing was enqueued, and it stays here.
        const r = v.publish(x, replayedMessage(msg, x.name, keys), result);
        if (r.unroutable) { skip(h, 'unroutable'); continue; }
        if (r.refused === r.queues.length) { skip(h, 'refused'); continue; }
        if (r.stored) stored = true;
        acks.push(h);
      }
      const p = v.persistence;
      if (stored && p !== null) {
        try {
          await committed(p);
        } catch (e) {
          for (const h of acks) q.requeue(h, null);
          throw e;
        }
      } else {
        await nextTurn(); // a long replay of transient messages still lets the broker breathe
      }
      for (const h of acks) q.ack(h, null);
      report.replayed += acks.length;
    }
  } finally {
    for (const h of held) q.requeue(h, null);
    if (!q.deleted) q.dispatch();
  }
  // The acks' journal removals: durable before the caller hears "done".
  const p = v.persistence;
  if (p !== null && p.pending) await committed(p);
  report.remaining = q.messageCount;
  return report;
}

const NO_PROPERTIES = Buffer.from([0, 0]);
const EMPTY = Buffer.alloc(0);

/**
 * The queues of `v` whose dead letters can reach `target`: their dead-letter exchange routes
 * their x-dead-letter-routing-key to it, or (without one) has a binding to it. The UI offers
 * replay on such queues; it is a hint (a message's own routing key may reach a queue no
 * binding names), not a rule.
 */
export function deadLetterSources(v: VHost, target: MessageQueue): string[] {
  const out: string[] = [];
  const reached: MessageQueue[] = [];
  for (const q of v.queues.values()) {
    if (q === target || q.deadLetterExchange === null) continue;
    const x = v.exchanges.get(q.deadLetterExchange);
    if (x === undefined) continue;
    const rk = q.deadLetterRoutingKey;
    if (rk !== null) {
      reached.length = 0;
      v.route(x, new Message(x.name, rk, NO_PROPERTIES, EMPTY), reached);
      if (reached.includes(target)) out.push(q.name);
    } else if (x.bindings.some((b) => b.destination === target)) {
      out.push(q.name);
    }
  }
  return out;
}
