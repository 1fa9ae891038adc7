// Field tables with RabbitMQ's type letters (which differ from the 0-9-1 spec text: 's' is a
// signed short, 'l' a signed long-long, 'u' unsigned short, 'x' a byte array, no 'U'/'L').
// Values keep their letter so that re-encoding, argument equivalence ("type class") and headers
// matching see what the peer sent, e.g. 1 sent as 'b' versus 1.0 sent as 'd'.

export type TypeLetter =
  | 't' | 'b' | 'B' | 's' | 'u' | 'I' | 'i' | 'l' | 'f' | 'd' | 'D' | 'S' | 'A' | 'T' | 'F' | 'V' | 'x';

/** decimal-value = scale (octet) + value (long-uint, unsigned 32-bit): value / 10^scale. */
export interface Decimal { scale: number; value: number }

export type FieldValue =
  | { type: 't'; value: boolean }
  | { type: 'b' | 'B' | 's' | 'u' | 'I' | 'i' | 'f' | 'd'; value: number }
  | { type: 'l'; value: number | bigint }
  | { type: 'T'; value: number }
  | { type: 'D'; value: Decimal }
  | { type: 'S'; value: string | Buffer }
  | { type: 'x'; value: Buffer }
  | { type: 'A'; value: FieldValue[] }
  | { type: 'F'; value: FieldTable }
  | { type: 'V'; value: null };

export type FieldTable = Record<string, FieldValue>;

/**
 * Set an own property, also for the key `__proto__`: a plain assignment of that key (which a
 * peer may send) would replace the object's prototype and drop the key instead.
 */
export function setOwn<T>(o: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

export const TYPE_LETTERS: readonly TypeLetter[] = [
  't', 'b', 'B', 's', 'u', 'I', 'i', 'l', 'f', 'd', 'D', 'S', 'A', 'T', 'F', 'V', 'x',
];

/** RabbitMQ's rabbit_misc:type_class: all integer widths compare equal, as do float and double. */
export function typeClass(letter: TypeLetter): string {
  switch (letter) {
    case 'b': case 'B': case 's': case 'u': case 'I': case 'i': case 'l': return 'int';
    case 'f': case 'd': return 'float';
    default: return letter;
  }
}

/** Build a typed value from a plain JS value, using the letters RabbitMQ itself writes. */
export function toField(v: unknown): FieldValue {
  if (v === null || v === undefined) return { type: 'V', value: null };
  if (typeof v === 'boolean') return { type: 't', value: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { type: 'l', value: v } : { type: 'd', value: v };
  if (typeof v === 'bigint') return { type: 'l', value: v };
  if (typeof v === 'string') return { type: 'S', value: v };
  if (Buffer.isBuffer(v)) return { type: 'x', value: v };
  if (v instanceof Date) return { type: 'T', value: Math.floor(v.getTime() / 1000) };
  if (Array.isArray(v)) return { type: 'A', value: v.map(toField) };
  if (typeof v === 'object' && isFieldValue(v)) return v;
  const table: FieldTable = {};
  for (const [k, x] of Object.entries(v as object)) setOwn(table, k, toField(x));
  return { type: 'F', value: table };
}

function isFieldValue(v: object): v is FieldValue {
  const t = (v as { type?: unknown }).type;
  return typeof t === 'string' && t.length === 1 && 'value' in v && TYPE_LETTERS.includes(t as TypeLetter);
}

export function toTable(o: Record<string, unknown>): FieldTable {
  const table: FieldTable = {};
  for (const [k, x] of Object.entries(o)) setOwn(table, k, toField(x));
  return table;
}

/** Plain JS view of a typed value (strings for 'S', numbers for integers that fit). */
export function plain(f: FieldValue): unknown {
  switch (f.type) {
    case 'A': return f.value.map(plain);
    case 'F': return plainTable(f.value);
    case 'S': return typeof f.value === 'string' ? f.value : f.value.toString('utf8');
    default: return f.value;
  }
}

export function plainTable(t: FieldTable): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(t)) setOwn(o, k, plain(t[k]!));
  return o;
}

/** Equality as RabbitMQ compares field values: same type class, equal value. */
export function fieldEquals(a: FieldValue, b: FieldValue): boolean {
  if (typeClass(a.type) !== typeClass(b.type)) return false;
  switch (a.type) {
    case 'A': {
      const bv = b.value as FieldValue[];
      return a.value.length === bv.length && a.value.every((x, i) => fieldEquals(x, bv[i]!));
    }
    case 'F': {
      const bt = b.value as FieldTable;
      const ak = Object.keys(a.value);
      return ak.length === Object.keys(bt).length && ak.every((k) => k in bt && fieldEquals(a.value[k]!, bt[k]!));
    }
    case 'S': case 'x': return bytesOf(a.value as string | Buffer).equals(bytesOf(b.value as string | Buffer));
    case 'D': { const d = b.value as Decimal; return a.value.scale === d.scale && a.value.value === d.value; }
    case 'l': return BigInt(a.value) === BigInt(b.value as number | bigint);
    default: return a.value === b.value || (typeClass(a.type) === 'int' && Number(a.value) === Number(b.value));
  }
}

function bytesOf(v: string | Buffer): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}
