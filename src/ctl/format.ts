// rabbitmqctl's output: informational lines ("Listing queues for vhost / ...") unless -q or
// --formatter json, then a table (a header row unless --no-table-headers, tab-separated
// values written as rabbitmqctl writes Erlang terms) or JSON (one object a line, AMQP tables
// as [name, type, value] triples).

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Standard input, read whole (import_definitions -, add_user without a password). */
  stdin(): Promise<string>;
}

export interface OutputOptions {
  quiet: boolean;
  json: boolean;
  headers: boolean;
}

/** How a column's value is written: plain, an AMQP table (in the order the API gives), tags, ... */
export type Kind = 'plain' | 'table' | 'tags' | 'protocol' | 'cluster_state';

export interface Column {
  name: string;
  kind: Kind;
  /** The value from one object of the management API. */
  get(o: any): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A value inside an Erlang term: strings quoted, tables as [{"k",v}], lists as [a,b]. */
function term(v: unknown): string {
  if (v === null || v === undefined) return 'undefined';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v !== 'object') return String(v);
  if (Array.isArray(v)) return `[${v.map(term).join(',')}]`;
  return `[${Object.entries(v).map(([k, x]) => `{${JSON.stringify(k)},${term(x)}}`).join(',')}]`;
}

/** RabbitMQ's names of AMQP field types, guessed from JSON as the management API gives it. */
function typeOf(v: unknown): string {
  if (typeof v === 'string') return 'longstr';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'long' : 'double';
  if (v === null || v === undefined) return 'void';
  return Array.isArray(v) ? 'array' : 'table';
}

/** An AMQP table as rabbitmqctl's JSON formatter writes it: [[name, type, value], ...]. */
function typedTable(o: Record<string, unknown>): Json {
  return Object.entries(o).map(([k, v]) => [k, typeOf(v), typedValue(v)]);
}

function typedValue(v: unknown): Json {
  switch (typeOf(v)) {
    case 'table': return typedTable(v as Record<string, unknown>);
    // rabbitmqctl 3.10 writes an array as an object of type -> value (a later one of the same
    // type replaces an earlier one): ["x", 1] is {"longstr":"x","long":1}.
    case 'array': return Object.fromEntries((v as unknown[]).map((x) => [typeOf(x), typedValue(x)]));
    case 'void': return null;
    default: return v as Json;
  }
}

const tagList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v !== '' ? v.split(',') : []);

/** A protocol as the management API names it ('AMQP 0-9-1') -> rabbitmqctl's {0,9,1}. */
function protocolTerm(v: unknown): string {
  const m = /(\d+)-(\d+)(?:-(\d+))?/.exec(String(v ?? ''));
  return m ? `{${[m[1], m[2], m[3] ?? '0'].join(',')}}` : String(v ?? '');
}

export function cell(kind: Kind, v: unknown): string {
  switch (kind) {
    case 'table': return term(v ?? {});
    case 'tags': return `[${tagList(v).join(', ')}]`;
    case 'protocol': return protocolTerm(v);
    case 'cluster_state': return `[${Object.entries((v ?? {}) as Record<string, unknown>).map(([n, s]) => `{${n}, ${String(s)}}`).join(', ')}]`;
    default:
      if (v === null || v === undefined) return '';
      return typeof v === 'object' ? term(v) : String(v);
  }
}

function jsonValue(kind: Kind, v: unknown): Json {
  switch (kind) {
    case 'table': return typedTable((v ?? {}) as Record<string, unknown>);
    case 'tags': return tagList(v);
    case 'protocol': return protocolTerm(v);
    default: return v === null || v === undefined ? '' : (v as Json);
  }
}

/** Rows of a list command: informational lines, then the table or JSON. */
export function writeRows(io: Io, opts: OutputOptions, info: string[], columns: Column[], rows: unknown[]): void {
  if (opts.json) {
    const lines = rows.map((r, i) => (i === 0 ? '' : ',') + JSON.stringify(Object.fromEntries(columns.map((c) => [c.name, jsonValue(c.kind, c.get(r))]))));
    io.out(`[\n${lines.map((l) => `${l}\n`).join('')}]\n`);
    return;
  }
  writeInfo(io, opts, info);
  let text = '';
  if (opts.headers && rows.length > 0) text += `${columns.map((c) => c.name).join('\t')}\n`;
  for (const r of rows) text += `${columns.map((c) => cell(c.kind, c.get(r))).join('\t')}\n`;
  io.out(text);
}

/** The lines rabbitmqctl prints before doing something, unless quiet (or JSON output). */
export function writeInfo(io: Io, opts: OutputOptions, lines: string[]): void {
  if (opts.quiet || opts.json) return;
  for (const l of lines) io.out(`${l}\n`);
}

export const bold = (s: string) => `\u001b[1m${s}\u001b[0m`;
