// A classic queue: ready messages in order, consumers served by x-priority and round-robin
// within a priority, unacked messages counted here and held by the channel that received them.
//
// The features its arguments switch on (arguments.ts) cost a plain queue a boolean test each:
// - TTL (x-message-ttl, per-message `expiration`): an entry's expiry is fixed at enqueue; only
//   the head is ever looked at (as in RabbitMQ's classic queues, a message behind one that
//   expires later waits for it). One timer per queue, armed for the head's expiry or the
//   x-expires deadline, whichever is first, and re-armed only when that moves earlier; a timer
//   that fires early just re-arms. Nothing runs while nothing is due.
// - Length limits (x-max-length, x-max-length-bytes over ready messages and their body bytes):
//   drop-head dead-letters the head (maxlen); reject-publish refuses the new message
//   (enqueue returns false, so the channel can nack it); reject-publish-dlx also dead-letters it.
// - x-max-priority: a PriorityReadyList instead of one ReadyList.
// - x-single-active-consumer: only `active` is served; when it goes, the first remaining
//   consumer (highest x-priority, then earliest) takes over.
// - Dead-lettering goes through the host (the vhost), which knows the exchanges.
// - Durable queues have a journal (the store): persistent messages are written at enqueue
//   (unless handed straight to a no-ack consumer), removed when acked or dropped. Past
//   PAGE_OUT_COUNT ready messages or PAGE_OUT_BYTES of bodies, a new persistent message keeps
//   only its index entry in memory; bodies are read back in runs of PAGE_IN_RUN when the head
//   reaches them, so memory does not grow with the backlog.
import { typeClass, type FieldTable } from '../../protocol/field-table.js';
import type { Binding, Destination } from '../exchange/exchange.js';
import type { Message } from '../message.js';
import { queueFeatures, type QueueFeatures } from './arguments.js';
import type { QueueJournal } from '../persistence.js';
import type { DeathReason } from './dead-letter.js';
import { PriorityReadyList, ReadyList, type Entry, type Ready } from './ready-list.js';

/** What a queue needs from its vhost. */
export interface QueueHost {
  /** Re-publish `msg`, which `q` gives up on, to `q`'s dead-letter exchange. */
  deadLetter(q: Queue, msg: Message, reason: DeathReason): void;
  /** x-expires: the queue was unused for that long; delete it. */
  expireQueue(q: Queue): void;
}

/** setTimeout's longest delay; longer waits fire early and re-arm. */
const MAX_TIMEOUT = 2 ** 31 - 1;
const PAGE_OUT_COUNT = 4096;
const PAGE_OUT_BYTES = 8 * 1024 * 1024;
const PAGE_IN_RUN = 256;

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
  /** The vhost, for dead-lettering and x-expires; none in unit tests. */
  host?: QueueHost | null;
  /** Where a durable queue keeps its persistent messages; none for a transient queue. */
  journal?: QueueJournal | null;
}

export class Queue implements Destination {
  readonly kind = 'queue' as const;
  readonly ready: Ready;
  readonly features: QueueFeatures;
  private readonly host: QueueHost | null;
  readonly journal: QueueJournal | null;
  /** x-max-length or x-max-length-bytes is set. */
  private readonly limited: boolean;
  /** Entries may have an expiry: the queue has a message TTL or was sent a message with one. */
  private timed: boolean;
  private readonly sac: boolean;
  /** x-single-active-consumer: the one consumer that is served. */
  active: Consumer | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** When the armed timer fires (ms since the epoch). */
  private timerAt = 0;
  /** x-expires: last consumer gone, basic.get or declare. */
  private lastUsed = 0;
  /** x-expires in ms, 0 = never (also without a host to delete the queue). */
  private readonly expires: number;
  private dispatchQueued = false;
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
  /** From 1: the store's delivered watermark starts at 0, meaning nothing was delivered. */
  private nextSeq = 1;
  private rr = 0;
  private dispatching = false;
  /** Called when an auto-delete queue loses its last consumer. */
  onUnused: ((q: Queue) => void) | null = null;

  constructor(readonly name: string, readonly options: QueueOptions) {
    const f = (this.features = queueFeatures(options.args));
    this.host = options.host ?? null;
    this.journal = options.journal ?? null;
    this.ready = f.maxPriority >= 0 ? new PriorityReadyList(f.maxPriority) : new ReadyList();
    this.limited = f.maxLength >= 0 || f.maxBytes >= 0;
    this.timed = f.messageTtl >= 0;
    this.sac = f.singleActiveConsumer;
    this.expires = f.expires > 0 && this.host !== null ? f.expires : 0;
    if (this.expires > 0) this.touch();
  }

  get durable(): boolean { return this.options.durable; }
  get autoDelete(): boolean { return this.options.autoDelete; }
  get exclusiveOwner(): object | null { return this.options.owner; }
  get args(): FieldTable { return this.options.args; }
  get messageCount(): number { return this.ready.length; }
  get consumerCount(): number { return this.consumers.length; }

  /**
   * A routed message arrives. Returns false when the queue refuses it (x-overflow
   * reject-publish or reject-publish-dlx with the queue full): it is not stored, and a
   * confirming publisher gets a nack. As RabbitMQ (deliver_or_enqueue), a message goes straight
   * to a consumer with room when nothing is waiting, even with a TTL of 0.
   */
  enqueue(msg: Message): boolean {
    let expiresAt = 0;
    if (this.timed || msg.hasExpiration) {
      const ttl = this.ttlOf(msg);
      if (ttl >= 0) {
        expiresAt = Date.now() + ttl;
        this.timed = true;
      }
    }
    if (this.limited && this.features.overflow !== 'drop-head' && this.wouldOverflow(msg)) {
      if (this.features.overflow === 'reject-publish-dlx') this.deadLetterMessage(msg, 'maxlen');
      return false;
    }
    const persist = this.journal !== null && msg.persistent;
    const seq = this.nextSeq++;
    if (this.ready.length === 0 && this.consumers.length > 0 && !this.dispatching && !this.deleted) {
      const c = this.pickConsumer();
      if (c !== null) {
        // A no-ack consumer takes it for good: nothing to write.
        const keep = persist && !c.noAck;
        if (keep) this.journal!.add(seq, msg, expiresAt);
        this.handOver(c, { msg, seq, redelivered: false, expiresAt, size: msg.body.length, priority: msg.priority, persisted: keep });
        return true;
      }
    }
    const e: Entry = { msg, seq, redelivered: false, expiresAt, size: msg.body.length, priority: msg.priority, persisted: persist };
    if (persist) {
      this.journal!.add(seq, msg, expiresAt);
      if (this.ready.length >= PAGE_OUT_COUNT || this.ready.bytes >= PAGE_OUT_BYTES) e.msg = null;
    }
    this.ready.push(e);
    if (this.limited) this.dropHeadOverflow();
    if (this.timed) {
      this.dropExpired(Date.now());
      this.armTimer();
    }
    if (this.consumers.length > 0) this.dispatch();
    return true;
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
          const c = this.pickConsumer();
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
      const c = this.pickConsumer();
      if (c === null) break;
      this.handOver(c, this.ready.shift()!);
    }
    // Without a queue TTL, checks stop once the messages that had an expiration are gone.
    if (this.ready.length === 0 && this.features.messageTtl < 0) this.timed = false;
    else this.armTimer();
  }

  private handOver(c: Consumer, e: Entry): void {
    if (e.msg === null) this.pageIn(e);
    if (!c.noAck) {
      this.unackedCount++;
      c.unacked++;
      if (e.persisted) this.journal!.delivered(e.seq);
    } else if (e.persisted) {
      this.journal!.remove(e.seq);
    }
    c.owner.deliver(c, this, e);
  }

  private pickConsumer(): Consumer | null {
    if (this.sac) {
      const a = this.active;
      return a !== null && a.owner.canTake(a) ? a : null;
    }
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
    if (this.expires > 0) this.touch();
    if (this.timed) this.dropExpired(Date.now());
    const e = this.ready.shift();
    if (e) {
      if (e.msg === null) this.pageIn(e);
      if (!noAck) this.unackedCount++;
      if (e.persisted) {
        if (noAck) this.journal!.remove(e.seq);
        else this.journal!.delivered(e.seq);
      }
    }
    if (this.timed) this.armTimer();
    return e;
  }

  /** An unacked message was acked: forget it. */
  settled(e: Entry, c: Consumer | null): void {
    this.unackedCount--;
    if (c) c.unacked--;
    if (e.persisted && !this.deleted) this.journal!.remove(e.seq);
  }

  /**
   * An unacked message was rejected or nacked without requeue: it is dead-lettered (reason
   * rejected) when the queue has a dead-letter exchange, else dropped.
   */
  discard(e: Entry, c: Consumer | null): void {
    if (!this.deleted) this.deadLetter(e, 'rejected');
    this.settled(e, c);
  }

  /**
   * Put an unacked message back at its original position, marked redelivered. As RabbitMQ's
   * requeue_and_run: a drop-head limit applies again, and an expired head leaves.
   */
  requeue(e: Entry, c: Consumer | null): void {
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

  /**
   * Reads back the body of `e` (just taken from the head) and, for a plain queue, of the
   * paged-out entries right behind it, in one range read.
   */
  private pageIn(e: Entry): void {
    const j = this.journal!;
    const r = this.ready;
    let n = 0;
    if (r instanceof ReadyList) while (n < PAGE_IN_RUN && n < r.length && r.at(n).msg === null) n++;
    if (n === 0) {
      e.msg = j.read(e.seq);
      return;
    }
    let i = -1; // -1: e itself, then r.at(0..n-1)
    let want: Entry = e;
    j.readRange(e.seq, (r as ReadyList).at(n - 1).seq, (seq, msg) => {
      while (want.seq < seq && i < n - 1) want = (r as ReadyList).at(++i);
      if (want.seq === seq) want.msg = msg;
    });
    if (e.msg === null) e.msg = j.read(e.seq);
  }

  /** The queue was deleted: stop its timer. */
  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** x-expires: the queue was used (basic.get, declare); its deadline starts again. */
  touch(): void {
    if (this.expires === 0) return;
    this.lastUsed = Date.now();
    if (this.consumers.length === 0) this.armTimer();
  }

  get singleActiveConsumer(): boolean { return this.sac; }

  // ---- limits, expiry, dead-lettering -------------------------------------------------------

  /** The TTL that applies to `msg` here: the lower of the queue's and the message's, or -1. */
  private ttlOf(msg: Message): number {
    const q = this.features.messageTtl;
    const m = msg.hasExpiration ? msg.expirationMs : -1;
    if (m < 0) return q;
    return q < 0 || m < q ? m : q;
  }

  /** reject-publish: would one more message break a limit? (rabbit_amqqueue_process:will_overflow) */
  private wouldOverflow(msg: Message): boolean {
    const f = this.features;
    return (f.maxLength >= 0 && this.ready.length + 1 > f.maxLength) ||
      (f.maxBytes >= 0 && this.ready.bytes + msg.body.length > f.maxBytes);
  }

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
    if (expires > 0 && this.consumers.length === 0 && this.lastUsed + expires < at) at = this.lastUsed + expires;
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
    if (expires > 0 && this.consumers.length === 0 && now >= this.lastUsed + expires) {
      this.host!.expireQueue(this);
      return;
    }
    this.armTimer();
  };

  addConsumer(c: Consumer): void {
    const cs = this.consumers;
    let i = cs.length;
    while (i > 0 && cs[i - 1].priority < c.priority) i--;
    cs.splice(i, 0, c);
    if (i < cs.length - 1 && i <= this.rr) this.rr++; // keep rr on the consumer it pointed at
    this.mixedPriorities = cs[0].priority !== cs[cs.length - 1].priority;
    this.hadConsumer = true;
    // The first consumer becomes the active one, whatever the priority of later ones.
    if (this.sac && this.active === null) this.active = c;
  }

  /** Returns true if removed. Triggers auto-delete when the last consumer goes. */
  removeConsumer(c: Consumer): boolean {
    const i = this.consumers.indexOf(c);
    if (i < 0) return false;
    this.consumers.splice(i, 1);
    if (this.rr > i) this.rr--;
    const cs = this.consumers;
    this.mixedPriorities = cs.length > 0 && cs[0].priority !== cs[cs.length - 1].priority;
    if (this.active === c) {
      // RabbitMQ's rabbit_queue_consumers:get_consumer: the highest priority, earliest first.
      this.active = cs.length > 0 ? cs[0] : null;
      // Not at once: when a channel goes, its unacked messages are requeued first.
      if (this.active !== null) this.queueDispatch();
    }
    if (cs.length === 0) {
      if (this.expires > 0) this.touch();
      if (this.autoDelete && this.hadConsumer && this.onUnused) this.onUnused(this);
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
    return this.consumers.some((c) => c.exclusive);
  }
}
