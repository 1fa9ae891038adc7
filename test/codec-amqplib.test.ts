// Cross-checks against amqplib's codec (lib/defs.js, generated from RabbitMQ's JSON spec):
// (a) the method and property definitions agree with ours, (b) frames encoded by one side decode
// on the other to the same values, and with explicitly typed tables the bytes are identical.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { FrameWriter } from '../src/amqp/frame-writer.js';
import { ByteReader } from '../src/protocol/byte-reader.js';
import { ByteWriter } from '../src/protocol/byte-writer.js';
import { plainTable, toTable, type FieldTable, type FieldValue } from '../src/protocol/field-table.js';
import * as amqp from '../src/protocol/generated/amqp.js';
import {
  BASIC_PROPERTY_NAMES, METHODS, M, PROPERTY_FLAG,
  decodeBasicProperties, decodeMethod, writeBasicProperties,
  type BasicProperties, type MethodArgs, type MethodInfo,
} from '../src/protocol/generated/amqp.js';
import { typed as tv } from './support/field-values.js';
import { parseFrames } from './support/frames.js';

// amqplib's package.json `exports` hides lib/, so load defs.js by its path.
const require = createRequire(import.meta.url);

interface AmqplibArg { type: string; name: string; default?: unknown }
interface AmqplibMethodInfo { id: number; classId: number; methodId: number; name: string; args: AmqplibArg[] }
interface AmqplibDefs {
  encodeMethod(id: number, channel: number, fields: Record<string, unknown>): Buffer;
  encodeProperties(id: number, channel: number, size: number, fields: Record<string, unknown>): Buffer;
  decode(id: number, buf: Buffer): Record<string, unknown>;
  info(id: number): AmqplibMethodInfo;
  constants: Record<string, number>;
  propertiesInfoBasicProperties: { id: number; name: string; args: AmqplibArg[] };
  [key: string]: unknown;
}
const defs = require(join(dirname(require.resolve('amqplib')), 'lib', 'defs.js')) as AmqplibDefs;

const AMQPLIB_METHODS: AmqplibMethodInfo[] = Object.keys(defs)
  .filter((k) => k.startsWith('methodInfo'))
  .map((k) => defs[k] as AmqplibMethodInfo);

/** Methods amqplib has and our spec (RabbitMQ's 0-9-1 XML) does not: class access was dropped in 0-9-1. */
const ONLY_IN_AMQPLIB = ['AccessRequest', 'AccessRequestOk'];
/** amqplib (from RabbitMQ's JSON spec) spells this field without the dash. */
const FIELD_ALIASES: Record<string, string> = { noWait: 'nowait' };

const camel = (s: string) => s.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
const pascal = (s: string) => camel(s).replace(/^\w/, (c) => c.toUpperCase());
/** 'basic.publish' -> 'BasicPublish' */
const amqplibName = (ours: string) => ours.split('.').map(pascal).join('');
const amqplibField = (ours: string) => FIELD_ALIASES[camel(ours)] ?? camel(ours);
/** Our spec's domain types against amqplib's: the same vocabulary. */
const TYPE_MAP: Record<string, string> = {
  octet: 'octet', short: 'short', long: 'long', longlong: 'longlong', timestamp: 'timestamp',
  shortstr: 'shortstr', longstr: 'longstr', bit: 'bit', table: 'table',
};
/** What our generated writers put in a field that the caller did not give. */
function ourZero(type: string): unknown {
  switch (type) {
    case 'bit': return false;
    case 'shortstr': return '';
    case 'longstr': return '';
    case 'table': return {};
    default: return 0;
  }
}

// --- (a) definitions ---------------------------------------------------------------------------

describe('amqplib and our spec define the same methods', () => {
  it('amqplib exposes 66 methods (ours 64 plus access.request/-ok)', () => {
    expect(AMQPLIB_METHODS).toHaveLength(66);
    expect(METHODS.size).toBe(64);
    const missing = AMQPLIB_METHODS.filter((m) => !METHODS.has(m.id)).map((m) => m.name);
    expect(missing).toEqual(ONLY_IN_AMQPLIB);
  });

  for (const theirs of AMQPLIB_METHODS.filter((m) => !ONLY_IN_AMQPLIB.includes(m.name))) {
    it(`${theirs.name}: id, name, fields, types, reserved defaults`, () => {
      const ours = METHODS.get(theirs.id);
      expect(ours, `${theirs.name} (${theirs.classId}/${theirs.methodId}) missing`).toBeDefined();
      expect(amqplibName(ours!.name)).toBe(theirs.name);
      expect(ours!.classId).toBe(theirs.classId);
      expect(ours!.methodId).toBe(theirs.methodId);
      expect(defs[theirs.name]).toBe(theirs.id);
      expect(defs.info(theirs.id)).toBe(theirs);
      expect(ours!.fields.length, 'field count').toBe(theirs.args.length);
      ours!.fields.forEach((field, i) => {
        const arg = theirs.args[i]!;
        expect(TYPE_MAP[field.type], `${ours!.name} ${field.name} type`).toBe(arg.type);
        if (field.reserved) {
          // amqplib names reserved fields (ticket, capabilities, insist, known-hosts, out-of-band,
          // channel-id, cluster-id) but always defaults them to what we write: the zero value.
          expect('default' in arg, `${ours!.name} ${field.name} (${arg.name}) has a default`).toBe(true);
          expect(arg.default, `${ours!.name} ${field.name} (${arg.name}) default`).toStrictEqual(ourZero(field.type));
        } else {
          expect(arg.name, `${ours!.name} field ${i}`).toBe(amqplibField(field.name));
        }
      });
    });
  }

  it('every one of our methods exists in amqplib under the same id and name', () => {
    for (const ours of METHODS.values()) {
      const theirs = AMQPLIB_METHODS.find((m) => m.id === ours.id);
      expect(theirs, ours.name).toBeDefined();
      expect(theirs!.name).toBe(amqplibName(ours.name));
      expect(theirs!.args.map((a) => a.type)).toEqual(ours.fields.map((f) => TYPE_MAP[f.type]));
    }
  });

  it('non-reserved fields where amqplib has a non-zero default (our writeMethod zero-fills instead)', () => {
    const differing: string[] = [];
    for (const ours of METHODS.values()) {
      const theirs = defs.info(ours.id);
      ours.fields.forEach((field, i) => {
        const arg = theirs.args[i]!;
        if (!field.reserved && 'default' in arg && !isDeepZero(arg.default, field.type)) {
          differing.push(`${theirs.name}.${arg.name}=${JSON.stringify(arg.default)}`);
        }
      });
    }
    expect(differing).toEqual([
      'ConnectionStart.versionMinor=9',
      'ConnectionStart.mechanisms="PLAIN"',
      'ConnectionStart.locales="en_US"',
      'ConnectionStartOk.mechanism="PLAIN"',
      'ConnectionStartOk.locale="en_US"',
      'ConnectionOpen.virtualHost="/"',
      'ExchangeDeclare.type="direct"',
      'BasicReject.requeue=true',
      'BasicNack.requeue=true',
    ]);
    // and ours really writes zeros for absent fields, e.g. requeue=false
    const w = new ByteWriter();
    amqp.writeMethod(w, M.BasicNack, {});
    const bytes = Buffer.concat(w.take());
    expect(decodeMethod(new ByteReader().reset(bytes, 0, bytes.length))).toStrictEqual({
      id: M.BasicNack, deliveryTag: 0, multiple: false, requeue: false,
    });
  });

  it('the 14 basic properties have the same names in the same order and flag bits', () => {
    const theirs = defs.propertiesInfoBasicProperties;
    expect(theirs.id).toBe(60);
    const names = theirs.args.map((a) => (a.name === 'clusterId' ? 'reserved' : a.name));
    expect(names).toEqual([...BASIC_PROPERTY_NAMES]);
    BASIC_PROPERTY_NAMES.forEach((name, i) => expect(PROPERTY_FLAG[name]).toBe(1 << (15 - i)));
  });

  it('constants agree (NO_ROUTE 312 comes from spec/rabbitmq-extensions.xml)', () => {
    const ourConstants = amqp as unknown as Record<string, unknown>;
    const missing: string[] = [];
    for (const [name, value] of Object.entries(defs.constants)) {
      if (!(name in ourConstants)) missing.push(name);
      else expect(ourConstants[name], name).toBe(value);
    }
    expect(missing).toEqual([]);
  });
});

function isDeepZero(v: unknown, type: string): boolean {
  if (type === 'table') return typeof v === 'object' && v !== null && Object.keys(v).length === 0;
  return v === ourZero(type);
}

// --- typed tables in amqplib's notation ---------------------------------------------------------

const AMQPLIB_TYPE: Record<string, string> = {
  b: 'int8', B: 'uint8', s: 'int16', u: 'uint16', I: 'int32', i: 'uint32', l: 'int64',
  f: 'float', d: 'double', T: 'timestamp',
};

/** Our typed value as amqplib input that makes amqplib write exactly the same type letter. */
function toAmqplib(v: FieldValue): unknown {
  switch (v.type) {
    case 't': return v.value;
    case 'V': return null;
    case 'S': return typeof v.value === 'string' ? v.value : v.value.toString('utf8');
    case 'x': return v.value;
    case 'A': return v.value.map(toAmqplib);
    case 'F': return toAmqplibTable(v.value);
    case 'D': return { '!': 'decimal', value: { places: v.value.scale, digits: v.value.value } };
    default: return { '!': AMQPLIB_TYPE[v.type], value: v.value };
  }
}
function toAmqplibTable(t: FieldTable): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(t)) o[k] = toAmqplib(v);
  return o;
}

/** amqplib's decoded table in our plain form: timestamps and decimals unwrapped. */
function fromAmqplibDecoded(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(fromAmqplibDecoded);
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v;
  const o = v as Record<string, unknown>;
  if (Object.hasOwn(o, '!')) {
    const typed = o as { '!': string; value: unknown };
    if (typed['!'] === 'timestamp') return typed.value;
    if (typed['!'] === 'decimal') {
      const d = typed.value as { places: number; digits: number };
      return { scale: d.places, value: d.digits };
    }
    throw new Error(`unexpected amqplib typed value ${typed['!']}`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) out[k] = fromAmqplibDecoded(x);
  return out;
}

/** Our plain view, with 64-bit integers as amqplib decodes them (a Number, possibly rounded). */
function ourPlain(t: FieldTable): unknown {
  const norm = (v: unknown): unknown => {
    if (typeof v === 'bigint') return Number(v);
    if (Array.isArray(v)) return v.map(norm);
    if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = norm(x);
    return out;
  };
  return norm(plainTable(t));
}

/** Every type letter amqplib can write, nested. */
const TYPED: FieldTable = {
  t: tv.t(true),
  b: tv.b(-128),
  B: tv.B(255),
  s: tv.s(-32768),
  u: tv.u(65535),
  I: tv.I(-2147483648),
  i: tv.i(4294967295),
  l: tv.l(-(2 ** 40)),
  'l-big': tv.l(2n ** 63n - 1n),
  f: tv.f(0.375),
  d: tv.d(-0),
  'd-nan': tv.d(NaN),
  D: tv.D(4, 4294967295),
  S: tv.S('ünï-日本-🐇'),
  x: tv.x(Buffer.from([0, 0xce, 0xff, 0x80])),
  T: tv.T(1_700_000_000),
  V: tv.V(),
  A: tv.A([tv.I(1), tv.S('two'), tv.A([tv.t(false), tv.F({ k: tv.D(0, 1) })])]),
  F: tv.F({ inner: tv.F({ deep: tv.A([]) }), s: tv.S('x') }),
  'ключ': tv.B(1),
};

// --- argument objects ----------------------------------------------------------------------------

function argsFor(info: MethodInfo, variant: 0 | 1): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  let bit = 0;
  info.fields.forEach((field, i) => {
    if (field.reserved) return;
    const key = camel(field.name);
    switch (field.type) {
      case 'bit': args[key] = (bit++ % 2 === 0) === (variant === 0); break;
      case 'octet': args[key] = variant ? 255 : 0x5a + i; break;
      case 'short': args[key] = variant ? 65535 - i : 0x8001 + i; break;
      case 'long': args[key] = variant ? 4294967295 - i : 0x80000001 + i; break;
      case 'longlong': args[key] = variant ? Number.MAX_SAFE_INTEGER - i : 2 ** 32 * 3 + 7 + i; break;
      case 'shortstr': args[key] = variant ? '' : `${field.name}-ü-🐇-${i}`; break;
      case 'longstr': args[key] = variant ? Buffer.alloc(0) : Buffer.from([0, 0xff, 0xce, 0xc3, 0x28, i]); break;
      case 'table': args[key] = variant ? {} : TYPED; break;
      default: throw new Error(`no value for ${field.type}`);
    }
  });
  return args;
}

/** Our argument object as amqplib fields (its names; reserved fields left to its defaults). */
function toAmqplibFields(info: MethodInfo, args: Record<string, unknown>): Record<string, unknown> {
  const theirs = defs.info(info.id);
  const out: Record<string, unknown> = {};
  info.fields.forEach((field, i) => {
    if (field.reserved) return;
    const v = args[camel(field.name)];
    out[theirs.args[i]!.name] = field.type === 'table' ? toAmqplibTable(v as FieldTable) : v;
  });
  return out;
}

function ourMethodFrame(channel: number, id: number, args: Record<string, unknown>): Buffer {
  const w = new FrameWriter(64);
  w.method(channel, id as keyof MethodArgs, args as never);
  return Buffer.concat(w.take());
}

// --- (b) methods across the two codecs ------------------------------------------------------------

describe('methods: amqplib <-> ours', () => {
  for (const info of METHODS.values()) {
    for (const variant of [0, 1] as const) {
      it(`${info.name} (variant ${variant})`, () => {
        const channel = variant ? 65535 : 5;
        const args = argsFor(info, variant);
        const theirBytes = defs.encodeMethod(info.id, channel, toAmqplibFields(info, args));
        const ourBytes = ourMethodFrame(channel, info.id, args);

        // with explicitly typed tables the two encoders agree byte for byte
        expect(ourBytes.toString('hex')).toBe(theirBytes.toString('hex'));

        // amqplib -> ours
        const [frame] = parseFrames(theirBytes);
        expect(frame!.type).toBe(1);
        expect(frame!.channel).toBe(channel);
        const r = new ByteReader().reset(frame!.payload, 0, frame!.payload.length);
        expect(decodeMethod(r)).toStrictEqual({ id: info.id, ...args });
        expect(r.pos).toBe(frame!.payload.length);

        // ours -> amqplib
        const [ourFrame] = parseFrames(ourBytes);
        const id = ourFrame!.payload.readUInt32BE(0);
        expect(id).toBe(info.id);
        const decoded = defs.decode(id, ourFrame!.payload.subarray(4));
        const theirInfo = defs.info(id);
        info.fields.forEach((field, i) => {
          const arg = theirInfo.args[i]!;
          const got = decoded[arg.name];
          if (field.reserved) {
            const dflt = field.type === 'longstr' ? Buffer.from(arg.default as string) : arg.default;
            expect(got, `${info.name} reserved ${arg.name}`).toStrictEqual(dflt);
          } else if (field.type === 'table') {
            expect(fromAmqplibDecoded(got), `${info.name} ${arg.name}`).toStrictEqual(ourPlain(args[camel(field.name)] as FieldTable));
          } else {
            expect(got, `${info.name} ${arg.name}`).toStrictEqual(args[camel(field.name)]);
          }
        });
      });
    }
  }
});

describe('tables where amqplib picks the types itself', () => {
  const PLAIN = {
    ttl: 60000,
    small: 5,
    negSmall: -128,
    mid: 300,
    negMid: -129,
    big: 2 ** 40,
    negBig: -(2 ** 31) - 1,
    frac: 1.5,
    str: 'ü-🐇',
    yes: true,
    no: false,
    none: null,
    list: [1, 'two', [3.25], { four: 4 }],
    nested: { a: { b: 'c' } },
    bin: Buffer.from([1, 2, 0xce]),
  };

  it('amqplib-encoded queue.declare arguments decode to the same plain values', () => {
    const bytes = defs.encodeMethod(M.QueueDeclare, 1, { queue: 'q', durable: true, arguments: PLAIN });
    const [frame] = parseFrames(bytes);
    const m = decodeMethod(new ByteReader().reset(frame!.payload, 0, frame!.payload.length));
    if (m.id !== M.QueueDeclare) throw new Error('wrong method');
    expect(m.queue).toBe('q');
    expect(m.durable).toBe(true);
    expect(plainTable(m.arguments)).toStrictEqual(PLAIN);
    // the widths amqplib chose, which we must accept: smallest signed integer, 'd' for fractions
    const letters = Object.fromEntries(Object.entries(m.arguments).map(([k, v]) => [k, v.type]));
    expect(letters).toEqual({
      ttl: 'I', small: 'b', negSmall: 'b', mid: 's', negMid: 's', big: 'l', negBig: 'l', frac: 'd',
      str: 'S', yes: 't', no: 't', none: 'V', list: 'A', nested: 'F', bin: 'x',
    });
  });

  it('our toTable() output (RabbitMQ-style: l for integers, d for floats) decodes in amqplib', () => {
    const args = { queue: 'q', arguments: toTable(PLAIN) };
    const [frame] = parseFrames(ourMethodFrame(1, M.QueueDeclare, args));
    const decoded = defs.decode(M.QueueDeclare, frame!.payload.subarray(4));
    expect(fromAmqplibDecoded(decoded.arguments)).toStrictEqual(PLAIN);
    expect(plainTable(args.arguments)).toStrictEqual(PLAIN);
  });

  it('amqplib-encoded headers decode to the same plain values', () => {
    const bytes = defs.encodeProperties(60, 3, 10, { headers: PLAIN, contentType: 'x' });
    const [frame] = parseFrames(bytes);
    const r = new ByteReader().reset(frame!.payload, 12, frame!.payload.length);
    const p = decodeBasicProperties(r);
    expect(plainTable(p.headers!)).toStrictEqual(PLAIN);
    expect(p.contentType).toBe('x');
  });
});

// --- (b) properties across the two codecs ------------------------------------------------------

const ALL_PROPS: Required<BasicProperties> = {
  contentType: 'application/json',
  contentEncoding: 'gzip',
  headers: TYPED,
  deliveryMode: 2,
  priority: 255,
  correlationId: 'corr-ü',
  replyTo: 'amq.rabbitmq.reply-to.abc',
  expiration: '60000',
  messageId: 'msg-日本',
  timestamp: 2 ** 40 + 1,
  type: 'order.created',
  userId: 'guest',
  appId: 'warren',
  reserved: 'cluster-🐇',
};

const theirPropName = (ours: string) => (ours === 'reserved' ? 'clusterId' : ours);

function toAmqplibProps(p: BasicProperties): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) out[theirPropName(k)] = k === 'headers' ? toAmqplibTable(v as FieldTable) : v;
  return out;
}

/** The header frame our writer produces for a body of `size` bytes (body frames dropped). */
function ourHeaderFrame(channel: number, size: number, p: BasicProperties): Buffer {
  const pw = new ByteWriter(32);
  writeBasicProperties(pw, p);
  const fw = new FrameWriter();
  fw.frameMax = 0;
  fw.content(channel, Buffer.concat(pw.take()), Buffer.alloc(size, 0x61));
  const all = Buffer.concat(fw.take());
  return all.subarray(0, 8 + all.readUInt32BE(3));
}

const PROP_CASES: [string, BasicProperties][] = [
  ['all 14', ALL_PROPS],
  ['none', {}],
  ...BASIC_PROPERTY_NAMES.map((name): [string, BasicProperties] => [`${name} alone`, { [name]: ALL_PROPS[name] }]),
  ['every other one', Object.fromEntries(BASIC_PROPERTY_NAMES.filter((_, i) => i % 2 === 1).map((n) => [n, ALL_PROPS[n]]))],
];

describe('properties: amqplib <-> ours', () => {
  for (const [name, props] of PROP_CASES) {
    it(name, () => {
      const size = 1234;
      const theirs = defs.encodeProperties(60, 9, size, toAmqplibProps(props));
      const ours = ourHeaderFrame(9, size, props);
      expect(ours.toString('hex')).toBe(theirs.toString('hex'));

      // amqplib -> ours
      const [frame] = parseFrames(theirs);
      expect(frame).toMatchObject({ type: 2, channel: 9 });
      const r = new ByteReader().reset(frame!.payload, 0, frame!.payload.length);
      expect([r.u16(), r.u16(), r.u64()]).toEqual([60, 0, size]);
      expect(decodeBasicProperties(r)).toStrictEqual(props);
      expect(r.pos).toBe(frame!.payload.length);

      // ours -> amqplib
      const [ourFrame] = parseFrames(ours);
      const decoded = defs.decode(60, ourFrame!.payload.subarray(12));
      const present = Object.fromEntries(Object.entries(decoded).filter(([, v]) => v !== undefined));
      const expected: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(props)) expected[theirPropName(k)] = k === 'headers' ? ourPlain(v as FieldTable) : v;
      if (present.headers !== undefined) present.headers = fromAmqplibDecoded(present.headers);
      expect(present).toStrictEqual(expected);
    });
  }
});
