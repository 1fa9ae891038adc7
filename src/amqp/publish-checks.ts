// What rabbit_channel checks of a published message after its exchange, in its order and with
// its 406 texts: direct reply-to's reply_to, user_id, expiration, then (rabbit_basic:message)
// the CC and BCC headers (core/header-routes.ts) and delivery_mode. BCC is cut out of the
// headers, as RabbitMQ never delivers it, but still routes: the keys go into Message.routeKeys.
//
// The properties stay raw bytes and a field is read only when its flag bit is set; headers
// are walked only when their bytes contain a CC or BCC key. A message that sets none of these
// fields costs one flag test.
import { erlPrettyAfter } from '../protocol/erlang-pretty.js';
import { ChannelError } from '../protocol/errors.js';
import { parseExpiration } from '../core/expiration.js';
import { publishedHeaderRoutes } from '../core/header-routes.js';
import { Message } from '../core/message.js';
import { P, propertyAt, propertyFlags, shortstrAt, spliceBytes } from '../core/properties.js';
import { REPLY_QUEUE } from './direct-reply-to.js';
import type { Session } from './session.js';

const CHECKED = P.headers | P.deliveryMode | P.replyTo | P.expiration | P.userId;
const REPLY_QUEUE_BYTES = Buffer.from(REPLY_QUEUE, 'latin1');

/** The message to route, or a ChannelError (406) as RabbitMQ would close the channel with. */
export function checkedMessage(s: Session, exchange: string, routingKey: string, raw: Buffer, body: Buffer): Message {
  const flags = propertyFlags(raw);
  if ((flags & CHECKED) === 0) return new Message(exchange, routingKey, raw, body);
  let props = raw;
  if (flags & P.replyTo) props = fastReplyTo(s, props);
  if (flags & P.userId) checkUserId(s, props);
  if (flags & P.expiration) checkExpiration(props);
  let keys: string[] | null = null;
  if (flags & P.headers) {
    const found = publishedHeaderRoutes(props, routingKey);
    if (found !== null) [props, keys] = found;
  }
  if (flags & P.deliveryMode) {
    const mode = props[propertyAt(props, P.deliveryMode)];
    if (mode !== 1 && mode !== 2) throw ChannelError.preconditionFailed(`invalid message: {delivery_mode_unknown,${mode}}`);
  }
  const msg = new Message(exchange, routingKey, props, body);
  msg.routeKeys = keys;
  return msg;
}

/** rabbit_channel:maybe_set_fast_reply_to: reply_to "amq.rabbitmq.reply-to" names this channel's reply consumer. */
function fastReplyTo(s: Session, props: Buffer): Buffer {
  const at = propertyAt(props, P.replyTo);
  const len = props[at];
  if (len !== REPLY_QUEUE_BYTES.length || props.compare(REPLY_QUEUE_BYTES, 0, len, at + 1, at + 1 + len) !== 0) return props;
  if (s.reply === null) throw ChannelError.preconditionFailed('fast reply consumer does not exist');
  const value = Buffer.from(`\0${s.reply.address}`, 'latin1');
  value[0] = value.length - 1;
  return spliceBytes(props, at, at + 1 + len, value);
}

/** user_id must be the user who logged in, unless that user has the impersonator tag. */
function checkUserId(s: Session, props: Buffer): void {
  const claimed = shortstrAt(props, P.userId).toString('utf8');
  const user = s.conn.actor.user;
  if (claimed === user.name || user.tags.includes('impersonator')) return;
  throw ChannelError.preconditionFailed(`user_id property set to '${claimed}' but authenticated user was '${user.name}'`);
}

/** "invalid expiration '~s': ~p", laid out by Erlang's pretty printer (long values wrap). */
function checkExpiration(props: Buffer): void {
  const value = shortstrAt(props, P.expiration);
  const ms = parseExpiration(value);
  if (typeof ms === 'number') return;
  const before = `invalid expiration '${value.toString('latin1')}': `;
  const text = before + erlPrettyAfter(before, ms);
  throw ChannelError.preconditionFailed(Buffer.from(text, 'latin1').toString('utf8'));
}
