// A channel's outstanding deliveries (delivered in ack mode, not yet settled), in delivery-tag
// order. Tags only grow, and consumers ack in order (multiple acks settle a prefix), so this is
// a ring of parallel columns (queue, handle, consumer, sent-at) rather than a Map of one object
// per delivery: a delivery costs four array stores, an ack of 500 walks the front of the ring,
// and neither allocates. An ack of a single tag out of order leaves a hole that the head skips
// once it gets there.
//
// Settling reads the entry it removes through the `t`, `sent`, `q`, `h` and `c` fields (set by the last
// popThrough/take that returned true) instead of a returned object, for the same reason.
import type { Consumer } from '../core/queue/consumer.js';
import type { DeliveryHandle, MessageQueue } from '../core/queue/types.js';

/** One outstanding delivery, as an object: for the rare paths (transactions, recover, close). */
export interface Unacked {
  queue: MessageQueue;
  handle: DeliveryHandle;
  consumer: Consumer | null; // null for basic.get
  /** When it was sent (turnClock), for consumer_timeout. */
  at: number;
}

export class UnackedLog {
  private tags: number[] = new Array(16).fill(0);
  private queues: (MessageQueue | null)[] = new Array(16).fill(null);
  private handles: (DeliveryHandle | null)[] = new Array(16).fill(null);
  private consumers: (Consumer | null)[] = new Array(16).fill(null);
  private sentAt: number[] = new Array(16).fill(0);
  private head = 0;
  /** Slots in use from head, holes included. */
  private count = 0;
  /** Outstanding deliveries (holes not counted). */
  size = 0;
  /** The entry (tag, sent-at, queue, handle, consumer) the last successful popThrough/take removed. */
  t = 0;
  sent = 0;
  q: MessageQueue | null = null;
  h: DeliveryHandle | null = null;
  c: Consumer | null = null;

  /** A new delivery; its tag is above every tag in the log. */
  add(tag: number, queue: MessageQueue, handle: DeliveryHandle, consumer: Consumer | null, at: number): void {
    if (this.count === this.tags.length) this.grow();
    const i = (this.head + this.count) & (this.tags.length - 1);
    this.tags[i] = tag;
    this.queues[i] = queue;
    this.handles[i] = handle;
    this.consumers[i] = consumer;
    this.sentAt[i] = at;
    this.count++;
    this.size++;
  }

  has(tag: number): boolean {
    return this.slotOf(tag) >= 0;
  }

  /** The newest tag in the log (0 when empty). */
  get lastTag(): number {
    return this.count === 0 ? 0 : this.tags[(this.head + this.count - 1) & (this.tags.length - 1)]!;
  }

  /** When the oldest outstanding delivery was sent, or -1 when there is none. */
  get oldestAt(): number {
    return this.size === 0 ? -1 : this.sentAt[this.head]!;
  }

  /** Removes the oldest delivery if its tag is at most `limit` (into q, h, c); false when none is. */
  popThrough(limit: number): boolean {
    if (this.size === 0) return false;
    const i = this.head;
    if (this.tags[i]! > limit) return false;
    this.removeAt(i);
    return true;
  }

  /** Removes the delivery with this tag (into q, h, c); false when it is not outstanding. */
  take(tag: number): boolean {
    const k = this.slotOf(tag);
    if (k < 0) return false;
    this.removeAt((this.head + k) & (this.tags.length - 1));
    return true;
  }

  /** Every outstanding delivery, oldest first, as [tag, Unacked]. */
  entries(): [number, Unacked][] {
    const out: [number, Unacked][] = [];
    const mask = this.tags.length - 1;
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) & mask;
      const queue = this.queues[i];
      if (queue != null) out.push([this.tags[i]!, { queue, handle: this.handles[i]!, consumer: this.consumers[i] ?? null, at: this.sentAt[i]! }]);
    }
    return out;
  }

  clear(): void {
    this.queues.fill(null);
    this.handles.fill(null);
    this.consumers.fill(null);
    this.head = 0;
    this.count = 0;
    this.size = 0;
  }

  /** Position from head of the live slot with this tag, or -1. */
  private slotOf(tag: number): number {
    if (this.size === 0) return -1;
    const mask = this.tags.length - 1;
    const first = this.tags[this.head]!;
    // Without holes from no-ack deliveries in between, the tag's position is its distance from the first.
    let k = tag - first;
    if (k < 0 || k >= this.count || this.tags[(this.head + k) & mask] !== tag) {
      let lo = 0;
      let hi = this.count;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.tags[(this.head + mid) & mask]! < tag) lo = mid + 1;
        else hi = mid;
      }
      if (lo === this.count || this.tags[(this.head + lo) & mask] !== tag) return -1;
      k = lo;
    }
    return this.queues[(this.head + k) & mask] === null ? -1 : k;
  }

  private removeAt(i: number): void {
    this.t = this.tags[i]!;
    this.sent = this.sentAt[i]!;
    this.q = this.queues[i]!;
    this.h = this.handles[i]!;
    this.c = this.consumers[i] ?? null;
    this.queues[i] = null;
    this.handles[i] = null;
    this.consumers[i] = null;
    this.size--;
    if (this.size === 0) {
      this.head = 0;
      this.count = 0;
      return;
    }
    // The head moves past settled slots, so it always holds the oldest outstanding delivery.
    const mask = this.tags.length - 1;
    while (this.queues[this.head] === null) {
      this.head = (this.head + 1) & mask;
      this.count--;
    }
  }

  private grow(): void {
    const n = this.tags.length;
    const order = <T>(a: T[], fill: T): T[] => {
      const b = new Array<T>(n * 2).fill(fill);
      for (let k = 0; k < this.count; k++) b[k] = a[(this.head + k) & (n - 1)]!;
      return b;
    };
    this.tags = order(this.tags, 0);
    this.queues = order(this.queues, null);
    this.handles = order(this.handles, null);
    this.consumers = order(this.consumers, null);
    this.sentAt = order(this.sentAt, 0);
    this.head = 0;
  }
}
