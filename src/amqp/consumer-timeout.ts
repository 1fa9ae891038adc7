// RabbitMQ 3.10's consumer_timeout. rabbit_channel does not time each delivery: its periodic
// tick (channel_tick_interval, 60 s) looks at the oldest outstanding delivery of the channel
// (consumer or basic.get, whichever needs an ack) and, when it was sent more than
// consumer_timeout ms ago, closes the channel with 406 PRECONDITION_FAILED. A delivery is
// therefore refused between T and T + one tick after it was sent.
//
// Here: at most one timer per channel, armed by the first delivery that needs an ack and re-armed
// at each tick while any remain; a delivery records the time of its event-loop turn (turnClock),
// so the per-message cost is one branch and one field, no clock read, timer or closure.
import { ChannelError } from '../protocol/errors.js';

let turnNow = 0;
let stale = true;
function expire(): void { stale = true; }

/** Date.now() as of the first call in this event-loop turn (one clock read per turn). */
export function turnClock(): number {
  if (stale) {
    stale = false;
    turnNow = Date.now();
    setImmediate(expire);
  }
  return turnNow;
}

/** RabbitMQ's text, word for word (rabbit_channel:evaluate_consumer_timeout). */
export function ackTimeoutError(channel: number, timeoutMs: number): ChannelError {
  return ChannelError.preconditionFailed(
    `delivery acknowledgement on channel ${channel} timed out. Timeout value used: ${timeoutMs} ms. ` +
    'This timeout value can be configured, see consumers doc guide to learn more',
  );
}

/** What the check needs of a channel's session. */
export interface AckTimeoutSubject {
  readonly id: number;
  /** Outstanding deliveries; oldestAt is when the oldest was sent (-1: none). */
  readonly unacked: { readonly oldestAt: number };
}

/** The tick's verdict: the error to close the channel with, or null (tick again if `unacked` is not empty). */
export function checkAckTimeout(s: AckTimeoutSubject, timeoutMs: number, now = Date.now()): ChannelError | null {
  const at = s.unacked.oldestAt;
  return at >= 0 && at < now - timeoutMs ? ackTimeoutError(s.id, timeoutMs) : null;
}
