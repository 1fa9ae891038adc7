// ConsistentHashRouter on its own: the mapping depends on the key and the set of destinations,
// not on binding order (so a restart, which re-binds in stored order, keeps it), and weights
// set shares. The wire behaviour is in interop/consistent-hash.test.ts.
import { describe, expect, it } from 'vitest';
import { ConsistentHashRouter } from '../src/core/exchange/consistent-hash.js';
import type { Binding, Destination } from '../src/core/exchange/exchange.js';

const bind = (name: string, weight: number): Binding => ({ source: 'x', destination: { kind: 'queue', name }, routingKey: String(weight), args: {} });

function routeAll(r: ConsistentHashRouter, n: number): string[] {
  const out: Destination[] = [];
  for (let i = 0; i < n; i++) r.route(`k${i}`, undefined, out);
  return out.map((d) => d.name);
}

describe('ConsistentHashRouter', () => {
  it('maps keys the same whatever order the bindings were made in', () => {
    const a = new ConsistentHashRouter({ kind: 'key' });
    const b = new ConsistentHashRouter({ kind: 'key' });
    for (const [q, w] of [['q1', 1], ['q2', 2], ['q3', 1]] as const) a.add(bind(q, w));
    for (const [q, w] of [['q3', 1], ['q1', 1], ['q2', 2]] as const) b.add(bind(q, w));
    expect(routeAll(a, 2000)).toEqual(routeAll(b, 2000));
  });

  it('gives shares in proportion to weights', () => {
    const r = new ConsistentHashRouter({ kind: 'key' });
    r.add(bind('a', 1));
    r.add(bind('b', 4));
    const share = routeAll(r, 10_000).filter((q) => q === 'b').length / 10_000;
    expect(share).toBeGreaterThan(0.77);
    expect(share).toBeLessThan(0.83);
  });

  it('a second binding to a destination stands in when the first goes', () => {
    const r = new ConsistentHashRouter({ kind: 'key' });
    const first = bind('a', 1);
    r.add(first);
    r.add(bind('a', 5));
    r.add(bind('b', 1));
    r.remove(first);
    const share = routeAll(r, 6000).filter((q) => q === 'a').length / 6000;
    expect(share).toBeGreaterThan(0.78); // weight 5 of 6
  });
});
