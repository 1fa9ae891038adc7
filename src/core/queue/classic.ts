// A classic queue: ready messages in order, consumers served by x-priority and round-robin
// within a priority (consumer.ts), unacked messages counted here and held, as opaque delivery
// handles, by the channel that received them.
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
// - Dead-lettering goes through the host (the vhost), which knows the exchanges.
// - Durable queues have a journal (the store): persistent messages are written at enqueue
//   (unless handed straight to a no-ack consumer), removed when acked or dropped; a long one
//   pages bodies out to it (paging.ts), so memory does not grow with the backlog.
import type { FieldTable } from '../../protocol/field-table.js';
import type { Actor } from '../actor.js';
import type { Binding } from '../exchange/exchange.js';
import type { Message } from '../message.js';
import type { QueueJournal } from '../persistence.js';
import { MessageStats } from '../stats.js';
import { queueFeatures, ttlFor, wouldOverflow, type QueueFeatures } from './arguments.js';
import { ConsumerList, type Consumer } from './consumer.js';
import type { DeathReason } from './dead-letter.js';
import { pageIn, shouldPageOut } from './paging.js';
import { PriorityReadyList, ReadyList, type Entry, type Ready } from './ready-list.js';
import type { DeliveryHandle, Enqueued, GetOwner, MessageQueue, QueueHost, QueueOptions } from './types.js';

/** setTimeout's longest delay; longer waits fire early and re-arm. */
const MAX_TIMEOUT = 2 ** 31 - 1;

/** A handle is the entry itself, seen from outside as opaque. */
const entryOf = (h: DeliveryHandle) => h as unknown as Entry;
const handleOf = (e: Entry) => e as unknown as DeliveryHandle;

export class ClassicQueue implements MessageQueue {
  readonly kind = 'queue' as const;
  readonly type = 'classic';
  readonly stats = new MessageStats();
  readonly ready: Ready;
  readonly features: QueueFeatures;
  private readonly host: QueueHost | null;
  readonly journal: QueueJournal | null;
  /** x-max-length or x-max-length-bytes is set. */
  private readonly limited: boolean;
  /** Entries may have an expiry: the queue has a message TTL or was sent a message with one. */
  private timed: boolean;
  private timer: NodeJS.Timeout | null = null;
  /** When the armed timer fires (ms since the epoch). */
  private timerAt = 0;
  /** x-expires: last consumer gone, basic.get or declare. */
  private lastUsed = 0;
  /** x-expires in ms, 0 = never (also without a host to delete the queue). */
  private readonly expires: number;
  private dispatchQueued = false;
  private readonly list: ConsumerList;
  /** Bindings whose destination is this queue, so deleting it can remove them. */
  readonly bindings = new Set<Binding>();
  unackedCount = 0;
  deleted = false;
  /** Auto-delete queues go only after they have had a consumer. */
  private hadConsumer = false;
  /** From 1: the store's delivered watermark starts at 0, meaning nothing was delivered. */
  private nextSeq = 1;
  private dispatching = false;

  constructor(readonly name: string, readonly options: QueueOptions) {
    const f = (this.features = queueFeatures(options.args));
    this.host = options.host ?? null;
    this.journal = options.journal ?? null;
    this.ready = f.maxPriority >= 0 ? new PriorityReadyList(f.maxPriority) : new ReadyList();
    this.limited = f.maxLength >= 0 || f.maxBytes >= 0;
    this.timed = f.messageTtl >= 0;
    this.list = new ConsumerList(f.singleActiveConsumer);
    this.expires = f.expires > 0 && this.host !== null ? f.expires : 0;
    if (this.expires > 0) this.touch();
  }

  get durable(): boolean { return this.options.durable; }
  get autoDelete(): boolean { return this.options.autoDelete; }
  get exclusiveOwner(): Actor | null { return this.options.owner; }
  get args(): FieldTable { return this.options.args; }
  get messageCount(): number { return this.ready.length; }
  get messageBytes(): number { return this.ready.bytes; }
  get consumerCount(): number { return this.list.length; }
  get consumers(): readonly Consumer[] { return this.list.all; }
  get singleActiveConsumer(): boolean { return this.features.singleActiveConsumer; }
  get deadLetterExchange(): string | null { return this.features.dlx; }
  get deadLetterRoutingKey(): string | null { return this.features.dlxRoutingKey; }
  get oldestReadySeq(): number { return this.ready.oldestSeq; }
  get nextEnqueueSeq(): number { return this.nextSeq; }
  /** x-single-active-consumer: the consumer being served. */
  get activeConsumer(): Consumer | null { return this.list.active; }

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
        this.handOver(c, { msg, seq, redelivered: false, expiresAt, size: msg.body.length, priority: msg.priority, persisted: keep });
        return keep ? 'stored' : 'queued';
      }
    }
    const e: Entry = { msg, seq, redelivered: false, expiresAt, size: msg.body.length, priority: msg.priority, persisted: persist };
    if (persist) {
      this.journal!.add(seq, msg, expiresAt);
      if (shouldPageOut(this.ready)) e.msg = null;
    }
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
    if (e.msg === null) pageIn(this.journal!, this.ready, e);
    const st = this.stats;
    if (!c.noAck) {
      this.unackedCount++;
      c.unacked++;
      st.deliver++;
      if (e.persisted) this.journal!.delivered(e.seq);
    } else {
      st.deliverNoAck++;
      if (e.persisted) this.journal!.remove(e.seq);
    }
    if (e.redelivered) st.redeliver++;
    c.owner.deliver(c, this, handleOf(e), e.msg!, e.redelivered);
  }

  /** basic.get: hand the head message to `to` (which tracks it if it needs an ack). */
  get(to: GetOwner, noAck: boolean): boolean {
    if (this.expires > 0) this.touch();
    if (this.timed) this.dropExpired(Date.now());
    const e = this.ready.shift();
    if (e) {
      if (e.msg === null) pageIn(this.journal!, this.ready, e);
      if (!noAck) this.unackedCount++;
      if (e.persisted) {
        if (noAck) this.journal!.remove(e.seq);
        else this.journal!.delivered(e.seq);
      }
      if (noAck) this.stats.getNoAck++;
      else this.stats.get++;
      if (e.redelivered) this.stats.redeliver++;
    }
    if (this.timed) this.armTimer();
    if (e === undefined) {
      this.stats.getEmpty++;
      return false;
    }
    to.gotMessage(this, handleOf(e), e.msg!, e.redelivered, noAck);
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
    if (e.persisted && !this.deleted) this.journal!.remove(e.seq);
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
   * requeue_and_run: a drop-head limit applies again, and an expired head leaves.
   */
  requeue(h: DeliveryHandle, c: Consumer | null): void {
    const e = entryOf(h);
    this.unackedCount--;
    if (c) c.unacked--;
    if (this.deleted) return;
    e.redelivered = true;
    this.ready.insertBySeq(e);
    if (e.expiresAt !== 0) this.timed = true;
    if (this.limited) this.dropHeadOverflow();
    if (this.timed) {
      this.dropExpired(Date.now());
      this.armTimer();
    }
  }

  /** Ready messages go, without dead-lettering (as RabbitMQ's purge). */
  purge(): number {
    const j = this.journal;
    if (j !== null && !this.deleted) {
      if (this.unackedCount === 0) j.removeAll();
      else for (const e of this.ready) if (e.persisted) j.remove(e.seq);
    }
    return this.ready.clear();
  }

  /**
   * Startup: a message recovered from the store, in seq order, its body left there. Call
   * restored() after the last one.
   */
  restore(seq: number, size: number, expiresAt: number, priority: number, redelivered: boolean): void {
    this.ready.push({ msg: null, seq, redelivered, expiresAt, size, priority, persisted: true });
    if (expiresAt !== 0) this.timed = true;
  }

  /** Recovery is over: number new messages above every stored or delivered seq. */
  restored(lastSeq: number): void {
    this.nextSeq = Math.max(this.nextSeq, lastSeq + 1);
    if (this.timed) this.armTimer();
  }

  /** The vhost deleted it: consumers are told, ready messages go, the timer stops. */
  markDeleted(): void {
    this.deleted = true;
    for (const c of this.list.clear()) c.owner.cancelledByQueue(c);
    this.purge();
    this.close();
  }

  /** Stop the timer (deleted, or the broker is stopping). */
  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** x-expires: the queue was used (basic.get, declare); its deadline starts again. */
  touch(): void {
    if (this.expires === 0) return;
    this.lastUsed = Date.now();
    if (this.list.length === 0) this.armTimer();
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
    if (e.persisted) this.journal!.remove(e.seq);
  }

  private deadLetter(e: Entry, reason: DeathReason): void {
    if (this.features.dlx === null || this.host === null) return;
    if (e.msg === null) e.msg = this.journal!.read(e.seq);
    this.deadLetterMessage(e.msg, reason);
  }

  private deadLetterMessage(msg: Message, reason: DeathReason): void {
    if (this.features.dlx !== null && this.host !== null) this.host.deadLetter(this, msg, reason);
  }

  /** Arm the queue's one timer for the next deadline, unless it is armed for one as early. */
  private armTimer(): void {
    let at = Infinity;
    if (this.timed) {
      const h = this.ready.peek();
      if (h !== undefined && h.expiresAt !== 0) at = h.expiresAt;
    }
    const expires = this.expires;
    if (expires > 0 && this.list.length === 0 && this.lastUsed + expires < at) at = this.lastUsed + expires;
    if (at === Infinity || this.deleted) return;
    if (this.timer !== null) {
      if (this.timerAt <= at) return;
      clearTimeout(this.timer);
    }
    const now = Date.now();
    const delay = Math.min(Math.max(at - now, 0), MAX_TIMEOUT);
    this.timerAt = now + delay;
    this.timer = setTimeout(this.onTimer, delay);
    this.timer.unref();
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    if (this.deleted) return;
    const now = Date.now();
    if (this.timed) this.dropExpired(now);
    const expires = this.expires;
    if (expires > 0 && this.list.length === 0 && now >= this.lastUsed + expires) {
      this.host!.expireQueue(this);
      return;
    }
    this.armTimer();
  };

  addConsumer(c: Consumer): void {
    this.list.add(c);
    this.hadConsumer = true;
  }

  /** Returns true if removed. Triggers auto-delete when the last consumer goes. */
  removeConsumer(c: Consumer): boolean {
    const removed = this.list.remove(c);
    if (removed === 'absent') return false;
    // Not at once: when a channel goes, its unacked messages are requeued first.
    if (removed === 'handed-over') this.queueDispatch();
    if (this.list.length === 0) {
      if (this.expires > 0) this.touch();
      if (this.autoDelete && this.hadConsumer) this.host?.queueUnused(this);
    }
    return true;
  }

  private queueDispatch(): void {
    if (this.dispatchQueued) return;
    this.dispatchQueued = true;
    queueMicrotask(() => {
      this.dispatchQueued = false;
      this.dispatch();
    });
  }

  hasExclusiveConsumer(): boolean {
    return this.list.hasExclusive();
  }
}
