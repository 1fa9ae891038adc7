// Broker-side retry with backoff on classic queues (Warren's design, ../shared/SEED-PATTERNS.md
// (e)): LavinMQ's argument names, RabbitMQ quorum queues' counting, header and dead-letter reason.
// - x-delivery-limit (>= 0): a message is delivered at most limit + 1 times; the failure that
//   makes its count exceed the limit dead-letters it (reason delivery_limit) or drops it.
// - x-delayed-retry-min (ms, >= 1) switches backoff on: failed attempt k waits delay(k) before
//   it is ready again; x-delayed-retry-multiplier unset: linear min*k; 1: constant min;
//   m >= 2: exponential min*m^(k-1); x-delayed-retry-max caps one delay. Without a limit, the
//   limit is 20 once backoff is on.
// - A failed attempt is a nack/reject with requeue by the consumer. Requeues the broker makes
//   (channel or connection closed, basic.recover) count too, but are ready again at once.
// - x-delivery-count (long) = failed attempts so far, on every redelivery (absent on the first;
//   a publisher's own is removed on these queues).
// A waiting message is not ready (message_count leaves it out, later messages go first); when
// due it is ready again at its original position. The queue's one timer covers the waits.
import type { FieldValue } from '../../protocol/field-table.js';
import { DueHeap } from '../due-heap.js';
import { headerOf, withHeader, type Message } from '../message.js';
import type { Entry, Ready } from './ready-list.js';

export const DELIVERY_COUNT = 'x-delivery-count';
/** The limit when only x-delayed-retry-min is set (LavinMQ's default). */
export const DEFAULT_RETRY_LIMIT = 20;
/** No single wait is longer (the longest the timers here are asked to run, as x-delay's cap). */
const MAX_WAIT = 2 ** 32 - 1;

export interface RetryPolicy {
  /** x-delivery-limit, or DEFAULT_RETRY_LIMIT with backoff, or Infinity (counting only). */
  readonly limit: number;
  /** x-delayed-retry-min in ms; 0: requeues are immediate. */
  readonly min: number;
  /** x-delayed-retry-multiplier; 0 when unset (linear). */
  readonly multiplier: number;
  /** x-delayed-retry-max in ms; Infinity when unset. */
  readonly max: number;
}

/** The wait before failed attempt `k` (1, 2, ...) is ready again, in ms (0: at once). */
export function retryDelay(p: RetryPolicy, k: number): number {
  if (p.min === 0) return 0;
  const raw = p.multiplier === 0 ? p.min * k : p.min * p.multiplier ** (k - 1);
  return Math.min(raw, p.max, MAX_WAIT);
}

export type Failure = 'dead' | 'waiting' | 'ready';

/** The retry side of one queue: its policy and the messages waiting out a backoff. */
export class Retry {
  readonly waiting = new DueHeap<Entry>();
  /** Body bytes of the waiting messages (paging.ts pages them out past a threshold). */
  waitingBytes = 0;

  constructor(readonly policy: RetryPolicy) {}

  /**
   * Attempt e.attempts + 1 failed: 'dead' when that exceeds the limit, else 'waiting' (held
   * here until its due time, e.retryAt) or 'ready' (requeue now: broker-made, or no backoff).
   */
  fail(e: Entry, byClient: boolean, now: number): Failure {
    e.attempts++;
    if (e.attempts > this.policy.limit) return 'dead';
    const wait = byClient ? retryDelay(this.policy, e.attempts) : 0;
    if (wait === 0) {
      e.retryAt = 0;
      return 'ready';
    }
    e.retryAt = now + wait;
    this.wait(e);
    return 'waiting';
  }

  /** Startup: a stored message still waiting out its backoff. */
  wait(e: Entry): void {
    this.waiting.push(e.retryAt, e.seq, e);
    this.waitingBytes += e.size;
  }

  /** Every waiting message goes (purge). */
  clear(): void {
    this.waiting.clear();
    this.waitingBytes = 0;
  }

  /** Moves every entry due by `now` back into `ready`, at its position; returns how many. */
  release(now: number, ready: Ready): number {
    let n = 0;
    while (this.waiting.nextDue <= now) {
      const e = this.waiting.pop()!;
      e.retryAt = 0;
      this.waitingBytes -= e.size;
      ready.insertBySeq(e);
      n++;
    }
    return n;
  }

  get nextDue(): number { return this.waiting.nextDue; }
}

const count = (n: number): FieldValue => ({ type: 'l', value: n });

/** The message as this delivery shows it: x-delivery-count = failed attempts, absent before the first. */
export function asDelivered(msg: Message, attempts: number): Message {
  if (attempts > 0) return withHeader(msg, DELIVERY_COUNT, count(attempts));
  return headerOf(msg, DELIVERY_COUNT) === undefined ? msg : withHeader(msg, DELIVERY_COUNT, undefined);
}
