// Round trips through the generated method/property codec: every method of the spec, every
// field type, every field-table type letter, and every truncation of an encoded method.
import { describe, it, expect } from 'vitest';
import { ByteReader } from '../src/protocol/byte-reader.js';
import { ByteWriter } from '../src/protocol/byte-writer.js';
import { DecodeError } from '../src/protocol/decode-error.js';
import { TYPE_LETTERS, plainTable, toTable, type FieldTable, type FieldValue } from '../src/protocol/field-table.js';
import {
  BASIC_PROPERTY_NAMES, METHODS, M, PROPERTY_FLAG, UnknownMethodError,
  checkBasicProperties, decodeBasicProperties, decodeMethod, writeBasicProperties, writeMethod,
  type BasicProperties, type FieldInfo, type MethodArgs, type MethodInfo,
} from '../src/protocol/generated/amqp.js';
import { typed as f } from './support/field-values.js';

const camel = (s: string) => s.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

/** Encode with a small chunk size, so that buffer growth happens inside methods and tables. */
function encodeMethod(id: number, args: Record<string, unknown>, chunk = 48): Buffer {
  const w = new ByteWriter(chunk);
  writeMethod(w, id as keyof MethodArgs, args as never);
  return Buffer.concat(w.take());
}

/** Decode from the middle of a larger buffer, with junk on both sides; the whole region must be used. */
function decodePadded(payload: Buffer): { method: Record<string, unknown>; consumed: number } {
  const junk = Buffer.from([0xce, 0xff, 0x53]);
  const buf = Buffer.concat([junk, payload, junk]);
  const r = new ByteReader().reset(buf, junk.length, junk.length + payload.length);
  const method = decodeMethod(r) as unknown as Record<string, unknown>;
  return { method, consumed: r.pos - junk.length };
}

function encodeProps(p: BasicProperties, chunk = 32): Buffer {
  const w = new ByteWriter(chunk);
  writeBasicProperties(w, p);
  return Buffer.concat(w.take());
}

function decodeProps(bytes: Buffer): BasicProperties {
  const r = new ByteReader().reset(bytes, 0, bytes.length);
  const p = decodeBasicProperties(r);
  expect(r.pos, 'properties must be consumed exactly').toBe(bytes.length);
  return p;
}

// ---------------------------------------------------------------------------------------------
// Field tables with every RabbitMQ type letter. Values are given in the form the decoder returns
// ('l' as a number when it is a safe integer, a bigint otherwise; 'S' as a string), so that a
// round trip must reproduce them exactly.

const RICH: FieldTable = {
  't-true': f.t(true),
  't-false': f.t(false),
  'b-min': f.b(-128),
  'b-max': f.b(127),
  'B-max': f.B(255),
  's-min': f.s(-32768),
  's-max': f.s(32767),
  'u-max': f.u(65535),
  'I-min': f.I(-2147483648),
  'I-max': f.I(2147483647),
  'i-max': f.i(4294967295),
  'l-neg': f.l(-1),
  'l-safe': f.l(Number.MAX_SAFE_INTEGER),
  'l-min': f.l(-(2n ** 63n)),
  'l-max': f.l(2n ** 63n - 1n),
  'l-above-safe': f.l(2n ** 53n + 1n),
  'f': f.f(-1.5),
  'f-inf': f.f(-Infinity),
  'd-pi': f.d(Math.PI),
  'd-neg-zero': f.d(-0),
  'd-nan': f.d(NaN),
  'd-max': f.d(Number.MAX_VALUE),
  'D': f.D(2, 12345),
  'D-limits': f.D(255, 4294967295),
  'S': f.S('ünï-日本-🐇'),
  'S-empty': f.S(''),
  'x': f.x(Buffer.from([0x00, 0xff, 0xce, 0x80, 0xc3, 0x28])),
  'x-empty': f.x(Buffer.alloc(0)),
  'T': f.T(1_700_000_000),
  'T-max': f.T(Number.MAX_SAFE_INTEGER),
  'V': f.V(),
  'A': f.A([
    f.t(true), f.b(-1), f.S('in array'), f.V(), f.l(-(2n ** 62n)), f.D(1, 7),
    f.A([f.A([]), f.F({ inArray: f.A([f.x(Buffer.from('deep')), f.T(42)]) })]),
  ]),
  'A-empty': f.A([]),
  'F': f.F({
    inner: f.F({ deeper: f.F({ deepest: f.A([f.u(1), f.i(2), f.I(-3)]) }), empty: f.F({}) }),
    sibling: f.S('after a nested table'),
  }),
  'ключ-🔑': f.u(7),
  '': f.S('empty key'),
};

/** A second table: nesting first, so the decoder must get back to the outer table afterwards. */
const RICH2: FieldTable = {
  nested: f.F({ a: f.A([f.F({ b: f.F({}) }), f.A([f.V()])]), c: f.d(0.5) }),
  'x-message-ttl': f.I(60000),
  'x-max-length-bytes': f.l(2 ** 40),
  'x-dead-letter-exchange': f.S('dlx-ü'),
  'x-queue-mode': f.S('lazy'),
  flag: f.t(true),
};

// ---------------------------------------------------------------------------------------------
// Argument objects for every method.

type Variant = 'limits' | 'mixed' | 'empty';
const VARIANTS: Variant[] = ['limits', 'mixed', 'empty'];

/** A shortstr of exactly 255 UTF-8 bytes, distinct per field. */
function maxShortstr(i: number): string {
  const head = `f${i}-🐇-`; // 3..4 ASCII + 4 + 1 bytes
  let s = head;
  while (Buffer.byteLength(s) + 2 <= 255) s += 'é';
  while (Buffer.byteLength(s) < 255) s += 'x';
  return s;
}

function valueFor(field: FieldInfo, i: number, variant: Variant): unknown {
  switch (field.type) {
    case 'octet': return variant === 'limits' ? 255 - i : variant === 'mixed' ? 0x5a + i : 1 + i;
    case 'short': return variant === 'limits' ? 65535 - i : variant === 'mixed' ? 0x8001 + i : 1 + i;
    case 'long': return variant === 'limits' ? 4294967295 - i : variant === 'mixed' ? 0x80000001 + i : 1 + i;
    case 'longlong':
    case 'timestamp':
      return variant === 'limits' ? Number.MAX_SAFE_INTEGER - i : variant === 'mixed' ? 3 * 2 ** 32 + 7 + i : 1 + i;
    case 'shortstr':
      return variant === 'limits' ? maxShortstr(i) : variant === 'mixed' ? `${field.name}-ünï-日本-🐇-${i}` : '';
    case 'longstr': {
      if (variant === 'empty') return Buffer.alloc(0);
      if (variant === 'mixed') return Buffer.from([0x00, 0xff, 0xce, 0x80, 0xc3, 0x28, i]);
      const big = Buffer.alloc(70_000); // larger than the writer's default 64 KiB chunk
      for (let k = 0; k < big.length; k++) big[k] = (k * 31 + i) & 0xff;
      return big;
    }
    case 'table': return variant === 'limits' ? RICH : variant === 'mixed' ? RICH2 : {};
    default: throw new Error(`no value for ${field.type}`);
  }
}

/** Bit patterns: all set, none set, alternating both ways, and each bit alone. */
function bitPatterns(n: number): number[] {
  if (n === 0) return [0];
  const all = (1 << n) - 1;
  const set = new Set([all, 0, 0x55555555 & all, 0xaaaaaaaa & all]);
  for (let k = 0; k < n; k++) set.add(1 << k);
  return [...set];
}

function argsFor(info: MethodInfo, variant: Variant, bits: number): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  let bit = 0;
  info.fields.forEach((field, i) => {
    if (field.reserved) return;
    args[camel(field.name)] = field.type === 'bit' ? (bits & (1 << bit++)) !== 0 : valueFor(field, i, variant);
  });
  return args;
}

const publicBits = (info: MethodInfo) => info.fields.filter((x) => x.type === 'bit' && !x.reserved).length;

function zeroOf(type: string): unknown {
  switch (type) {
    case 'bit': return false;
    case 'shortstr': return '';
    case 'longstr': return Buffer.alloc(0);
    case 'table': return {};
    default: return 0;
  }
}

// ---------------------------------------------------------------------------------------------

describe('method codec round trip (every method of METHODS)', () => {
  it('METHODS covers the whole 0-9-1 method set plus RabbitMQ extensions', () => {
    expect(METHODS.size).toBe(64);
    for (const [id, info] of METHODS) {
      expect(id).toBe(info.id);
      expect(info.id).toBe(((info.classId << 16) | info.methodId) >>> 0);
    }
    // every M constant is a METHODS key
    expect(new Set(Object.values(M))).toEqual(new Set(METHODS.keys()));
  });

  for (const info of METHODS.values()) {
    describe(info.name, () => {
      for (const variant of VARIANTS) {
        it(`round-trips ${variant} values under every bit pattern`, () => {
          for (const bits of bitPatterns(publicBits(info))) {
            const args = argsFor(info, variant, bits);
            const bytes = encodeMethod(info.id, args);
            expect(bytes.readUInt32BE(0), 'method id prefix').toBe(info.id);
            const { method, consumed } = decodePadded(bytes);
            expect(method, `${info.name} ${variant} bits=${bits.toString(2)}`).toStrictEqual({ id: info.id, ...args });
            expect(consumed, 'decoder consumed exactly what the encoder wrote').toBe(bytes.length);
            // re-encoding the decoded method gives the same bytes
            const { id: _id, ...again } = method;
            expect(encodeMethod(info.id, again).equals(bytes)).toBe(true);
          }
        });
      }

      it('encodes absent fields as zero values', () => {
        const { method, consumed } = decodePadded(encodeMethod(info.id, {}));
        const expected: Record<string, unknown> = { id: info.id };
        for (const field of info.fields) if (!field.reserved) expected[camel(field.name)] = zeroOf(field.type);
        expect(method).toStrictEqual(expected);
        expect(consumed).toBeGreaterThanOrEqual(4);
      });

      it('throws DecodeError for every strict prefix of an encoding', () => {
        for (const variant of ['mixed', 'empty'] as const) {
          const bytes = encodeMethod(info.id, argsFor(info, variant, (1 << publicBits(info)) - 1));
          for (let n = 0; n < bytes.length; n++) {
            const r = new ByteReader().reset(bytes, 0, n);
            let thrown: unknown = null;
            try {
              decodeMethod(r);
            } catch (e) {
              thrown = e;
            }
            expect(thrown, `${info.name} ${variant}: prefix of ${n}/${bytes.length} bytes`).toBeInstanceOf(DecodeError);
          }
        }
      });
    });
  }

  it('rejects an unknown method id with UnknownMethodError (a DecodeError)', () => {
    // access.request (30/10) exists in AMQP 0-9-1 drafts and in amqplib, but not in our spec
    for (const id of [0x001e000a, 0x000a0000, 0xffffffff, 0x003c0079]) {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(id >>> 0);
      let thrown: unknown;
      try {
        decodeMethod(new ByteReader().reset(b, 0, 4));
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(UnknownMethodError);
      expect(thrown).toBeInstanceOf(DecodeError);
      expect((thrown as UnknownMethodError).methodKey >>> 0).toBe(id >>> 0);
    }
  });

  it('writeMethod refuses an unknown id', () => {
    expect(() => writeMethod(new ByteWriter(), 0x001e000a as keyof MethodArgs, {} as never)).toThrow(RangeError);
  });

  it('refuses a shortstr longer than 255 bytes instead of truncating it', () => {
    const s256 = 'é'.repeat(128); // 256 UTF-8 bytes in 128 UTF-16 units
    expect(() => encodeMethod(M.QueueDeclare, { queue: s256 })).toThrow(RangeError);
    expect(() => encodeMethod(M.QueueDeclare, { queue: 'x'.repeat(256) })).toThrow(RangeError);
    const ok = 'é'.repeat(127) + 'x';
    expect(decodePadded(encodeMethod(M.QueueDeclare, { queue: ok })).method.queue).toBe(ok);
  });

  it('writes a longstr given as a string as its UTF-8 bytes', () => {
    const bytes = encodeMethod(M.ConnectionSecure, { challenge: 'défi-🐇' });
    expect(decodePadded(bytes).method.challenge).toStrictEqual(Buffer.from('défi-🐇', 'utf8'));
  });
});

describe('field table values', () => {
  function roundTripTable(t: FieldTable, chunk = 16): FieldTable {
    const w = new ByteWriter(chunk);
    w.table(t);
    const bytes = Buffer.concat(w.take());
    const r = new ByteReader().reset(bytes, 0, bytes.length);
    const out = r.table();
    expect(r.pos).toBe(bytes.length);
    expect(bytes.readUInt32BE(0)).toBe(bytes.length - 4);
    return out;
  }

  it('RICH uses every type letter', () => {
    const seen = new Set<string>();
    const walk = (v: FieldValue): void => {
      seen.add(v.type);
      if (v.type === 'A') v.value.forEach(walk);
      if (v.type === 'F') Object.values(v.value).forEach(walk);
    };
    Object.values(RICH).forEach(walk);
    expect([...seen].sort()).toEqual([...TYPE_LETTERS].sort());
    expect(TYPE_LETTERS).toHaveLength(17);
  });

  it('round-trips every type letter, nested, across buffer growth', () => {
    expect(roundTripTable(RICH)).toStrictEqual(RICH);
    expect(roundTripTable(RICH2)).toStrictEqual(RICH2);
    expect(roundTripTable({})).toStrictEqual({});
  });

  it("keeps 'l' as a bigint only beyond the safe integer range", () => {
    const out = roundTripTable({ a: f.l(5n), b: f.l(-(2n ** 53n) + 1n), c: f.l(2n ** 53n), d: f.l(-(2n ** 53n)) });
    expect(out).toStrictEqual({ a: f.l(5), b: f.l(-(2 ** 53) + 1), c: f.l(2n ** 53n), d: f.l(-(2n ** 53n)) });
  });

  it("keeps a key named '__proto__' as an ordinary key (no prototype change)", () => {
    // JSON.parse makes '__proto__' an own property, as a peer's table must decode
    const t = JSON.parse('{"__proto__": {"type": "F", "value": {"polluted": {"type": "t", "value": true}}}, "a": {"type": "V", "value": null}}') as FieldTable;
    expect(Object.keys(t)).toEqual(['__proto__', 'a']);
    const out = roundTripTable(t);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'a']);
    expect((out as Record<string, unknown>).type).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toStrictEqual(f.F({ polluted: f.t(true) }));
    const p = plainTable(out);
    expect(Object.getPrototypeOf(p)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(p, '__proto__')?.value).toStrictEqual({ polluted: true });
    const back = toTable(JSON.parse('{"__proto__": 1}') as Record<string, unknown>);
    expect(Object.keys(back)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
  });

  it("decodes 'S' as a string, also when it was given as bytes", () => {
    expect(roundTripTable({ s: { type: 'S', value: Buffer.from('日本') } })).toStrictEqual({ s: f.S('日本') });
  });

  it("reads a decimal's value as unsigned 32-bit (long-uint), as RabbitMQ does", () => {
    const bytes = Buffer.from([0, 0, 0, 8, 1, 0x64, 0x44, 3, 0xff, 0xff, 0xff, 0xfe]);
    const out = new ByteReader().reset(bytes, 0, bytes.length).table();
    expect(out).toStrictEqual({ d: f.D(3, 4294967294) });
  });

  it('writes wire bytes for each letter as RabbitMQ expects', () => {
    const one = (v: FieldValue) => {
      const w = new ByteWriter();
      w.fieldValue(v);
      return [...Buffer.concat(w.take())];
    };
    expect(one(f.t(true))).toEqual([0x74, 1]);
    expect(one(f.b(-2))).toEqual([0x62, 0xfe]);
    expect(one(f.B(200))).toEqual([0x42, 200]);
    expect(one(f.s(-2))).toEqual([0x73, 0xff, 0xfe]);
    expect(one(f.u(0xabcd))).toEqual([0x75, 0xab, 0xcd]);
    expect(one(f.I(-2))).toEqual([0x49, 0xff, 0xff, 0xff, 0xfe]);
    expect(one(f.i(0x89abcdef))).toEqual([0x69, 0x89, 0xab, 0xcd, 0xef]);
    expect(one(f.l(-2))).toEqual([0x6c, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]);
    expect(one(f.f(1))).toEqual([0x66, 0x3f, 0x80, 0, 0]);
    expect(one(f.d(1))).toEqual([0x64, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]);
    expect(one(f.D(2, 0x80000001))).toEqual([0x44, 2, 0x80, 0, 0, 1]);
    expect(one(f.S('é'))).toEqual([0x53, 0, 0, 0, 2, 0xc3, 0xa9]);
    expect(one(f.x(Buffer.from([9])))).toEqual([0x78, 0, 0, 0, 1, 9]);
    expect(one(f.T(2 ** 32 + 1))).toEqual([0x54, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(one(f.V())).toEqual([0x56]);
    expect(one(f.A([f.t(false)]))).toEqual([0x41, 0, 0, 0, 2, 0x74, 0]);
    expect(one(f.F({ k: f.V() }))).toEqual([0x46, 0, 0, 0, 3, 1, 0x6b, 0x56]);
  });
});

describe('field table decode errors', () => {
  const known = new Set(TYPE_LETTERS.map((c) => c.charCodeAt(0)));
  const unknown = Array.from({ length: 256 }, (_, i) => i).filter((i) => !known.has(i));

  /** A table {k: <letter> + 8 filler bytes}, possibly wrapped in an array and a nested table. */
  function tableWithLetter(letter: number, wrap: 'none' | 'array' | 'nested'): Buffer {
    let value = Buffer.concat([Buffer.from([letter]), Buffer.alloc(8, 0x01)]);
    if (wrap === 'array' || wrap === 'nested') {
      const inner = Buffer.concat([Buffer.from([0x74, 1]), value]); // [true, <bad>]
      const len = Buffer.alloc(4);
      len.writeUInt32BE(inner.length);
      value = Buffer.concat([Buffer.from([0x41]), len, inner]);
    }
    if (wrap === 'nested') {
      const body = Buffer.concat([Buffer.from([1, 0x61]), value]);
      const len = Buffer.alloc(4);
      len.writeUInt32BE(body.length);
      value = Buffer.concat([Buffer.from([0x46]), len, body]);
    }
    const body = Buffer.concat([Buffer.from([1, 0x6b]), value]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    return Buffer.concat([len, body]);
  }

  it('there are 239 byte values that are not RabbitMQ type letters', () => {
    expect(unknown).toHaveLength(256 - 17);
    for (const c of ['U', 'L', 'c', 'o', 'e', 'n', '\0']) expect(unknown).toContain(c.charCodeAt(0));
  });

  for (const wrap of ['none', 'array', 'nested'] as const) {
    it(`table() and skipTable() throw DecodeError for every unknown letter (${wrap})`, () => {
      for (const letter of unknown) {
        const bytes = tableWithLetter(letter, wrap);
        expect(() => new ByteReader().reset(bytes, 0, bytes.length).table(), `letter 0x${letter.toString(16)}`).toThrow(DecodeError);
        expect(() => new ByteReader().reset(bytes, 0, bytes.length).skipTable(), `letter 0x${letter.toString(16)}`).toThrow(DecodeError);
      }
    });
  }

  it('the unknown letter itself is reported (not a misreading of it), when nothing follows it', () => {
    for (const letter of unknown) {
      // {k: <letter>} and the table ends: a letter misread as a 0-byte type would decode, one
      // misread as a wider type would fail with a truncation error instead
      const bytes = Buffer.from([0, 0, 0, 3, 1, 0x6b, letter]);
      for (const read of ['table', 'skipTable'] as const) {
        let thrown: unknown;
        try {
          new ByteReader().reset(bytes, 0, bytes.length)[read]();
        } catch (e) {
          thrown = e;
        }
        expect(thrown, `${read} letter 0x${letter.toString(16)}`).toBeInstanceOf(DecodeError);
        expect((thrown as Error).message, `${read} letter 0x${letter.toString(16)}`).toMatch(/unknown field table type/);
        expect((thrown as Error).message).toContain(String.fromCharCode(letter));
      }
    }
  });

  it("the same framing with a known 8-byte letter ('d') in that position decodes", () => {
    for (const wrap of ['none', 'array', 'nested'] as const) {
      const bytes = tableWithLetter(0x64, wrap);
      const r = new ByteReader().reset(bytes, 0, bytes.length);
      expect(() => r.table()).not.toThrow();
      expect(r.pos).toBe(bytes.length);
    }
  });

  it('reports unknown letters through decodeMethod and decodeBasicProperties', () => {
    const bad = tableWithLetter(0x55 /* U */, 'nested');
    const method = Buffer.concat([
      Buffer.from([0x00, 0x32, 0x00, 0x0a, 0, 0, 1, 0x71, 0]), // queue.declare, reserved, "q", bits
      bad,
    ]);
    expect(() => decodeMethod(new ByteReader().reset(method, 0, method.length))).toThrow(DecodeError);
    const props = Buffer.concat([Buffer.from([0x20, 0x00]), bad]); // headers only
    expect(() => decodeBasicProperties(new ByteReader().reset(props, 0, props.length))).toThrow(DecodeError);
    expect(() => checkBasicProperties(new ByteReader().reset(props, 0, props.length))).toThrow(DecodeError);
  });

  it('keeps nested reads inside their declared table/array length', () => {
    const cases: [string, number[]][] = [
      // key length 10 runs past a 5-byte table, though the buffer has more bytes
      ['key past table end', [0, 0, 0, 5, 10, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x56]],
      // 'I' needs 4 bytes but the table ends right after the letter
      ['value past table end', [0, 0, 0, 3, 1, 0x6b, 0x49, 0, 0, 0, 1]],
      // array declares 6 bytes, holds 't' 1 and a 'S' whose length runs past the array
      ['array element past array end', [0, 0, 0, 9, 1, 0x6b, 0x41, 0, 0, 0, 6, 0x74, 1, 0x53, 0, 0, 0, 0, 0]],
      // table length larger than the buffer
      ['table past buffer end', [0, 0, 0, 40, 1, 0x6b, 0x56]],
      // nested table length larger than its parent
      ['nested past parent', [0, 0, 0, 8, 1, 0x6b, 0x46, 0, 0, 0, 9, 1, 0x61, 0x56, 0x56, 0x56, 0x56, 0x56, 0x56, 0x56]],
    ];
    for (const [what, bytes] of cases) {
      const b = Buffer.from(bytes);
      expect(() => new ByteReader().reset(b, 0, b.length).table(), what).toThrow(DecodeError);
      expect(() => new ByteReader().reset(b, 0, b.length).skipTable(), what).toThrow(DecodeError);
    }
  });
});

// ---------------------------------------------------------------------------------------------

const ALL_PROPS: Required<BasicProperties> = {
  contentType: 'application/json; charset=utf-8',
  contentEncoding: 'gzip',
  headers: RICH,
  deliveryMode: 2,
  priority: 255,
  correlationId: 'corr-ü-🐇',
  replyTo: 'amq.rabbitmq.reply-to.g1h2AA==',
  expiration: '60000',
  messageId: 'msg-日本',
  timestamp: Number.MAX_SAFE_INTEGER,
  type: 'order.created',
  userId: 'guest',
  appId: 'warren-test',
  reserved: 'cluster-x',
};

describe('basic properties round trip', () => {
  it('has 14 properties, flags from bit 15 down in declaration order', () => {
    expect(BASIC_PROPERTY_NAMES).toHaveLength(14);
    expect(Object.keys(ALL_PROPS)).toEqual([...BASIC_PROPERTY_NAMES]);
    BASIC_PROPERTY_NAMES.forEach((name, i) => expect(PROPERTY_FLAG[name], name).toBe(1 << (15 - i)));
  });

  it('round-trips all 14 properties', () => {
    const bytes = encodeProps(ALL_PROPS);
    expect(bytes.readUInt16BE(0)).toBe(0xfffc);
    expect(decodeProps(bytes)).toStrictEqual(ALL_PROPS);
    const r = new ByteReader().reset(bytes, 0, bytes.length);
    expect(() => checkBasicProperties(r)).not.toThrow();
    expect(r.pos).toBe(bytes.length);
  });

  it('round-trips no properties as two zero bytes', () => {
    const bytes = encodeProps({});
    expect([...bytes]).toEqual([0, 0]);
    expect(decodeProps(bytes)).toStrictEqual({});
  });

  for (const name of BASIC_PROPERTY_NAMES) {
    it(`round-trips ${name} alone`, () => {
      const p = { [name]: ALL_PROPS[name] } as BasicProperties;
      const bytes = encodeProps(p);
      expect(bytes.readUInt16BE(0)).toBe(PROPERTY_FLAG[name]);
      expect(decodeProps(bytes)).toStrictEqual(p);
    });
  }

  it('round-trips every one of the 2^14 subsets', () => {
    const small = { ...ALL_PROPS, headers: RICH2 };
    for (let mask = 0; mask < 1 << 14; mask++) {
      const p: Record<string, unknown> = {};
      let flags = 0;
      BASIC_PROPERTY_NAMES.forEach((name, i) => {
        if (mask & (1 << i)) {
          p[name] = small[name];
          flags |= PROPERTY_FLAG[name];
        }
      });
      const bytes = encodeProps(p as BasicProperties, 64 * 1024);
      expect(bytes.readUInt16BE(0), `mask ${mask}`).toBe(flags);
      expect(decodeProps(bytes), `mask ${mask}`).toStrictEqual(p);
    }
  });

  it('throws DecodeError for every strict prefix of the properties', () => {
    const bytes = encodeProps(ALL_PROPS);
    for (let n = 0; n < bytes.length; n++) {
      expect(() => decodeBasicProperties(new ByteReader().reset(bytes, 0, n)), `prefix ${n}`).toThrow(DecodeError);
      expect(() => checkBasicProperties(new ByteReader().reset(bytes, 0, n)), `prefix ${n}`).toThrow(DecodeError);
    }
  });

  it('ignores the two low flag bits as RabbitMQ does, and (when checking) refuses trailing bytes', () => {
    const cont = Buffer.from([0x10, 0x03, 0x02]);
    expect(decodeBasicProperties(new ByteReader().reset(cont, 0, 3))).toEqual({ deliveryMode: 2 });
    expect(() => checkBasicProperties(new ByteReader().reset(cont, 0, 3))).not.toThrow();
    expect(() => checkBasicProperties(new ByteReader().reset(cont, 0, 2))).toThrow(DecodeError);
    const trailing = Buffer.concat([encodeProps({ priority: 3 }), Buffer.from([0])]);
    expect(() => checkBasicProperties(new ByteReader().reset(trailing, 0, trailing.length))).toThrow(DecodeError);
  });
});
