// Per durable queue bookkeeping for the store: its row id, its delivered watermark, and the
// message adds made since the last commit (kept in memory so an add cancelled by a remove in
// the same turn never reaches SQLite).
import type { MessageRecord } from './types.js';

export class QueueState {
  /** Adds not yet written, in call order; null marks one cancelled by a remove. */
  readonly pendSeq: number[] = [];
  readonly pendRec: (MessageRecord | null)[] = [];
  /** pendSeq is ascending (the usual case), so lookups can binary-search. */
  pendSorted = true;
  /** Highest seq marked delivered, including marks not yet committed. */
  deliveredPending: number;
  /** Already in the store's list of queues to visit at the next commit. */
  dirty = false;
  /** Deleted since it was marked dirty: the commit skips it. */
  deleted = false;

  constructor(
    readonly id: number,
    /** The committed delivered watermark. */
    public delivered: number,
  ) {
    this.deliveredPending = delivered;
  }

  push(rec: MessageRecord): void {
    const n = this.pendSeq.length;
    if (n > 0 && rec.seq <= this.pendSeq[n - 1]!) this.pendSorted = false;
    this.pendSeq.push(rec.seq);
    this.pendRec.push(rec);
  }

  /** Index of a live pending add with this seq, or -1. */
  find(seq: number): number {
    const s = this.pendSeq;
    if (!this.pendSorted) {
      for (let i = s.length - 1; i >= 0; i--) if (s[i] === seq && this.pendRec[i] !== null) return i;
      return -1;
    }
    let lo = 0;
    let hi = s.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = s[mid]!;
      if (v === seq) return this.pendRec[mid] !== null ? mid : -1;
      if (v < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Drops all pending adds; returns how many were live. */
  clearPending(): number {
    let live = 0;
    for (const r of this.pendRec) if (r !== null) live++;
    this.pendSeq.length = 0;
    this.pendRec.length = 0;
    this.pendSorted = true;
    return live;
  }

  /** Largest seq among pending adds (0 if none). */
  maxPendingSeq(): number {
    let m = 0;
    for (const s of this.pendSeq) if (s > m) m = s;
    return m;
  }
}
