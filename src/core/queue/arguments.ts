// Queue arguments: RabbitMQ 3.10's validation at queue.declare (rabbit_channel's DLX type check,
// then rabbit_amqqueue:check_declare_arguments, then the classic queue type's list of keys it
// does not support), and the parsed features a queue runs with. Every text is RabbitMQ's.
import { TYPE_ATOMS } from '../../protocol/erlang-format.js';
import { ChannelError } from '../../protocol/errors.js';
import type { FieldTable, FieldValue } from '../../protocol/field-table.js';
import type { Message } from '../message.js';
import { queueRes } from '../names.js';
import { DEFAULT_RETRY_LIMIT, type RetryPolicy } from './retry.js';
import { validateStreamArgs } from './stream/args.js';

export type Overflow = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';

/** What a queue does with its arguments. -1 means "not set" for the numbers. */
export interface QueueFeatures {
  /** x-message-ttl in ms. */
  messageTtl: number;
  /** x-expires in ms. */
  expires: number;
  maxLength: number;
  maxBytes: number;
  overflow: Overflow;
  /** x-max-priority, capped at 255. */
  maxPriority: number;
  singleActiveConsumer: boolean;
  /** x-dead-letter-exchange (may be '' = the default exchange), or null. */
  dlx: string | null;
  dlxRoutingKey: string | null;
  /** x-delivery-limit / x-delayed-retry-*: attempts are counted (retry.ts); null when neither is set. */
  retry: RetryPolicy | null;
  /** x-message-deduplication: true (dedup.ts). */
  dedup: boolean;
}

/** RabbitMQ's ?MAX_SUPPORTED_PRIORITY. */
export const MAX_PRIORITY = 255;
/** rabbit_misc:check_expiry's limit: ten years in ms. */
export const MAX_EXPIRY = 315_360_000_000;

/** rabbit_amqqueue's ?INTEGER_ARG_TYPES: every integer width, but not timestamp. */
const INTEGER_TYPES = new Set(['b', 's', 'I', 'l', 'B', 'u', 'i']);

/**
 * Keys the classic queue type refuses in RabbitMQ 3.10 ("invalid arg ... of queue type
 * rabbit_classic_queue"), checked after every value check.
 */
const NOT_FOR_CLASSIC = [
  'x-max-in-memory-length', 'x-max-in-memory-bytes', 'x-max-age', 'x-stream-max-segment-size-bytes',
  'x-queue-leader-locator', 'x-quorum-initial-group-size', 'x-initial-cluster-size', 'x-dead-letter-strategy',
];

type Check = (v: FieldValue, args: FieldTable) => string | null;

const num = (v: FieldValue): number => Number(v.value);

/** check_int_arg: the reason is an Erlang string, so ~p prints it in double quotes. */
function intArg(v: FieldValue): string | null {
  return INTEGER_TYPES.has(v.type) ? null : `"expected integer, got ${TYPE_ATOMS[v.type]}"`;
}

function nonNegInt(v: FieldValue): string | null {
  return intArg(v) ?? (num(v) < 0 ? `{value_negative,${String(v.value)}}` : null);
}

/** rabbit_misc:check_expiry. */
function expiry(v: FieldValue): string | null {
  if (num(v) < 0) return `{value_negative,${String(v.value)}}`;
  if (num(v) > MAX_EXPIRY) return `{value_too_large,${String(v.value)}}`;
  return null;
}

function longstr(v: FieldValue, ok: (s: string) => string | null): string | null {
  if (v.type !== 'S') return `{unacceptable_type,${TYPE_ATOMS[v.type]}}`;
  return ok(str(v));
}

const str = (v: FieldValue): string => (typeof v.value === 'string' ? v.value : (v.value as Buffer).toString('utf8'));

/** rabbit_amqqueue:declare_args(), in its order (the first failing one is reported). */
const DECLARE_CHECKS: [string, Check][] = [
  ['x-expires', (v) => intArg(v) ?? (num(v) === 0 ? '{value_zero,0}' : expiry(v))],
  ['x-message-ttl', (v) => intArg(v) ?? expiry(v)],
  ['x-dead-letter-exchange', (v) => (v.type === 'S' ? null : `{unacceptable_type,${TYPE_ATOMS[v.type]}}`)],
  ['x-dead-letter-routing-key', (v, args) => longstr(v, () =>
    Object.hasOwn(args, 'x-dead-letter-exchange') ? null : 'routing_key_but_no_dlx_defined')],
  ['x-max-length', nonNegInt],
  ['x-max-length-bytes', nonNegInt],
  ['x-max-priority', (v) => nonNegInt(v) ?? (num(v) > MAX_PRIORITY ? `{max_value_exceeded,${String(v.value)}}` : null)],
  ['x-overflow', (v) => longstr(v, (s) =>
    s === 'drop-head' || s === 'reject-publish' || s === 'reject-publish-dlx' ? null : 'invalid_overflow')],
  ['x-queue-mode', (v) => longstr(v, (s) => (s === 'default' || s === 'lazy' ? null : `"unsupported queue mode '${s}'"`))],
  ['x-queue-version', (v) => intArg(v) ?? (num(v) === 1 || num(v) === 2 ? null : `"unsupported queue version '${String(v.value)}'"`)],
  ['x-single-active-consumer', (v) => (v.type === 't' ? null : `{unacceptable_type,${TYPE_ATOMS[v.type]}}`)],
  // Warren's retry arguments (retry.ts); RabbitMQ 3.10 refuses x-delivery-limit on classic queues.
  ['x-delivery-limit', nonNegInt],
  ['x-delayed-retry-min', positiveInt],
  ['x-delayed-retry-multiplier', (v, args) => positiveInt(v) ?? needsMin(args)],
  ['x-delayed-retry-max', (v, args) => positiveInt(v) ?? needsMin(args) ?? atLeastMin(v, args)],
];

function positiveInt(v: FieldValue): string | null {
  return nonNegInt(v) ?? (num(v) === 0 ? '{value_zero,0}' : null);
}

function needsMin(args: FieldTable): string | null {
  return Object.hasOwn(args, 'x-delayed-retry-min') ? null : 'delayed_retry_min_not_defined';
}

function atLeastMin(v: FieldValue, args: FieldTable): string | null {
  return num(v) < num(args['x-delayed-retry-min']!) ? `{value_below_min,${String(v.value)}}` : null;
}

/**
 * x-queue-type, checked before the rest. Warren has classic and stream queues: 'quorum' (which
 * RabbitMQ accepts) is refused with the text RabbitMQ gives for a type it does not know, rather
 * than silently giving classic-queue semantics to an application that relies on quorum ones.
 */
function queueType(v: FieldValue): string | null {
  return longstr(v, (s) => (s === 'classic' || s === 'stream' ? null : `"unsupported queue type '${s}'"`));
}

/**
 * Validate the arguments of a queue about to be created, in RabbitMQ's order. Unknown keys are
 * accepted and kept. Throws 406 PRECONDITION_FAILED with RabbitMQ's text.
 */
export function validateQueueArgs(args: FieldTable, name: string, vhost: string): void {
  const res = queueRes(name, vhost);
  const get = (k: string) => (Object.hasOwn(args, k) ? args[k] : undefined);
  // rabbit_channel: the DLX name is resolved (and its type checked) before anything else.
  const dlx = get('x-dead-letter-exchange');
  if (dlx !== undefined && dlx.type !== 'S') {
    throw ChannelError.preconditionFailed(`invalid type '${TYPE_ATOMS[dlx.type]}' for arg 'x-dead-letter-exchange' in ${res}`);
  }
  const fail = (key: string, why: string) => ChannelError.preconditionFailed(`invalid arg '${key}' for ${res}: ${why}`);
  const qt = get('x-queue-type');
  if (qt !== undefined) {
    const why = queueType(qt);
    if (why !== null) throw fail('x-queue-type', why);
  }
  for (const [key, check] of DECLARE_CHECKS) {
    const v = get(key);
    if (v === undefined) continue;
    const why = check(v, args);
    if (why !== null) throw fail(key, why);
  }
  // A stream checks its own arguments and refuses the classic-only ones (stream/args.ts).
  if (qt !== undefined && qt.type === 'S' && str(qt) === 'stream') return validateStreamArgs(args, res, fail);
  for (const key of NOT_FOR_CLASSIC) {
    if (get(key) !== undefined) {
      throw ChannelError.preconditionFailed(`invalid arg '${key}' for ${res} of queue type rabbit_classic_queue`);
    }
  }
}

/** The features a queue's (validated, or for tests any) arguments ask for; bad values are ignored. */
export function queueFeatures(args: FieldTable): QueueFeatures {
  const get = (k: string) => (Object.hasOwn(args, k) ? args[k] : undefined);
  const int = (k: string, min: number): number => {
    const v = get(k);
    return v !== undefined && INTEGER_TYPES.has(v.type) && num(v) >= min ? num(v) : -1;
  };
  const s = (k: string): string | null => {
    const v = get(k);
    return v !== undefined && v.type === 'S' ? str(v) : null;
  };
  const overflow = s('x-overflow');
  const sac = get('x-single-active-consumer');
  const dlx = s('x-dead-letter-exchange');
  const maxPriority = int('x-max-priority', 0);
  return {
    messageTtl: int('x-message-ttl', 0),
    expires: int('x-expires', 1),
    maxLength: int('x-max-length', 0),
    maxBytes: int('x-max-length-bytes', 0),
    overflow: overflow === 'reject-publish' || overflow === 'reject-publish-dlx' ? overflow : 'drop-head',
    maxPriority: maxPriority > MAX_PRIORITY ? MAX_PRIORITY : maxPriority,
    singleActiveConsumer: sac !== undefined && sac.type === 't' && sac.value === true,
    dlx,
    dlxRoutingKey: dlx === null ? null : s('x-dead-letter-routing-key'),
    dedup: get('x-message-deduplication')?.type === 't' && get('x-message-deduplication')!.value === true,
    retry: retryPolicy(int('x-delivery-limit', 0), int('x-delayed-retry-min', 1), int('x-delayed-retry-multiplier', 1), int('x-delayed-retry-max', 1)),
  };
}

function retryPolicy(limit: number, min: number, multiplier: number, max: number): RetryPolicy | null {
  if (limit < 0 && min < 0) return null;
  return {
    limit: limit >= 0 ? limit : min > 0 ? DEFAULT_RETRY_LIMIT : Infinity,
    min: min > 0 ? min : 0,
    multiplier: min > 0 && multiplier > 0 ? multiplier : 0,
    max: min > 0 && max > 0 ? max : Infinity,
  };
}

/** The TTL that applies to `msg` in a queue: the lower of the queue's and the message's, or -1. */
export function ttlFor(f: QueueFeatures, msg: Message): number {
  const q = f.messageTtl;
  const m = msg.hasExpiration ? msg.expirationMs : -1;
  if (m < 0) return q;
  return q < 0 || m < q ? m : q;
}

/** reject-publish: would one more message break a limit? (rabbit_amqqueue_process:will_overflow) */
export function wouldOverflow(f: QueueFeatures, ready: { readonly length: number; readonly bytes: number }, msg: Message): boolean {
  return (f.maxLength >= 0 && ready.length + 1 > f.maxLength) ||
    (f.maxBytes >= 0 && ready.bytes + msg.body.length > f.maxBytes);
}
