// The `expiration` property as RabbitMQ 3.10 reads it (rabbit_basic:parse_expiration):
// string:to_integer on its bytes (one optional sign, then ASCII digits; no blanks), nothing
// may follow, and rabbit_misc:check_expiry's range. A refusal comes back as the Erlang term
// RabbitMQ prints in its 406 text.
import type { ErlTerm } from '../protocol/erlang-pretty.js';

/** rabbit_misc:check_expiry's upper bound: ten years, in ms. */
export const MAX_EXPIRATION_MS = 315_360_000_000;

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** The TTL in ms, or the error term: no_integer, {value_negative,N}, {value_too_large,N}, {leftover_string,S}. */
export function parseExpiration(b: Buffer): number | ErlTerm {
  let i = b.length > 0 && (b[0] === 0x2b || b[0] === 0x2d) ? 1 : 0;
  const digits = i;
  while (i < b.length && isDigit(b[i]!)) i++;
  if (i === digits) return { atom: 'no_integer' };
  if (i < b.length) return { tuple: [{ atom: 'leftover_string' }, { chars: b.subarray(i) }] };
  const text = b.toString('latin1');
  // Up to 15 digits are exact as a double; longer ones only matter for the error text.
  const n = i - digits <= 15 ? Number(text) : BigInt(text);
  if (n < 0) return { tuple: [{ atom: 'value_negative' }, n] };
  if (n > MAX_EXPIRATION_MS) return { tuple: [{ atom: 'value_too_large' }, n] };
  return Number(n);
}
