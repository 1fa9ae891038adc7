// Stream queue declaration and consume rules, as RabbitMQ 3.10's rabbit_stream_queue has them
// over AMQP 0-9-1: the arguments a stream takes (checked after the common ones in arguments.ts),
// the queue properties it refuses, the keys compared on re-declare, and x-stream-offset.
import { TYPE_ATOMS } from '../../../protocol/erlang-format.js';
import { ChannelError, ConnectionError } from '../../../protocol/errors.js';
import type { FieldTable, FieldValue } from '../../../protocol/field-table.js';

/** rabbit_queue_type:arguments(queue_arguments, rabbit_stream_queue), in its order. */
export const STREAM_EQUIVALENT_ARGS = [
  'x-max-length-bytes', 'x-queue-type', 'x-max-age', 'x-stream-max-segment-size-bytes', 'x-initial-cluster-size',
  'x-queue-leader-locator',
];

/** rabbit_amqqueue:declare_args() keys a stream does not take, in that order (Warren's retry keys last). */
const NOT_FOR_STREAM = [
  'x-expires', 'x-message-ttl', 'x-dead-letter-exchange', 'x-dead-letter-routing-key', 'x-max-length',
  'x-max-in-memory-length', 'x-max-in-memory-bytes', 'x-max-priority', 'x-overflow', 'x-queue-mode', 'x-queue-version',
  'x-single-active-consumer', 'x-quorum-initial-group-size', 'x-dead-letter-strategy',
  'x-delivery-limit', 'x-delayed-retry-min', 'x-delayed-retry-multiplier', 'x-delayed-retry-max',
];

/** Where RabbitMQ's parse crashes, the channel process dies: 541 with the bare text INTERNAL_ERROR. */
function crash(): ConnectionError {
  const e = ConnectionError.internalError('');
  (e as { replyText: string }).replyText = 'INTERNAL_ERROR';
  return e;
}

const INTEGER_TYPES = new Set(['b', 's', 'I', 'l', 'B', 'u', 'i']);
const LOCATORS = new Set(['client-local', 'balanced', 'random', 'least-leaders']);
const str = (v: FieldValue): string => (typeof v.value === 'string' ? v.value : (v.value as Buffer).toString('utf8'));
const has = (t: FieldTable, k: string): FieldValue | undefined => (Object.hasOwn(t, k) ? t[k] : undefined);

const UNIT_MS: Record<string, number> = { Y: 365 * 86_400_000, M: 30 * 86_400_000, D: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };

/**
 * rabbit_amqqueue:check_max_age: digits then one unit (Y M D h m s). 'bad' when RabbitMQ fails
 * with invalid_max_age, 'crash' where its parse crashes (no leading digits: 541 INTERNAL_ERROR).
 */
export function parseAge(s: string): number | 'bad' | 'crash' {
  const m = /^([0-9]+)(.*)$/s.exec(s);
  if (m === null) return 'crash';
  const unit = UNIT_MS[m[2]!];
  return unit === undefined ? 'bad' : Number(m[1]) * unit;
}

function intArg(v: FieldValue): string | null {
  if (!INTEGER_TYPES.has(v.type)) return `"expected integer, got ${TYPE_ATOMS[v.type]}"`;
  return Number(v.value) < 0 ? `{value_negative,${String(v.value)}}` : null;
}

/** The stream's own value checks, then the keys it refuses; `fail` makes the 406 for a value. */
export function validateStreamArgs(args: FieldTable, res: string, fail: (key: string, why: string) => ChannelError): void {
  const age = has(args, 'x-max-age');
  if (age !== undefined) {
    if (age.type !== 'S') throw fail('x-max-age', `{unacceptable_type,${TYPE_ATOMS[age.type]}}`);
    const ms = parseAge(str(age));
    if (ms === 'crash') throw crash();
    if (ms === 'bad' || ms === 0) throw fail('x-max-age', 'invalid_max_age');
  }
  const seg = has(args, 'x-stream-max-segment-size-bytes');
  if (seg !== undefined) { const why = intArg(seg); if (why !== null) throw fail('x-stream-max-segment-size-bytes', why); }
  const size = has(args, 'x-initial-cluster-size');
  if (size !== undefined) {
    const why = intArg(size) ?? (Number(size.value) === 0 ? '{value_zero,0}' : null);
    if (why !== null) throw fail('x-initial-cluster-size', why);
  }
  const loc = has(args, 'x-queue-leader-locator');
  if (loc !== undefined) {
    if (loc.type !== 'S') throw fail('x-queue-leader-locator', `{unacceptable_type,${TYPE_ATOMS[loc.type]}}`);
    if (!LOCATORS.has(str(loc))) throw fail('x-queue-leader-locator', 'invalid_queue_locator_arg');
  }
  for (const key of NOT_FOR_STREAM) {
    if (has(args, key) !== undefined) {
      throw ChannelError.preconditionFailed(`invalid arg '${key}' for ${res} of queue type rabbit_stream_queue`);
    }
  }
}

/** rabbit_stream_queue:is_compatible, checked after the arguments, auto-delete first. */
export function checkStreamProperties(durable: boolean, exclusive: boolean, autoDelete: boolean, res: string): void {
  const bad = autoDelete ? 'auto-delete' : exclusive ? 'exclusive-owner' : !durable ? 'non-durable' : null;
  if (bad !== null) throw ChannelError.preconditionFailed(`invalid property '${bad}' for ${res}`);
}

export interface StreamLimits {
  /** x-max-length-bytes, -1 = none. */
  maxBytes: number;
  /** x-max-age in ms, -1 = none. */
  maxAgeMs: number;
  /** x-stream-max-segment-size-bytes (RabbitMQ's default 500 MB). */
  segmentBytes: number;
}

export const DEFAULT_SEGMENT_BYTES = 500_000_000;

export function streamLimits(args: FieldTable): StreamLimits {
  const int = (k: string): number => {
    const v = has(args, k);
    return v !== undefined && INTEGER_TYPES.has(v.type) && Number(v.value) >= 0 ? Number(v.value) : -1;
  };
  const age = has(args, 'x-max-age');
  const ms = age !== undefined && age.type === 'S' ? parseAge(str(age)) : -1;
  const seg = int('x-stream-max-segment-size-bytes');
  return { maxBytes: int('x-max-length-bytes'), maxAgeMs: typeof ms === 'number' ? ms : -1, segmentBytes: seg > 0 ? seg : DEFAULT_SEGMENT_BYTES };
}

/** Where a consumer starts: a named spot, an offset, or the first message stored at/after a time (ms). */
export type OffsetSpec = { kind: 'first' | 'last' | 'next' } | { kind: 'offset'; offset: number } | { kind: 'time'; ms: number };

const FIRST: OffsetSpec = { kind: 'first' };
const LAST: OffsetSpec = { kind: 'last' };
const NEXT: OffsetSpec = { kind: 'next' };

/**
 * rabbit_stream_queue's consume checks in its order: a consumer prefetch, no no-ack, no
 * channel-wide limit, then x-priority (a stream takes none) and x-stream-offset.
 */
export function checkStreamConsume(noAck: boolean, prefetch: number, channelLimited: boolean, args: FieldTable, res: string): void {
  if (prefetch === 0) throw ChannelError.preconditionFailed(`consumer prefetch count is not set for '${res}'`);
  if (noAck) throw ConnectionError.notImplemented(`automatic acknowledgement not supported by stream queues ${res}`);
  if (channelLimited) throw ConnectionError.notImplemented(`${res} does not support global qos`);
  if (has(args, 'x-priority') !== undefined) {
    throw ChannelError.preconditionFailed(`invalid arg 'x-priority' for ${res} of queue type rabbit_stream_queue`);
  }
  offsetSpec(args, res);
}

/** x-stream-offset (checked by checkStreamConsume first). */
export function offsetSpec(args: FieldTable, res: string): OffsetSpec {
  const v = has(args, 'x-stream-offset');
  if (v === undefined) return NEXT;
  if (v.type === 'T') return { kind: 'time', ms: Number(v.value) * 1000 };
  if (INTEGER_TYPES.has(v.type)) return { kind: 'offset', offset: Number(v.value) };
  if (v.type !== 'S') throw crash();
  const s = str(v);
  if (s === 'first') return FIRST;
  if (s === 'last') return LAST;
  if (s === 'next') return NEXT;
  const ms = parseAge(s);
  if (ms === 'crash') throw crash();
  if (ms === 'bad') {
    throw ChannelError.preconditionFailed(`invalid arg 'x-stream-offset' for ${res}: {invalid_stream_offset_arg,{longstr,<<"${s}">>}}`);
  }
  return { kind: 'time', ms: Date.now() - ms };
}
