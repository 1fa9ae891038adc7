// A classic queue: ready messages in order, consumers served by x-priority and round-robin
// within a priority, unacked messages counted here and held by the channel that received them.
import { typeClass, type FieldTable } from '../../protocol/field-table.js';
import type { Binding, Destination } from '../exchange/exchange.js';
import type { Message } from '../message.js';
import { ReadyList, type Entry } from './ready-list.js';

/** The session side of a consumer (an AMQP channel); the queue never sees frames. */
export interface ConsumerOwner {
  /** May this consumer receive one more message right now (prefetch, socket backpressure)? */
  canTake(c: Consumer): boolean;
  /** Hand over a message. For ack-mode consumers the owner keeps `e` until it is settled. */
  deliver(c: Consumer, q: Queue, e: Entry): void;
  /** The queue went away under the consumer. */
  cancelledByQueue(c: Consumer): void;
}

export class Consumer {
  /** Messages delivered to this consumer and not yet settled. */
  unacked = 0;
  /** x-priority (any integer type; 0 when absent): higher-priority consumers are served first. */
  readonly priority: number;
  constructor(
    readonly tag: string,
    readonly queue: Queue,
    readonly owner: ConsumerOwner,
    readonly noAck: boolean,
    readonly exclusive: boolean,
    /** Per-consumer prefetch limit (0 = none). */
    readonly prefetch: number,
    readonly args: FieldTable,
  ) {
    const p = args['x-priority'];
    this.priority = p !== undefined && typeClass(p.type) === 'int' ? Number(p.value) : 0;
  }
}

export interface QueueOptions {
  durable: boolean;
  autoDelete: boolean;
  /** The connection that owns an exclusive queue, or null. */
  owner: object | null;
  args: FieldTable;
}

export class Queue implements Destination {
  readonly kind = 'queue' as const;
  readonly ready = new ReadyList();
  /**
   * Highest priority first; within a priority, in the order they are to be served. With one
   * priority (the usual case) `rr` walks the array round-robin; with several, a consumer that
   * is served moves to the end of its priority (RabbitMQ's rabbit_queue_consumers).
   */
  readonly consumers: Consumer[] = [];
  private mixedPriorities = false;
  /** Bindings whose destination is this queue, so deleting it can remove them. */
  readonly bindings = new Set<Binding>();
  unackedCount = 0;
  deleted = false;
  /** Auto-delete queues go only after they have had a consumer. */
  private hadConsumer = false;
  private nextSeq = 0;
  private rr = 0;
  private dispatching = false;
  /** Called when an auto-delete queue loses its last consumer. */
  onUnused: ((q: Queue) => void) | null = null;

  constructor(readonly name: string, readonly options: QueueOptions) {}

  get durable(): boolean { return this.options.durable; }
  get autoDelete(): boolean { return this.options.autoDelete; }
  get exclusiveOwner(): object | null { return this.options.owner; }
  get args(): FieldTable { return this.options.args; }
  get messageCount(): number { return this.ready.length; }
  get consumerCount(): number { return this.consumers.length; }

  enqueue(msg: Message): void {
    this.ready.push({ msg, seq: this.nextSeq++, redelivered: false });
    if (this.consumers.length > 0) this.dispatch();
  }

  /** Deliver ready messages to consumers that have room, round-robin. */
  dispatch(): void {
    if (this.dispatching || this.deleted) return;
    this.dispatching = true;
    try {
      while (this.ready.length > 0) {
        const c = this.pickConsumer();
        if (c === null) break;
        const e = this.ready.shift()!;
        if (!c.noAck) {
          this.unackedCount++;
          c.unacked++;
        }
        c.owner.deliver(c, this, e);
      }
    } finally {
      this.dispatching = false;
    }
  }

  private pickConsumer(): Consumer | null {
    const n = this.consumers.length;
    if (this.mixedPriorities) return this.pickByPriority();
    for (let i = 0; i < n; i++) {
      const idx = (this.rr + i) % n;
      const c = this.consumers[idx];
      if (c.owner.canTake(c)) {
        this.rr = (idx + 1) % n;
        return c;
      }
    }
    return null;
  }

  /** The first consumer (highest priority, longest unserved) with room; it goes to the back of its priority. */
  private pickByPriority(): Consumer | null {
    const cs = this.consumers;
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i];
      if (!c.owner.canTake(c)) continue;
      let j = i;
      for (; j + 1 < cs.length && cs[j + 1].priority === c.priority; j++) cs[j] = cs[j + 1];
      cs[j] = c;
      return c;
    }
    return null;
  }

  /** basic.get: take the head message (the caller tracks it if it needs an ack). */
  take(noAck: boolean): Entry | undefined {
    const e = this.ready.shift();
    if (e && !noAck) this.unackedCount++;
    return e;
  }

  /** An unacked message was acked (or dropped): forget it. */
  settled(c: Consumer | null): void {
    this.unackedCount--;
    if (c) c.unacked--;
  }

  /** Put an unacked message back at its original position, marked redelivered. */
  requeue(e: Entry, c: Consumer | null): void {
    this.settled(c);
    if (this.deleted) return;
    e.redelivered = true;
    this.ready.insertBySeq(e);
  }

  purge(): number {
    return this.ready.clear();
  }

  addConsumer(c: Consumer): void {
    const cs = this.consumers;
    let i = cs.length;
    while (i > 0 && cs[i - 1].priority < c.priority) i--;
    cs.splice(i, 0, c);
    if (i < cs.length - 1 && i <= this.rr) this.rr++; // keep rr on the consumer it pointed at
    this.mixedPriorities = cs[0].priority !== cs[cs.length - 1].priority;
    this.hadConsumer = true;
  }

  /** Returns true if removed. Triggers auto-delete when the last consumer goes. */
  removeConsumer(c: Consumer): boolean {
    const i = this.consumers.indexOf(c);
    if (i < 0) return false;
    this.consumers.splice(i, 1);
    if (this.rr > i) this.rr--;
    const cs = this.consumers;
    this.mixedPriorities = cs.length > 0 && cs[0].priority !== cs[cs.length - 1].priority;
    if (this.consumers.length === 0 && this.autoDelete && this.hadConsumer && this.onUnused) this.onUnused(this);
    return true;
  }

  hasExclusiveConsumer(): boolean {
    return this.consumers.some((c) => c.exclusive);
  }
}
