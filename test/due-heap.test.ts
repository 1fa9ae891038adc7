// DueHeap: earliest due first, insertion order on ties, whatever the push order.
import { describe, expect, it } from 'vitest';
import { DueHeap } from '../src/core/due-heap.js';
import { prng } from './support/prng.js';

describe('DueHeap', () => {
  it('pops by due time, then by seq', () => {
    const h = new DueHeap<string>();
    const rnd = prng(7);
    const items: [number, number][] = [];
    for (let i = 0; i < 2000; i++) items.push([Math.floor(rnd() * 50), i]);
    for (const [due, seq] of items) h.push(due, seq, `${due}:${seq}`);
    const out: string[] = [];
    while (h.size > 0) {
      expect(h.nextDue).toBe(Number(h.values()[0]!.split(':')[0]));
      out.push(h.pop()!);
    }
    expect(out).toEqual(items.sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([d, s]) => `${d}:${s}`));
    expect(h.nextDue).toBe(Infinity);
    expect(h.pop()).toBeUndefined();
  });
});
