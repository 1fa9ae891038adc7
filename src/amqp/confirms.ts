// Publisher confirms of one channel (confirm.select): every publish gets a sequence number and,
// in order, a basic.ack or basic.nack.
//
// - Acks are coalesced: one basic.ack (multiple when it covers several) per connection flush.
// - A refused publish (x-overflow reject-publish) is nacked alone; the acks owed before it go
//   out first, so no multiple-ack can cover it.
// - A publish that wrote a persistent message to the store is confirmed only once the commit
//   holding it is on disk. Its confirm, and every later one (acks stay in order), waits in a
//   CommitWait for that commit; the store runs commit callbacks in order, so waits are
//   released oldest first.
// - Once the channel is closed (by either side) nothing more is written: RabbitMQ drops
//   pending confirms, since nothing may follow channel.close-ok on that channel number.
import { M } from '../protocol/generated/amqp.js';
import type { Persistence } from '../core/persistence.js';
import type { MessageStats } from '../core/stats.js';
import type { ChannelPort } from './port.js';

/** What the confirms need from their channel. */
export interface ConfirmingChannel {
  readonly id: number;
  readonly conn: ChannelPort;
  /** Frames may still be written for this channel. */
  readonly writable: boolean;
  /** Its `confirm` counter counts every publish answered. */
  readonly stats: MessageStats;
}

interface CommitWait {
  /** The store commit this wait is for (Persistence.commitId when it was made). */
  commit: number;
  /** Highest sequence number released with it. */
  upTo: number;
  /** Refused publishes among the ones it holds, ascending. */
  nacks: number[];
}

export class Confirms {
  private publishSeq = 0;
  /** Highest sequence number answered on the wire. */
  private confirmedUpTo = 0;
  /** Highest sequence number to be acked at the next flush. */
  private pendingAck = 0;
  private flushHooked = false;
  private readonly waits: CommitWait[] = [];

  constructor(private readonly ch: ConfirmingChannel, private readonly store: Persistence | null) {}

  /** Publishes not answered yet (RabbitMQ's messages_unconfirmed). */
  get unconfirmed(): number {
    return this.publishSeq - this.confirmedUpTo;
  }

  /** A publish was handled: refused by a queue or not, written to the store or not. */
  published(accepted: boolean, stored: boolean): void {
    const seq = ++this.publishSeq;
    if (stored || this.waits.length > 0) this.hold(seq, accepted);
    else if (accepted) this.ack(seq);
    else this.nack(seq);
  }

  private hold(seq: number, accepted: boolean): void {
    const store = this.store!;
    let w = this.waits.length > 0 ? this.waits[this.waits.length - 1] : undefined;
    if (w === undefined || w.commit !== store.commitId) {
      w = { commit: store.commitId, upTo: seq, nacks: [] };
      this.waits.push(w);
      store.afterCommit(this.onCommitted);
    }
    w.upTo = seq;
    if (!accepted) w.nacks.push(seq);
  }

  private readonly onCommitted = (err: Error | null): void => {
    const w = this.waits.shift()!;
    if (err !== null) {
      // The writes are lost: everything the wait holds is nacked.
      this.writePendingAck();
      if (!this.ch.writable || w.upTo <= this.confirmedUpTo) return;
      this.ch.conn.out.method(this.ch.id, M.BasicNack, { deliveryTag: w.upTo, multiple: w.upTo - this.confirmedUpTo > 1, requeue: false });
      this.answered(w.upTo);
      this.pendingAck = w.upTo;
      this.ch.conn.scheduleFlush();
      return;
    }
    for (const n of w.nacks) {
      if (n - 1 > this.pendingAck) this.pendingAck = n - 1;
      this.nack(n);
    }
    if (w.upTo > this.pendingAck) this.ack(w.upTo);
  };

  private ack(seq: number): void {
    if (!this.flushHooked) {
      this.flushHooked = true;
      this.ch.conn.beforeNextFlush(this);
    }
    this.pendingAck = seq;
  }

  /** Called by the connection just before it writes the turn's frames. */
  beforeFlush(): void {
    this.flushHooked = false;
    this.writePendingAck();
  }

  private writePendingAck(): void {
    const upTo = this.pendingAck;
    if (upTo <= this.confirmedUpTo || !this.ch.writable) return;
    this.ch.conn.out.method(this.ch.id, M.BasicAck, { deliveryTag: upTo, multiple: upTo - this.confirmedUpTo > 1 });
    this.answered(upTo);
  }

  private nack(seq: number): void {
    this.writePendingAck();
    if (!this.ch.writable) return;
    this.ch.conn.out.method(this.ch.id, M.BasicNack, { deliveryTag: seq, multiple: false, requeue: false });
    this.answered(seq);
    this.pendingAck = seq;
    this.ch.conn.scheduleFlush();
  }

  /** Everything up to `seq` has been answered on the wire. */
  private answered(seq: number): void {
    this.ch.stats.confirm += seq - this.confirmedUpTo;
    this.confirmedUpTo = seq;
  }
}
