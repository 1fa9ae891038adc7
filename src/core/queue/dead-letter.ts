// Dead-lettering as RabbitMQ 3.10's rabbit_dead_letter: the message a queue gives up on
// (rejected, expired, maxlen) is re-published to the queue's dead-letter exchange with an
// x-death history, its `expiration` removed, and is dropped instead of delivered to a queue it
// would reach again in a cycle that no client rejection interrupted.
import { ByteWriter } from '../../protocol/byte-writer.js';
import { setOwn, type FieldTable, type FieldValue } from '../../protocol/field-table.js';
import { writeBasicProperties, type BasicProperties } from '../../protocol/generated/amqp.js';
import { Message } from '../message.js';

export type DeathReason = 'rejected' | 'expired' | 'maxlen' | 'delivery_limit';

export interface DeadLetter {
  msg: Message;
  /** The new x-death array (most recent first), for cycle detection. */
  deaths: FieldValue[];
}

const writer = new ByteWriter(4096);

const longstr = (s: string): FieldValue => ({ type: 'S', value: s });
const text = (v: FieldValue | undefined): string | undefined =>
  v === undefined || v.type !== 'S' ? undefined : typeof v.value === 'string' ? v.value : v.value.toString('utf8');
const field = (t: FieldTable, k: string): FieldValue | undefined => (Object.hasOwn(t, k) ? t[k] : undefined);

/** The longstr elements of an array header (rabbit_basic:header_routes, for one header). */
function routes(headers: FieldTable, name: string): string[] {
  const v = field(headers, name);
  if (v?.type !== 'A') return [];
  const out: string[] = [];
  for (const e of v.value) {
    const s = text(e);
    if (s !== undefined) out.push(s);
  }
  return out;
}

/** rabbit_misc:sort_field_table: keys in Erlang binary order (bytewise). */
function sorted(t: FieldTable): FieldTable {
  const keys = Object.keys(t).sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  const out: FieldTable = {};
  for (const k of keys) setOwn<FieldValue>(out, k, t[k]!);
  return out;
}

/**
 * rabbit_dead_letter:make_msg. `dlx` is the dead-letter exchange's name, `dlxRoutingKey` the
 * queue's x-dead-letter-routing-key (null = keep the message's own routing keys).
 */
export function makeDeadLetter(
  msg: Message, reason: DeathReason, queue: string, dlx: string, dlxRoutingKey: string | null, nowMs: number,
): DeadLetter {
  const props: BasicProperties = msg.hasNoProperties ? {} : { ...msg.props };
  const headers: FieldTable = {};
  if (props.headers !== undefined) for (const k of Object.keys(props.headers)) setOwn<FieldValue>(headers, k, props.headers[k]!);
  // The routing keys the message was published with: its key, then CC, then BCC. RabbitMQ never
  // stores BCC in the headers; if one is still there it is dropped now.
  const cc = routes(headers, 'CC');
  const publishedKeys = msg.routeKeys ?? [msg.routingKey, ...cc, ...routes(headers, 'BCC')];
  delete headers.BCC;

  const info: [string, FieldValue][] = [
    ['reason', longstr(reason)],
    ['queue', longstr(queue)],
    ['time', { type: 'T', value: Math.floor(nowMs / 1000) }],
    ['exchange', longstr(msg.exchange)],
    // The first key is the one given in basic.publish; the others come from CC.
    ['routing-keys', { type: 'A', value: [msg.routingKey, ...cc].map(longstr) }],
  ];
  if (props.expiration !== undefined) info.push(['original-expiration', longstr(props.expiration)]);

  let deaths: FieldValue[];
  let updated: FieldTable;
  const existing = field(headers, 'x-death');
  if (existing === undefined) {
    // The first death also gets top-level headers (rabbitmq-server#1332).
    setOwn<FieldValue>(headers, 'x-first-death-reason', longstr(reason));
    setOwn<FieldValue>(headers, 'x-first-death-queue', longstr(queue));
    setOwn<FieldValue>(headers, 'x-first-death-exchange', longstr(msg.exchange));
    deaths = [{ type: 'F', value: table([['count', { type: 'l', value: 1 }], ...info]) }];
    updated = headers;
  } else if (existing.type !== 'A') {
    // Not an array (a client re-published it converted): start over, without first-death headers.
    deaths = [{ type: 'F', value: table([['count', { type: 'l', value: 1 }], ...info]) }];
    updated = headers;
  } else {
    const grouped = groupByQueueAndReason(existing.value);
    const matches = (t: FieldValue) =>
      t.type === 'F' && text(field(t.value, 'queue')) === queue && text(field(t.value, 'reason')) === reason;
    const match = grouped.find(matches);
    const others = grouped.filter((t) => !matches(t));
    const entry = match !== undefined && match.type === 'F'
      ? incrementCount(match.value)
      : table([['count', { type: 'l', value: 1 }], ...info]);
    deaths = [{ type: 'F', value: sorted(entry) }, ...others];
    updated = headers;
  }
  setOwn<FieldValue>(updated, 'x-death', { type: 'A', value: deaths });
  if (dlxRoutingKey !== null) delete updated.CC;
  props.headers = sorted(updated);
  delete props.expiration;

  writeBasicProperties(writer, props);
  const parts = writer.take();
  const raw = parts.length === 1 ? Buffer.from(parts[0]!) : Buffer.concat(parts);
  const routeKeys = dlxRoutingKey === null ? publishedKeys : [dlxRoutingKey];
  const out = new Message(dlx, routeKeys[0]!, raw, msg.body);
  out.routeKeys = routeKeys.length > 1 ? routeKeys : null;
  return { msg: out, deaths };
}

function table(rows: [string, FieldValue][]): FieldTable {
  const t: FieldTable = {};
  for (const [k, v] of rows) setOwn<FieldValue>(t, k, v);
  return t;
}

function incrementCount(t: FieldTable): FieldTable {
  const out: FieldTable = {};
  const count = field(t, 'count');
  if (count === undefined) setOwn<FieldValue>(out, 'count', { type: 'l', value: 1 });
  for (const k of Object.keys(t)) {
    setOwn<FieldValue>(out, k, k === 'count' ? { type: 'l', value: Number(count!.value) + 1 } : t[k]!);
  }
  return out;
}

/**
 * rabbit_dead_letter:group_by_queue_and_reason: one table per queue+reason (x-death headers
 * written before rabbitmq-server#78 had one per event), each with a count. The fold builds the
 * list backwards, so with several entries their order is reversed, as RabbitMQ's is.
 */
function groupByQueueAndReason(tables: FieldValue[]): FieldValue[] {
  if (tables.length <= 1) return tables;
  const seen = new Set<string>();
  const out: FieldValue[] = [];
  for (const t of tables) {
    if (t.type !== 'F') continue;
    const q = text(field(t.value, 'queue'));
    const r = text(field(t.value, 'reason'));
    const key = JSON.stringify([q ?? null, r ?? null]);
    if (seen.has(key)) continue;
    seen.add(key);
    const same = tables.filter((x) => x.type === 'F' && text(field(x.value, 'queue')) === q && text(field(x.value, 'reason')) === r);
    const first = same[0] as { type: 'F'; value: FieldTable };
    let entry = first.value;
    if (field(entry, 'count') === undefined) entry = table([['count', { type: 'l', value: same.length }], ...Object.entries(entry)]);
    out.unshift({ type: 'F', value: entry });
  }
  return out;
}

/**
 * rabbit_dead_letter:is_cycle: would delivering to `queue` close a cycle? Yes if the queue is in
 * the x-death history and no death up to and including its latest one there was a rejection
 * (a client in the loop means it is not "fully automatic").
 */
export function isCycle(queue: string, deaths: FieldValue[]): boolean {
  let i = 0;
  for (; i < deaths.length; i++) {
    const d = deaths[i]!;
    if (d.type === 'F' && text(field(d.value, 'queue')) === queue) break;
  }
  if (i === deaths.length) return false;
  for (let j = 0; j <= i; j++) {
    const d = deaths[j]!;
    if (d.type !== 'F') return false;
    if (text(field(d.value, 'reason')) === 'rejected') return false;
  }
  return true;
}
