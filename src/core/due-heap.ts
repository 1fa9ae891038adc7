// A binary min-heap of items by due time (ms since the epoch), ties broken by a sequence
// number, so items due at the same moment come out in the order they went in. Parallel arrays
// instead of one object per item: a million delayed messages cost three array slots each, and
// whoever owns the heap arms ONE timer for `nextDue` (delayed exchanges, retrying queues).
export class DueHeap<T> {
  private readonly due: number[] = [];
  private readonly seq: number[] = [];
  private readonly items: T[] = [];

  get size(): number { return this.items.length; }

  /** The earliest due time, or Infinity when empty. */
  get nextDue(): number { return this.items.length === 0 ? Infinity : this.due[0]!; }

  /** The sequence number of the item pop() returns next. */
  get nextSeq(): number { return this.seq[0] ?? 0; }

  push(due: number, seq: number, item: T): void {
    let i = this.items.length;
    this.due.push(due);
    this.seq.push(seq);
    this.items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** The item with the earliest due time (undefined when empty). */
  pop(): T | undefined {
    const n = this.items.length;
    if (n === 0) return undefined;
    const top = this.items[0]!;
    this.swap(0, n - 1);
    this.due.pop();
    this.seq.pop();
    this.items.pop();
    const m = n - 1;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < m && this.less(l, min)) min = l;
      if (r < m && this.less(r, min)) min = r;
      if (min === i) break;
      this.swap(i, min);
      i = min;
    }
    return top;
  }

  /** Every item, in no particular order. */
  values(): readonly T[] { return this.items; }

  clear(): void {
    this.due.length = 0;
    this.seq.length = 0;
    this.items.length = 0;
  }

  private less(a: number, b: number): boolean {
    const da = this.due[a]!;
    const db = this.due[b]!;
    return da < db || (da === db && this.seq[a]! < this.seq[b]!);
  }

  private swap(a: number, b: number): void {
    if (a === b) return;
    const d = this.due[a]!; this.due[a] = this.due[b]!; this.due[b] = d;
    const s = this.seq[a]!; this.seq[a] = this.seq[b]!; this.seq[b] = s;
    const t = this.items[a]!; this.items[a] = this.items[b]!; this.items[b] = t;
  }
}

/** setTimeout's longest delay; a longer wait fires early and re-arms. */
export const MAX_TIMEOUT = 2 ** 31 - 1;

/**
 * One timer for the earliest of many deadlines: arm(at) moves it earlier only (a later
 * deadline waits for the earlier one to fire, which re-arms for what is next). `fire` is bound
 * once by the owner: nothing is allocated per arm.
 */
export class DueTimer {
  private timer: NodeJS.Timeout | null = null;
  private at = Infinity;

  constructor(private readonly fire: () => void) {}

  /** A timer is armed. */
  get armed(): boolean { return this.timer !== null; }

  private readonly onTimeout = (): void => {
    this.timer = null;
    this.at = Infinity;
    this.fire();
  };

  arm(at: number): void {
    if (at === Infinity || at >= this.at) return;
    if (this.timer !== null) clearTimeout(this.timer);
    const now = Date.now();
    const delay = Math.min(Math.max(at - now, 0), MAX_TIMEOUT);
    this.at = now + delay;
    this.timer = setTimeout(this.onTimeout, delay);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.at = Infinity;
  }
}
