// A classic queue: ready messages in order, consumers served by x-priority and round-robin
// within a priority (consumer.ts), unacked messages counted here and held, as opaque delivery
// handles, by the channel that received them. Declaration, consumers, auto-delete and the
// x-expires clock are in queue-base.ts.
//
// The features its arguments switch on (arguments.ts) cost a plain queue a boolean test each:
// - TTL (x-message-ttl, per-message `expiration`): an entry's expiry is fixed at enqueue; only
//   the head is ever looked at (as in RabbitMQ's classic queues, a message behind one that
//   expires later waits for it). One timer per queue, armed for the head's expiry or the
//   x-expires deadline, whichever is first, and re-armed only when that moves earlier; a timer
//   that fires early just re-arms. Nothing runs while nothing is due.
// - Length limits (x-max-length, x-max-length-bytes over ready messages and their body bytes):
//   drop-head dead-letters the head (maxlen); reject-publish refuses the new message
//   (enqueue returns 'refused', so the channel can nack it); reject-publish-dlx also dead-letters it.
// - x-max-priority: a PriorityReadyList instead of one ReadyList.
// - x-single-active-consumer: only the active consumer is served; when it goes, the first remaining
//   consumer (highest x-priority, then earliest) takes over.
// - Retry (x-delivery-limit, x-delayed-retry-*; retry.ts): failed attempts are counted, shown
//   as x-delivery-count, backed off (waiting messages are not ready), dead-lettered past the limit.
// - x-message-deduplication (dedup.ts): a duplicate of a message in the queue is discarded.
// - Dead-lettering goes through the host (the vhost), which knows the exchanges.
// - Durable queues have a journal (the store): persistent messages are written at enqueue
//   (unless handed straight to a no-ack consumer), removed when acked or dropped; a long one
//   pages bodies out to it (paging.ts), so memory does not grow with the backlog; other
//   messages of a long queue page out to its page file (paging.ts, ../page-file.ts).
import { DueTimer } from '../due-heap.js';
import type { Message } from '../message.js';
import { ttlFor, wouldOverflow } from './arguments.js';
import type { Consumer } from './consumer.js';
import type { DeathReason } from './dead-letter.js';
import { QueueDedup } from './dedup.js';
import { Pager } from './paging.js';
import { newEntry, PriorityReadyList, ReadyList, type Entry, type Ready } from './ready-list.js';
import { QueueBase } from './queue-base.js';
import { asDelivered, Retry } from './retry.js';
import type { DeliveryHandle, Enqueued, GetOwner, MessageQueue, QueueOptions } from './types.js';

/** A handle is the entry itself, seen from outside as opaque. */
const entryOf = (h: DeliveryHandle) => h as unknown as Entry;
const handleOf = (e: Entry) => e as unknown as DeliveryHandle;

export class ClassicQueue extends QueueBase implements MessageQueue {
  readonly type = 'classic';
  readonly ready: Ready;
  /** x-max-length or x-max-length-bytes is set (by argument or policy). */
  private limited: boolean;
  /** Entries may have an expiry: the queue has a message TTL or was sent a message with one. */
  private timed: boolean;
  /** The queue's one timer: head expiry, x-expires, or the next retry due. */
  private readonly timer = new DueTimer(() => this.onTimer());
  /** Retry state, when the queue has retry arguments. */
  private readonly retry: Retry | null;
  /** x-message-deduplication: the keys of the messages in the queue. */
  private readonly dedup: QueueDedup | null;
  /** Where paged-out bodies are (the store, the page file) and how they come back. */
  private readonly pager: Pager;
  unackedCount = 0;
  /** From 1: the store's delivered watermark starts at 0, meaning nothing was delivered. */
  private nextSeq = 1;
  private dispatching = false;

  constructor(name: string, options: QueueOptions) {
    super(name, options);
    const f = this.features;
    this.ready = f.maxPriority >= 0 ? new PriorityReadyList(f.maxPriority) : new ReadyList();
    this.limited = f.maxLength >= 0 || f.maxBytes >= 0;
    this.timed = f.messageTtl >= 0;
    this.retry = f.retry !== null ? new Retry(f.retry) : null;
    this.dedup = f.dedup ? new QueueDedup() : null;
    this.pager = new Pager(options.persistence?.paging ?? null, this.journal);
    if (this.expires > 0) this.touch();
  }

  get messageCount(): number { return this.ready.length; }
  /** Messages waiting out a retry backoff: neither ready nor unacked. */
  get waitingCount(): number { return this.retry?.waiting.size ?? 0; }
  get messageBytes(): number { return this.ready.bytes; }
  /** The head's seq (consumer lag, src/prometheus/lag.ts). */
  get oldestReadySeq(): number { return this.ready.oldestSeq; }
  get nextEnqueueSeq(): number { return this.nextSeq; }

  /**
   * A routed message arrives. 'refused' when the queue is full under x-overflow reject-publish
   * or reject-publish-dlx: it is not kept, and a confirming publisher gets a nack. As RabbitMQ
   * (deliver_or_enqueue), a message goes straight to a consumer with room when nothing is
   * waiting, even with a TTL of 0.
   */
  enqueue(msg: Message): Enqueued {
    let expiresAt = 0;
    if (this.timed || msg.hasExpiration) {
      const ttl = ttlFor(this.features, msg);
      if (ttl >= 0) {
        expiresAt = Date.now() + ttl;
        this.timed = true;
      }
    }
    if (this.limited && this.features.overflow !== 'drop-head' && wouldOverflow(this.features, this.ready, msg)) {
      if (this.features.overflow === 'reject-publish-dlx') this.deadLetterMessage(msg, 'maxlen');
      return 'refused';
    }
    // A duplicate of a message in the queue is discarded, its publisher acked (dedup.ts).
    if (this.dedup !== null && this.dedup.duplicate(msg, this.nextSeq)) return 'queued';
    this.stats.publish++;
    this.stats.publishBytes += msg.body.length;
    const persist = this.journal !== null && msg.persistent;
    const seq = this.nextSeq++;
    if (this.ready.length === 0 && this.list.length > 0 && !this.dispatching && !this.deleted) {
      const c = this.list.pick();
      if (c !== null) {
        // A no-ack consumer takes it for good: nothing to write.
        const keep = persist && !c.noAck;
        if (keep) this.journal!.add(seq, msg, expiresAt);
        this.handOver(c, newEntry(msg, seq, false, expiresAt, msg.body.length, msg.priority, keep, 0, 0));
        return keep ? 'stored' : 'queued';
      }
    }
    const e = newEntry(msg, seq, false, expiresAt, msg.body.length, msg.priority, persist, 0, 0);
    if (persist) this.journal!.add(seq, msg, expiresAt);
    if (this.pager.shouldPageOut(this.ready)) this.pager.pageOut(e);
    this.ready.push(e);
    if (this.limited) this.dropHeadOverflow();
    if (this.timed) {
      this.dropExpired(Date.now());
      this.armTimer();
    }
    if (this.list.length > 0) this.dispatch();
    return persist ? 'stored' : 'queued';
  }

  /** Deliver ready messages to consumers that have room, round-robin. */
  dispatch(): void {
    if (this.dispatching || this.deleted) return;
    this.dispatching = true;
    try {
      if (this.timed) {
        this.dispatchTimed();
      } else {
        while (this.ready.length > 0) {
          const c = this.list.pick();
          if (c === null) break;
          this.handOver(c, this.ready.shift()!);
        }
      }
    } finally {
      this.dispatching = false;
    }
  }

  /** dispatch() for a queue whose entries may expire: an expired head is never delivered. */
  private dispatchTimed(): void {
    const now = Date.now();
    while (this.ready.length > 0) {
      this.dropExpired(now);
      if (this.ready.length === 0) break;
      const c = this.list.pick();
      if (c === null) break;
      this.handOver(c, this.ready.shift()!);
    }
    // Without a queue TTL, checks stop once the messages that had an expiration are gone.
    if (this.ready.length === 0 && this.features.messageTtl < 0) this.timed = false;
    else this.armTimer();
  }

  private handOver(c: Consumer, e: Entry): void {
    if (e.msg === null) this.pager.pageIn(this.ready, e);
    const st = this.stats;
    if (!c.noAck) {
      this.unackedCount++;
      c.unacked++;
      st.deliver++;
      if (e.persisted) this.journal!.delivered(e.seq);
    } else {
      st.deliverNoAck++;
      this.left(e);
    }
    if (e.redelivered) st.redeliver++;
    c.owner.deliver(c, this, handleOf(e), this.retry !== null ? asDelivered(e.msg!, e.attempts) : e.msg!, e.redelivered);
  }

  /** basic.get: hand the head message to `to` (which tracks it if it needs an ack). */
  get(to: GetOwner, noAck: boolean): boolean {
    if (this.expires > 0) this.touch();
    if (this.timed) this.dropExpired(Date.now());
    const e = this.ready.shift();
    if (e) {
      if (e.msg === null) this.pager.pageIn(this.ready, e);
      if (!noAck) this.unackedCount++;
      if (noAck) this.left(e);
      else if (e.persisted) this.journal!.delivered(e.seq);
      if (noAck) this.stats.getNoAck++;
      else this.stats.get++;
      if (e.redelivered) this.stats.redeliver++;
    }
    if (this.timed) this.armTimer();
    if (e === undefined) {
      this.stats.getEmpty++;
      return false;
    }
    to.gotMessage(this, handleOf(e), this.retry !== null ? asDelivered(e.msg!, e.attempts) : e.msg!, e.redelivered, noAck);
    return true;
  }

  ack(h: DeliveryHandle, c: Consumer | null): void {
    this.stats.ack++;
    this.settled(entryOf(h), c);
  }

  /** An unacked message leaves for good. */
  private settled(e: Entry, c: Consumer | null): void {
    this.unackedCount--;
    if (c) c.unacked--;
    this.left(e);
  }

  /** A message leaves the queue for good (acked, dropped, delivered with no-ack, purged). */
  private left(e: Entry): void {
    if (e.persisted && !this.deleted) this.journal!.remove(e.seq);
    this.pager.dropped(e);
    this.dedup?.left(e.seq);
  }

  /**
   * An unacked message was rejected or nacked without requeue: it is dead-lettered (reason
   * rejected) when the queue has a dead-letter exchange, else dropped.
   */
  reject(h: DeliveryHandle, c: Consumer | null): void {
    const e = entryOf(h);
    if (!this.deleted) this.deadLetter(e, 'rejected');
    this.settled(e, c);
  }

  /**
   * Put an unacked message back at its original position, marked redelivered. As RabbitMQ's
   * requeue_and_run: a drop-head limit applies again, and an expired head leaves. With retry
   * arguments it is a failed attempt (byClient: a nack/reject, which backs off).
   */
  requeue(h: DeliveryHandle, c: Consumer | null, byClient = false): void {
    const e = entryOf(h);
    this.unackedCount--;
    if (c) c.unacked--;
    if (this.deleted) return;
    e.redelivered = true;
    if (this.retry !== null && this.failed(e, byClient)) return;
    this.ready.insertBySeq(e);
    if (e.expiresAt !== 0) this.timed = true;
    if (this.limited) this.dropHeadOverflow();
    if (this.timed) {
      this.dropExpired(Date.now());
      this.armTimer();
    }
  }

  /** Retry: attempt failed; true when it does not go back to ready now (waiting, or dead). */
  private failed(e: Entry, byClient: boolean): boolean {
    const outcome = this.retry!.fail(e, byClient, Date.now());
    if (outcome === 'dead') {
      this.drop(e, 'delivery_limit');
      return true;
    }
    if (e.persisted) this.journal!.setRetry(e.seq, e.attempts, outcome === 'waiting' ? e.retryAt : null);
    if (outcome === 'ready') return false;
    // A long backoff backlog keeps index entries only, as a long ready list does (the counts
    // before e joined them, as for ready: the first pageOutCount keep their bodies).
    const r = this.retry!;
    if (this.pager.over(r.waiting.size - 1, r.waitingBytes - e.size)) this.pager.pageOut(e);
    this.armTimer();
    return true;
  }

  /** Ready messages (and ones waiting out a retry backoff) go, without dead-lettering. */
  purge(): number {
    const waiting = this.retry?.waiting.values() ?? [];
    if (this.journal !== null && !this.deleted && this.unackedCount === 0 && this.dedup === null) this.journal.removeAll();
    else if (this.journal !== null || this.dedup !== null) {
      for (const e of this.ready) this.left(e);
      for (const e of waiting) this.left(e);
    }
    const n = waiting.length;
    this.retry?.clear();
    this.pager.clear();
    return this.ready.clear() + n;
  }

  /**
   * Startup: a message recovered from the store, in seq order, its body left there. Call
   * restored() after the last one.
   */
  restore(seq: number, size: number, expiresAt: number, priority: number, redelivered: boolean, attempts = 0, retryAt = 0): void {
    const e = newEntry(null, seq, redelivered || attempts > 0, expiresAt, size, priority, true, attempts, retryAt);
    if (retryAt > 0 && this.retry !== null) this.retry.wait(e); // overdue: ready at the first timer
    else this.ready.push(e);
    if (expiresAt !== 0) this.timed = true;
  }

  /** Recovery is over: number new messages above every stored or delivered seq. */
  restored(lastSeq: number): void {
    this.nextSeq = Math.max(this.nextSeq, lastSeq + 1);
    // Deduplication keys of the recovered messages (one range read of the stored ones).
    if (this.dedup !== null && lastSeq > 0) this.journal!.readRange(1, lastSeq, (seq, m) => this.dedup!.restore(m, seq));
    this.armTimer();
  }

  /** The vhost deleted it: consumers are told, ready messages go, the timer stops. */
  markDeleted(): void {
    this.deleted = true;
    for (const c of this.list.clear()) c.owner.cancelledByQueue(c);
    this.purge();
    this.close();
  }

  /**
   * A policy changed the settings: as rabbit_amqqueue_process:process_args_policy, a lower
   * length limit drops heads now; a new TTL applies to messages enqueued from now on (those in
   * the queue keep the expiry they were given, as in RabbitMQ).
   */
  protected settingsChanged(): void {
    if (this.deleted) return;
    const f = this.features;
    this.limited = f.maxLength >= 0 || f.maxBytes >= 0;
    if (f.messageTtl >= 0) this.timed = true;
    if (this.limited) this.dropHeadOverflow();
    this.armTimer();
  }

  /** Stop the timer (deleted, or the broker is stopping). */
  close(): void {
    this.timer.stop();
    this.pager.close();
  }

  // ---- limits, expiry, dead-lettering -------------------------------------------------------

  /** drop-head: while over a limit, the head goes (dead-lettered as maxlen). */
  private dropHeadOverflow(): void {
    const f = this.features;
    if (f.overflow !== 'drop-head') return;
    while ((f.maxLength >= 0 && this.ready.length > f.maxLength) || (f.maxBytes >= 0 && this.ready.bytes > f.maxBytes)) {
      this.drop(this.ready.shift()!, 'maxlen');
    }
  }

  /** Expired messages at the head leave (dead-lettered as expired). */
  private dropExpired(now: number): void {
    for (;;) {
      const h = this.ready.peek();
      if (h === undefined || h.expiresAt === 0 || h.expiresAt > now) return;
      this.ready.shift();
      this.drop(h, 'expired');
    }
  }

  /** A ready message leaves without being delivered. */
  private drop(e: Entry, reason: DeathReason): void {
    this.deadLetter(e, reason);
    this.left(e);
  }

  private deadLetter(e: Entry, reason: DeathReason): void {
    if (this.features.dlx === null || this.host === null) return;
    if (e.msg === null) this.pager.pageIn(this.ready, e);
    this.deadLetterMessage(e.msg!, reason);
  }

  private deadLetterMessage(msg: Message, reason: DeathReason): void {
    if (this.features.dlx !== null && this.host !== null) this.host.deadLetter(this, msg, reason);
  }

  /** Arm the queue's one timer for the next deadline (it only ever moves earlier). */
  protected armTimer(): void {
    if (this.deleted) return;
    let at = this.retry?.nextDue ?? Infinity;
    if (this.timed) {
      const h = this.ready.peek();
      if (h !== undefined && h.expiresAt !== 0 && h.expiresAt < at) at = h.expiresAt;
    }
    const expires = this.expires;
    if (expires > 0 && this.list.length === 0 && this.lastUsed + expires < at) at = this.lastUsed + expires;
    this.timer.arm(at);
  }

  private onTimer(): void {
    if (this.deleted) return;
    const now = Date.now();
    // Retry waits that are over: ready again at their positions, then served.
    if (this.retry !== null && this.retry.release(now, this.ready) > 0) {
      if (this.limited) this.dropHeadOverflow();
      this.dispatch();
    }
    if (this.timed) this.dropExpired(now);
    const expires = this.expires;
    if (expires > 0 && this.list.length === 0 && now >= this.lastUsed + expires) {
      this.host!.expireQueue(this);
      return;
    }
    this.armTimer();
  }
}
