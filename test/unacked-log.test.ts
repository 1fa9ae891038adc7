// UnackedLog (a channel's outstanding deliveries as a ring of columns) against a plain Map model:
// the same answers for every sequence of deliveries, no-ack gaps, single and multiple acks.
import { describe, expect, it } from 'vitest';
import type { Consumer } from '../src/core/queue/consumer.js';
import type { DeliveryHandle, MessageQueue } from '../src/core/queue/types.js';
import { UnackedLog } from '../src/amqp/unacked-log.js';
import { prng } from './support/prng.js';

const queue = (n: number) => ({ name: `q${n}` }) as unknown as MessageQueue;
const handle = (tag: number) => ({ tag }) as unknown as DeliveryHandle;
const consumer = { tag: 'c' } as unknown as Consumer;

describe('UnackedLog', () => {
  it('settles a prefix with popThrough and a single tag with take, skipping holes', () => {
    const log = new UnackedLog();
    const q = queue(1);
    for (let t = 1; t <= 10; t++) if (t !== 4) log.add(t, q, handle(t), t % 2 === 0 ? null : consumer, 100 + t);
    expect(log.size).toBe(9);
    expect(log.has(4)).toBe(false);
    expect(log.lastTag).toBe(10);
    expect(log.take(1)).toBe(true);
    expect(log.t).toBe(1);
    expect(log.sent).toBe(101);
    expect(log.c).toBe(consumer);
    expect(log.oldestAt).toBe(102);
    expect(log.take(6)).toBe(true);
    expect(log.c).toBe(null);
    expect(log.take(6)).toBe(false);
    const popped: number[] = [];
    while (log.popThrough(8)) popped.push(log.t);
    expect(popped).toEqual([2, 3, 5, 7, 8]);
    expect(log.size).toBe(2);
    expect(log.entries().map(([t, u]) => [t, u.at])).toEqual([[9, 109], [10, 110]]);
    log.clear();
    expect(log.size).toBe(0);
    expect(log.oldestAt).toBe(-1);
    expect(log.popThrough(100)).toBe(false);
  });

  it('agrees with a Map model over random deliveries, gaps, wrap-around and growth', () => {
    const rnd = prng(17);
    const log = new UnackedLog();
    const model = new Map<number, number>();
    let tag = 0;
    for (let step = 0; step < 20000; step++) {
      const r = rnd();
      if (r < 0.55) {
        tag += rnd() < 0.1 ? 1 + Math.floor(rnd() * 5) : 1; // gaps: no-ack deliveries on the channel
        log.add(tag, queue(tag % 3), handle(tag), consumer, tag);
        model.set(tag, tag);
      } else if (r < 0.75 && model.size > 0) {
        const keys = [...model.keys()];
        const t = keys[Math.floor(rnd() * keys.length)]!;
        const probe = rnd() < 0.2 ? t + 0.5 : t; // sometimes a tag that was never delivered
        expect(log.take(probe)).toBe(model.has(probe));
        if (model.has(probe)) {
          expect(log.t).toBe(probe);
          expect((log.h as unknown as { tag: number }).tag).toBe(probe);
          model.delete(probe);
        }
      } else if (model.size > 0) {
        const keys = [...model.keys()];
        const limit = keys[Math.floor(rnd() * Math.min(keys.length, 40))]!;
        const got: number[] = [];
        while (log.popThrough(limit)) got.push(log.t);
        const want = keys.filter((k) => k <= limit);
        for (const k of want) model.delete(k);
        expect(got).toEqual(want);
      }
      expect(log.size).toBe(model.size);
      expect(log.oldestAt).toBe(model.size === 0 ? -1 : model.values().next().value);
    }
    expect(log.entries().map(([t]) => t)).toEqual([...model.keys()]);
  });
});
