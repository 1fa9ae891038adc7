// Stand-ins for what drives a classic queue in unit tests: a consumer owner that records every
// delivery, basic.get through the queue's GetOwner interface, and a fake Actor. A delivery
// handle is the queue's entry behind an opaque type; these tests of the classic queue look
// behind it (entryOf) to check sequence numbers and bodies.
import type { Actor } from '../../src/core/actor.js';
import type { ClassicQueue } from '../../src/core/queue/classic.js';
import type { Consumer } from '../../src/core/queue/consumer.js';
import type { Entry } from '../../src/core/queue/ready-list.js';
import type { ConsumerOwner, DeliveryHandle, GetOwner, MessageQueue } from '../../src/core/queue/types.js';

export const entryOf = (h: DeliveryHandle): Entry => h as unknown as Entry;
export const handleOf = (e: Entry): DeliveryHandle => e as unknown as DeliveryHandle;

/** Records deliveries; `room` is how many unacked messages each ack-mode consumer may hold. */
export class Owner implements ConsumerOwner {
  got: { c: Consumer; e: Entry }[] = [];
  room = Infinity;
  canTake(c: Consumer) { return c.noAck || c.unacked < this.room; }
  deliver(c: Consumer, _q: MessageQueue, h: DeliveryHandle) { this.got.push({ c, e: entryOf(h) }); }
  cancelledByQueue() {}
  /** The entries delivered, in order. */
  get entries(): Entry[] { return this.got.map((g) => g.e); }
}

/** basic.get: the head entry, or undefined when the queue has none ready. */
export function take(q: ClassicQueue, noAck: boolean): Entry | undefined {
  let got: Entry | undefined;
  const to: GetOwner = { gotMessage: (_q, h) => { got = entryOf(h); } };
  q.get(to, noAck);
  return got;
}

/** A connection's Actor, for exclusive-queue ownership in vhost tests. */
export function fakeActor(name = 'test'): Actor {
  return { user: { name: 'guest', tags: [] }, vhost: '/', connection: name, access: null };
}
