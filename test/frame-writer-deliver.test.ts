// FrameWriter.deliver, the one-pass basic.deliver + content of every consumer, against the
// generic path (method() with the generated codec, then content()): the same bytes, always.
import { describe, expect, it } from 'vitest';
import { FrameWriter } from '../src/amqp/frame-writer.js';
import { M } from '../src/protocol/generated/amqp.js';
import { prng } from './support/prng.js';

function generic(fm: number, ch: number, tag: string, dt: number, re: boolean, x: string, rk: string, props: Buffer, body: Buffer): Buffer {
  const w = new FrameWriter();
  w.frameMax = fm;
  w.method(ch, M.BasicDeliver, { consumerTag: tag, deliveryTag: dt, redelivered: re, exchange: x, routingKey: rk });
  w.content(ch, props, body);
  return Buffer.concat(w.take());
}

function fast(w: FrameWriter, ch: number, tag: string, dt: number, re: boolean, x: string, rk: string, props: Buffer, body: Buffer): Buffer {
  w.deliver(ch, tag, dt, re, x, rk, props, body);
  return Buffer.concat(w.take());
}

const strings = ['', 'q', 'amq.ctag-Zm9vYmFyYmF6cXV4', 'ünïcödé-ключ-鍵', 'x'.repeat(255), '😀'.repeat(60)];

describe('FrameWriter.deliver', () => {
  it('writes the bytes of method() + content() for every size class and string', () => {
    const rnd = prng(11);
    const w = new FrameWriter();
    for (let i = 0; i < 3000; i++) {
      const fm = [0, 4096, 131072][i % 3]!;
      w.frameMax = fm;
      const size = [0, 1, 16, 1000, 4087, 4088, 4089, 16383, 16384, 70000, 300000][Math.floor(rnd() * 11)]!;
      const body = Buffer.alloc(size, i & 0xff);
      const props = Buffer.alloc(Math.floor(rnd() * 40), 7);
      const pick = () => strings[Math.floor(rnd() * strings.length)]!;
      const args = [1 + Math.floor(rnd() * 65535), pick(), Math.floor(rnd() * 2 ** 53), rnd() < 0.5, pick(), pick()] as const;
      const want = generic(fm, ...args, props, body);
      expect(fast(w, ...args, props, body).equals(want)).toBe(true);
    }
  });

  it('appends nothing when a string is over 255 bytes, and the writer stays usable', () => {
    const w = new FrameWriter();
    w.heartbeat();
    expect(() => w.deliver(1, 'ü'.repeat(128), 1, false, 'x', 'k', Buffer.alloc(2), Buffer.from('b'))).toThrow(RangeError);
    const out = Buffer.concat(w.take());
    expect(out).toEqual(Buffer.from([8, 0, 0, 0, 0, 0, 0, 0xce]));
    expect(fast(w, 1, 't', 1, false, 'x', 'k', Buffer.alloc(2), Buffer.from('b')).equals(generic(4096, 1, 't', 1, false, 'x', 'k', Buffer.alloc(2), Buffer.from('b')))).toBe(true);
  });

  it('keeps order with other frames in one busy turn', () => {
    const w = new FrameWriter();
    w.frameMax = 131072;
    const g = new FrameWriter();
    g.frameMax = 131072;
    for (let i = 0; i < 5000; i++) {
      const body = Buffer.alloc(i % 3 === 0 ? 20000 : 700, i & 0xff);
      w.deliver(3, 'ctag', i + 1, false, 'ex', `rk${i}`, Buffer.from([0x10, 0, 2]), body);
      g.method(3, M.BasicDeliver, { consumerTag: 'ctag', deliveryTag: i + 1, redelivered: false, exchange: 'ex', routingKey: `rk${i}` });
      g.content(3, Buffer.from([0x10, 0, 2]), body);
      if (i % 100 === 0) { w.heartbeat(); g.heartbeat(); }
    }
    expect(Buffer.concat(w.take()).equals(Buffer.concat(g.take()))).toBe(true);
  });
});
