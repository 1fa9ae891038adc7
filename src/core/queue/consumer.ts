// A queue's consumers and the choice of who gets the next message: highest x-priority first,
// round-robin within a priority, and with x-single-active-consumer only the active one.
import { typeClass, type FieldTable } from '../../protocol/field-table.js';
import type { ConsumerOwner, MessageQueue } from './types.js';

export class Consumer {
  /** Messages delivered to this consumer and not yet settled. */
  unacked = 0;
  /** x-priority (any integer type; 0 when absent): higher-priority consumers are served first. */
  readonly priority: number;
  constructor(
    readonly tag: string,
    readonly queue: MessageQueue,
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

/**
 * Highest priority first; within a priority, in the order they are to be served. With one
 * priority (the usual case) `rr` walks the array round-robin; with several, a consumer that
 * is served moves to the end of its priority (RabbitMQ's rabbit_queue_consumers).
 */
export class ConsumerList {
  readonly all: Consumer[] = [];
  /** x-single-active-consumer: the one consumer that is served. */
  active: Consumer | null = null;
  private rr = 0;
  private mixedPriorities = false;

  constructor(private readonly singleActive: boolean) {}

  get length(): number { return this.all.length; }

  /** The consumer to hand the next message to, or null when none has room. */
  pick(): Consumer | null {
    if (this.singleActive) {
      const a = this.active;
      return a !== null && a.owner.canTake(a) ? a : null;
    }
    if (this.mixedPriorities) return this.pickByPriority();
    const cs = this.all;
    const n = cs.length;
    for (let i = 0; i < n; i++) {
      const idx = (this.rr + i) % n;
      const c = cs[idx]!;
      if (c.owner.canTake(c)) {
        this.rr = (idx + 1) % n;
        return c;
      }
    }
    return null;
  }

  /** The first consumer (highest priority, longest unserved) with room; it goes to the back of its priority. */
  private pickByPriority(): Consumer | null {
    const cs = this.all;
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i]!;
      if (!c.owner.canTake(c)) continue;
      let j = i;
      for (; j + 1 < cs.length && cs[j + 1]!.priority === c.priority; j++) cs[j] = cs[j + 1]!;
      cs[j] = c;
      return c;
    }
    return null;
  }

  add(c: Consumer): void {
    const cs = this.all;
    let i = cs.length;
    while (i > 0 && cs[i - 1]!.priority < c.priority) i--;
    cs.splice(i, 0, c);
    if (i < cs.length - 1 && i <= this.rr) this.rr++; // keep rr on the consumer it pointed at
    this.updateMixed();
    // The first consumer becomes the active one, whatever the priority of later ones.
    if (this.singleActive && this.active === null) this.active = c;
  }

  /** 'absent', 'removed', or 'handed-over' when the active consumer went and another took over. */
  remove(c: Consumer): 'absent' | 'removed' | 'handed-over' {
    const cs = this.all;
    const i = cs.indexOf(c);
    if (i < 0) return 'absent';
    cs.splice(i, 1);
    if (this.rr > i) this.rr--;
    this.updateMixed();
    if (this.active !== c) return 'removed';
    // RabbitMQ's rabbit_queue_consumers:get_consumer: the highest priority, earliest first.
    this.active = cs.length > 0 ? cs[0]! : null;
    return this.active !== null ? 'handed-over' : 'removed';
  }

  /** Every consumer leaves (the queue was deleted); returns them. */
  clear(): Consumer[] {
    this.active = null;
    this.rr = 0;
    this.mixedPriorities = false;
    return this.all.splice(0);
  }

  hasExclusive(): boolean {
    return this.all.some((c) => c.exclusive);
  }

  private updateMixed(): void {
    const cs = this.all;
    this.mixedPriorities = cs.length > 0 && cs[0]!.priority !== cs[cs.length - 1]!.priority;
  }
}
