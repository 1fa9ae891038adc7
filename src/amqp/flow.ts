// Publisher flow control: a publisher that feeds a queue whose consumers are not keeping up is
// no longer read from until the queue drains (RabbitMQ's credit flow has the same effect).
//
// Why: Node reads a busy publisher's socket many times per event-loop turn, so without this a
// fast publisher starves the acks of the queue's consumers, the queue grows without bound and
// latency with it. A queue is congested when it has consumers and more than HIGH ready
// messages; its publishers are paused until it is below LOW. Queues without consumers are not
// throttled here: a backlog is what they are for (the memory watermark bounds those).
import type { Queue } from '../core/queue/queue.js';
import type { Connection } from './connection.js';

const HIGH = 20_000;
const LOW = 10_000;
/** Safety net for drains that happen without an ack on this node (purge, delete, cancel). */
const RECHECK_MS = 20;

const publishersOf = new WeakMap<Queue, Set<Connection>>();

export function isCongested(q: Queue): boolean {
  return q.consumerCount > 0 && q.messageCount > HIGH;
}

/** The connection just published into a congested queue: stop reading from it. */
export function throttle(conn: Connection, q: Queue): void {
  let set = publishersOf.get(q);
  if (!set) publishersOf.set(q, (set = new Set()));
  set.add(conn);
  conn.throttledBy.add(q);
  conn.pauseReading();
  if (!conn.flowTimer) conn.flowTimer = setTimeout(recheckConnection, RECHECK_MS, conn);
}

/** A queue may have drained: resume its publishers that nothing else holds back. */
export function recheck(q: Queue): void {
  const set = publishersOf.get(q);
  if (!set || (!q.deleted && q.messageCount > LOW && q.consumerCount > 0)) return;
  publishersOf.delete(q);
  for (const conn of set) {
    conn.throttledBy.delete(q);
    if (conn.throttledBy.size === 0) release(conn);
  }
}

function recheckConnection(conn: Connection): void {
  conn.flowTimer = null;
  for (const q of [...conn.throttledBy]) recheck(q);
  if (conn.throttledBy.size > 0 && conn.state !== 'closed') {
    conn.flowTimer = setTimeout(recheckConnection, RECHECK_MS, conn);
  }
}

function release(conn: Connection): void {
  if (conn.flowTimer) clearTimeout(conn.flowTimer);
  conn.flowTimer = null;
  conn.resumeReading();
}

/** The connection is gone: forget it. */
export function forget(conn: Connection): void {
  for (const q of conn.throttledBy) publishersOf.get(q)?.delete(conn);
  conn.throttledBy.clear();
  if (conn.flowTimer) clearTimeout(conn.flowTimer);
  conn.flowTimer = null;
}
