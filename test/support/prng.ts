// Seeded pseudo-random numbers for tests that generate input (chunk sizes, routing keys, fuzz
// mutations): the same seed gives the same run, so a failure can be replayed from its seed.
// The generator is mulberry32 (Tommy Ettinger's): 32 bits of state, small and fast, and plenty
// for driving tests; not for anything that needs real randomness.

/** mulberry32: a function returning numbers in [0, 1), the same sequence for the same seed. */
export function prng(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** prng() with the draws tests make most. */
export interface Rng {
  /** In [0, 1). */
  next(): number;
  /** An integer in 0 .. n-1. */
  int(n: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(xs: readonly T[]): T;
  /** n random bytes. */
  bytes(n: number): Buffer;
}

export function seededRng(seed: number): Rng {
  const next = prng(seed);
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[int(xs.length)] as T,
    bytes: (n) => Buffer.from(Array.from({ length: n }, () => int(256))),
  };
}
