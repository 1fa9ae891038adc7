// Direct reply-to, as RabbitMQ 3.x does it: RPC replies without a reply queue.
//
// A requester consumes from the pseudo-queue `amq.rabbitmq.reply-to` (no-ack only, one such
// consumer per channel) and publishes requests with reply_to = `amq.rabbitmq.reply-to`; the
// broker rewrites that to an address naming the requester's channel. A reply published to the
// default exchange with that address as routing key goes straight to the requester's channel,
// bypassing queues. A reply to an address nobody holds any more is unroutable (dropped, or
// returned when mandatory). Addresses carry 144 random bits, so they cannot be guessed.
import { randomBytes } from 'node:crypto';
import { ChannelError } from '../protocol/errors.js';
import { ByteWriter } from '../protocol/byte-writer.js';
import { writeBasicDeliver, writeBasicProperties } from '../protocol/generated/amqp.js';
import { Message } from '../core/message.js';
import { generatedName, queueRes } from '../core/names.js';
import type { Session } from './session.js';

export const REPLY_QUEUE = 'amq.rabbitmq.reply-to';
const PREFIX = `${REPLY_QUEUE}.`;
const REPLY_TO_BIT = 0x02; // byte 0 of the property flags

const writer = new ByteWriter(64 * 1024, 1024);

/** One per broker: reply address -> the channel whose reply consumer it names. */
export class ReplyRegistry {
  private readonly targets = new Map<string, Session>();

  add(s: Session): string {
    const address = `${PREFIX}${randomBytes(18).toString('base64url')}`;
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

/** Could this routing key (on the default exchange) be a reply address? Cheap enough for every publish. */
export function isReplyAddress(routingKey: string): boolean {
  return routingKey.length > PREFIX.length && routingKey.startsWith(PREFIX);
}

/** basic.consume on amq.rabbitmq.reply-to. Returns the consumer tag. */
export function consumeReplies(s: Session, tag: string, noAck: boolean): string {
  if (!noAck) throw ChannelError.preconditionFailed('reply consumer cannot acknowledge');
  if (s.reply !== null) throw ChannelError.preconditionFailed('reply consumer already set');
  const consumerTag = tag === '' ? generatedName('amq.ctag') : tag;
  s.reply = { tag: consumerTag, address: s.conn.broker.replies.add(s) };
  return consumerTag;
}

/** basic.cancel of the reply consumer, or the channel going away: later replies are unroutable. */
export function stopReplies(s: Session): void {
  if (s.reply === null) return;
  s.conn.broker.replies.remove(s.reply.address);
  s.reply = null;
}

/**
 * queue.declare of the pseudo-queue, or (as RabbitMQ allows, to ask whether a requester is
 * still there) of a live reply address: declare-ok with 0 messages and 1 consumer. Null when
 * `name` is neither, so the ordinary declare applies; a dead address is 404.
 */
export function declareReplyQueue(s: Session, name: string): string | null {
  if (name === REPLY_QUEUE) return name;
  if (!isReplyAddress(name)) return null;
  if (s.conn.broker.replies.get(name) === undefined) throw ChannelError.notFound(`no ${queueRes(name, s.vhost.name)}`);
  return name;
}

/**
 * A publish whose reply_to is amq.rabbitmq.reply-to gets the channel's reply address instead
 * (rabbit_channel:maybe_set_fast_reply_to); without a reply consumer it is refused.
 */
export function withReplyAddress(s: Session, msg: Message): Message {
  const p = msg.properties;
  if (p.length < 2 || (p[0] & REPLY_TO_BIT) === 0) return msg;
  const props = msg.props;
  if (props.replyTo !== REPLY_QUEUE) return msg;
  if (s.reply === null) throw ChannelError.preconditionFailed('fast reply consumer does not exist');
  writeBasicProperties(writer, { ...props, replyTo: s.reply.address });
  return new Message(msg.exchange, msg.routingKey, Buffer.concat(writer.take()), msg.body);
}

/** A reply published to the default exchange: delivered to its requester, or false if none. */
export function deliverReply(from: Session, msg: Message): boolean {
  const to = from.conn.broker.replies.get(msg.routingKey);
  if (to === undefined || !to.writable) return false;
  const out = to.conn.out;
  const at = out.beginFrame(1, to.id);
  writeBasicDeliver(out, to.reply!.tag, to.nextDeliveryTag(), false, msg.exchange, msg.routingKey);
  out.endFrame(at);
  out.content(to.id, msg.properties, msg.body);
  to.conn.scheduleFlush();
  return true;
}
