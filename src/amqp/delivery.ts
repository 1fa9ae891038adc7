// The one encoder for a message going out: basic.deliver (to a consumer, direct reply-to
// included), basic.get-ok and basic.return, each a method frame followed by the content header
// and body frames, appended to the connection's FrameWriter for this turn's single write. The
// properties go out as the raw bytes the publisher sent and the body as the same Buffer slice,
// never copied here.
import {
  FRAME_METHOD, writeBasicGetOk, writeBasicReturn,
} from '../protocol/generated/amqp.js';
import type { Message } from '../core/message.js';
import type { FrameWriter } from './frame-writer.js';

/** basic.deliver + content. */
export function writeDelivery(
  out: FrameWriter, channel: number, consumerTag: string, deliveryTag: number, redelivered: boolean, msg: Message,
): void {
  out.deliver(channel, consumerTag, deliveryTag, redelivered, msg.exchange, msg.routingKey, msg.properties, msg.body);
}

/** basic.get-ok + content; `messageCount` is what is left in the queue. */
export function writeGetOk(
  out: FrameWriter, channel: number, deliveryTag: number, redelivered: boolean, msg: Message, messageCount: number,
): void {
  const at = out.beginFrame(FRAME_METHOD, channel);
  writeBasicGetOk(out, deliveryTag, redelivered, msg.exchange, msg.routingKey, messageCount);
  out.endFrame(at);
  out.content(channel, msg.properties, msg.body);
}

/** basic.return + content (312 NO_ROUTE for an unroutable mandatory publish). */
export function writeReturn(out: FrameWriter, channel: number, replyCode: number, replyText: string, msg: Message): void {
  const at = out.beginFrame(FRAME_METHOD, channel);
  writeBasicReturn(out, replyCode, replyText, msg.exchange, msg.routingKey);
  out.endFrame(at);
  out.content(channel, msg.properties, msg.body);
}
