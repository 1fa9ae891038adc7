// Queue-level deduplication (`x-message-deduplication: true`), as the
// rabbitmq-message-deduplication plugin documents it: a message whose x-deduplication-header
// value equals that of a message now in the queue (ready, unacked, or waiting out a retry) is
// discarded (its publisher is acked). The value is free again once its message leaves the
// queue for good: ack, no-ack delivery, reject/nack without requeue, drop-head, expiry, the
// delivery limit, purge. A requeue keeps it.
import { dedupKey } from '../dedup-key.js';
import type { Message } from '../message.js';

export class QueueDedup {
  private readonly keys = new Set<string>();
  /** seq -> key, for the messages that have one. */
  private readonly bySeq = new Map<number, string>();

  /** true: a duplicate of a message in the queue (discard it); else its key is taken by `seq`. */
  duplicate(msg: Message, seq: number): boolean {
    const k = dedupKey(msg);
    if (k === null) return false;
    if (this.keys.has(k)) return true;
    this.keys.add(k);
    this.bySeq.set(seq, k);
    return false;
  }

  /** The message numbered `seq` left the queue: its key is free. */
  left(seq: number): void {
    const k = this.bySeq.get(seq);
    if (k === undefined) return;
    this.bySeq.delete(seq);
    this.keys.delete(k);
  }

  /** Startup: a recovered message holds its key again. */
  restore(msg: Message, seq: number): void {
    this.duplicate(msg, seq);
  }
}
