// Field tables to and from the management API's JSON, as rabbitmq_management converts them:
// integers are long, other numbers double, strings longstr, booleans, arrays, nested tables,
// null void; on the way out binaries are shown as strings and big integers as numbers.
import { setOwn, type FieldTable, type FieldValue } from '../protocol/field-table.js';
import { HttpError } from './errors.js';

export function tableToJson(t: FieldTable): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(t)) setOwn(o, k, valueToJson(t[k]!));
  return o;
}

function valueToJson(v: FieldValue): unknown {
  switch (v.type) {
    case 'S': case 'x': return typeof v.value === 'string' ? v.value : v.value.toString('utf8');
    case 'l': return typeof v.value === 'bigint' ? Number(v.value) : v.value;
    case 'A': return v.value.map(valueToJson);
    case 'F': return tableToJson(v.value);
    case 'D': return v.value.value / 10 ** v.value.scale;
    default: return v.value;
  }
}

/** A JSON object of arguments or headers as a field table; `what` names it in errors. */
export function jsonToTable(o: unknown, what: string): FieldTable {
  if (o === undefined || o === null) return {};
  if (typeof o !== 'object' || Array.isArray(o)) throw HttpError.badRequest(`${what} must be a JSON object`);
  const t: FieldTable = {};
  for (const [k, v] of Object.entries(o as Record<string, unknown>)) setOwn(t, k, jsonToValue(v));
  return t;
}

function jsonToValue(v: unknown): FieldValue {
  if (v === null || v === undefined) return { type: 'V', value: null };
  if (typeof v === 'boolean') return { type: 't', value: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { type: 'l', value: v } : { type: 'd', value: v };
  if (typeof v === 'string') return { type: 'S', value: v };
  if (Array.isArray(v)) return { type: 'A', value: v.map(jsonToValue) };
  return { type: 'F', value: jsonToTable(v, 'a nested table') };
}
