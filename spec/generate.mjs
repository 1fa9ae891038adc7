#!/usr/bin/env node
// Generates src/protocol/generated/amqp.ts from the AMQP 0-9-1 XML in this folder.
// Usage: node spec/generate.mjs [--check]   (--check: exit 1 if the checked-in file differs)
// The XML is RabbitMQ's extended, documentation-free variant (Debian's amqp-specs) plus
// rabbitmq-extensions.xml. The parser below handles exactly the subset of XML these files use.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const OUT = join(here, '..', 'src', 'protocol', 'generated', 'amqp.ts');
const SOURCES = ['amqp0-9-1.rabbitmq.xml', 'rabbitmq-extensions.xml'];

/** Minimal XML: elements with attributes, no text content that matters. */
function parseXml(text) {
  text = text.replace(/<!--[\s\S]*?-->/g, '').replace(/<\?[\s\S]*?\?>/g, '');
  const root = { name: '#root', attrs: {}, children: [] };
  const stack = [root];
  const tag = /<(\/?)([\w-]+)((?:\s+[\w-]+="[^"]*")*)\s*(\/?)>/g;
  let m;
  while ((m = tag.exec(text))) {
    const [, closing, name, attrText, selfClosing] = m;
    if (closing) {
      const open = stack.pop();
      if (open.name !== name) throw new Error(`mismatched </${name}>`);
      continue;
    }
    const attrs = {};
    for (const a of attrText.matchAll(/([\w-]+)="([^"]*)"/g)) attrs[a[1]] = a[2];
    const el = { name, attrs, children: [] };
    stack[stack.length - 1].children.push(el);
    if (!selfClosing) stack.push(el);
  }
  if (stack.length !== 1) throw new Error('unclosed element');
  return root.children.find((c) => c.name === 'amqp');
}

const camel = (s) => s.replace(/-(\w)/g, (_, c) => c.toUpperCase());
const pascal = (s) => camel(s).replace(/^\w/, (c) => c.toUpperCase());
const upper = (s) => s.replace(/-/g, '_').toUpperCase();
/** Local variable name for a field: `arguments` and `global` are fine as properties only. */
const local = (js) => (['arguments', 'global'].includes(js) ? js + 'Arg' : js);
const hex = (n) => '0x' + n.toString(16).padStart(8, '0');

function loadSpec() {
  const spec = { constants: [], domains: new Map(), classes: [] };
  for (const file of SOURCES) {
    const amqp = parseXml(readFileSync(join(here, file), 'utf8'));
    for (const el of amqp.children) {
      if (el.name === 'constant') spec.constants.push({ name: el.attrs.name, value: Number(el.attrs.value), cls: el.attrs.class });
      if (el.name === 'domain') spec.domains.set(el.attrs.name, el.attrs.type);
      if (el.name === 'class') {
        let cls = spec.classes.find((c) => c.name === el.attrs.name);
        if (!cls) {
          cls = { name: el.attrs.name, index: Number(el.attrs.index), methods: [], properties: [] };
          spec.classes.push(cls);
        }
        for (const child of el.children) {
          if (child.name === 'field') cls.properties.push(child.attrs);
          if (child.name === 'method') {
            cls.methods.push({
              name: child.attrs.name,
              index: Number(child.attrs.index),
              synchronous: child.attrs.synchronous === '1',
              content: child.attrs.content === '1',
              fields: child.children.filter((f) => f.name === 'field').map((f) => f.attrs),
            });
          }
        }
      }
    }
  }
  const typeOf = (f) => f.type ?? spec.domains.get(f.domain);
  for (const cls of spec.classes) {
    cls.methods.sort((a, b) => a.index - b.index);
    for (const m of cls.methods) {
      m.id = (cls.index << 16) | m.index;
      m.tsName = pascal(cls.name) + pascal(m.name);
      m.fields = m.fields.map((f) => ({ name: f.name, js: camel(f.name), type: typeOf(f), reserved: f.reserved === '1' }));
    }
    cls.properties = cls.properties.map((f) => ({ name: f.name, js: camel(f.name), type: typeOf(f) }));
  }
  return spec;
}

const TS_TYPE = {
  bit: 'boolean', octet: 'number', short: 'number', long: 'number', longlong: 'number',
  timestamp: 'number', shortstr: 'string', longstr: 'Buffer | string', table: 'FieldTable',
};
const READ = {
  octet: 'r.u8()', short: 'r.u16()', long: 'r.u32()', longlong: 'r.u64()', timestamp: 'r.u64()',
  shortstr: 'r.shortstr()', longstr: 'r.longstr()', table: 'r.table()',
};
const WRITE = {
  octet: 'u8', short: 'u16', long: 'u32', longlong: 'u64', timestamp: 'u64',
  shortstr: 'shortstr', longstr: 'longstr', table: 'table',
};
const ZERO = { octet: '0', short: '0', long: '0', longlong: '0', timestamp: '0', shortstr: "''", longstr: "''", table: 'undefined', bit: 'false' };

/** Group consecutive bit fields: the spec packs up to 8 of them into one octet. */
function groups(fields) {
  const out = [];
  for (const f of fields) {
    const last = out[out.length - 1];
    if (f.type === 'bit' && last?.bits && last.bits.length < 8) last.bits.push(f);
    else out.push(f.type === 'bit' ? { bits: [f] } : { field: f });
  }
  return out;
}

function genMethod(m) {
  const pub = m.fields.filter((f) => !f.reserved);
  const lines = [];
  lines.push(`export interface ${m.tsName} {`);
  lines.push(`  id: ${hex(m.id)};`);
  for (const f of pub) lines.push(`  ${f.js}: ${f.type === 'longstr' ? 'Buffer' : TS_TYPE[f.type]};`);
  lines.push('}');
  lines.push(`export type ${m.tsName}Args = {`);
  for (const f of pub) lines.push(`  ${f.js}?: ${TS_TYPE[f.type]};`);
  lines.push('};');

  // decode
  lines.push(`function decode${m.tsName}(r: ByteReader): ${m.tsName} {`);
  for (const g of groups(m.fields)) {
    if (g.bits) {
      const used = g.bits.filter((b) => !b.reserved);
      lines.push(`  ${used.length ? 'const bits' + g.bits[0].js + ' = ' : ''}r.u8();`);
      g.bits.forEach((b, i) => {
        if (!b.reserved) lines.push(`  const ${local(b.js)} = (bits${g.bits[0].js} & ${1 << i}) !== 0;`);
      });
    } else if (g.field.reserved) lines.push(`  ${READ[g.field.type]};`);
    else lines.push(`  const ${local(g.field.js)} = ${READ[g.field.type]};`);
  }
  lines.push(`  return { id: ${hex(m.id)}${pub.map((f) => (local(f.js) === f.js ? `, ${f.js}` : `, ${f.js}: ${local(f.js)}`)).join('')} };`);
  lines.push('}');

  // positional writer (hot paths call these directly, with no argument object)
  const params = pub.map((f) => `${local(f.js)}: ${TS_TYPE[f.type]}${f.type === 'table' ? ' | undefined' : ''}`);
  lines.push(`export function write${m.tsName}(w: ByteWriter${params.map((p) => ', ' + p).join('')}): void {`);
  lines.push(`  w.u32(${hex(m.id)});`);
  for (const g of groups(m.fields)) {
    if (g.bits) {
      const expr = g.bits.map((b, i) => (b.reserved ? null : `(${local(b.js)} ? ${1 << i} : 0)`)).filter(Boolean);
      lines.push(`  w.u8(${expr.length ? expr.join(' | ') : '0'});`);
    } else if (g.field.reserved) lines.push(`  w.${WRITE[g.field.type]}(${ZERO[g.field.type]});`);
    else lines.push(`  w.${WRITE[g.field.type]}(${local(g.field.js)});`);
  }
  lines.push('}');
  return lines.join('\n');
}

function genProperties(cls) {
  const props = cls.properties;
  const lines = [];
  lines.push('/** The content header properties of class basic, in property-flag order. */');
  lines.push('export interface BasicProperties {');
  for (const p of props) lines.push(`  ${p.js}?: ${p.type === 'longstr' ? 'Buffer' : TS_TYPE[p.type]};`);
  lines.push('}');
  lines.push(`export const BASIC_PROPERTY_NAMES = [${props.map((p) => `'${p.js}'`).join(', ')}] as const;`);
  lines.push('/** Flag bit of each property: the first property is bit 15. */');
  lines.push('export const PROPERTY_FLAG = {');
  props.forEach((p, i) => lines.push(`  ${p.js}: ${1 << (15 - i)},`));
  lines.push('} as const;');
  lines.push('/** Decode property flags and values (reader positioned after class/weight/body-size). */');
  lines.push('export function decodeBasicProperties(r: ByteReader): BasicProperties {');
  lines.push('  const flags = r.u16();');
  lines.push('  // The two lowest bits (continuation, unused) are ignored, as RabbitMQ does: basic has 14 properties.');
  lines.push('  const p: BasicProperties = {};');
  props.forEach((p, i) => lines.push(`  if (flags & ${1 << (15 - i)}) p.${p.js} = ${READ[p.type]};`));
  lines.push('  return p;');
  lines.push('}');
  const SKIP = { octet: 'r.skip(1)', short: 'r.skip(2)', long: 'r.skip(4)', longlong: 'r.skip(8)', timestamp: 'r.skip(8)', shortstr: 'r.skipShortstr()', longstr: 'r.skipLongstr()', table: 'r.skipTable()' };
  lines.push('/** Check that properties decode, without building them; throws DecodeError if not. */');
  lines.push('export function checkBasicProperties(r: ByteReader): void {');
  lines.push('  const flags = r.u16();');
  props.forEach((p, i) => lines.push(`  if (flags & ${1 << (15 - i)}) ${SKIP[p.type]};`));
  lines.push(`  if (r.pos !== r.end) throw new DecodeError('bytes left after the content header properties');`);
  lines.push('}');
  lines.push('export function writeBasicProperties(w: ByteWriter, p: BasicProperties): void {');
  lines.push('  let flags = 0;');
  props.forEach((p, i) => lines.push(`  if (p.${p.js} !== undefined) flags |= ${1 << (15 - i)};`));
  lines.push('  w.u16(flags);');
  props.forEach((p) => lines.push(`  if (p.${p.js} !== undefined) w.${WRITE[p.type]}(p.${p.js});`));
  lines.push('}');
  return lines.join('\n');
}

function generate() {
  const spec = loadSpec();
  const methods = spec.classes.flatMap((c) => c.methods);
  const out = [];
  out.push('// GENERATED by spec/generate.mjs from spec/*.xml. Do not edit: change the generator and');
  out.push('// run `npm run gen`. A test regenerates this file and fails if it differs.');
  out.push('/* eslint-disable */');
  out.push("import type { ByteReader } from '../byte-reader.js';");
  out.push("import type { ByteWriter } from '../byte-writer.js';");
  out.push("import type { FieldTable } from '../field-table.js';");
  out.push("import { DecodeError } from '../decode-error.js';");
  out.push('');
  for (const c of spec.constants) out.push(`export const ${upper(c.name)} = ${c.value};`);
  out.push('');
  out.push('/** Reply code -> RabbitMQ\'s reply-text prefix. */');
  out.push('export const REPLY_CODE_NAMES: Record<number, string> = {');
  for (const c of spec.constants.filter((c) => c.cls)) out.push(`  ${c.value}: '${upper(c.name)}',`);
  out.push('};');
  out.push('/** Codes that close the connection rather than the channel. */');
  out.push(`export const HARD_ERROR_CODES: ReadonlySet<number> = new Set([${spec.constants.filter((c) => c.cls === 'hard-error').map((c) => c.value).join(', ')}]);`);
  out.push('');
  out.push('/** (class-id << 16) | method-id of every method. */');
  out.push('export const M = {');
  for (const m of methods) out.push(`  ${m.tsName}: ${hex(m.id)},`);
  out.push('} as const;');
  out.push('');
  out.push('export interface FieldInfo { name: string; type: string; reserved: boolean }');
  out.push('export interface MethodInfo { id: number; classId: number; methodId: number; name: string; synchronous: boolean; content: boolean; fields: FieldInfo[] }');
  out.push('export const METHODS: ReadonlyMap<number, MethodInfo> = new Map([');
  for (const c of spec.classes) for (const m of c.methods) {
    const fields = m.fields.map((f) => `{ name: '${f.name}', type: '${f.type}', reserved: ${f.reserved} }`).join(', ');
    out.push(`  [${hex(m.id)}, { id: ${hex(m.id)}, classId: ${c.index}, methodId: ${m.index}, name: '${c.name}.${m.name}', synchronous: ${m.synchronous}, content: ${m.content}, fields: [${fields}] }],`);
  }
  out.push(']);');
  out.push('');
  for (const m of methods) { out.push(genMethod(m)); out.push(''); }
  out.push(`export type AnyMethod =\n${methods.map((m) => `  | ${m.tsName}`).join('\n')};`);
  out.push('');
  out.push('/** Decode a method frame payload (reader spans exactly the payload). */');
  out.push('export function decodeMethod(r: ByteReader): AnyMethod {');
  out.push('  const id = r.u32();');
  out.push('  switch (id) {');
  for (const m of methods) out.push(`    case ${hex(m.id)}: return decode${m.tsName}(r);`);
  out.push('    default: throw new UnknownMethodError(id);');
  out.push('  }');
  out.push('}');
  out.push('');
  out.push('export class UnknownMethodError extends DecodeError {');
  out.push('  constructor(readonly methodKey: number) { super(`unknown method ${methodKey >>> 16}/${methodKey & 0xffff}`); }');
  out.push('}');
  out.push('');
  out.push('/** Argument object of each method, by id. */');
  out.push('export interface MethodArgs {');
  for (const m of methods) out.push(`  ${hex(m.id)}: ${m.tsName}Args;`);
  out.push('}');
  out.push('');
  out.push('/** Encode any method from an argument object; absent fields take their zero value. */');
  out.push('export function writeMethod<K extends keyof MethodArgs>(w: ByteWriter, id: K, args: MethodArgs[K]): void {');
  out.push('  const a = args as Record<string, any>;');
  out.push('  switch (id as number) {');
  for (const m of methods) {
    const args = m.fields.filter((f) => !f.reserved).map((f) => `a.${f.js} ?? ${ZERO[f.type]}`);
    out.push(`    case ${hex(m.id)}: return write${m.tsName}(w${args.map((x) => ', ' + x).join('')});`);
  }
  out.push('    default: throw new RangeError(`unknown method id ${id}`);');
  out.push('  }');
  out.push('}');
  out.push('');
  out.push(genProperties(spec.classes.find((c) => c.name === 'basic')));
  out.push('');
  return out.join('\n');
}

const text = generate();
if (process.argv.includes('--check')) {
  const current = readFileSync(OUT, 'utf8');
  if (current !== text) {
    console.error(`${OUT} differs from what spec/generate.mjs produces: run npm run gen`);
    process.exit(1);
  }
} else {
  writeFileSync(OUT, text);
  console.log(`wrote ${OUT}`);
}
export { generate };
