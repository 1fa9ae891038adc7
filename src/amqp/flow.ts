// Publisher flow control: a publisher that feeds a queue whose consumers are not keeping up is
// no longer read from until the queue drains (RabbitMQ's credit flow has the same effect).
//
// Why: Node reads a busy publisher's socket many times per event-loop turn, so without this a
// fast publisher starves the acks of the queue's consumers, the queue grows without bound and
// latency with it. A queue is congested when it has consumers and more than HIGH ready
// messages; its publishers are paused until it is below LOW. Queues without consumers are not
// throttled here: a backlog is what they are for (the memory watermark bounds those).
import type { MessageQueue } from '../core/queue/types.js';
import type { ReadGate } from './read-gate.js';

const HIGH = 20_000;
const LOW = 10_000;
/** Safety net for drains that happen without an ack on this node (purge, delete, cancel). */
const RECHECK_MS = 20;

const publishersOf = new WeakMap<MessageQueue, Set<ReadGate>>();

export function isCongested(q: MessageQueue): boolean {
  return q.consumerCount > 0 && q.messageCount > HIGH;
}

/** The connection just published into a congested queue: stop reading from it. */
export function throttle(gate: ReadGate, q: MessageQueue): void {
  let set = publishersOf.get(q);
  if (!set) publishersOf.set(q, (set = new Set()));
  set.add(gate);
  gate.throttledBy.add(q);
  gate.pause();
  if (!gate.flowTimer) gate.flowTimer = setTimeout(recheckGate, RECHECK_MS, gate);
}

/** A queue may have drained: resume its publishers that nothing else holds back. */
export function recheck(q: MessageQueue): void {
  const set = publishersOf.get(q);
  if (!set || (!q.deleted && q.messageCount > LOW && q.consumerCount > 0)) return;
  publishersOf.delete(q);
  for (const gate of set) {
    gate.throttledBy.delete(q);
    if (gate.throttledBy.size === 0) release(gate);
  }
}

function recheckGate(gate: ReadGate): void {
  gate.flowTimer = null;
  for (const q of [...gate.throttledBy]) recheck(q);
  if (gate.throttledBy.size > 0) gate.flowTimer = setTimeout(recheckGate, RECHECK_MS, gate);
}

function release(gate: ReadGate): void {
  if (gate.flowTimer) clearTimeout(gate.flowTimer);
  gate.flowTimer = null;
  gate.resume();
}

/** The connection is gone: forget it. */
export function forget(gate: ReadGate): void {
  for (const q of gate.throttledBy) publishersOf.get(q)?.delete(gate);
  gate.throttledBy.clear();
  if (gate.flowTimer) clearTimeout(gate.flowTimer);
  gate.flowTimer = null;
}
