// The queue interface: what channels, the vhost and the management layer may ask of any queue,
// whatever its type. Classic queues (classic.ts) implement it; a stream queue can next, and
// factory.ts picks the implementation by x-queue-type.
//
// Channels never see a queue's internals: a delivery comes with an opaque DeliveryHandle that
// the channel keeps while the message is unacked and hands back to settle it.
import type { FieldTable } from '../../protocol/field-table.js';
import type { Actor } from '../actor.js';
import type { Binding, Destination } from '../exchange/exchange.js';
import type { Message } from '../message.js';
import type { Persistence, QueueJournal } from '../persistence.js';
import type { Policy } from '../policy.js';
import type { MessageStats } from '../stats.js';
import type { Consumer } from './consumer.js';
import type { DeathReason } from './dead-letter.js';

declare const handleBrand: unique symbol;
/** A queue's token for one delivered message; only the queue that made it can read it. */
export type DeliveryHandle = { readonly [handleBrand]: true };

/**
 * What a queue did with a routed message:
 * - 'queued': accepted (kept in memory or handed straight to a consumer), nothing written;
 * - 'stored': accepted and written to the store: a publisher confirm waits for the commit;
 * - 'refused': not taken (x-overflow reject-publish / reject-publish-dlx with the queue full).
 */
export type Enqueued = 'queued' | 'stored' | 'refused';

/** The session side of a consumer (an AMQP channel); the queue never sees frames. */
export interface ConsumerOwner {
  /** May this consumer receive one more message right now (prefetch, socket backpressure)? */
  canTake(c: Consumer): boolean;
  /** Hand over a message. For ack-mode consumers the owner keeps `h` until it settles it. */
  deliver(c: Consumer, q: MessageQueue, h: DeliveryHandle, msg: Message, redelivered: boolean): void;
  /** The queue went away under the consumer. */
  cancelledByQueue(c: Consumer): void;
}

/** Who receives a basic.get: called at most once per get, while get() runs. */
export interface GetOwner {
  gotMessage(q: MessageQueue, h: DeliveryHandle, msg: Message, redelivered: boolean, noAck: boolean): void;
}

/** What a queue needs from its vhost. */
export interface QueueHost {
  /** Re-publish `msg`, which `q` gives up on, to `q`'s dead-letter exchange. */
  deadLetter(q: MessageQueue, msg: Message, reason: DeathReason): void;
  /** x-expires: the queue was unused for that long; delete it. */
  expireQueue(q: MessageQueue): void;
  /** An auto-delete queue lost its last consumer. */
  queueUnused(q: MessageQueue): void;
}

export interface QueueOptions {
  durable: boolean;
  autoDelete: boolean;
  /** The connection (Actor) that owns an exclusive queue, or null. */
  owner: Actor | null;
  args: FieldTable;
  /** The vhost, for dead-lettering, x-expires and auto-delete; none in unit tests. */
  host?: QueueHost | null;
  /** Where a durable queue keeps its persistent messages; none for a transient queue. */
  journal?: QueueJournal | null;
  /** The vhost's name and durable storage, for queues that keep files of their own (streams). */
  vhost?: string;
  persistence?: Persistence | null;
}

export interface MessageQueue extends Destination {
  readonly kind: 'queue';
  /** x-queue-type as RabbitMQ reports it ('classic', ...). */
  readonly type: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly exclusiveOwner: Actor | null;
  readonly args: FieldTable;
  /** The store journal of a durable queue (null when transient or exclusive). */
  readonly journal: QueueJournal | null;
  /** Bindings whose destination is this queue, so deleting it can remove them. */
  readonly bindings: Set<Binding>;
  readonly stats: MessageStats;
  /** Messages ready for delivery (RabbitMQ's message_count). */
  readonly messageCount: number;
  /** Messages waiting out a retry backoff (neither ready nor unacked). */
  readonly waitingCount: number;
  /** Body bytes of the ready messages. */
  readonly messageBytes: number;
  readonly unackedCount: number;
  /**
   * Consumer lag without a clock read per message: every message a queue takes gets the next
   * sequence number (a requeued one keeps its own), so a reader that notes nextEnqueueSeq
   * against the time now and then can tell how long the oldest ready message (oldestReadySeq,
   * -1 when none) has at least been waiting.
   */
  readonly oldestReadySeq: number;
  readonly nextEnqueueSeq: number;
  readonly consumerCount: number;
  readonly consumers: readonly Consumer[];
  readonly singleActiveConsumer: boolean;
  /** x-dead-letter-exchange ('' is the default exchange), or null: messages given up on are dropped. */
  readonly deadLetterExchange: string | null;
  /** x-dead-letter-routing-key, or null to keep the message's own routing keys. */
  readonly deadLetterRoutingKey: string | null;
  /** The vhost removed it; nothing more is delivered or written. */
  readonly deleted: boolean;
  /** The policy and operator policy that apply (policy-set.ts), or null. */
  readonly policy: Policy | null;
  readonly operatorPolicy: Policy | null;

  /**
   * New policies apply: `effective` is the declared arguments with the policies' values folded
   * in (policy.ts). TTL, length limits, overflow, expires and dead-lettering take it at once;
   * `args` stays what was declared.
   */
  applyPolicy(p: Policy | null, op: Policy | null, effective: FieldTable): void;

  /** A routed message arrives; see Enqueued. */
  enqueue(msg: Message): Enqueued;
  /** Deliver ready messages to consumers with room. */
  dispatch(): void;
  addConsumer(c: Consumer): void;
  /** Returns true if it was a consumer here. An auto-delete queue may go (through its host). */
  removeConsumer(c: Consumer): boolean;
  hasExclusiveConsumer(): boolean;
  /** The queue type's own basic.consume checks (streams: prefetch, no-ack, x-stream-offset). */
  checkConsume?(noAck: boolean, prefetch: number, channelLimited: boolean, args: FieldTable): void;
  /** basic.get: hands the head to `to` (false when there is none). */
  get(to: GetOwner, noAck: boolean): boolean;

  /** The client acked a delivery. `c` is null for a basic.get delivery. */
  ack(h: DeliveryHandle, c: Consumer | null): void;
  /**
   * Back to its original position, marked redelivered: a nack/reject with requeue (byClient)
   * or the broker's requeue (channel closed, basic.recover). On a queue with retry arguments
   * either is a failed attempt; only the client's backs off.
   */
  requeue(h: DeliveryHandle, c: Consumer | null, byClient?: boolean): void;
  /** Nack/reject without requeue: dead-lettered (reason rejected) when the queue has a DLX. */
  reject(h: DeliveryHandle, c: Consumer | null): void;

  /** Ready messages go, without dead-lettering; returns how many. */
  purge(): number;
  /** x-expires: the queue was used (basic.get, declare); its deadline starts again. */
  touch(): void;
  /** The vhost deleted it: consumers were cancelled, messages purged; stop timers. */
  markDeleted(): void;
  /** Stop timers (broker shutdown); the queue stays as it is. */
  close(): void;

  /**
   * Startup: a message found in the queue's journal, in seq order, its body left in the store.
   * restored() follows the last one.
   */
  restore(seq: number, size: number, expiresAt: number, priority: number, redelivered: boolean, attempts?: number, retryAt?: number): void;
  /** Recovery is over: new messages are numbered above every stored or delivered seq. */
  restored(lastSeq: number): void;
}
