// Deduplication keys, as the rabbitmq-message-deduplication plugin compares them: the value of
// the message's `x-deduplication-header` header, whatever its type (string, integer, float,
// ...). Integers of any width are one value (1 as byte = 1 as long), as are a longstr and a
// byte array with the same bytes; a float is not the integer it equals (Erlang's =:=, which the
// plugin's cache lookups use). Messages without the header have no key: never deduplicated.
import { erlTerm } from '../protocol/erlang-format.js';
import type { FieldValue } from '../protocol/field-table.js';
import { headerOf, type Message } from './message.js';

export const DEDUP_HEADER = 'x-deduplication-header';

/** The key of `v` as a string (cache maps use strings; the disk cache stores its UTF-8 bytes). */
export function keyOf(v: FieldValue): string {
  switch (v.type) {
    case 'S': case 'x': return `s${typeof v.value === 'string' ? v.value : v.value.toString('latin1')}`;
    case 'f': case 'd': return `f${String(v.value)}`;
    case 'b': case 'B': case 's': case 'u': case 'I': case 'i': case 'l': case 'T': return `i${String(v.value)}`;
    default: return `o${erlTerm(v)}`;
  }
}

/** The message's deduplication key, or null when it has no x-deduplication-header. */
export function dedupKey(msg: Message): string | null {
  const v = headerOf(msg, DEDUP_HEADER);
  return v === undefined ? null : keyOf(v);
}
