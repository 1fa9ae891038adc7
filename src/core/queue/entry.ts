// One message in a queue's ready list (or unacked, or waiting out a retry backoff): the message
// or where its body is, and what the queue needs to know without the body.
import type { Message } from '../message.js';

export interface Entry {
  /**
   * The message, or null while its body is only in the store (a long durable queue pages
   * persistent messages out; the queue reads them back before handing them over).
   */
  msg: Message | null;
  /**
   * While a transient body is in the queue's page file (paging.ts): its segment, else -1; and
   * the record's offset and length there. Plain numbers, so a paged entry costs no Buffer.
   */
  pageSeg: number;
  pageOff: number;
  pageLen: number;
  /** Enqueue order within the queue; requeue restores it. */
  readonly seq: number;
  redelivered: boolean;
  /** When it expires (ms since the epoch), or 0 for never. Set at enqueue (message/queue TTL). */
  readonly expiresAt: number;
  /** Body size, for x-max-length-bytes (known without the body). */
  readonly size: number;
  /** The message's priority property (0 when absent). */
  readonly priority: number;
  /** Written to the store: acks, drops and no-ack deliveries remove it there too. */
  readonly persisted: boolean;
  /** Failed delivery attempts so far (retry.ts; counted only on queues with retry arguments). */
  attempts: number;
  /** While waiting out a retry backoff: when it is ready again (ms since the epoch), else 0. */
  retryAt: number;
}

/** A new entry; every entry is made here, so they all share one shape (hidden class). */
export function newEntry(msg: Message | null, seq: number, redelivered: boolean, expiresAt: number, size: number, priority: number,
  persisted: boolean, attempts: number, retryAt: number): Entry {
  return { msg, pageSeg: -1, pageOff: 0, pageLen: 0, seq, redelivered, expiresAt, size, priority, persisted, attempts, retryAt };
}

