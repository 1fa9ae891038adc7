// What rabbit_channel checks of a published message after its exchange, in its order and with
// its 406 texts: user_id, expiration, then (rabbit_basic:message) the CC and BCC headers
// (core/header-routes.ts) and delivery_mode. BCC is cut out of the headers, as RabbitMQ never
// delivers it, but still routes: the keys go into Message.routeKeys.
//
// The properties stay raw bytes and a field is read only when its flag bit is set; headers
// are walked only when their bytes contain a CC or BCC key. A message that sets none of these
// fields costs one flag test.
import { erlPrettyAfter } from '../protocol/erlang-pretty.js';
import { ChannelError } from '../protocol/errors.js';
import { parseExpiration } from '../core/expiration.js';
import { publishedHeaderRoutes } from '../core/header-routes.js';
import { Message } from '../core/message.js';
import { P, propertyAt, propertyFlags, shortstrAt } from '../core/properties.js';
import type { Session } from './session.js';

const CHECKED = P.headers | P.deliveryMode | P.expiration | P.userId;

/** The message to route, or a ChannelError (406) as RabbitMQ would close the channel with. */
export function checkedMessage(s: Session, exchange: string, routingKey: string, raw: Buffer, body: Buffer): Message {
  const flags = propertyFlags(raw);
  if ((flags & CHECKED) === 0) return new Message(exchange, routingKey, raw, body);
  let props = raw;
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

/** user_id must be the user who logged in, unless that user has the impersonator tag. */
function checkUserId(s: Session, props: Buffer): void {
  const claimed = shortstrAt(props, P.userId).toString('utf8');
  const user = s.conn.user!;
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
