// The far end of a long ready list, kept as columns of numbers instead of Entry objects. A
// paged-out entry (its body in the page file or the store) is ten plain fields, but as a V8
// object it costs ~130 bytes: a million queued messages would be 130 MB of entries alone. Here
// it costs 34 bytes in typed arrays, allocated in chunks of CHUNK entries that are dropped as
// the list drains, so memory follows the backlog both ways. ReadyList (ready-list.ts) keeps its
// head as objects and turns tail entries back into objects a few thousand at a time.
//
// An entry that does not fit the columns (its body still in memory, or attempts counted) is
// kept as the object itself, found by its seq (rare: a dead-lettered message that keeps its
// routing keys, a requeue on a retry queue).
import { newEntry, type Entry } from './entry.js';

const CHUNK = 4096;
const REDELIVERED = 1;
const PERSISTED = 2;
/** The entry is an object in `special`. */
const SPECIAL = 4;

class Chunk {
  readonly seq: Float64Array;
  readonly expiresAt: Float64Array;
  readonly size: Uint32Array;
  readonly pageSeg: Int32Array;
  readonly pageOff: Uint32Array;
  readonly pageLen: Uint32Array;
  readonly flags: Uint8Array;
  readonly priority: Uint8Array;
  /** Next slot to read, next slot to write. */
  read = 0;
  write = 0;

  constructor() {
    // One allocation per chunk, the columns laid out by alignment.
    const buf = new ArrayBuffer(CHUNK * (8 + 8 + 4 + 4 + 4 + 4 + 1 + 1));
    let at = 0;
    const f64 = () => { const a = new Float64Array(buf, at, CHUNK); at += CHUNK * 8; return a; };
    const u32 = () => { const a = new Uint32Array(buf, at, CHUNK); at += CHUNK * 4; return a; };
    this.seq = f64();
    this.expiresAt = f64();
    this.size = u32();
    this.pageSeg = new Int32Array(buf, at, CHUNK); at += CHUNK * 4;
    this.pageOff = u32();
    this.pageLen = u32();
    this.flags = new Uint8Array(buf, at, CHUNK); at += CHUNK;
    this.priority = new Uint8Array(buf, at, CHUNK);
  }
}

/** Can `e` be a row of columns (nothing of it lives only in the object)? */
export function compactable(e: Entry): boolean {
  return e.msg === null && e.attempts === 0 && e.retryAt === 0 && e.priority <= 255 && e.priority >= 0;
}

/** A FIFO of entries in seq order, most of them as columns. */
export class CompactTail {
  private readonly chunks: Chunk[] = [];
  private readonly special = new Map<number, Entry>();
  length = 0;

  /** The seq of the first entry (the tail only grows at its end, in seq order). */
  get firstSeq(): number {
    const c = this.chunks[0];
    return c === undefined || this.length === 0 ? Infinity : c.seq[c.read]!;
  }

  push(e: Entry): void {
    let c = this.chunks[this.chunks.length - 1];
    if (c === undefined || c.write === CHUNK) this.chunks.push((c = new Chunk()));
    const i = c.write++;
    c.seq[i] = e.seq;
    if (compactable(e)) {
      c.expiresAt[i] = e.expiresAt;
      c.size[i] = e.size;
      c.pageSeg[i] = e.pageSeg;
      c.pageOff[i] = e.pageOff;
      c.pageLen[i] = e.pageLen;
      c.priority[i] = e.priority;
      c.flags[i] = (e.redelivered ? REDELIVERED : 0) | (e.persisted ? PERSISTED : 0);
    } else {
      c.flags[i] = SPECIAL;
      this.special.set(e.seq, e);
    }
    this.length++;
  }

  /** The first entry, as an object again. */
  shift(): Entry | undefined {
    if (this.length === 0) return undefined;
    const c = this.chunks[0]!;
    const i = c.read++;
    this.length--;
    if (c.read === c.write && (c.write === CHUNK || this.length === 0)) this.chunks.shift();
    return this.entryAt(c, i, true);
  }

  /** Every entry, first to last, as objects (for purge and listings: not on the message path). */
  *[Symbol.iterator](): IterableIterator<Entry> {
    for (const c of this.chunks) for (let i = c.read; i < c.write; i++) yield this.entryAt(c, i, false);
  }

  clear(): void {
    this.chunks.length = 0;
    this.special.clear();
    this.length = 0;
  }

  /** The entry in row i of c; `taking`: it leaves the tail. */
  private entryAt(c: Chunk, i: number, taking: boolean): Entry {
    const flags = c.flags[i]!;
    if (flags & SPECIAL) {
      const seq = c.seq[i]!;
      const e = this.special.get(seq)!;
      if (taking) this.special.delete(seq);
      return e;
    }
    const e = newEntry(null, c.seq[i]!, (flags & REDELIVERED) !== 0, c.expiresAt[i]!, c.size[i]!, c.priority[i]!, (flags & PERSISTED) !== 0, 0, 0);
    e.pageSeg = c.pageSeg[i]!;
    e.pageOff = c.pageOff[i]!;
    e.pageLen = c.pageLen[i]!;
    return e;
  }
}
