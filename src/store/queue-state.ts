// Per durable queue bookkeeping for the store: its row id, its delivered watermark, and the
// message adds made since the last commit (kept in memory so an add cancelled by a remove in
// the same turn never reaches SQLite).
import type { MessageRecord } from './types.js';

export class QueueState {
  /** Adds not yet written, in call order; null marks one cancelled by a remove. */
  readonly pendSeq: number[] = [];
  readonly pendRec: (MessageRecord | null)[] = [];
  /** Seqs of committed messages removed since the last commit, deleted in runs at the commit. */
  readonly pendDel: number[] = [];
  /** pendSeq is ascending (the usual case), so lookups can binary-search. */
  pendSorted = true;
  /** Highest seq marked delivered, including marks not yet committed. */
  deliveredPending: number;
  /**
   * The watermark already written into the open transaction: a turn written early (while an
   * fsync is in flight) and the commit that ends the transaction update the row once, not twice.
   */
  deliveredWritten: number;
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
    this.deliveredWritten = delivered;
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

  /** Drops all pending adds and removes; returns how many adds were live. */
  clearPending(): number {
    this.pendDel.length = 0;
    let live = 0;
    for (const r of this.pendRec) if (r !== null) live++;
    this.pendSeq.length = 0;
    this.pendRec.length = 0;
    this.pendSorted = true;
    return live;
  }

  /**
   * The pending removes as runs of consecutive seqs, [from, to] pairs flattened: an ack of 50
   * messages becomes one range delete instead of 50 statements. Only seqs actually removed are
   * covered, so no live message falls inside a run.
   */
  takeRemovedRuns(): number[] {
    const d = this.pendDel;
    for (let i = 1; i < d.length; i++) {
      if (d[i]! < d[i - 1]!) {
        d.sort((a, b) => a - b);
        break;
      }
    }
    const runs: number[] = [];
    let i = 0;
    while (i < d.length) {
      const from = d[i]!;
      let to = from;
      while (++i < d.length && d[i]! <= to + 1) to = d[i]!;
      runs.push(from, to);
    }
    d.length = 0;
    return runs;
  }

  /** Largest seq among pending adds (0 if none). */
  maxPendingSeq(): number {
    let m = 0;
    for (const s of this.pendSeq) if (s > m) m = s;
    return m;
  }
}
