// FrameParser: the same frames whatever the chunking, frame errors (bad end octet, frame_max)
// detected as early as possible, and large frames reassembled intact.
import { createHash } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { FrameWriter } from '../src/amqp/frame-writer.js';
import { ByteWriter } from '../src/protocol/byte-writer.js';
import { ConnectionError } from '../src/protocol/errors.js';
import { FrameParser } from '../src/protocol/frame-parser.js';
import { M, writeBasicProperties, writeMethod } from '../src/protocol/generated/amqp.js';
import { prng } from './support/prng.js';

interface Frame { type: number; channel: number; payload: Buffer }

/** Frame bytes built by hand (independently of FrameWriter). */
function frameBytes(f: Frame, end = 0xce): Buffer {
  const head = Buffer.alloc(7);
  head[0] = f.type;
  head.writeUInt16BE(f.channel, 1);
  head.writeUInt32BE(f.payload.length, 3);
  return Buffer.concat([head, f.payload, Buffer.from([end])]);
}

class Collector {
  frames: Frame[] = [];
  /** For each frame, whether the parser handed out a region of the pushed chunk itself. */
  inChunk: boolean[] = [];
  current: Buffer | null = null;
  readonly parser: FrameParser;
  constructor(frameMax = 0) {
    this.parser = new FrameParser({
      onFrame: (type, channel, buf, start, end) => {
        // the region is only valid during the call: copy it
        this.frames.push({ type, channel, payload: Buffer.from(buf.subarray(start, end)) });
        this.inChunk.push(buf === this.current);
      },
    }, frameMax);
  }
  push(chunk: Buffer): void {
    this.current = chunk;
    this.parser.push(chunk);
  }
}

/** A compact, fast-to-compare summary of frames (vitest's deep equality is slow on MiB buffers). */
function sig(frames: Frame[]): string[] {
  return frames.map((f) => `${f.type}/${f.channel}/${f.payload.length}/${createHash('sha1').update(f.payload).digest('hex')}`);
}

function parseChunks(chunks: Buffer[], frameMax = 0): Frame[] {
  const c = new Collector(frameMax);
  for (const chunk of chunks) c.push(chunk);
  return c.frames;
}

function chunked(stream: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < stream.length; off += size) out.push(stream.subarray(off, off + size));
  return out;
}

function methodPayload(id: number, args: Record<string, unknown>): Buffer {
  const w = new ByteWriter(64);
  writeMethod(w, id as never, args as never);
  return Buffer.concat(w.take());
}

function headerPayload(bodySize: number): Buffer {
  const w = new ByteWriter(64);
  w.u16(60);
  w.u16(0);
  w.u64(bodySize);
  writeBasicProperties(w, { contentType: 'text/plain', deliveryMode: 2, headers: { k: { type: 'S', value: 'v' } } });
  return Buffer.concat(w.take());
}

function bodyBytes(n: number, seed: number): Buffer {
  const rnd = prng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/** Many frames of every type, including empty payloads and frames larger than 255 bytes. */
const FRAMES: Frame[] = [
  { type: 1, channel: 0, payload: methodPayload(M.ConnectionStartOk, {
    clientProperties: { product: { type: 'S', value: 'test' } }, mechanism: 'PLAIN', response: Buffer.from('\0u\0p'), locale: 'en_US',
  }) },
  { type: 1, channel: 0, payload: methodPayload(M.ConnectionTuneOk, { channelMax: 2047, frameMax: 131072, heartbeat: 60 }) },
  { type: 8, channel: 0, payload: Buffer.alloc(0) },
  { type: 1, channel: 1, payload: methodPayload(M.ChannelOpen, {}) },
  { type: 1, channel: 1, payload: methodPayload(M.BasicPublish, { exchange: 'ex', routingKey: 'rk', mandatory: true }) },
  { type: 2, channel: 1, payload: headerPayload(300 + 1 + 0xce) },
  { type: 3, channel: 1, payload: bodyBytes(300, 1) },
  { type: 3, channel: 1, payload: Buffer.from([0xce]) }, // a body that is just the end octet value
  { type: 3, channel: 1, payload: Buffer.alloc(0xce, 0xce) },
  { type: 3, channel: 1, payload: Buffer.alloc(0) },
  { type: 1, channel: 65535, payload: methodPayload(M.BasicAck, { deliveryTag: 2 ** 40, multiple: true }) },
  { type: 8, channel: 0, payload: Buffer.alloc(0) },
];
const STREAM = Buffer.concat(FRAMES.map((f) => frameBytes(f)));

describe('FrameParser: chunking does not change the frames', () => {
  it('one chunk', () => {
    const c = new Collector();
    c.push(STREAM);
    expect(c.frames).toStrictEqual(FRAMES);
    // frames wholly inside a chunk are handed out in place, without a copy
    expect(c.inChunk.every(Boolean)).toBe(true);
  });

  it('split into two chunks at every offset (including empty chunks)', () => {
    for (let k = 0; k <= STREAM.length; k++) {
      const frames = parseChunks([STREAM.subarray(0, k), STREAM.subarray(k)]);
      expect(frames.length, `split at ${k}`).toBe(FRAMES.length);
      expect(frames, `split at ${k}`).toStrictEqual(FRAMES);
    }
  });

  it('1-byte chunks', () => {
    const c = new Collector();
    for (const chunk of chunked(STREAM, 1)) c.push(chunk);
    expect(c.frames).toStrictEqual(FRAMES);
    // every frame of at least 2 bytes spans chunks, so none is in place
    expect(c.inChunk.some(Boolean)).toBe(false);
  });

  it('three chunks at every pair of offsets (first 6 frames)', () => {
    const head = FRAMES.slice(0, 6);
    const stream = Buffer.concat(head.map((f) => frameBytes(f)));
    const expected = sig(head);
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j++) {
        const frames = parseChunks([stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)]);
        expect(sig(frames), `splits ${i}/${j}`).toEqual(expected);
      }
    }
  });

  it('random chunk sizes', () => {
    const rnd = prng(42);
    for (let round = 0; round < 200; round++) {
      const chunks: Buffer[] = [];
      for (let off = 0; off < STREAM.length;) {
        const n = Math.floor(rnd() * 40);
        chunks.push(STREAM.subarray(off, off + n));
        off += n;
      }
      expect(parseChunks(chunks), `round ${round}`).toStrictEqual(FRAMES);
    }
  });

  it('a chunk that is later overwritten does not corrupt a frame carried over to the next chunk', () => {
    // sockets may reuse their buffers: the parser must copy what it keeps
    const c = new Collector();
    const k = frameBytes(FRAMES[0]!).length + 20; // inside frame 1
    const first = Buffer.from(STREAM.subarray(0, k));
    c.push(first);
    first.fill(0xaa);
    c.push(Buffer.from(STREAM.subarray(k)));
    expect(c.frames).toStrictEqual(FRAMES);
  });
});

function catchError(fn: () => void): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

function expectFrameError(e: unknown): void {
  expect(e).toBeInstanceOf(ConnectionError);
  expect((e as ConnectionError).code).toBe(501);
  expect((e as ConnectionError).hard).toBe(true);
  expect((e as ConnectionError).replyText).toMatch(/^FRAME_ERROR - /);
}

describe('FrameParser: frame errors', () => {
  const good = FRAMES[4]!;
  const bad: Frame = { type: 1, channel: 1, payload: methodPayload(M.BasicAck, { deliveryTag: 7 }) };

  for (const end of [0x00, 0xcd, 0xcf, 0xff]) {
    it(`a bad end octet 0x${end.toString(16)} throws 501, in one chunk and split at every offset`, () => {
      const stream = Buffer.concat([frameBytes(good), frameBytes(bad, end), frameBytes(good)]);
      const endAt = frameBytes(good).length + frameBytes(bad).length - 1; // index of the bad octet
      for (let k = 0; k <= stream.length; k++) {
        const c = new Collector();
        const e1 = catchError(() => c.push(stream.subarray(0, k)));
        if (k > endAt) {
          expectFrameError(e1);
        } else {
          expect(e1, `split at ${k}`).toBeUndefined();
          expectFrameError(catchError(() => c.push(stream.subarray(k))));
        }
        // the good frame before it was delivered once; the bad frame never
        expect(c.frames, `split at ${k}`).toStrictEqual([good]);
      }
    });
  }

  it('a frame larger than frameMax throws 501 as soon as its 7-byte header is seen', () => {
    const frameMax = 4096;
    const header = (size: number) => {
      const h = Buffer.from([3, 0, 1, 0, 0, 0, 0]);
      h.writeUInt32BE(size, 3);
      return h;
    };
    // Like RabbitMQ (which allows an 8-byte "fudge"), a payload of up to frame_max bytes passes;
    // nothing is emitted until the payload arrives
    for (const size of [frameMax - 8, frameMax]) {
      const okc = new Collector(frameMax);
      expect(catchError(() => okc.push(header(size))), `payload ${size}`).toBeUndefined();
      expect(okc.frames).toHaveLength(0);
    }
    const full: Frame = { type: 3, channel: 1, payload: bodyBytes(frameMax, 7) };
    expect(sig(parseChunks([frameBytes(full)], frameMax))).toEqual(sig([full]));
    expect(sig(parseChunks(chunked(frameBytes(full), 1000), frameMax))).toEqual(sig([full]));
    // one byte more is refused on the header alone
    for (const size of [frameMax + 1, 65536, 0x7fffffff, 0xffffffff]) {
      const c = new Collector(frameMax);
      expectFrameError(catchError(() => c.push(header(size))));
      expect(c.frames).toHaveLength(0);
    }
  });

  it('an oversized header split over several chunks throws on the chunk that completes it', () => {
    const head = Buffer.from([3, 0, 1, 0x00, 0x10, 0x00, 0x00]); // size 1 MiB
    for (let k = 1; k < 7; k++) {
      const c = new Collector(131072);
      expect(catchError(() => c.push(head.subarray(0, k))), `first ${k} bytes`).toBeUndefined();
      expectFrameError(catchError(() => c.push(head.subarray(k))));
    }
    // byte by byte: only the 7th byte throws
    const c = new Collector(131072);
    for (let i = 0; i < 6; i++) expect(catchError(() => c.push(head.subarray(i, i + 1)))).toBeUndefined();
    expectFrameError(catchError(() => c.push(head.subarray(6, 7))));
  });

  it('an oversized frame after good frames in the same chunk: good ones delivered, then 501', () => {
    const big = frameBytes({ type: 3, channel: 1, payload: Buffer.alloc(5000) });
    const c = new Collector(4096);
    const stream = Buffer.concat([frameBytes(good), frameBytes(good), big.subarray(0, 7)]);
    expectFrameError(catchError(() => c.push(stream)));
    expect(c.frames).toStrictEqual([good, good]);
  });

  it('frameMax can be raised after construction (after tune-ok)', () => {
    const f: Frame = { type: 3, channel: 2, payload: bodyBytes(10_000, 3) };
    const c = new Collector(4096);
    expectFrameError(catchError(() => c.push(frameBytes(f))));
    const d = new Collector(4096);
    d.parser.frameMax = 131072;
    d.push(frameBytes(f));
    expect(sig(d.frames)).toEqual(sig([f]));
  });

  it('frameMax 0 means no limit', () => {
    const f: Frame = { type: 3, channel: 2, payload: bodyBytes(300_000, 4) };
    expect(sig(parseChunks([frameBytes(f)], 0))).toEqual(sig([f]));
    expect(sig(parseChunks(chunked(frameBytes(f), 4096), 0))).toEqual(sig([f]));
    // a header alone announcing a big frame is not refused either
    const c = new Collector(0);
    expect(catchError(() => c.push(frameBytes(f).subarray(0, 7)))).toBeUndefined();
  });
});

describe('FrameParser: large frames', () => {
  it('a 1 MiB body frame between small frames, from 64 KiB chunks', () => {
    const body: Frame = { type: 3, channel: 4, payload: bodyBytes(1024 * 1024, 5) };
    const frames = [FRAMES[4]!, FRAMES[5]!, body, FRAMES[2]!, FRAMES[10]!];
    const stream = Buffer.concat(frames.map((f) => frameBytes(f)));
    for (const size of [65536, 65536 + 7, 65535]) {
      const c = new Collector(1024 * 1024 + 8);
      for (const chunk of chunked(stream, size)) c.push(chunk);
      expect(sig(c.frames), `chunk ${size}`).toEqual(sig(frames));
      expect(c.frames[2]!.payload.equals(body.payload), `chunk ${size}`).toBe(true);
    }
  });

  it('FrameWriter.content of a 1 MiB body: split at frame_max, reassembled from 64 KiB chunks', () => {
    const body = bodyBytes(1024 * 1024, 6);
    const props = Buffer.from([0x10, 0x00, 2]); // deliveryMode 2
    const w = new FrameWriter();
    w.frameMax = 131072;
    w.content(3, props, body);
    const parts = w.take();
    // the body is referenced, not copied, by the writer (bodies >= 16 KiB)
    expect(parts.some((p) => p.buffer === body.buffer)).toBe(true);
    const stream = Buffer.concat(parts);
    const c = new Collector(131072);
    for (const chunk of chunked(stream, 65536)) c.push(chunk);
    expect(c.frames[0]!.type).toBe(2);
    expect(c.frames[0]!.payload.readUInt32BE(8)).toBe(body.length); // low word of body-size
    const bodies = c.frames.slice(1);
    expect(bodies.every((f) => f.type === 3 && f.channel === 3)).toBe(true);
    expect(bodies.map((f) => f.payload.length)).toEqual([...Array(8).fill(131064), 1024 * 1024 - 8 * 131064]);
    expect(Buffer.concat(bodies.map((f) => f.payload)).equals(body)).toBe(true);
  });
});
