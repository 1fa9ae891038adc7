// The messaging state of one channel: consumers, delivery tags and unacked messages, prefetch
// and transactions; publisher confirms (confirms.ts) and the direct reply-to consumer
// (direct-reply-to.ts) hang off it. It is the ConsumerOwner the queues deliver through, and
// it publishes through core's one entry point, VHost.publish.
import { PublishPermits } from '../core/access.js';
import type { Exchange } from '../core/exchange/exchange.js';
import type { Message } from '../core/message.js';
import { PublishResult } from '../core/publish.js';
import type { Consumer } from '../core/queue/consumer.js';
import type { ConsumerOwner, DeliveryHandle, GetOwner, MessageQueue } from '../core/queue/types.js';
import { MessageStats, addMessageStats } from '../core/stats.js';
import type { VHost } from '../core/vhost.js';
import { ChannelError } from '../protocol/errors.js';
import { M, NO_ROUTE } from '../protocol/generated/amqp.js';
import type { Channel } from './channel.js';
import { Confirms } from './confirms.js';
import { checkAckTimeout, turnClock } from './consumer-timeout.js';
import { writeDelivery, writeGetOk, writeReturn } from './delivery.js';
import { stopReplies, type ReplyConsumer } from './direct-reply-to.js';
import { isCongested, recheck, throttle } from './flow.js';
import type { ChannelPort } from './port.js';
import { UnackedLog, type Unacked } from './unacked-log.js';


/**
 * A publish in a transaction: routed at basic.publish, delivered at commit (as RabbitMQ). One to
 * an exchange that holds messages (x-delayed-message) is handed to it at commit (`held`).
 */
interface TxPublish { msg: Message; queues: string[]; mandatory: boolean; held: Exchange | null }
/** A settle in a transaction: its deliveries leave `unacked` at once, and come back on rollback. */
interface TxSettle { held: [number, Unacked][]; kind: 'ack' | 'reject'; requeue: boolean }

export class Session implements ConsumerOwner, GetOwner {
  readonly conn: ChannelPort;
  readonly vhost: VHost;
  readonly consumers = new Map<string, Consumer>();
  /** Outstanding deliveries in tag order (multiple acks settle a prefix). */
  readonly unacked = new UnackedLog();
  /** This channel's message_stats (publish, confirm, deliver, get, ack, returns). */
  readonly stats = new MessageStats();
  private nextTag = 1;
  /** basic.qos global=false: limit for consumers created afterwards. */
  consumerPrefetch = 0;
  /** basic.qos global=true: limit across all consumers of the channel (0 = none). */
  channelPrefetch = 0;
  /**
   * What the channel limit is checked against, kept as RabbitMQ's rabbit_limiter keeps its
   * "volume": set to the number of unacked messages (basic.get ones included) when a limit is
   * switched on, then raised by each ack-mode consumer delivery and lowered by each settled
   * consumer delivery. basic.get deliveries made while limited do not count, and settling a
   * basic.get message does not lower it.
   */
  private channelVolume = 0;
  /** Last queue declared on this channel, for methods that leave the queue name empty. */
  lastQueue: string | null = null;

  /** The direct reply-to consumer (amq.rabbitmq.reply-to), if the channel has one. */
  reply: ReplyConsumer | null = null;
  /** Publisher confirms, once confirm.select was received. */
  confirms: Confirms | null = null;

  tx: { publishes: TxPublish[]; settles: TxSettle[] } | null = null;

  /** basic.publish's write permission decisions, per exchange (one Map lookup per publish). */
  readonly permits: PublishPermits;
  /** Every publish on this channel reports here (reused, so publishing allocates nothing). */
  private readonly result = new PublishResult();
  /** The channel has gone away (release()): nothing more is written for it. */
  private released = false;
  private readonly onDrain = () => this.dispatchAll();
  /** consumer_timeout's tick (consumer-timeout.ts): armed while deliveries await an ack. */
  private ackTick: NodeJS.Timeout | null = null;
  private readonly onAckTick = () => this.conn.guard(this.checkAcks);

  constructor(readonly channel: Channel) {
    this.conn = channel.conn;
    this.vhost = channel.conn.vhost;
    this.permits = new PublishPermits(channel.conn.actor);
  }

  get id(): number { return this.channel.id; }

  // ---- publishing ---------------------------------------------------------------------------

  publish(x: Exchange, msg: Message, mandatory: boolean): void {
    this.stats.publish++;
    this.stats.publishBytes += msg.body.length;
    if (this.tx) {
      // rabbit_channel routes at basic.publish and keeps the queue names until the commit, so
      // bindings made or exchanges deleted in between do not change where the message goes.
      const held = x.hold !== null ? x : null;
      this.tx.publishes.push({ msg, queues: held !== null ? [] : this.vhost.routeNames(x, msg), mandatory, held });
      return;
    }
    const r = this.vhost.publish(x, msg, this.result);
    this.afterPublish(msg, mandatory, r);
    this.confirms?.published(r.accepted, r.stored);
  }

  /** Returns for unroutable mandatory messages; flow control for queues that are filling up. */
  private afterPublish(msg: Message, mandatory: boolean, r: PublishResult): void {
    if (r.unroutable) {
      if (mandatory) this.returnMessage(msg, NO_ROUTE, 'NO_ROUTE');
      else this.stats.dropUnroutable++;
      return;
    }
    const qs = r.queues;
    for (let i = 0; i < qs.length; i++) if (isCongested(qs[i]!)) throttle(this.conn.gate, qs[i]!);
  }

  private returnMessage(msg: Message, code: number, text: string): void {
    this.stats.returnUnroutable++;
    writeReturn(this.conn.out, this.id, code, text, msg);
    this.conn.scheduleFlush();
  }

  selectConfirm(): void {
    if (this.tx) throw ChannelError.preconditionFailed('cannot switch from tx to confirm mode');
    this.confirms ??= new Confirms(this, this.vhost.persistence);
  }

  /** Frames may still be written for this channel (not closed by either side). */
  get writable(): boolean {
    return !this.released && this.channel.state === 'open';
  }

  // ---- transactions -------------------------------------------------------------------------

  selectTx(): void {
    if (this.confirms !== null) throw ChannelError.preconditionFailed('cannot switch from confirm to tx mode');
    this.tx ??= { publishes: [], settles: [] };
  }

  /** As rabbit_channel's tx.commit: the publishes first, then the settles in the order given. */
  commit(): void {
    const tx = this.requireTx();
    const { publishes, settles } = tx;
    tx.publishes = [];
    tx.settles = [];
    for (const p of publishes) {
      const r = p.held !== null ? this.vhost.publish(p.held, p.msg, this.result) : this.vhost.deliverTo(p.queues, p.msg, this.result);
      if (r.unroutable && p.mandatory) this.returnMessage(p.msg, NO_ROUTE, 'NO_ROUTE');
    }
    for (const s of settles) this.applySettle(s.held, s.kind, s.requeue);
    // commit-ok promises the persistent messages are on disk: commit now rather than this turn.
    const store = this.vhost.persistence;
    if (store !== null && store.pending) store.flush();
  }

  /** Publishes are dropped; settled deliveries are outstanding again, under their old tags. */
  rollback(): void {
    const tx = this.requireTx();
    const held = tx.settles.flatMap((s) => s.held);
    tx.publishes = [];
    tx.settles = [];
    if (held.length === 0) return;
    const all = [...this.unacked.entries(), ...held].sort((a, b) => a[0] - b[0]);
    this.unacked.clear();
    for (const [tag, u] of all) this.unacked.add(tag, u.queue, u.handle, u.consumer, u.at);
    if (this.ackTick === null) this.armAckTick();
  }

  private requireTx() {
    if (!this.tx) throw ChannelError.preconditionFailed('channel is not transactional');
    return this.tx;
  }

  // ---- consuming ----------------------------------------------------------------------------

  addConsumer(c: Consumer): void {
    this.consumers.set(c.tag, c);
    if (this.consumers.size === 1) this.conn.drainListeners.add(this.onDrain);
  }

  removeConsumer(tag: string): Consumer | undefined {
    const c = this.consumers.get(tag);
    if (!c) return undefined;
    this.consumers.delete(tag);
    if (this.consumers.size === 0) this.conn.drainListeners.delete(this.onDrain);
    c.queue.removeConsumer(c);
    return c;
  }

  /** basic.qos global=true (and global=false, which switches the channel limit off). */
  setChannelPrefetch(count: number): void {
    if (this.channelPrefetch === 0 && count !== 0) this.channelVolume = this.unacked.size;
    this.channelPrefetch = count;
  }

  canTake(c: Consumer): boolean {
    if (this.conn.gate.writeBlocked || this.channel.state !== 'open' || !this.conn.running) return false;
    if (c.noAck) return true;
    if (c.prefetch !== 0 && c.unacked >= c.prefetch) return false;
    return this.channelPrefetch === 0 || this.channelVolume < this.channelPrefetch;
  }

  /** The tag the next delivery will get; direct reply-to deliveries show it without using it up. */
  nextDeliveryTag(): number {
    return this.nextTag;
  }

  deliver(c: Consumer, q: MessageQueue, h: DeliveryHandle, msg: Message, redelivered: boolean): void {
    const tag = this.nextTag++;
    const st = this.stats;
    if (!c.noAck) {
      this.unacked.add(tag, q, h, c, turnClock());
      if (this.ackTick === null) this.armAckTick();
      if (this.channelPrefetch !== 0) this.channelVolume++;
      st.deliver++;
    } else {
      st.deliverNoAck++;
    }
    if (redelivered) st.redeliver++;
    writeDelivery(this.conn.out, this.id, c.tag, tag, redelivered, msg);
    this.conn.scheduleFlush();
  }

  /** basic.get-ok: the queue handed over its head. */
  gotMessage(q: MessageQueue, h: DeliveryHandle, msg: Message, redelivered: boolean, noAck: boolean): void {
    const tag = this.nextTag++;
    if (!noAck) {
      this.unacked.add(tag, q, h, null, turnClock());
      if (this.ackTick === null) this.armAckTick();
    }
    if (noAck) this.stats.getNoAck++;
    else this.stats.get++;
    if (redelivered) this.stats.redeliver++;
    writeGetOk(this.conn.out, this.id, tag, redelivered, msg, q.messageCount);
    this.conn.scheduleFlush();
  }

  cancelledByQueue(c: Consumer): void {
    if (this.consumers.get(c.tag) !== c) return;
    this.consumers.delete(c.tag);
    if (this.consumers.size === 0) this.conn.drainListeners.delete(this.onDrain);
    if (this.conn.capabilities.consumer_cancel_notify === true && this.channel.state === 'open') {
      this.conn.send(this.id, M.BasicCancel, { consumerTag: c.tag, noWait: true });
    }
  }

  // ---- acknowledgements ---------------------------------------------------------------------

  /**
   * ack / nack / reject from the client. The tags are checked (rabbit_channel:collect_acks) and
   * leave `unacked` at once; in a transaction their effect waits for the commit (rabbit_channel
   * keeps them in the tx). Outside one, each is applied as it leaves the log, with nothing
   * allocated per message.
   */
  onSettle(tag: number, multiple: boolean, kind: 'ack' | 'reject', requeue: boolean): void {
    const log = this.unacked;
    const all = multiple && tag === 0;
    if (!all && !log.has(tag)) throw ChannelError.preconditionFailed(`unknown delivery tag ${tag}`);
    const limit = all ? log.lastTag : tag;
    if (this.tx) {
      const held: [number, Unacked][] = [];
      while (multiple ? log.popThrough(limit) : held.length === 0 && log.take(tag)) {
        held.push([log.t, { queue: log.q!, handle: log.h!, consumer: log.c, at: log.sent }]);
      }
      this.tx.settles.push({ held, kind, requeue });
      return;
    }
    const touched: MessageQueue[] = [];
    let n = 0;
    let fromConsumers = 0;
    // A dead-lettered reject may deliver to this channel again: those get tags above `limit`.
    while (multiple ? log.popThrough(limit) : n === 0 && log.take(tag)) {
      const q = log.q!;
      const c = log.c;
      n++;
      if (c !== null) fromConsumers++;
      settleOne(kind, requeue, q, log.h!, c);
      if (!touched.includes(q)) touched.push(q);
    }
    this.afterSettle(kind, n, fromConsumers, touched);
  }

  /** A committed transaction's settles. */
  private applySettle(held: [number, Unacked][], kind: 'ack' | 'reject', requeue: boolean): void {
    const touched: MessageQueue[] = [];
    let fromConsumers = 0;
    for (const [, u] of held) {
      if (u.consumer) fromConsumers++;
      settleOne(kind, requeue, u.queue, u.handle, u.consumer);
      if (!touched.includes(u.queue)) touched.push(u.queue);
    }
    this.afterSettle(kind, held.length, fromConsumers, touched);
  }

  /** After n settles: counts, the channel limit, and the queues that may deliver again. */
  private afterSettle(kind: 'ack' | 'reject', n: number, fromConsumers: number, touched: MessageQueue[]): void {
    if (kind === 'ack') this.stats.ack += n;
    if (this.channelPrefetch !== 0) this.channelVolume -= fromConsumers;
    for (const q of touched) {
      q.dispatch();
      recheck(q);
    }
    if (this.channelPrefetch !== 0 || touched.length === 0) this.dispatchAll();
  }

  /**
   * basic.recover requeue=true: every unacked message goes back, marked redelivered. Messages
   * already settled in the open transaction are not unacked any more and stay put.
   */
  recover(): void {
    // Clear first: requeueing dispatches at once, and a live consumer's redeliveries are new
    // unacked entries that must survive.
    const all = this.unacked.entries().map(([, u]) => u);
    this.unacked.clear();
    this.requeue(all);
  }

  private requeue(all: Iterable<Unacked>): void {
    const touched = new Set<MessageQueue>();
    for (const u of all) {
      if (u.consumer && this.channelPrefetch !== 0) this.channelVolume--;
      u.queue.requeue(u.handle, u.consumer);
      touched.add(u.queue);
    }
    for (const q of touched) {
      q.dispatch();
      recheck(q);
    }
  }

  private armAckTick(): void {
    const { consumerTimeout, channelTickIntervalMs } = this.conn.services.config;
    if (consumerTimeout <= 0 || this.released) return;
    this.ackTick = setTimeout(this.onAckTick, channelTickIntervalMs);
    this.ackTick.unref();
  }

  /** The tick: the oldest outstanding delivery older than consumer_timeout closes the channel. */
  private readonly checkAcks = () => {
    this.ackTick = null;
    if (this.released || this.channel.state !== 'open') return;
    const err = checkAckTimeout(this, this.conn.services.config.consumerTimeout);
    if (err !== null) this.channel.closeWithError(err);
    else if (this.unacked.size > 0) this.armAckTick();
  };

  dispatchAll(): void {
    for (const c of this.consumers.values()) {
      c.queue.dispatch();
      recheck(c.queue);
    }
  }

  /** The channel is going away: cancel consumers, requeue what was not acked. */
  release(): void {
    if (!this.released) addMessageStats(this.vhost.closedChannelStats, this.stats);
    this.released = true;
    if (this.ackTick !== null) clearTimeout(this.ackTick);
    this.ackTick = null;
    stopReplies(this);
    this.conn.drainListeners.delete(this.onDrain);
    const consumers = [...this.consumers.values()];
    this.consumers.clear();
    // Deliveries settled in an uncommitted transaction were never settled: they go back too.
    const held = this.tx ? this.tx.settles.flatMap((s) => s.held.map(([, u]) => u)) : [];
    this.tx = null;
    // Consumers go first so the requeued messages are not delivered straight back to them.
    for (const c of consumers) c.queue.removeConsumer(c);
    const all = [...this.unacked.entries().map(([, u]) => u), ...held];
    this.unacked.clear();
    this.requeue(all);
  }
}

/** One delivery settled: acked, requeued (a failed attempt, for retry), or rejected (dead-lettered when the queue has a DLX). */
function settleOne(kind: 'ack' | 'reject', requeue: boolean, q: MessageQueue, h: DeliveryHandle, c: Consumer | null): void {
  if (kind === 'ack') q.ack(h, c);
  else if (requeue) q.requeue(h, c, true);
  else q.reject(h, c);
}
