// Headers exchange, as RabbitMQ 3.x's rabbit_exchange_type_headers (checked against the 3.10.8
// code and a live 3.10.8 broker). The routing key is ignored; a binding's arguments are matched
// against the message's `headers` property:
// - `x-match` = all (also when absent or of an unknown value/type) | any | all-with-x | any-with-x.
// - The `x-match` argument itself never takes part; other `x-*` arguments only with *-with-x.
// - A binding argument of type void ('V') only asks for the header to be present.
// - all: every remaining argument matches (so none left = match everything);
//   any: at least one matches (so none left = match nothing).
// Values compare with Erlang's `==` on the decoded terms, which ignores the type letter at the
// top level: 1 as byte == 1 as long == 1.0 as double == 1 as timestamp; a longstr equals a byte
// array with the same bytes. Inside arrays and tables the type atoms are part of the terms, so
// there the letters must be identical (byte 1 != long 1) and tables must list keys in the same
// order. This is NOT field-table.ts's fieldEquals (type-class based), deliberately.
import type { FieldTable, FieldValue, TypeLetter } from '../../protocol/field-table.js';
import { TYPE_ATOMS, erlTerm } from '../../protocol/erlang-format.js';
import type { Binding, Destination, ExchangeTypeDef, Router } from './exchange.js';

type MatchKind = 'all' | 'any' | 'all-with-x' | 'any-with-x';

interface Compiled {
  readonly binding: Binding;
  readonly any: boolean;
  readonly keys: readonly string[];
  readonly values: readonly FieldValue[];
}

export class HeadersRouter implements Router {
  private readonly compiled = new Map<Binding, Compiled>();

  add(b: Binding): void {
    const kind = matchKind(b.args['x-match']);
    const withX = kind === 'all-with-x' || kind === 'any-with-x';
    const keys: string[] = [];
    const values: FieldValue[] = [];
    for (const k of Object.keys(b.args)) {
      if (k === 'x-match' || (!withX && k.startsWith('x-'))) continue;
      keys.push(k);
      values.push(b.args[k]!);
    }
    this.compiled.set(b, { binding: b, any: kind === 'any' || kind === 'any-with-x', keys, values });
  }

  remove(b: Binding): void {
    this.compiled.delete(b);
  }

  route(_routingKey: string, headers: FieldTable | undefined, out: Destination[]): void {
    for (const c of this.compiled.values()) {
      if (headersMatch(c, headers)) out.push(c.binding.destination);
    }
  }
}

function headersMatch(c: Compiled, headers: FieldTable | undefined): boolean {
  for (let i = 0; i < c.keys.length; i++) {
    const pattern = c.values[i]!;
    const h = headers !== undefined && Object.hasOwn(headers, c.keys[i]!) ? headers[c.keys[i]!] : undefined;
    const ok = h !== undefined && (pattern.type === 'V' || erlangEquals(pattern, h));
    if (ok && c.any) return true;
    if (!ok && !c.any) return false;
  }
  return !c.any;
}

/** parse_x_match: anything but the four known longstrs (or no x-match at all) means `all`. */
function matchKind(v: FieldValue | undefined): MatchKind {
  if (v?.type !== 'S') return 'all';
  const s = typeof v.value === 'string' ? v.value : v.value.toString('latin1');
  return s === 'any' || s === 'all-with-x' || s === 'any-with-x' ? s : 'all';
}

// ---- Erlang term equality (==) of decoded field values -------------------------------------

const NUMERIC = new Set<TypeLetter>(['b', 'B', 's', 'u', 'I', 'i', 'l', 'T', 'f', 'd']);

/** Erlang `==` of the terms RabbitMQ decodes the two values to (type atoms not compared). */
export function erlangEquals(a: FieldValue, b: FieldValue): boolean {
  if (NUMERIC.has(a.type)) return NUMERIC.has(b.type) && numbersEqual(a, b);
  switch (a.type) {
    case 'S': case 'x':
      return (b.type === 'S' || b.type === 'x') && bytes(a.value).equals(bytes(b.value));
    case 't': return b.type === 't' && a.value === b.value;
    case 'V': return b.type === 'V';
    case 'D': return b.type === 'D' && a.value.scale === b.value.scale && a.value.value === b.value.value;
    case 'A': {
      if (b.type !== 'A' || a.value.length !== b.value.length) return false;
      const bv = b.value;
      return a.value.every((x, i) => x.type === bv[i]!.type && erlangEquals(x, bv[i]!));
    }
    case 'F': {
      if (b.type !== 'F') return false;
      const ka = Object.keys(a.value);
      const kb = Object.keys(b.value);
      if (ka.length !== kb.length) return false;
      return ka.every((k, i) => {
        const x = a.value[k]!;
        const y = b.value[kb[i]!]!;
        return k === kb[i] && x.type === y.type && erlangEquals(x, y);
      });
    }
  }
  return false;
}

const isFloat = (f: FieldValue) => f.type === 'f' || f.type === 'd';

/** Exact numeric comparison, as Erlang compares integers with floats. */
function numbersEqual(a: FieldValue, b: FieldValue): boolean {
  const x = a.value as number | bigint;
  const y = b.value as number | bigint;
  if (typeof x === 'number' && typeof y === 'number') return x === y;
  // One side is a bigint integer: a float equals it only if integral and exactly equal.
  const fx = isFloat(a) ? x : null;
  const fy = isFloat(b) ? y : null;
  if (fx !== null && !Number.isInteger(fx)) return false;
  if (fy !== null && !Number.isInteger(fy)) return false;
  return BigInt(x) === BigInt(y);
}

function bytes(v: string | Buffer): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

// ---- binding validation (validate_binding) --------------------------------------------------

/**
 * RabbitMQ's explanation for an invalid `x-match` (reply 406 PRECONDITION_FAILED, the caller
 * adds the "PRECONDITION_FAILED - " prefix), or null when the binding arguments are acceptable.
 */
export function validateHeadersBindingArgs(args: FieldTable): string | null {
  if (!Object.hasOwn(args, 'x-match')) return null;
  const v = args['x-match']!;
  if (v.type !== 'S') {
    return `Invalid x-match field type ${TYPE_ATOMS[v.type]} (value ${erlTerm(v)}); expected longstr`;
  }
  const s = bytes(v.value).toString('latin1');
  if (s === 'all' || s === 'any' || s === 'all-with-x' || s === 'any-with-x') return null;
  return `Invalid x-match field value ${erlTerm(v)}; expected all, any, all-with-x, or any-with-x`;
}

export const headersType: ExchangeTypeDef = {
  name: 'headers',
  routesBy: 'headers',
  createRouter: () => new HeadersRouter(),
  validateBinding: (_key, args) => validateHeadersBindingArgs(args),
};
