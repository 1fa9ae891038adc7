// The ready messages of a queue: a ring buffer ordered by sequence number. New messages are
// appended; requeued ones go back to their original position (binary search), which is
// almost always at or near the head. A priority queue keeps one such list per priority.
import { CompactTail, compactable } from './compact-tail.js';
import { newEntry, type Entry } from './entry.js';

export { newEntry, type Entry };

/** The ready messages of a queue, in delivery order. */
export interface Ready extends Iterable<Entry> {
  readonly length: number;
  /** Sum of the body sizes. */
  readonly bytes: number;
  push(e: Entry): void;
  shift(): Entry | undefined;
  peek(): Entry | undefined;
  /** The smallest seq among the ready entries (the oldest), -1 when empty. */
  readonly oldestSeq: number;
  insertBySeq(e: Entry): void;
  clear(): number;
  /** The seq-ordered list the next shift() takes from (paging reads runs along it), or null. */
  runList(): ReadyList | null;
}

/**
 * Past KEEP entries in the ring, a paged-out entry (no body in memory) goes to the compact tail
 * (compact-tail.ts) and, once one is there, every later one; the ring is topped up from the
 * tail when it falls under REFILL_AT, so the head is always objects (page-in reads runs along
 * it) and a long backlog costs its columns, not its objects.
 */
const KEEP = 4096;
const REFILL_AT = 1024;

export class ReadyList implements Ready {
  private items: (Entry | undefined)[] = new Array(16);
  private head = 0;
  /** Entries in the ring (the head of the list); the rest are in `tail`. */
  private count = 0;
  private tail: CompactTail | null = null;
  bytes = 0;

  /** Every entry, ring and tail. */
  get length(): number {
    return this.count + (this.tail?.length ?? 0);
  }

  /** Entries at(i) reaches: the ring's (paging reads runs only along these). */
  get objects(): number {
    return this.count;
  }

  push(e: Entry): void {
    this.bytes += e.size;
    const t = this.tail;
    if (t !== null && t.length > 0) return t.push(e);
    if (this.count >= KEEP && compactable(e)) return (this.tail ??= new CompactTail()).push(e);
    this.ringPush(e);
  }

  shift(): Entry | undefined {
    if (this.count === 0) {
      if (this.tail === null || this.tail.length === 0) return undefined;
      this.refill();
    }
    const e = this.items[this.head]!;
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.count--;
    this.bytes -= e.size;
    if (this.count < REFILL_AT && this.tail !== null && this.tail.length > 0) this.refill();
    return e;
  }

  peek(): Entry | undefined {
    if (this.count === 0 && this.tail !== null && this.tail.length > 0) this.refill();
    return this.count === 0 ? undefined : this.items[this.head];
  }

  get oldestSeq(): number {
    const e = this.peek();
    return e === undefined ? -1 : e.seq;
  }

  runList(): ReadyList { return this; }

  /** The i-th entry, i < objects. */
  at(i: number): Entry {
    return this.items[(this.head + i) & (this.items.length - 1)]!;
  }

  /** Put an entry back where its sequence number says it belongs. */
  insertBySeq(e: Entry): void {
    const t = this.tail;
    // A requeued message was delivered before anything in the tail was queued, so it belongs in
    // the ring; should one not, the tail comes back as objects first (correct, and slow).
    if (t !== null && t.length > 0 && e.seq > t.firstSeq) while (t.length > 0) this.ringPush(t.shift()!);
    this.bytes += e.size;
    if (this.count === 0 || this.at(this.count - 1).seq < e.seq) return this.ringPush(e);
    if (this.count === this.items.length) this.grow();
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).seq < e.seq) lo = mid + 1;
      else hi = mid;
    }
    const mask = this.items.length - 1;
    // Move the shorter side: a message back from a retry backoff belongs near the head of a
    // long backlog, and shifting the whole tail for each one made S2_retry quadratic.
    if (lo < this.count - lo) {
      this.head = (this.head - 1) & mask;
      for (let i = 0; i < lo; i++) this.items[(this.head + i) & mask] = this.items[(this.head + i + 1) & mask];
    } else {
      for (let i = this.count; i > lo; i--) this.items[(this.head + i) & mask] = this.items[(this.head + i - 1) & mask];
    }
    this.items[(this.head + lo) & mask] = e;
    this.count++;
  }

  clear(): number {
    const n = this.length;
    this.items = new Array(16);
    this.head = 0;
    this.count = 0;
    this.tail = null;
    this.bytes = 0;
    return n;
  }

  *[Symbol.iterator](): IterableIterator<Entry> {
    for (let i = 0; i < this.count; i++) yield this.at(i);
    if (this.tail !== null) yield* this.tail;
  }

  /** Appends to the ring (bytes already counted). */
  private ringPush(e: Entry): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) & (this.items.length - 1)] = e;
    this.count++;
  }

  /** Moves entries from the tail into the ring, up to KEEP in the ring. */
  private refill(): void {
    const t = this.tail!;
    while (this.count < KEEP && t.length > 0) this.ringPush(t.shift()!);
  }

  private grow(): void {
    const next = new Array<Entry | undefined>(this.items.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = this.at(i);
    this.items = next;
    this.head = 0;
  }
}

/**
 * x-max-priority queues (RabbitMQ's rabbit_priority_queue): one FIFO per priority, the highest
 * non-empty one first. A message's priority is its `priority` property capped at the queue's
 * maximum (absent = 0); requeued messages go back to their position within their priority.
 */
export class PriorityReadyList implements Ready {
  private readonly levels: (ReadyList | undefined)[];
  /** No level above this one holds anything. */
  private top = -1;
  length = 0;
  bytes = 0;

  constructor(private readonly max: number) {
    this.levels = new Array(max + 1);
  }

  private level(e: Entry): ReadyList {
    const p = Math.min(e.priority, this.max);
    if (p > this.top) this.top = p;
    return (this.levels[p] ??= new ReadyList());
  }

  /** The highest non-empty level, or undefined. */
  private first(): ReadyList | undefined {
    while (this.top >= 0) {
      const l = this.levels[this.top];
      if (l !== undefined && l.length > 0) return l;
      this.top--;
    }
    return undefined;
  }

  push(e: Entry): void {
    this.level(e).push(e);
    this.length++;
    this.bytes += e.size;
  }

  shift(): Entry | undefined {
    const e = this.first()?.shift();
    if (e !== undefined) {
      this.length--;
      this.bytes -= e.size;
    }
    return e;
  }

  peek(): Entry | undefined {
    return this.first()?.peek();
  }

  runList(): ReadyList | null {
    return this.first() ?? null;
  }

  /** Each level is in seq order, so the oldest is the smallest of their heads. */
  get oldestSeq(): number {
    let min = -1;
    for (const l of this.levels) {
      const s = l === undefined ? -1 : l.oldestSeq;
      if (s >= 0 && (min < 0 || s < min)) min = s;
    }
    return min;
  }

  insertBySeq(e: Entry): void {
    this.level(e).insertBySeq(e);
    this.length++;
    this.bytes += e.size;
  }

  clear(): number {
    const n = this.length;
    this.levels.fill(undefined);
    this.top = -1;
    this.length = 0;
    this.bytes = 0;
    return n;
  }

  *[Symbol.iterator](): IterableIterator<Entry> {
    for (let p = this.top; p >= 0; p--) {
      const l = this.levels[p];
      if (l !== undefined) yield* l;
    }
  }
}
