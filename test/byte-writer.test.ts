// ByteWriter: what take() hands out is never overwritten, large bodies go out by reference in
// order, and length patches (mark/patchU32) stay right when the buffer grows underneath them.
import { describe, it, expect, vi } from 'vitest';
import { FrameWriter } from '../src/amqp/frame-writer.js';
import { ByteReader } from '../src/protocol/byte-reader.js';
import { ByteWriter } from '../src/protocol/byte-writer.js';
import type { FieldTable, FieldValue } from '../src/protocol/field-table.js';
import { M, decodeMethod } from '../src/protocol/generated/amqp.js';
import { prng } from './support/prng.js';

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 17 + (i >> 8)) & 0xff;
  return b;
}

describe('ByteWriter.take()', () => {
  it('returns nothing when nothing was written', () => {
    const w = new ByteWriter(16);
    expect(w.take()).toEqual([]);
    w.u8(1);
    expect(w.take().map((b) => [...b])).toEqual([[1]]);
    expect(w.take()).toEqual([]);
    expect(w.length).toBe(0);
  });

  it('never overwrites taken buffers: small writes after take, then more than the chunk size', () => {
    const w = new ByteWriter(64);
    const a = pattern(20, 1);
    w.bytes(a);
    const t1 = w.take();
    const snap1 = Buffer.concat(t1.map((b) => Buffer.from(b)));

    // fits in the rest of the same 64-byte buffer, right after the taken region
    w.u32(0xdeadbeef);
    w.shortstr('after-take');
    const t2 = w.take();
    const snap2 = Buffer.concat(t2.map((b) => Buffer.from(b)));

    // more than the chunk size: the writer must move to a new buffer
    const big = pattern(200, 2);
    w.u8(0x42);
    w.bytes(big);
    w.u64(2 ** 40 + 3);
    const t3 = w.take();

    // and again small writes into whatever buffer is current
    w.longstr('ü'.repeat(30));
    w.u16(0xffff);
    const t4 = w.take();

    expect(Buffer.concat(t1).equals(snap1)).toBe(true);
    expect(Buffer.concat(t2).equals(snap2)).toBe(true);
    expect(Buffer.concat(t1).equals(a)).toBe(true);

    const expected = Buffer.concat([
      a,
      Buffer.from([0xde, 0xad, 0xbe, 0xef, 10]), Buffer.from('after-take'),
      Buffer.from([0x42]), big, Buffer.from([0, 0, 1, 0, 0, 0, 0, 3]),
      Buffer.from([0, 0, 0, 60]), Buffer.from('ü'.repeat(30)), Buffer.from([0xff, 0xff]),
    ]);
    expect(Buffer.concat([...t1, ...t2, ...t3, ...t4]).equals(expected)).toBe(true);
  });

  it('random writes and takes: every taken buffer keeps its bytes, the output is the stream in order', () => {
    for (const chunk of [8, 64, 1024]) {
      const rnd = prng(chunk);
      const w = new ByteWriter(chunk);
      const taken: { bufs: Buffer[]; snapshot: Buffer }[] = [];
      const reference: Buffer[] = [];
      let pendingLength = 0;
      for (let step = 0; step < 3000; step++) {
        const r = rnd();
        if (r < 0.15) {
          const bufs = w.take();
          const snapshot = Buffer.concat(bufs.map((b) => Buffer.from(b)));
          expect(snapshot.length).toBe(pendingLength);
          taken.push({ bufs, snapshot });
          pendingLength = 0;
        } else if (r < 0.6) {
          const b = pattern(Math.floor(rnd() * chunk * 2.5), step);
          w.bytes(b);
          reference.push(b);
          pendingLength += b.length;
        } else if (r < 0.8) {
          const v = Math.floor(rnd() * 2 ** 32);
          w.u32(v);
          const b = Buffer.alloc(4);
          b.writeUInt32BE(v);
          reference.push(b);
          pendingLength += 4;
        } else {
          const s = 'x'.repeat(Math.floor(rnd() * 40)) + 'é';
          w.shortstr(s);
          const b = Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)]);
          reference.push(b);
          pendingLength += b.length;
        }
        expect(w.length).toBe(pendingLength);
      }
      taken.push({ bufs: w.take(), snapshot: Buffer.alloc(0) });
      taken[taken.length - 1]!.snapshot = Buffer.concat(taken[taken.length - 1]!.bufs.map((b) => Buffer.from(b)));
      for (const [i, t] of taken.entries()) {
        expect(Buffer.concat(t.bufs).equals(t.snapshot), `chunk ${chunk}, take #${i} was overwritten`).toBe(true);
      }
      const all = Buffer.concat(taken.flatMap((t) => t.bufs));
      expect(all.equals(Buffer.concat(reference)), `chunk ${chunk}`).toBe(true);
    }
  });
});

describe('ByteWriter.slice()', () => {
  it('queues bodies of 16 KiB and more by reference, in order', () => {
    const w = new ByteWriter(1024);
    const big1 = pattern(16 * 1024, 1);
    const big2 = pattern(100_000, 2);
    w.u8(1);
    w.slice(big1);
    w.u8(2);
    w.u16(0x0303);
    w.slice(big2);
    w.u8(4);
    expect(w.length).toBe(1 + big1.length + 3 + big2.length + 1);
    const out = w.take();
    expect(out).toHaveLength(5);
    expect(out[1]).toBe(big1);
    expect(out[3]).toBe(big2);
    expect(out.map((b) => (b === big1 || b === big2 ? 'body' : [...b]))).toEqual([[1], 'body', [2, 3, 3], 'body', [4]]);
  });

  it('back-to-back large bodies produce no empty parts', () => {
    const w = new ByteWriter();
    const a = pattern(20_000, 3);
    const b = pattern(30_000, 4);
    w.slice(a);
    w.slice(b);
    const out = w.take();
    expect(out).toHaveLength(2);
    expect(out[0]).toBe(a);
    expect(out[1]).toBe(b);
  });

  it('copies bodies below 16 KiB (the source may change afterwards)', () => {
    const w = new ByteWriter();
    const small = pattern(16 * 1024 - 1, 5);
    const copy = Buffer.from(small);
    w.u8(9);
    w.slice(small);
    small.fill(0);
    const out = w.take();
    expect(out.includes(small)).toBe(false);
    expect(Buffer.concat(out).equals(Buffer.concat([Buffer.from([9]), copy]))).toBe(true);
  });

  it('keeps order across growth, take and slices', () => {
    const w = new ByteWriter(32);
    const bodies = [pattern(17_000, 6), pattern(40_000, 7), pattern(16_384, 8)];
    const expected: Buffer[] = [];
    const outputs: Buffer[] = [];
    bodies.forEach((body, i) => {
      const head = pattern(50 + i * 30, 10 + i); // bigger than the chunk: grows
      w.bytes(head);
      w.slice(body);
      expected.push(head, body);
      if (i === 1) outputs.push(...w.take());
    });
    const tail = pattern(5, 20);
    w.bytes(tail);
    expected.push(tail);
    outputs.push(...w.take());
    for (const body of bodies) expect(outputs.filter((o) => o === body)).toHaveLength(1);
    expect(Buffer.concat(outputs).equals(Buffer.concat(expected))).toBe(true);
  });
});

describe('ByteWriter mark()/patchU32() across buffer growth', () => {
  const S = (value: string): FieldValue => ({ type: 'S', value });

  it('patches a length whose bytes moved to a new buffer', () => {
    const w = new ByteWriter(16);
    w.bytes(Buffer.from('prefix'));
    w.take(); // start is now past 0 in the current buffer
    w.u8(0x7e);
    const at = w.mark();
    w.u32(0);
    const payload = pattern(1000, 9); // several growths
    w.bytes(payload);
    w.patchU32(at, w.since(at) - 4);
    const out = Buffer.concat(w.take());
    expect(out[0]).toBe(0x7e);
    expect(out.readUInt32BE(1)).toBe(1000);
    expect(out.subarray(5).equals(payload)).toBe(true);
  });

  it('patches at the right place after take() moved the start (no growth)', () => {
    const w = new ByteWriter(1024);
    w.bytes(pattern(10, 2));
    const taken = w.take();
    const snapshot = Buffer.from(Buffer.concat(taken));
    const table: FieldTable = { a: S('b'), n: { type: 'A', value: [S('c')] } };
    w.table(table);
    const out = Buffer.concat(w.take());
    expect(Buffer.concat(taken).equals(snapshot), 'taken bytes were patched over').toBe(true);
    const r = new ByteReader().reset(out, 0, out.length);
    expect(r.table()).toStrictEqual(table);
    expect(r.pos).toBe(out.length);
  });

  it('FrameWriter: frames written after a take() (the usual per-turn flush) have correct sizes', () => {
    const w = new FrameWriter();
    const frames: Buffer[] = [];
    for (let turn = 0; turn < 5; turn++) {
      w.method(turn + 1, M.BasicDeliver, {
        consumerTag: `ctag-${turn}`, deliveryTag: turn + 1, redelivered: turn % 2 === 1, exchange: 'ex', routingKey: 'rk',
      });
      w.method(turn + 1, M.QueueDeclareOk, { queue: 'q', messageCount: turn, consumerCount: 1 });
      frames.push(Buffer.concat(w.take()));
    }
    const all = Buffer.concat(frames);
    let off = 0;
    const decoded: unknown[] = [];
    while (off < all.length) {
      const size = all.readUInt32BE(off + 3);
      expect(all[off + 7 + size]).toBe(0xce);
      decoded.push(decodeMethod(new ByteReader().reset(all, off + 7, off + 7 + size)));
      off += 8 + size;
    }
    expect(off).toBe(all.length);
    expect(decoded).toHaveLength(10);
    expect(decoded[8]).toStrictEqual({
      id: M.BasicDeliver, consumerTag: 'ctag-4', deliveryTag: 5, redelivered: false, exchange: 'ex', routingKey: 'rk',
    });
    expect(decoded[9]).toStrictEqual({ id: M.QueueDeclareOk, queue: 'q', messageCount: 4, consumerCount: 1 });
  });

  it('writes correct table and array lengths when growth happens in the middle of a table', () => {
    for (const chunk of [8, 16, 33, 100]) {
      const w = new ByteWriter(chunk);
      w.bytes(pattern(chunk - 3, 1)); // leave almost no room: the table's own length word straddles
      const inner: FieldTable = {};
      for (let i = 0; i < 20; i++) inner[`key-${i}`] = S(`value-${i}-${'ü'.repeat(i)}`);
      const table: FieldTable = {
        first: S('a'),
        nested: { type: 'F', value: inner },
        list: { type: 'A', value: [S('x'.repeat(300)), { type: 'A', value: [{ type: 'F', value: inner }] }] },
        last: { type: 'I', value: -1 },
      };
      w.table(table);
      w.u8(0xee); // a byte after the table
      const out = Buffer.concat(w.take());
      const r = new ByteReader().reset(out, chunk - 3, out.length);
      expect(r.table(), `chunk ${chunk}`).toStrictEqual(table);
      expect(r.u8()).toBe(0xee);
      expect(r.pos).toBe(out.length);
    }
  });

  it('frame sizes stay right when a method frame grows the buffer (FrameWriter.beginFrame/endFrame)', () => {
    const w = new FrameWriter(24);
    const args: FieldTable = {};
    for (let i = 0; i < 50; i++) args[`x-arg-${i}`] = { type: 'l', value: i * 1_000_000_007 };
    w.heartbeat();
    w.method(1, M.QueueDeclare, { queue: 'q'.repeat(200), durable: true, arguments: args });
    w.heartbeat();
    const out = Buffer.concat(w.take());
    expect(out.subarray(0, 8).toString('hex')).toBe('08000000000000ce');
    const size = out.readUInt32BE(8 + 3);
    expect(out[8 + 7 + size]).toBe(0xce);
    expect(out.length).toBe(8 + 7 + size + 1 + 8);
    const m = decodeMethod(new ByteReader().reset(out, 8 + 7, 8 + 7 + size));
    expect(m).toStrictEqual({
      id: M.QueueDeclare, queue: 'q'.repeat(200), passive: false, durable: true, exclusive: false,
      autoDelete: false, noWait: false, arguments: args,
    });
  });
});

describe('FrameWriter.method', () => {
  it('appends nothing when the arguments do not encode (a short string over 255 bytes)', async () => {
    const { FrameWriter } = await import('../src/amqp/frame-writer.js');
    const { M } = await import('../src/protocol/generated/amqp.js');
    const w = new FrameWriter();
    w.method(1, M.ChannelOpenOk, {});
    const before = w.length;
    expect(() => w.method(1, M.BasicCancelOk, { consumerTag: 'é'.repeat(200) })).toThrow(RangeError);
    expect(w.length).toBe(before);
    w.method(1, M.ChannelCloseOk, {});
    const bytes = Buffer.concat(w.take());
    // channel.open-ok (12 + 4 bytes of longstr) then channel.close-ok, nothing in between.
    expect(bytes.length).toBe(16 + 12);
    expect(bytes.readUInt32BE(bytes.length - 12 + 7)).toBe((20 << 16) | 41);
  });
});

describe('ByteWriter buffer sizing', () => {
  it('a connection that sends a little per turn keeps a small buffer, even after a big turn', () => {
    const w = new ByteWriter(64 * 1024, 1024);
    for (let turn = 0; turn < 5000; turn++) {
      w.bytes(pattern(100, turn));
      w.take();
    }
    expect(w.buf.length).toBeLessThanOrEqual(1024);
    w.bytes(pattern(200_000, 1)); // one big turn
    w.take();
    for (let turn = 0; turn < 5000; turn++) {
      w.bytes(pattern(100, turn));
      w.take();
    }
    expect(w.buf.length).toBeLessThanOrEqual(1024);
  });

  it('a big turn written in small pieces moves to new buffers only O(log n) times', () => {
    const w = new ByteWriter(64 * 1024, 1024);
    const spy = vi.spyOn(Buffer, 'allocUnsafe');
    for (let i = 0; i < 10_000; i++) w.bytes(pattern(100, i)); // 1 MB in one turn
    const allocations = spy.mock.calls.length;
    spy.mockRestore();
    expect(allocations).toBeLessThan(20);
    expect(Buffer.concat(w.take()).length).toBe(1_000_000);
  });
});

describe('FrameWriter: a busy turn', () => {
  /** Walks `all` frame by frame: [type, channel, payload] each, checking sizes and frame ends. */
  function frames(all: Buffer): [number, number, Buffer][] {
    const out: [number, number, Buffer][] = [];
    let off = 0;
    while (off < all.length) {
      const size = all.readUInt32BE(off + 3);
      expect(all[off + 7 + size]).toBe(0xce);
      out.push([all[off]!, all.readUInt16BE(off + 1), all.subarray(off + 7, off + 7 + size)]);
      off += 8 + size;
    }
    expect(off).toBe(all.length);
    return out;
  }

  it('hands out whole frames of a full buffer uncopied: growth copies only the frame being written', () => {
    const w = new FrameWriter();
    w.frameMax = 131072;
    const copy = vi.spyOn(Buffer.prototype, 'copy');
    const bodies: Buffer[] = [];
    const rnd = prng(7);
    for (let i = 0; i < 2000; i++) {
      const body = pattern(200 + Math.floor(rnd() * 1200), i);
      bodies.push(body);
      w.method(1, M.BasicDeliver, { consumerTag: 'c', deliveryTag: i + 1, redelivered: false, exchange: 'x', routingKey: `k${i}` });
      w.content(1, Buffer.from([0, 0]), body);
    }
    // Bytes copied from one of the writer's buffers into another (bodies into it do not count).
    const bodyBytes = bodies.reduce((n, b) => n + b.length, 0);
    const copiedBytes = copy.mock.calls.reduce((n, c, i) => {
      const src = copy.mock.contexts[i] as Buffer;
      if (bodies.includes(src)) return n;
      const [, , from, to] = c as unknown as [Buffer, number?, number?, number?];
      return n + (to ?? src.length) - (from ?? 0);
    }, 0);
    copy.mockRestore();
    const parts = w.take();
    const all = Buffer.concat(parts);
    // ~3 MB out; the old growth-by-doubling copied about as much again between buffers.
    expect(copiedBytes).toBeLessThan(bodyBytes / 10);
    expect(parts.length).toBeGreaterThan(10); // handed out a buffer at a time
    const fs = frames(all);
    expect(fs).toHaveLength(6000);
    for (let i = 0; i < 2000; i++) {
      const m = decodeMethod(new ByteReader().reset(fs[3 * i]![2], 0, fs[3 * i]![2].length)) as { deliveryTag: number; routingKey: string };
      expect(m.deliveryTag).toBe(i + 1);
      expect(m.routingKey).toBe(`k${i}`);
      expect(fs[3 * i + 2]![2].equals(bodies[i]!)).toBe(true);
    }
  });

  it('keeps whole frames and large bodies by reference in order, with heartbeats between', () => {
    const w = new FrameWriter();
    w.frameMax = 131072;
    const big = pattern(40_000, 3);
    for (let i = 0; i < 300; i++) {
      w.method(2, M.BasicAck, { deliveryTag: i, multiple: false });
      if (i % 50 === 0) w.content(2, Buffer.from([0, 0]), big);
      if (i % 7 === 0) w.heartbeat();
    }
    const fs = frames(Buffer.concat(w.take()));
    expect(fs.filter(([t]) => t === 8)).toHaveLength(43);
    expect(fs.filter(([t]) => t === 3).every(([, , p]) => p.equals(big))).toBe(true);
    const acks = fs.filter(([t]) => t === 1).map(([, , p]) => (decodeMethod(new ByteReader().reset(p, 0, p.length)) as { deliveryTag: number }).deliveryTag);
    expect(acks).toEqual([...Array(300).keys()]);
  });
});
