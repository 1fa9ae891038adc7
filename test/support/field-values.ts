// Typed field-table values by type letter, for tests that write tables out by hand:
// typed.l(5) is { type: 'l', value: 5 }, typed.V() the void value.
import type { FieldTable, FieldValue } from '../../src/protocol/field-table.js';

export const typed = {
  t: (value: boolean): FieldValue => ({ type: 't', value }),
  b: (value: number): FieldValue => ({ type: 'b', value }),
  B: (value: number): FieldValue => ({ type: 'B', value }),
  s: (value: number): FieldValue => ({ type: 's', value }),
  u: (value: number): FieldValue => ({ type: 'u', value }),
  I: (value: number): FieldValue => ({ type: 'I', value }),
  i: (value: number): FieldValue => ({ type: 'i', value }),
  l: (value: number | bigint): FieldValue => ({ type: 'l', value }),
  f: (value: number): FieldValue => ({ type: 'f', value }),
  d: (value: number): FieldValue => ({ type: 'd', value }),
  D: (scale: number, value: number): FieldValue => ({ type: 'D', value: { scale, value } }),
  S: (value: string): FieldValue => ({ type: 'S', value }),
  x: (value: Buffer): FieldValue => ({ type: 'x', value }),
  T: (value: number): FieldValue => ({ type: 'T', value }),
  V: (): FieldValue => ({ type: 'V', value: null }),
  A: (value: FieldValue[]): FieldValue => ({ type: 'A', value }),
  F: (value: FieldTable): FieldValue => ({ type: 'F', value }),
};
