// What one publish did, as core's one publish entry point (VHost.publish) reports it. AMQP
// basic.publish, tx.commit and dead-lettering go through that entry point (HTTP publish,
// delayed and retried messages will too), so routing, enqueueing and the per-exchange and
// per-queue statistics happen in one place and callers only read the outcome.
//
// A caller keeps one PublishResult and passes it to every publish (a channel has one): the
// entry point resets it, so the per-message path allocates nothing. Read it before the next
// publish with the same object.
import type { MessageQueue } from './queue/types.js';

export class PublishResult {
  /** The queues the message was routed to, each once, refusing ones included. */
  readonly queues: MessageQueue[] = [];
  /** How many of them refused it (x-overflow reject-publish / reject-publish-dlx, queue full). */
  refused = 0;
  /** A persistent message was written to the store: a publisher confirm waits for the commit. */
  stored = false;
  /**
   * The exchange kept it to route later (x-delayed-message): not unroutable, so a mandatory
   * publish is not returned (where it will go is not known yet).
   */
  held = false;

  /** No queue took or refused it: mandatory publishes are returned (312 NO_ROUTE). */
  get unroutable(): boolean {
    return this.queues.length === 0 && !this.held;
  }

  /** Every queue it reached took it (a publisher confirm is an ack, not a nack). */
  get accepted(): boolean {
    return this.refused === 0;
  }

  reset(): this {
    this.queues.length = 0;
    this.refused = 0;
    this.stored = false;
    this.held = false;
    return this;
  }
}
