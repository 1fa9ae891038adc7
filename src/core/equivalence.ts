// RabbitMQ's equivalence rules: re-declaring an exchange or queue must match what exists
// (rabbit_misc:assert_field_equivalence / assert_args_equivalence), and binding identity
// compares argument tables as Erlang terms.
import { typeClass, type FieldTable, type FieldValue } from '../protocol/field-table.js';
import { ChannelError } from '../protocol/errors.js';
import { erlangEquals } from './exchange/headers.js';
import { describeBareValue, describeValue, inequivalentArg } from './names.js';

/**
 * Queue arguments RabbitMQ 3.10 compares on re-declare: the classic queue type's own arguments
 * (rabbit_queue_type:arguments(queue_arguments, rabbit_classic_queue)) and Warren's retry
 * arguments; others, such as x-max-age, cannot be on a classic queue and are not compared.
 */
export const EQUIVALENT_QUEUE_ARGS = [
  'x-expires', 'x-message-ttl', 'x-dead-letter-exchange', 'x-dead-letter-routing-key', 'x-max-length',
  'x-max-length-bytes', 'x-max-priority', 'x-overflow', 'x-queue-mode', 'x-queue-version', 'x-single-active-consumer',
  'x-queue-type', 'x-queue-master-locator',
  // Warren's retry arguments on classic queues (a deliberate extension: see queue/retry.ts).
  'x-delivery-limit', 'x-delayed-retry-min', 'x-delayed-retry-multiplier', 'x-delayed-retry-max',
];
export const EQUIVALENT_EXCHANGE_ARGS = ['alternate-exchange'];

export function assertField(key: string, resource: string, received: unknown, current: unknown): void {
  if (received !== current) {
    throw ChannelError.preconditionFailed(inequivalentArg(key, resource, `'${received}'`, `'${current}'`));
  }
}

/**
 * rabbit_misc:assert_args_equivalence. Equivalent when both are absent, when the type classes
 * match (all integer widths are one class, float and double another) and the values are `==`,
 * or failing that when the bare values are identical terms (a longstr and a binary with the same
 * bytes, a long and a timestamp with the same number). The error shows both bare values when
 * both are present ("received '20' but current is '10'", even "'10' but current is '10'" for a
 * string against a number), else the typed form against `none`.
 */
export function assertArgs(keys: readonly string[], resource: string, received: FieldTable, current: FieldTable): void {
  for (const key of keys) {
    const r = Object.hasOwn(received, key) ? received[key] : undefined;
    const c = Object.hasOwn(current, key) ? current[key] : undefined;
    if (r === undefined && c === undefined) continue;
    // A queue declared without x-queue-type is a classic one: 'classic' and none are the same.
    if (key === 'x-queue-type' && isClassic(r ?? c!) && (r === undefined || c === undefined)) continue;
    if (r !== undefined && c !== undefined) {
      if (typeClass(r.type) === typeClass(c.type) && erlangEquals(r, c)) continue;
      if (sameBareTerm(r, c)) continue;
      throw ChannelError.preconditionFailed(inequivalentArg(key, resource, describeBareValue(r), describeBareValue(c)));
    }
    throw ChannelError.preconditionFailed(inequivalentArg(key, resource, describeValue(r), describeValue(c)));
  }
}

/**
 * Binding identity, as RabbitMQ's: the argument tables sorted by key and then compared as terms,
 * type atoms included, so {a: byte 1} and {a: long 1} are two different bindings.
 */
export function tablesIdentical(a: FieldTable, b: FieldTable): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && a[k]!.type === b[k]!.type && erlangEquals(a[k]!, b[k]!));
}

function isClassic(v: FieldValue): boolean {
  return v.type === 'S' && (typeof v.value === 'string' ? v.value : v.value.toString('utf8')) === 'classic';
}

const INTEGER_TERMS = new Set(['b', 'B', 's', 'u', 'I', 'i', 'l', 'T']);

/** Erlang `=:=` of the decoded values of two fields whose type classes differ. */
function sameBareTerm(a: FieldValue, b: FieldValue): boolean {
  if ((a.type === 'S' || a.type === 'x') && (b.type === 'S' || b.type === 'x')) return erlangEquals(a, b);
  if (INTEGER_TERMS.has(a.type) && INTEGER_TERMS.has(b.type)) return erlangEquals(a, b);
  // An empty array and an empty table both decode to [].
  if ((a.type === 'A' || a.type === 'F') && (b.type === 'A' || b.type === 'F')) {
    return (a.type === 'A' ? a.value.length : Object.keys(a.value).length) === 0 &&
      (b.type === 'A' ? b.value.length : Object.keys(b.value).length) === 0;
  }
  return false;
}
