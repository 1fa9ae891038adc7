// Persistent messages of the store's durable queues. Adds wait in memory (queue-state.ts) until
// the turn's commit (group-commit.ts), so an add removed in the same turn never touches SQLite;
// removes, updates and the delivered watermark go into the same transaction; reads see adds not
// yet committed.
import type Database from 'better-sqlite3';
import type { GroupCommit } from './group-commit.js';
import type { PatternStore } from './patterns.js';
import { QueueState } from './queue-state.js';
import type { IndexEntry, MessageRecord, MessageUpdate, StoredMessage } from './types.js';

/** The statements the journal runs itself (a subset of statements.ts, typed here so declarations can name it). */
export interface JournalStatements {
  purgeQueue: Database.Statement;
  readMessage: Database.Statement;
  readRange: Database.Statement;
  setProperties: Database.Statement;
  setExpiresAt: Database.Statement;
  setPriority: Database.Statement;
  setDeathCount: Database.Statement;
  index: Database.Statement;
  maxSeq: Database.Statement;
}

export class MessageJournal {
  /** Message adds cancelled by a remove (or purge/delete) before they were written. */
  cancelledAdds = 0;
  /** vhost -> queue name -> state; nested maps so the per-message path builds no key strings. */
  private readonly queues = new Map<string, Map<string, QueueState>>();

  constructor(
    private readonly st: JournalStatements,
    private readonly gc: GroupCommit,
    private readonly patterns: PatternStore,
    /** The database file, for messages. */
    private readonly file: string,
  ) {}

  /** A durable queue saved or found at open: its messages can be journaled from now on. */
  track(vhost: string, name: string, id: number, delivered: number): void {
    const qs = this.vhostQueues(vhost);
    if (!qs.has(name)) qs.set(name, new QueueState(id, delivered));
  }

  /** The vhost was deleted: every queue in it is forgotten. */
  forgetVhost(vhost: string): void {
    for (const q of [...(this.queues.get(vhost)?.keys() ?? [])]) this.forget(vhost, q);
    this.queues.delete(vhost);
  }

  private vhostQueues(vhost: string): Map<string, QueueState> {
    let m = this.queues.get(vhost);
    if (m === undefined) this.queues.set(vhost, (m = new Map()));
    return m;
  }

  private queue(vhost: string, name: string): QueueState | undefined {
    return this.queues.get(vhost)?.get(name);
  }

  /** The queue was deleted: its pending adds are dropped, its state is gone. */
  forget(vhost: string, name: string): QueueState | undefined {
    const q = this.queue(vhost, name);
    if (q !== undefined) {
      q.deleted = true;
      this.cancelledAdds += q.clearPending();
      this.queues.get(vhost)!.delete(name);
    }
    return q;
  }

  private requireQueue(vhost: string, name: string): QueueState {
    const q = this.queue(vhost, name);
    if (q === undefined) throw new Error(`store: queue '${name}' in vhost '${vhost}' was not saved with saveQueue`);
    return q;
  }

  /**
   * Adds a persistent message to a saved durable queue. The record is kept by reference until
   * the commit: do not mutate it (or its Buffers) afterwards.
   */
  addMessage(vhost: string, queue: string, rec: MessageRecord): void {
    if (this.gc.closed) throw new Error(`store ${this.file} is closed`);
    const q = this.requireQueue(vhost, queue);
    q.push(rec);
    this.gc.markDirty(q);
  }

  /** Removes a message (ack, expiry, dead-lettering away, length-limit drop). */
  removeMessage(vhost: string, queue: string, seq: number): void {
    const q = this.queue(vhost, queue);
    if (q === undefined) return; // queue deleted already: its messages went with it
    const i = q.find(seq);
    if (i >= 0) {
      q.pendRec[i] = null;
      this.cancelledAdds++;
      return;
    }
    q.pendDel.push(seq);
    this.gc.markDirty(q);
  }

  updateMessage(vhost: string, queue: string, seq: number, u: MessageUpdate): void {
    const q = this.queue(vhost, queue);
    if (q === undefined) return;
    const i = q.find(seq);
    if (i >= 0) {
      const r = q.pendRec[i]!;
      q.pendRec[i] = {
        ...r,
        properties: u.properties ?? r.properties,
        expiresAt: u.expiresAt !== undefined ? u.expiresAt : r.expiresAt,
        priority: u.priority ?? r.priority,
        deathCount: u.deathCount ?? r.deathCount,
      };
      return;
    }
    const st = this.write();
    if (u.properties !== undefined) st.setProperties.run(u.properties, q.id, seq);
    if (u.expiresAt !== undefined) st.setExpiresAt.run(u.expiresAt, q.id, seq);
    if (u.priority !== undefined) st.setPriority.run(u.priority, q.id, seq);
    if (u.deathCount !== undefined) st.setDeathCount.run(u.deathCount, q.id, seq);
  }

  /** A message's failed attempts and when it is due again (null: ready now); see patterns.ts. */
  setRetry(vhost: string, queue: string, seq: number, count: number, retryAt: number | null): void {
    const q = this.queue(vhost, queue);
    if (q === undefined) return;
    const i = q.find(seq);
    if (i >= 0) q.pendRec[i] = { ...q.pendRec[i]!, deliveryCount: count, retryAt };
    else this.patterns.setRetry(q.id, seq, count, retryAt);
  }

  /** Recovery: the queue's messages with failed attempts (commits pending writes first). */
  forEachRetry(vhost: string, queue: string, fn: (seq: number, count: number, retryAt: number | null) => void): void {
    const q = this.queue(vhost, queue);
    if (q === undefined) return;
    if (this.gc.hasWrites) this.gc.flush();
    this.patterns.forEachRetry(q.id, fn);
  }

  /** Drops every message of the queue (queue.purge); the queue itself stays. */
  purgeQueue(vhost: string, queue: string): void {
    const q = this.queue(vhost, queue);
    if (q === undefined) return;
    this.cancelledAdds += q.clearPending();
    this.write().purgeQueue.run(q.id);
  }

  /**
   * Raises the queue's delivered watermark: after a crash, messages with seq <= it come back
   * with redelivered=true. Written once per queue per commit, however many deliveries.
   */
  markDelivered(vhost: string, queue: string, seqUpTo: number): void {
    if (this.gc.closed) throw new Error(`store ${this.file} is closed`);
    const q = this.queue(vhost, queue);
    if (q === undefined || seqUpTo <= q.deliveredPending) return;
    q.deliveredPending = seqUpTo;
    this.gc.markDirty(q);
  }

  /** The message's stored content, read when it is about to be delivered. */
  readMessage(vhost: string, queue: string, seq: number): StoredMessage | undefined {
    const q = this.queue(vhost, queue);
    if (q === undefined) return undefined;
    const i = q.find(seq);
    if (i >= 0) {
      return stored(q.pendRec[i]!);
    }
    return this.st.readMessage.get(q.id, seq) as StoredMessage | undefined;
  }

  /**
   * The stored messages with from <= seq <= to, ascending (one query: a queue reading back a
   * run of paged-out bodies). Includes adds not yet committed.
   */
  readRange(vhost: string, queue: string, from: number, to: number, fn: (seq: number, m: StoredMessage) => void): void {
    const q = this.queue(vhost, queue);
    if (q === undefined) return;
    const rows = this.st.readRange.all(q.id, from, to) as (StoredMessage & { seq: number })[];
    const ps = q.pendSeq;
    const n = ps.length;
    let pending = false;
    // Usually nothing pending is in range: pendSeq ascending makes that two comparisons.
    if (n > 0 && !(q.pendSorted && (ps[0]! > to || ps[n - 1]! < from))) {
      for (let i = 0; i < n; i++) {
        const r = q.pendRec[i];
        if (r === null || r === undefined || ps[i]! < from || ps[i]! > to) continue;
        pending = true;
        rows.push({ ...stored(r), seq: r.seq });
      }
    }
    if (pending) rows.sort((a, b) => a.seq - b.seq);
    for (const r of rows) fn(r.seq, r);
  }

  /**
   * Recovery: calls fn for every stored message of the queue in seq order, without reading
   * bodies or building objects. fn must not call back into the store. Commits pending writes
   * first, so call it at startup, before the queue takes traffic.
   */
  forEachIndexEntry(
    vhost: string,
    queue: string,
    fn: (seq: number, size: number, expiresAt: number | null, priority: number, redelivered: boolean) => void,
  ): void {
    const q = this.queue(vhost, queue);
    if (q === undefined) return;
    if (this.gc.hasWrites) this.gc.flush();
    const wm = q.delivered;
    for (const row of this.st.index.iterate(q.id) as IterableIterator<[number, number, number | null, number]>) {
      fn(row[0], row[1], row[2], row[3], row[0] <= wm);
    }
  }

  loadIndex(vhost: string, queue: string): IndexEntry[] {
    const out: IndexEntry[] = [];
    this.forEachIndexEntry(vhost, queue, (seq, size, expiresAt, priority, redelivered) => {
      out.push({ seq, size, expiresAt, priority, redelivered });
    });
    return out;
  }

  /**
   * The highest seq the queue has used or marked delivered; a recovered queue must number new
   * messages above it, or they would come back wrongly flagged redelivered after a crash.
   */
  lastSeq(vhost: string, queue: string): number {
    const q = this.queue(vhost, queue);
    if (q === undefined) return 0;
    const stored = (this.st.maxSeq.get(q.id) as number | null) ?? 0;
    return Math.max(stored, q.deliveredPending, q.maxPendingSeq());
  }

  /** A statement that runs now, inside the turn's transaction. */
  private write(): JournalStatements {
    this.gc.write();
    return this.st;
  }
}

function stored(r: MessageRecord): StoredMessage {
  return { exchange: r.exchange, routingKey: r.routingKey, properties: r.properties, body: r.body, enqueuedAt: r.enqueuedAt, deathCount: r.deathCount ?? 0 };
}
