// Direct reply-to (amq.rabbitmq.reply-to) as RabbitMQ 3.10's rabbit_channel does it. A channel
// consumes the pseudo queue "amq.rabbitmq.reply-to" with no_ack (one such consumer per
// channel); a message it then publishes with reply_to "amq.rabbitmq.reply-to" leaves with the
// channel's reply address instead (publish-checks.ts), and whatever anyone publishes to the
// default exchange with that address as routing key (or CC/BCC key) is written straight to that
// consumer, from any connection or vhost of the broker. No queue is involved: a reply goes out
// at once (prefetch and flow do not hold it, a transaction does not either), it is dropped when
// the channel is gone or no longer consuming, and since no queue took it a mandatory reply is
// returned as unroutable even when it was delivered, as on RabbitMQ.
//
// An address is "amq.rabbitmq.reply-to.<id>.<random>": the per-broker counter keeps addresses
// unique, 128 random bits make them unguessable from others; both parts are [0-9A-Za-z_-],
// safe in any routing key. Each basic.consume makes a new one, so an old one goes stale.
import { randomBytes } from 'node:crypto';
import { ChannelError } from '../protocol/errors.js';
import type { Message } from '../core/message.js';
import { generatedName } from '../core/names.js';
import { writeDelivery } from './delivery.js';
import type { Session } from './session.js';

export const REPLY_QUEUE = 'amq.rabbitmq.reply-to';
export const REPLY_PREFIX = `${REPLY_QUEUE}.`;

/** One per broker (Broker.replies): reply address -> the channel whose reply consumer it names. */
export class ReplyRegistry {
  private readonly targets = new Map<string, Session>();
  private lastId = 0;

  add(s: Session): string {
    const address = `${REPLY_PREFIX}${(++this.lastId).toString(36)}.${randomBytes(16).toString('base64url')}`;
    this.targets.set(address, s);
    return address;
  }

  remove(address: string): void {
    this.targets.delete(address);
  }

  get(address: string): Session | undefined {
    return this.targets.get(address);
  }
}

/** The channel's reply consumer, once it has one. */
export interface ReplyConsumer {
  readonly tag: string;
  readonly address: string;
}

/** basic.consume on amq.rabbitmq.reply-to; returns the consumer tag. Checks as rabbit_channel. */
export function consumeReplies(s: Session, tag: string, noAck: boolean): string {
  if (!noAck) throw ChannelError.preconditionFailed('reply consumer cannot acknowledge');
  if (s.reply !== null) throw ChannelError.preconditionFailed('reply consumer already set');
  const consumerTag = tag === '' ? generatedName('amq.ctag') : tag;
  s.reply = { tag: consumerTag, address: s.conn.services.replies.add(s) };
  return consumerTag;
}

/** basic.cancel of the reply consumer, or the channel going away: its address goes stale. */
export function stopReplies(s: Session): void {
  if (s.reply === null) return;
  s.conn.services.replies.remove(s.reply.address);
  s.reply = null;
}

/** queue.declare of a name starting with amq.rabbitmq.reply-to: does it answer declare-ok? */
export function replyQueueExists(s: Session, name: string): boolean {
  return name === REPLY_QUEUE || s.conn.services.replies.get(name) !== undefined;
}

/**
 * A publish to the default exchange: hand it to the reply consumers its routing keys name,
 * each once (rabbit_exchange:route). The cost for every other publish is one startsWith.
 */
export function deliverReplies(from: Session, msg: Message): void {
  const keys = msg.routeKeys;
  if (keys === null) {
    if (msg.routingKey.startsWith(REPLY_PREFIX)) deliverReply(from, msg.routingKey, msg);
    return;
  }
  for (let i = 0; i < keys.length; i++) {
    if (keys[i]!.startsWith(REPLY_PREFIX) && keys.indexOf(keys[i]!) === i) deliverReply(from, keys[i]!, msg);
  }
}

/**
 * rabbit_channel's deliver_reply: basic.deliver with the exchange and routing key the message
 * was published with, and the channel's next delivery tag, which it does not use up (no ack
 * will ever name it).
 */
function deliverReply(from: Session, address: string, msg: Message): void {
  const to = from.conn.services.replies.get(address);
  if (to === undefined || !to.writable || !to.conn.running) return;
  writeDelivery(to.conn.out, to.id, to.reply!.tag, to.nextDeliveryTag(), false, msg);
  to.conn.scheduleFlush();
}
