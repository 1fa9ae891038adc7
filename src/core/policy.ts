// Policies and operator policies as RabbitMQ 3.10's rabbit_policy: per vhost, a name, a pattern
// (a regex on the object's name), what it applies to, a priority and a definition. Of the
// policies whose pattern matches an object, the one with the highest priority applies, and
// beside it the one matching operator policy; their values then combine with the object's own
// x-arguments (rabbit_amqqueue_process:process_args_policy, rabbit_policy:get_arg):
// - expires, message-ttl, max-length, max-length-bytes (and delivery-limit): the lowest of the
//   x-argument, the policy and the operator policy wins;
// - dead-letter-exchange, dead-letter-routing-key, overflow, alternate-exchange: the x-argument
//   wins over the policy (operator policies cannot set them);
// - on streams (rabbit_stream_queue:make_stream_conf) only max-length-bytes, max-age and
//   stream-max-segment-size-bytes, each the lowest of argument and policy.
// Pure functions: the vhost's policy table (policy-set.ts) applies what they compute.
import { setOwn, type FieldTable, type FieldValue } from '../protocol/field-table.js';
import { parseAge } from './queue/stream/args.js';

export type PolicyKind = 'policy' | 'operator';
export type ApplyTo = 'all' | 'queues' | 'exchanges';
/** A definition as given (JSON values), keys in sorted order as RabbitMQ returns them. */
export type Definition = Record<string, unknown>;

/** What is stored, exported and shown (RabbitMQ's fields). */
export interface PolicyRecord {
  readonly vhost: string;
  readonly name: string;
  readonly pattern: string;
  readonly applyTo: ApplyTo;
  readonly priority: number;
  readonly definition: Definition;
}

export interface Policy extends PolicyRecord {
  readonly regex: RegExp;
}

/** Keys whose values merge by taking the lowest (rabbit_policies' policy_merge_strategy). */
const LOWEST_WINS = new Set(['expires', 'message-ttl', 'max-length', 'max-length-bytes', 'max-in-memory-length', 'max-in-memory-bytes', 'delivery-limit']);

/**
 * The keys a Warren classic queue takes from a policy and how each resolves against its
 * x-argument: 'min' the lowest wins, 'arg' the x-argument wins. RabbitMQ 3.10 reads
 * delivery-limit only for quorum queues, so on classic ones it is ignored, as here.
 */
type Resolve = 'min' | 'arg' | 'shortest';
const QUEUE_KEYS: readonly [string, Resolve][] = [
  ['expires', 'min'], ['dead-letter-exchange', 'arg'], ['dead-letter-routing-key', 'arg'], ['message-ttl', 'min'],
  ['max-length', 'min'], ['max-length-bytes', 'min'], ['overflow', 'arg'],
];

/** A stream's keys (rabbit_stream_queue:make_stream_conf); max-age's lowest is the shortest age. */
const STREAM_KEYS: readonly [string, Resolve][] = [
  ['max-length-bytes', 'min'], ['max-age', 'shortest'], ['stream-max-segment-size-bytes', 'min'],
];

/** Keys Warren honours, by what they apply to; everything else valid is kept but ignored. */
export const HONOURED_KEYS: ReadonlySet<string> = new Set([...QUEUE_KEYS.map(([k]) => k), ...STREAM_KEYS.map(([k]) => k), 'alternate-exchange']);

export function compilePolicy(r: PolicyRecord): Policy {
  return { ...r, definition: sortedDefinition(r.definition), regex: new RegExp(r.pattern) };
}

export function sortedDefinition(d: Definition): Definition {
  const out: Definition = {};
  for (const k of Object.keys(d).sort()) setOwn(out, k, d[k]);
  return out;
}

/**
 * rabbit_policy:match: the matching policy with the highest priority. RabbitMQ leaves a tie to
 * the order of its table (neither name nor creation order); Warren takes the first name.
 */
export function matchPolicy(policies: Iterable<Policy>, kind: 'queue' | 'exchange', name: string): Policy | null {
  let best: Policy | null = null;
  for (const p of policies) {
    if (p.applyTo !== 'all' && p.applyTo !== (kind === 'queue' ? 'queues' : 'exchanges')) continue;
    if (best !== null && (p.priority < best.priority || (p.priority === best.priority && p.name > best.name))) continue;
    if (p.regex.test(name)) best = p;
  }
  return best;
}

const own = (d: Definition, k: string): unknown => (Object.hasOwn(d, k) ? d[k] : undefined);

/** rabbit_policy:get0: one key's value from a policy and an operator policy together. */
export function policyValue(key: string, p: Policy | null, op: Policy | null): unknown {
  const v = p === null ? undefined : own(p.definition, key);
  const o = op === null ? undefined : own(op.definition, key);
  if (v === undefined) return o;
  if (o === undefined) return v;
  return LOWEST_WINS.has(key) && typeof v === 'number' && typeof o === 'number' ? Math.min(v, o) : v;
}

/** rabbit_policy:effective_definition: both definitions merged, as the queue view shows it. */
export function effectiveDefinition(p: Policy | null, op: Policy | null): Definition {
  const keys = new Set([...Object.keys(p?.definition ?? {}), ...Object.keys(op?.definition ?? {})]);
  const out: Definition = {};
  for (const k of [...keys].sort()) setOwn(out, k, policyValue(k, p, op));
  return out;
}

function asField(v: unknown): FieldValue | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return { type: 'l', value: v };
  if (typeof v === 'string') return { type: 'S', value: v };
  return undefined;
}

const INTEGER_TYPES = new Set(['b', 's', 'I', 'l', 'B', 'u', 'i']);

/** An age argument or policy value in ms (Infinity when it is not one). */
function ageMs(v: FieldValue): number {
  if (v.type !== 'S') return Infinity;
  const ms = parseAge(typeof v.value === 'string' ? v.value : (v.value as Buffer).toString('utf8'));
  return typeof ms === 'number' ? ms : Infinity;
}

/** The policy's value replaces the argument's. */
function policyWins(how: Resolve, arg: FieldValue, pol: FieldValue): boolean {
  if (how === 'min') return INTEGER_TYPES.has(arg.type) && pol.type === 'l' && Number(arg.value) > (pol.value as number);
  if (how === 'shortest') return ageMs(pol) < ageMs(arg);
  return false;
}

/**
 * The arguments a queue runs with: its declared ones with the policy's keys folded in, as
 * RabbitMQ resolves each for the queue's type. The declared table itself is not touched
 * (re-declare equivalence compares only what was declared).
 */
export function effectiveQueueArgs(args: FieldTable, p: Policy | null, op: Policy | null, type = 'classic'): FieldTable {
  if (p === null && op === null) return args;
  const out: FieldTable = {};
  for (const k of Object.keys(args)) setOwn<FieldValue>(out, k, args[k]!);
  for (const [key, how] of type === 'stream' ? STREAM_KEYS : QUEUE_KEYS) {
    const pol = asField(policyValue(key, p, op));
    if (pol === undefined) continue;
    const xkey = `x-${key}`;
    const arg = Object.hasOwn(args, xkey) ? args[xkey] : undefined;
    if (arg === undefined || policyWins(how, arg, pol)) setOwn<FieldValue>(out, xkey, pol);
  }
  return out;
}

/** rabbit_policy:get_arg for alternate-exchange: the argument, else the policy's. */
export function effectiveAlternate(args: FieldTable, p: Policy | null): string | null {
  const a = Object.hasOwn(args, 'alternate-exchange') ? args['alternate-exchange'] : undefined;
  if (a !== undefined) return a.type === 'S' ? (typeof a.value === 'string' ? a.value : a.value.toString('utf8')) : null;
  const v = p === null ? undefined : own(p.definition, 'alternate-exchange');
  return typeof v === 'string' ? v : null;
}

/** The keys of a definition Warren keeps but does not act on (ha-mode, queue-mode, ...). */
export function ignoredKeys(d: Definition): string[] {
  return Object.keys(d).filter((k) => !HONOURED_KEYS.has(k)).sort();
}
