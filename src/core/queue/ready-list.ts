// The ready messages of a queue: a ring buffer ordered by sequence number. New messages are
// appended; requeued ones go back to their original position (binary search), which is
// almost always at or near the head. A priority queue keeps one such list per priority.
import type { Message } from '../message.js';

export interface Entry {
  /**
   * The message, or null while its body is only in the store (a long durable queue pages
   * persistent messages out; the queue reads them back before handing them over).
   */
  msg: Message | null;
  /**
   * While a transient body is in the queue's page file (paging.ts): its segment, else -1; and
   * the record's offset and length there. Plain numbers, so a paged entry costs no Buffer.
   */
  pageSeg: number;
  pageOff: number;
  pageLen: number;
  /** Enqueue order within the queue; requeue restores it. */
  readonly seq: number;
  redelivered: boolean;
  /** When it expires (ms since the epoch), or 0 for never. Set at enqueue (message/queue TTL). */
  readonly expiresAt: number;
  /** Body size, for x-max-length-bytes (known without the body). */
  readonly size: number;
  /** The message's priority property (0 when absent). */
  readonly priority: number;
  /** Written to the store: acks, drops and no-ack deliveries remove it there too. */
  readonly persisted: boolean;
  /** Failed delivery attempts so far (retry.ts; counted only on queues with retry arguments). */
  attempts: number;
  /** While waiting out a retry backoff: when it is ready again (ms since the epoch), else 0. */
  retryAt: number;
}

/** A new entry; every entry is made here, so they all share one shape (hidden class). */
export function newEntry(msg: Message | null, seq: number, redelivered: boolean, expiresAt: number, size: number, priority: number,
  persisted: boolean, attempts: number, retryAt: number): Entry {
  return { msg, pageSeg: -1, pageOff: 0, pageLen: 0, seq, redelivered, expiresAt, size, priority, persisted, attempts, retryAt };
}

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

export class ReadyList implements Ready {
  private items: (Entry | undefined)[] = new Array(16);
  private head = 0;
  length = 0;
  bytes = 0;

  push(e: Entry): void {
    if (this.length === this.items.length) this.grow();
    this.items[(this.head + this.length) & (this.items.length - 1)] = e;
    this.length++;
    this.bytes += e.size;
  }

  shift(): Entry | undefined {
    if (this.length === 0) return undefined;
    const e = this.items[this.head]!;
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.length--;
    this.bytes -= e.size;
    return e;
  }

  peek(): Entry | undefined {
    return this.length === 0 ? undefined : this.items[this.head];
  }

  get oldestSeq(): number {
    return this.length === 0 ? -1 : this.items[this.head]!.seq;
  }

  runList(): ReadyList { return this; }

  at(i: number): Entry {
    return this.items[(this.head + i) & (this.items.length - 1)]!;
  }

  /** Put an entry back where its sequence number says it belongs. */
  insertBySeq(e: Entry): void {
    if (this.length === 0 || this.at(this.length - 1).seq < e.seq) return this.push(e);
    if (this.length === this.items.length) this.grow();
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).seq < e.seq) lo = mid + 1;
      else hi = mid;
    }
    const mask = this.items.length - 1;
    // Move the shorter side: a message back from a retry backoff belongs near the head of a
    // long backlog, and shifting the whole tail for each one made S2_retry quadratic.
    if (lo < this.length - lo) {
      this.head = (this.head - 1) & mask;
      for (let i = 0; i < lo; i++) this.items[(this.head + i) & mask] = this.items[(this.head + i + 1) & mask];
    } else {
      for (let i = this.length; i > lo; i--) this.items[(this.head + i) & mask] = this.items[(this.head + i - 1) & mask];
    }
    this.items[(this.head + lo) & mask] = e;
    this.length++;
    this.bytes += e.size;
  }

  clear(): number {
    const n = this.length;
    this.items = new Array(16);
    this.head = 0;
    this.length = 0;
    this.bytes = 0;
    return n;
  }

  *[Symbol.iterator](): IterableIterator<Entry> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }

  private grow(): void {
    const next = new Array<Entry | undefined>(this.items.length * 2);
    for (let i = 0; i < this.length; i++) next[i] = this.at(i);
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
