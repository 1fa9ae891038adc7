// The checks rabbit_channel makes on basic.publish once the exchange is known, in its order:
// user_id must be the user who logged in (unless tagged impersonator), expiration must parse
// (rabbit_basic:parse_expiration), CC and BCC must be arrays; then BCC is removed from what
// queues keep. All 406 PRECONDITION_FAILED channel errors with RabbitMQ's texts. Nearly every
// publish passes on a look at the raw property flags, without decoding anything.
import { ChannelError } from '../protocol/errors.js';
import { erlString, erlTaggedPair } from '../protocol/erlang-format.js';
import { headerRoutesError, mayHaveHeaderRoutes, withoutBcc } from '../core/header-routes.js';
import type { Message } from '../core/message.js';
import type { User } from '../core/users.js';

// Property flag bits: byte 0 holds bits 15..8, byte 1 bits 7..0.
const EXPIRATION_BIT = 0x01; // byte 0
const USER_ID_BIT = 0x10; // byte 1

/** rabbit_misc:check_expiry: ten years in milliseconds. */
const MAX_EXPIRY = 315_360_000_000n;

export function checkPublish(msg: Message, user: User): Message {
  const p = msg.properties;
  if (p.length < 2) return msg;
  const routes = mayHaveHeaderRoutes(msg);
  if ((p[0] & EXPIRATION_BIT) === 0 && (p[1] & USER_ID_BIT) === 0 && !routes) return msg;
  const props = msg.props;
  if (props.userId !== undefined && props.userId !== user.name && !user.tags.includes('impersonator')) {
    throw ChannelError.preconditionFailed(`user_id property set to '${props.userId}' but authenticated user was '${user.name}'`);
  }
  if (props.expiration !== undefined) {
    const problem = expirationError(props.expiration);
    if (problem !== null) throw ChannelError.preconditionFailed(problem);
  }
  if (!routes || props.headers === undefined) return msg;
  const bad = headerRoutesError(props.headers);
  if (bad !== null) throw ChannelError.preconditionFailed(`invalid message: ${bad}`);
  return withoutBcc(msg);
}

/**
 * rabbit_channel:check_expiration_header: "invalid expiration '<value>': <reason>", the reason
 * as string:to_integer and check_expiry give it (no_integer, {leftover_string,"..."},
 * {value_negative,N}, {value_too_large,N}), or null for a valid expiration.
 */
export function expirationError(expiration: string): string | null {
  const raw = Buffer.from(expiration, 'utf8');
  const text = raw.toString('latin1'); // Erlang sees the bytes, one character each
  const prefix = `invalid expiration '${text}': `;
  const m = /^([+-]?\d+)([^]*)$/.exec(text);
  if (m === null) return `invalid expiration '${expiration}': no_integer`;
  const col = prefix.length - prefix.lastIndexOf('\n') - 1;
  let reason: string | null = null;
  if (m[2] !== '') reason = erlTaggedPair('leftover_string', erlString(Buffer.from(m[2], 'latin1')), col);
  else {
    const n = BigInt(m[1]);
    if (n < 0n) reason = erlTaggedPair('value_negative', String(n), col);
    else if (n > MAX_EXPIRY) reason = erlTaggedPair('value_too_large', String(n), col);
  }
  return reason === null ? null : `invalid expiration '${expiration}': ${reason}`;
}
