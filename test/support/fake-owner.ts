// A fake ConsumerOwner for queue tests without channels or sockets: it takes every delivery a
// queue hands it and records it, with a prefetch-like limit (`room`) on how many unsettled
// messages an ack-mode consumer may hold, and records the consumers whose queue went away.
// Settling is the test's business (q.settled / q.requeue with an entry from `got`), as it is
// the channel's in the broker.
import type { Consumer, ConsumerOwner, Queue } from '../../src/core/queue/queue.js';
import type { Entry } from '../../src/core/queue/ready-list.js';

/** One delivery as the queue made it: to consumer `c`, from queue `q`, entry `e`. */
export interface Delivery {
  c: Consumer;
  q: Queue;
  e: Entry;
}

export class Owner implements ConsumerOwner {
  /** Every delivery, in the order the queue made them. */
  readonly got: Delivery[] = [];
  /** The consumers cancelled by their queue (cancelledByQueue), in order. */
  readonly cancelled: Consumer[] = [];
  /**
   * How many unsettled messages an ack-mode consumer may hold, like a channel's prefetch; no
   * limit by default. No-ack consumers may always take more. Change it between dispatches.
   */
  room: number;

  constructor(room = Infinity) {
    this.room = room;
  }

  canTake(c: Consumer): boolean {
    return c.noAck || c.unacked < this.room;
  }

  deliver(c: Consumer, q: Queue, e: Entry): void {
    this.got.push({ c, q, e });
  }

  cancelledByQueue(c: Consumer): void {
    this.cancelled.push(c);
  }

  /** The entries delivered, in order (to settle or requeue them). */
  get entries(): Entry[] {
    return this.got.map((d) => d.e);
  }

  /** The body of each delivery, as a string. */
  bodies(): string[] {
    return this.got.map((d) => d.e.msg!.body.toString());
  }

  /** `tag:body` of each delivery: who got what, in order. */
  seen(): string[] {
    return this.got.map((d) => `${d.c.tag}:${d.e.msg!.body.toString()}`);
  }

  /** Forget the deliveries and cancellations seen so far. */
  clear(): void {
    this.got.length = 0;
    this.cancelled.length = 0;
  }
}
