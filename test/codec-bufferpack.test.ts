// Cross-checks the codec against frames built byte by byte with an independent packer
// (bufferpack, struct-style formats): our decoder must read them, and our FrameWriter must
// produce exactly the same bytes.
import { describe, it, expect } from 'vitest';
import bufferpack from 'bufferpack';
import { FrameWriter } from '../src/amqp/frame-writer.js';
import { ByteReader } from '../src/protocol/byte-reader.js';
import { ByteWriter } from '../src/protocol/byte-writer.js';
import {
  M, decodeBasicProperties, decodeMethod, writeBasicProperties,
  type BasicProperties, type MethodArgs,
} from '../src/protocol/generated/amqp.js';
import { typed as t } from './support/field-values.js';
import { parseFrames } from './support/frames.js';

// --- bufferpack building blocks --------------------------------------------------------------

const pk = (fmt: string, ...values: unknown[]): Buffer => bufferpack.pack(fmt, values);
const cat = (...parts: Buffer[]): Buffer => Buffer.concat(parts);
const raw = (b: Buffer): Buffer => (b.length === 0 ? Buffer.alloc(0) : pk(`>${b.length}A`, b));
const shortstr = (s: string): Buffer => {
  const b = Buffer.from(s, 'utf8');
  return cat(pk('>B', b.length), raw(b));
};
const longstr = (b: Buffer): Buffer => cat(pk('>I', b.length), raw(b));
const u64 = (n: number): Buffer => pk('>II', Math.floor(n / 2 ** 32), n % 2 ** 32);
const i64 = (n: bigint): Buffer => pk('>iI', Number(BigInt.asIntN(64, n) >> 32n), Number(n & 0xffffffffn));
/** Consecutive bits, first in the least significant position. */
const bits = (...flags: boolean[]): Buffer => pk('>B', flags.reduce((acc, x, i) => acc | (x ? 1 << i : 0), 0));
const table = (...entries: Buffer[]): Buffer => {
  const body = cat(...entries);
  return cat(pk('>I', body.length), body);
};
const entry = (key: string, value: Buffer): Buffer => cat(shortstr(key), value);
const fv = {
  t: (v: boolean) => pk('>cB', 't', v ? 1 : 0),
  b: (v: number) => pk('>cb', 'b', v),
  B: (v: number) => pk('>cB', 'B', v),
  s: (v: number) => pk('>ch', 's', v),
  u: (v: number) => pk('>cH', 'u', v),
  I: (v: number) => pk('>ci', 'I', v),
  i: (v: number) => pk('>cI', 'i', v),
  l: (v: bigint) => cat(pk('>c', 'l'), i64(v)),
  f: (v: number) => pk('>cf', 'f', v),
  d: (v: number) => pk('>cd', 'd', v),
  D: (scale: number, v: number) => pk('>cBI', 'D', scale, v),
  S: (s: string) => cat(pk('>c', 'S'), longstr(Buffer.from(s, 'utf8'))),
  x: (b: Buffer) => cat(pk('>c', 'x'), longstr(b)),
  T: (n: number) => cat(pk('>c', 'T'), u64(n)),
  V: () => pk('>c', 'V'),
  A: (...values: Buffer[]) => {
    const body = cat(...values);
    return cat(pk('>cI', 'A', body.length), body);
  },
  F: (...entries: Buffer[]) => cat(pk('>c', 'F'), table(...entries)),
};
const frame = (type: number, channel: number, payload: Buffer): Buffer =>
  cat(pk('>BHI', type, channel, payload.length), payload, pk('>B', 0xce));
const methodPayload = (classId: number, methodId: number, ...fields: Buffer[]): Buffer =>
  cat(pk('>HH', classId, methodId), ...fields);

interface MethodCase {
  name: string;
  channel: number;
  id: number;
  args: Record<string, unknown>;
  bytes: Buffer; // the whole frame, built with bufferpack
}

const response = Buffer.from('\0guest\0gü€st', 'utf8');

const CASES: MethodCase[] = [
  {
    name: 'connection.start-ok',
    channel: 0,
    id: M.ConnectionStartOk,
    args: {
      clientProperties: {
        product: t.S('warren-test'),
        version: t.S('1.0.0'),
        capabilities: t.F({
          publisher_confirms: t.t(true),
          'connection.blocked': t.t(false),
          consumer_cancel_notify: t.t(true),
        }),
        information: t.S('ünï-🐇'),
      },
      mechanism: 'PLAIN',
      response,
      locale: 'en_US',
    },
    bytes: frame(1, 0, methodPayload(10, 11,
      table(
        entry('product', fv.S('warren-test')),
        entry('version', fv.S('1.0.0')),
        entry('capabilities', fv.F(
          entry('publisher_confirms', fv.t(true)),
          entry('connection.blocked', fv.t(false)),
          entry('consumer_cancel_notify', fv.t(true)),
        )),
        entry('information', fv.S('ünï-🐇')),
      ),
      shortstr('PLAIN'),
      longstr(response),
      shortstr('en_US'),
    )),
  },
  {
    name: 'connection.tune-ok',
    channel: 0,
    id: M.ConnectionTuneOk,
    args: { channelMax: 2047, frameMax: 131072, heartbeat: 60 },
    bytes: frame(1, 0, methodPayload(10, 31, pk('>HIH', 2047, 131072, 60))),
  },
  {
    name: 'connection.tune-ok at the limits',
    channel: 0,
    id: M.ConnectionTuneOk,
    args: { channelMax: 65535, frameMax: 4294967295, heartbeat: 65534 },
    bytes: frame(1, 0, methodPayload(10, 31, pk('>HIH', 65535, 4294967295, 65534))),
  },
  {
    name: 'channel.open',
    channel: 1,
    id: M.ChannelOpen,
    args: {},
    bytes: frame(1, 1, methodPayload(20, 10, shortstr(''))),
  },
  {
    name: 'queue.declare with a table',
    channel: 1,
    id: M.QueueDeclare,
    args: {
      queue: 'orders-ü',
      passive: false,
      durable: true,
      exclusive: false,
      autoDelete: true,
      noWait: false,
      arguments: {
        'x-message-ttl': t.I(60000),
        'x-expires': t.I(-1),
        'x-max-length': t.l(1_000_000),
        'x-max-length-bytes': t.l(-(2n ** 63n)),
        'x-dead-letter-exchange': t.S('dlx'),
        'x-overflow': t.S('reject-publish'),
        'x-max-priority': t.b(-10),
        'x-B': t.B(250),
        'x-s': t.s(-300),
        'x-u': t.u(65000),
        'x-i': t.i(4000000000),
        'x-nodes': t.A([t.S('rabbit@a'), t.S('rabbit@b'), t.A([]), t.F({ k: t.V() })]),
        'x-float': t.f(0.25),
        'x-double': t.d(-2.5e300),
        'x-decimal': t.D(3, 3000000000),
        'x-when': t.T(1_700_000_000),
        'x-bytes': t.x(Buffer.from([0, 0xce, 0xff])),
        'x-void': t.V(),
      },
    },
    bytes: frame(1, 1, methodPayload(50, 10,
      pk('>H', 0),
      shortstr('orders-ü'),
      bits(false, true, false, true, false),
      table(
        entry('x-message-ttl', fv.I(60000)),
        entry('x-expires', fv.I(-1)),
        entry('x-max-length', fv.l(1_000_000n)),
        entry('x-max-length-bytes', fv.l(-(2n ** 63n))),
        entry('x-dead-letter-exchange', fv.S('dlx')),
        entry('x-overflow', fv.S('reject-publish')),
        entry('x-max-priority', fv.b(-10)),
        entry('x-B', fv.B(250)),
        entry('x-s', fv.s(-300)),
        entry('x-u', fv.u(65000)),
        entry('x-i', fv.i(4000000000)),
        entry('x-nodes', fv.A(fv.S('rabbit@a'), fv.S('rabbit@b'), fv.A(), fv.F(entry('k', fv.V())))),
        entry('x-float', fv.f(0.25)),
        entry('x-double', fv.d(-2.5e300)),
        entry('x-decimal', fv.D(3, 3000000000)),
        entry('x-when', fv.T(1_700_000_000)),
        entry('x-bytes', fv.x(Buffer.from([0, 0xce, 0xff]))),
        entry('x-void', fv.V()),
      ),
    )),
  },
  {
    name: 'basic.publish',
    channel: 7,
    id: M.BasicPublish,
    args: { exchange: 'amq.topic', routingKey: 'a.b.ü', mandatory: true, immediate: false },
    bytes: frame(1, 7, methodPayload(60, 40, pk('>H', 0), shortstr('amq.topic'), shortstr('a.b.ü'), bits(true, false))),
  },
  {
    name: 'basic.publish, immediate only',
    channel: 7,
    id: M.BasicPublish,
    args: { exchange: '', routingKey: 'q', mandatory: false, immediate: true },
    bytes: frame(1, 7, methodPayload(60, 40, pk('>H', 0), shortstr(''), shortstr('q'), bits(false, true))),
  },
  {
    name: 'basic.deliver',
    channel: 65535,
    id: M.BasicDeliver,
    args: { consumerTag: 'amq.ctag-XYZ', deliveryTag: 2 ** 40 + 5, redelivered: true, exchange: '', routingKey: 'q' },
    bytes: frame(1, 65535, methodPayload(60, 60,
      shortstr('amq.ctag-XYZ'), u64(2 ** 40 + 5), bits(true), shortstr(''), shortstr('q'))),
  },
  {
    name: 'basic.ack',
    channel: 3,
    id: M.BasicAck,
    args: { deliveryTag: Number.MAX_SAFE_INTEGER, multiple: true },
    bytes: frame(1, 3, methodPayload(60, 80, u64(Number.MAX_SAFE_INTEGER), bits(true))),
  },
  {
    name: 'basic.consume',
    channel: 2,
    id: M.BasicConsume,
    args: {
      queue: 'q',
      consumerTag: '',
      noLocal: false,
      noAck: true,
      exclusive: true,
      noWait: false,
      arguments: { 'x-priority': t.I(-5), 'x-stream-offset': t.S('first') },
    },
    bytes: frame(1, 2, methodPayload(60, 20,
      pk('>H', 0), shortstr('q'), shortstr(''), bits(false, true, true, false),
      table(entry('x-priority', fv.I(-5)), entry('x-stream-offset', fv.S('first'))))),
  },
  {
    name: 'exchange.declare',
    channel: 1,
    id: M.ExchangeDeclare,
    args: {
      exchange: 'logs',
      type: 'topic',
      passive: false,
      durable: true,
      autoDelete: false,
      internal: true,
      noWait: true,
      arguments: { 'alternate-exchange': t.S('ae') },
    },
    bytes: frame(1, 1, methodPayload(40, 10,
      pk('>H', 0), shortstr('logs'), shortstr('topic'), bits(false, true, false, true, true),
      table(entry('alternate-exchange', fv.S('ae'))))),
  },
  {
    name: 'connection.close',
    channel: 0,
    id: M.ConnectionClose,
    args: {
      replyCode: 320,
      replyText: "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'",
      classId: 0,
      methodId: 0,
    },
    bytes: frame(1, 0, methodPayload(10, 50,
      pk('>H', 320), shortstr("CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'"), pk('>HH', 0, 0))),
  },
  {
    name: 'connection.close naming the failed method',
    channel: 0,
    id: M.ConnectionClose,
    args: { replyCode: 503, replyText: 'COMMAND_INVALID - unknown', classId: 50, methodId: 10 },
    bytes: frame(1, 0, methodPayload(10, 50, pk('>H', 503), shortstr('COMMAND_INVALID - unknown'), pk('>HH', 50, 10))),
  },
];

// --- content headers -------------------------------------------------------------------------

interface HeaderCase {
  name: string;
  channel: number;
  bodySize: number;
  props: BasicProperties;
  propBytes: Buffer; // flags + property list, built with bufferpack
}

const HEADER_CASES: HeaderCase[] = [
  {
    name: 'a typical subset',
    channel: 7,
    bodySize: 5,
    props: {
      contentType: 'text/plain',
      headers: { 'x-retries': t.l(3), 'x-origin': t.S('svc-ü'), 'x-trace': t.A([t.S('a'), t.t(true)]) },
      deliveryMode: 2,
      priority: 5,
      correlationId: 'c-1',
      timestamp: 1_700_000_000,
      appId: 'app',
    },
    // contentType(15) headers(13) deliveryMode(12) priority(11) correlationId(10) timestamp(6) appId(3)
    propBytes: cat(
      pk('>H', 0x8000 | 0x2000 | 0x1000 | 0x0800 | 0x0400 | 0x0040 | 0x0008),
      shortstr('text/plain'),
      table(
        entry('x-retries', fv.l(3n)),
        entry('x-origin', fv.S('svc-ü')),
        entry('x-trace', fv.A(fv.S('a'), fv.t(true))),
      ),
      pk('>BB', 2, 5),
      shortstr('c-1'),
      u64(1_700_000_000),
      shortstr('app'),
    ),
  },
  {
    name: 'all 14 properties',
    channel: 1,
    bodySize: 2 ** 33 + 3,
    props: {
      contentType: 'application/json',
      contentEncoding: 'gzip',
      headers: {},
      deliveryMode: 1,
      priority: 255,
      correlationId: 'corr',
      replyTo: 'amq.rabbitmq.reply-to',
      expiration: '60000',
      messageId: 'm-日本',
      timestamp: Number.MAX_SAFE_INTEGER,
      type: 'kind',
      userId: 'guest',
      appId: 'warren',
      reserved: 'cluster',
    },
    propBytes: cat(
      pk('>H', 0xfffc),
      shortstr('application/json'),
      shortstr('gzip'),
      table(),
      pk('>BB', 1, 255),
      shortstr('corr'),
      shortstr('amq.rabbitmq.reply-to'),
      shortstr('60000'),
      shortstr('m-日本'),
      u64(Number.MAX_SAFE_INTEGER),
      shortstr('kind'),
      shortstr('guest'),
      shortstr('warren'),
      shortstr('cluster'),
    ),
  },
  {
    name: 'none',
    channel: 9,
    bodySize: 0,
    props: {},
    propBytes: pk('>H', 0),
  },
];

const headerFrame = (c: HeaderCase): Buffer => frame(2, c.channel, cat(pk('>HH', 60, 0), u64(c.bodySize), c.propBytes));

// --- parsing helpers -------------------------------------------------------------------------

function decodePayload(payload: Buffer): Record<string, unknown> {
  const r = new ByteReader().reset(payload, 0, payload.length);
  const m = decodeMethod(r) as unknown as Record<string, unknown>;
  expect(r.pos, 'method payload fully consumed').toBe(payload.length);
  return m;
}

function decodeHeader(payload: Buffer): { classId: number; weight: number; bodySize: number; props: BasicProperties } {
  const r = new ByteReader().reset(payload, 0, payload.length);
  const classId = r.u16();
  const weight = r.u16();
  const bodySize = r.u64();
  const props = decodeBasicProperties(r);
  expect(r.pos, 'header payload fully consumed').toBe(payload.length);
  return { classId, weight, bodySize, props };
}

const expectedMethod = (c: MethodCase): Record<string, unknown> => ({ id: c.id, ...c.args });

// --- tests -----------------------------------------------------------------------------------

describe('bufferpack-built frames decode with our parser and codec', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const frames = parseFrames(c.bytes);
      expect(frames).toHaveLength(1);
      expect(frames[0]!.type).toBe(1);
      expect(frames[0]!.channel).toBe(c.channel);
      expect(decodePayload(frames[0]!.payload)).toStrictEqual(expectedMethod(c));
    });
  }

  for (const c of HEADER_CASES) {
    it(`content header: ${c.name}`, () => {
      const frames = parseFrames(headerFrame(c));
      expect(frames).toHaveLength(1);
      expect(frames[0]).toMatchObject({ type: 2, channel: c.channel });
      expect(decodeHeader(frames[0]!.payload)).toStrictEqual({ classId: 60, weight: 0, bodySize: c.bodySize, props: c.props });
    });
  }

  it('a stream of all of them, in one chunk and byte by byte', () => {
    const body = Buffer.from('hello');
    const stream = cat(
      ...CASES.map((c) => c.bytes),
      headerFrame(HEADER_CASES[0]!),
      frame(3, 7, raw(body)),
      pk('>BHIB', 8, 0, 0, 0xce),
    );
    for (const chunk of [stream.length, 1, 5]) {
      const frames = parseFrames(stream, chunk);
      expect(frames.map((x) => x.type)).toEqual([...CASES.map(() => 1), 2, 3, 8]);
      CASES.forEach((c, i) => {
        expect(frames[i]!.channel).toBe(c.channel);
        expect(decodePayload(frames[i]!.payload), c.name).toStrictEqual(expectedMethod(c));
      });
      expect(decodeHeader(frames[CASES.length]!.payload).props).toStrictEqual(HEADER_CASES[0]!.props);
      expect(frames[CASES.length + 1]!.payload.toString()).toBe('hello');
      expect(frames[CASES.length + 2]).toStrictEqual({ type: 8, channel: 0, payload: Buffer.alloc(0) });
    }
  });

  it('bufferpack agrees with itself on the frame header it wrote (sanity check of the helpers)', () => {
    const c = CASES.find((x) => x.id === M.BasicDeliver)!;
    expect(bufferpack.unpack('>BHI', c.bytes)).toEqual([1, 65535, c.bytes.length - 8]);
    expect(c.bytes[c.bytes.length - 1]).toBe(0xce);
  });
});

describe('our FrameWriter produces exactly the bufferpack-built bytes', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const w = new FrameWriter(64); // small chunks: growth inside frames and tables
      w.method(c.channel, c.id as keyof MethodArgs, c.args as never);
      const ours = Buffer.concat(w.take());
      expect(ours.toString('hex')).toBe(c.bytes.toString('hex'));
    });
  }

  function propsBytes(p: BasicProperties): Buffer {
    const w = new ByteWriter(32);
    writeBasicProperties(w, p);
    return Buffer.concat(w.take());
  }

  for (const c of HEADER_CASES) {
    it(`properties: ${c.name}`, () => {
      expect(propsBytes(c.props).toString('hex')).toBe(c.propBytes.toString('hex'));
    });
  }

  it('content(): header frame then body frames split at frameMax - 8', () => {
    const c = HEADER_CASES[0]!;
    const body = Buffer.alloc(10_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
    const w = new FrameWriter();
    w.frameMax = 4096;
    w.content(c.channel, propsBytes(c.props), body);
    const ours = Buffer.concat(w.take());
    const expected = cat(
      frame(2, c.channel, cat(pk('>HH', 60, 0), u64(body.length), c.propBytes)),
      frame(3, c.channel, raw(body.subarray(0, 4088))),
      frame(3, c.channel, raw(body.subarray(4088, 8176))),
      frame(3, c.channel, raw(body.subarray(8176))),
    );
    expect(ours.length).toBe(expected.length);
    expect(ours.equals(expected)).toBe(true);
  });

  it('content() with an empty body writes the header frame only', () => {
    const c = HEADER_CASES[2]!;
    const w = new FrameWriter();
    w.content(c.channel, propsBytes(c.props), Buffer.alloc(0));
    expect(Buffer.concat(w.take()).toString('hex'))
      .toBe(frame(2, c.channel, cat(pk('>HH', 60, 0), u64(0), c.propBytes)).toString('hex'));
  });

  it('heartbeat()', () => {
    const w = new FrameWriter();
    w.heartbeat();
    expect(Buffer.concat(w.take()).toString('hex')).toBe(pk('>BHIB', 8, 0, 0, 0xce).toString('hex'));
  });

  it('many frames in one writer come out back to back, identical to the bufferpack stream', () => {
    const w = new FrameWriter(128);
    for (const c of CASES) w.method(c.channel, c.id as keyof MethodArgs, c.args as never);
    w.heartbeat();
    const ours = Buffer.concat(w.take());
    const expected = cat(...CASES.map((c) => c.bytes), pk('>BHIB', 8, 0, 0, 0xce));
    expect(ours.equals(expected)).toBe(true);
  });
});
