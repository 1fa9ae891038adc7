// A stream's storage: an append-only log of segment files, <dir>/<first offset>.seg, each with
// a sparse index <first offset>.idx (one entry per INDEX_EVERY bytes: offset, timestamp, file
// position) for seeking by offset or time. Offsets are dense and never reused: the newest
// segment is never deleted, and its name and contents give the next offset after a restart.
//
// Appends are gathered in one write buffer, written at the end of the turn (or before a read
// that needs them) and fsynced as a group before publisher confirms (fsync()). Readers are
// Cursors: a position and a small read buffer each, read sequentially with positional reads on
// the segment's one descriptor. Retention (x-max-length-bytes, x-max-age) deletes whole
// segments from the head when a segment is rolled over and at open; x-max-age also when the
// oldest segment's last record gets too old (the owner's one timer, armed for nextAgeDue).
//
// Records carry a CRC-32 (segment.ts), checked the first time a record is read and at
// recovery: a bad record is reported once and its segment is not served from there on.
import fs from 'node:fs';
import path from 'node:path';
import type { Message } from '../../message.js';
import { decodeRecord, recordHeadLength, writeRecordHead } from '../../message-record.js';
import type { StreamLimits } from './args.js';
import { crc32 } from './crc32.js';
import { CRC_FROM, CorruptSegment, Cursor, FIXED, FIXED_HEAD, IDX_ENTRY, INDEX_EVERY, Segment, pad, recordOk, recoverSegment, type Report } from './segment.js';

export { Cursor, CorruptSegment } from './segment.js';

const READ_BUF = 64 * 1024;
const WRITE_BUF = 1024 * 1024;

export class SegmentLog {
  readonly segments: Segment[] = [];
  nextOffset = 0;
  totalBytes = 0;
  private wbuf = Buffer.allocUnsafe(WRITE_BUF);
  private wlen = 0;
  private readonly idxEntry = Buffer.alloc(IDX_ENTRY);
  private closed = false;
  /** A segment was rolled over (the owner re-arms its retention timer). */
  onRoll: () => void = () => {};

  constructor(readonly dir: string, public limits: StreamLimits, private readonly report: Report = () => {}) {
    fs.mkdirSync(dir, { recursive: true });
    const firsts = fs.readdirSync(dir).filter((f) => /^\d{20}\.seg$/.test(f)).map((f) => Number(f.slice(0, 20))).sort((a, b) => a - b);
    for (let i = 0; i < firsts.length; i++) {
      const seg = recoverSegment(dir, firsts[i]!, i === firsts.length - 1, report);
      this.segments.push(seg);
      this.totalBytes += seg.size;
    }
    if (this.segments.length === 0) this.newSegment(0);
    this.nextOffset = this.active.next;
    this.openIndex(this.active);
    this.retain();
  }

  get active(): Segment { return this.segments[this.segments.length - 1]!; }
  get first(): number { return this.segments[0]!.first; }
  get count(): number { return this.nextOffset - this.first; }

  /** Appends a message with its (already spliced) properties; returns its offset. */
  append(exchange: string, routingKey: string, props: Buffer, body: Buffer, ts: number): number {
    const total = FIXED_HEAD + recordHeadLength(exchange, routingKey, props) + body.length;
    let seg = this.active;
    if (seg.size > 0 && seg.size + total > this.limits.segmentBytes) seg = this.roll();
    if (this.wlen + total > this.wbuf.length) {
      this.flushWrites();
      if (total > this.wbuf.length) this.wbuf = Buffer.allocUnsafe(total);
    }
    const offset = this.nextOffset++;
    const b = this.wbuf;
    const w0 = this.wlen;
    let w = w0;
    b.writeUInt32BE(total - 4, w);
    b.writeDoubleBE(offset, w + 8);
    b.writeDoubleBE(ts, w + 16);
    w = writeRecordHead(b, w + FIXED_HEAD, exchange, routingKey, props);
    w += body.copy(b, w);
    b.writeUInt32BE(crc32(b, w0 + CRC_FROM, w), w0 + 4);
    this.wlen = w;
    const pos = seg.size;
    if (seg.idxPos.length === 0 || pos - seg.idxPos[seg.idxPos.length - 1]! >= INDEX_EVERY) this.index(seg, offset, ts, pos);
    seg.size += total;
    seg.next = offset + 1;
    seg.lastTs = ts;
    this.totalBytes += total;
    return offset;
  }

  /** Writes the buffered appends to the active segment (into the page cache). */
  flushWrites(): void {
    if (this.wlen === 0 || this.closed) return;
    const seg = this.active;
    let done = 0;
    const start = seg.size - this.wlen;
    while (done < this.wlen) done += fs.writeSync(seg.fd, this.wbuf, done, this.wlen - done, start + done);
    this.wlen = 0;
  }

  /** Group fsync of everything appended so far (off the event loop). */
  fsync(cb: (err: Error | null) => void): void {
    if (this.closed) return cb(null);
    this.flushWrites();
    fs.fsync(this.active.fd, (e) => cb(this.closed ? null : e));
  }

  fsyncSync(): void {
    if (this.closed) return;
    this.flushWrites();
    fs.fsyncSync(this.active.fd);
  }

  // ---- reading ------------------------------------------------------------------------------

  cursorAtFirst(): Cursor {
    const c = new Cursor(this.segments[0]!);
    c.next = c.seg.first;
    return c;
  }

  cursorAtNext(): Cursor {
    const c = new Cursor(this.active);
    c.next = this.nextOffset;
    c.pos = this.active.size;
    return c;
  }

  /** At `offset`, clamped to what is retained (past the end: the next message). */
  cursorAt(offset: number): Cursor {
    if (offset <= this.first) return this.cursorAtFirst();
    if (offset >= this.nextOffset) return this.cursorAtNext();
    const seg = this.segments[lastAtOrBelow(this.segments.length, (i) => this.segments[i]!.first, offset)]!;
    const c = new Cursor(seg);
    const j = lastAtOrBelow(seg.idxOff.length, (i) => seg.idxOff[i]!, offset);
    c.next = j < 0 ? seg.first : seg.idxOff[j]!;
    c.pos = j < 0 ? 0 : seg.idxPos[j]!;
    try {
      while (c.next < offset && this.read(c) !== null);
    } catch (e) {
      if (!(e instanceof CorruptSegment)) throw e; // the cursor stays there; its reader is told on its next read
    }
    return c;
  }

  /** At the first message stored at or after `ms` (none: the next message). */
  cursorAtTime(ms: number): Cursor {
    const segs = this.segments;
    let i = segs.length - 1;
    while (i > 0 && (segs[i]!.idxTs.length === 0 || segs[i]!.idxTs[0]! >= ms)) i--;
    const seg = segs[i]!;
    const c = new Cursor(seg);
    const j = lastAtOrBelow(seg.idxTs.length, (k) => seg.idxTs[k]!, ms - 1);
    c.next = j < 0 ? seg.first : seg.idxOff[j]!;
    c.pos = j < 0 ? 0 : seg.idxPos[j]!;
    for (;;) {
      const pos = c.pos;
      const next = c.next;
      const seg0 = c.seg;
      if (this.readOrStop(c) === null) return c;
      if (c.lastTs >= ms) {
        c.seg = seg0;
        c.pos = pos;
        c.next = next;
        return c;
      }
    }
  }

  /** read(), but a corrupt record ends the search like the end of the log does. */
  private readOrStop(c: Cursor): Message | null {
    try { return this.read(c); } catch (e) { if (e instanceof CorruptSegment) return null; throw e; }
  }

  /** The message at the cursor, which moves past it; null at the end of the log. CorruptSegment on a bad record. */
  read(c: Cursor): Message | null {
    if (c.next >= this.nextOffset || this.closed) return null;
    if (c.seg.deleted) {
      const f = this.cursorAtFirst();
      c.seg = f.seg; c.pos = 0; c.next = f.next; c.buf = null;
    }
    if (c.pos >= c.seg.size) {
      const i = this.segments.indexOf(c.seg);
      if (i < 0 || i + 1 >= this.segments.length) return null;
      c.seg = this.segments[i + 1]!;
      c.pos = 0;
      c.buf = null;
    }
    if (c.seg === this.active && this.wlen > 0) this.flushWrites();
    const seg = c.seg;
    if (c.pos >= seg.corruptAt) throw this.corrupt(c);
    if (!this.fill(c, 4)) return null;
    const len = c.buf!.readUInt32BE(c.pos - c.bufPos);
    if (len < FIXED - 4 || c.pos + 4 + len > seg.size || !this.fill(c, 4 + len)) throw this.corrupt(c);
    const b = c.buf!;
    let at = c.pos - c.bufPos;
    const end = at + 4 + len;
    // Each record's CRC is checked once: by the first reader past the segment's mark.
    if (c.pos + 4 + len > seg.checked) {
      if (!recordOk(b, at, len, c.next)) throw this.corrupt(c);
      if (c.pos <= seg.checked) seg.checked = c.pos + 4 + len;
    }
    c.lastTs = b.readDoubleBE(at + 16);
    const msg = decodeRecord(b, at + FIXED_HEAD, end);
    c.pos += 4 + len;
    c.next++;
    return msg;
  }

  /** The segment is bad from the cursor on: reported once, and served no further. */
  private corrupt(c: Cursor): CorruptSegment {
    const seg = c.seg;
    if (seg.corruptAt === Infinity || c.pos < seg.corruptAt) {
      this.report('error', 'stream segment is corrupt: not served from the bad record on', { file: seg.file, at: c.pos, offset: c.next });
    }
    seg.corruptAt = Math.min(seg.corruptAt, c.pos);
    return new CorruptSegment(seg.file, c.pos, c.next);
  }

  /** Makes [c.pos, c.pos + n) readable from c.buf. */
  private fill(c: Cursor, n: number): boolean {
    if (c.buf !== null && c.pos >= c.bufPos && c.pos + n <= c.bufPos + c.bufLen) return true;
    const avail = c.seg.size - c.pos;
    if (avail < n) return false;
    const size = Math.min(Math.max(READ_BUF, n), avail);
    const buf = Buffer.allocUnsafe(size);
    const got = fs.readSync(c.seg.fd, buf, 0, size, c.pos);
    c.buf = buf;
    c.bufPos = c.pos;
    c.bufLen = got;
    return got >= n;
  }

  // ---- segments -----------------------------------------------------------------------------

  private newSegment(first: number): Segment {
    const file = path.join(this.dir, `${pad(first)}.seg`);
    const fd = fs.openSync(file, 'w+');
    const idxFd = fs.openSync(path.join(this.dir, `${pad(first)}.idx`), 'w');
    const seg = new Segment(first, file, fd, idxFd);
    this.segments.push(seg);
    syncDir(this.dir);
    return seg;
  }

  /** The active segment is full: make it durable and start the next one; then retention. */
  private roll(): Segment {
    this.flushWrites();
    const old = this.active;
    fs.fsyncSync(old.fd);
    fs.closeSync(old.idxFd);
    old.idxFd = -1;
    const seg = this.newSegment(this.nextOffset);
    this.retain();
    this.onRoll();
    return seg;
  }

  private index(seg: Segment, offset: number, ts: number, pos: number): void {
    seg.index(offset, ts, pos);
    if (seg.idxFd < 0) return;
    const e = this.idxEntry;
    e.writeDoubleBE(offset, 0);
    e.writeDoubleBE(ts, 8);
    e.writeUInt32BE(pos, 16);
    fs.writeSync(seg.idxFd, e, 0, IDX_ENTRY);
  }

  /** Drops whole segments from the head past x-max-length-bytes or x-max-age; never the active one. */
  retain(now = Date.now()): void {
    const { maxBytes, maxAgeMs } = this.limits;
    while (this.segments.length > 1) {
      const s0 = this.segments[0]!;
      const tooBig = maxBytes >= 0 && this.totalBytes > maxBytes;
      const tooOld = maxAgeMs > 0 && s0.lastTs < now - maxAgeMs;
      if (!tooBig && !tooOld) break;
      this.segments.shift();
      this.totalBytes -= s0.size;
      s0.deleted = true;
      fs.closeSync(s0.fd);
      if (s0.idxFd >= 0) fs.closeSync(s0.idxFd);
      fs.rmSync(s0.file, { force: true });
      fs.rmSync(s0.file.replace(/\.seg$/, '.idx'), { force: true });
    }
  }

  /**
   * When x-max-age next drops a segment: the head's last record ages out (Infinity: no age
   * limit, or only the active segment, which is never dropped).
   */
  get nextAgeDue(): number {
    const age = this.limits.maxAgeMs;
    if (age <= 0 || this.segments.length < 2) return Infinity;
    return this.segments[0]!.lastTs + age + 1;
  }

  /** Reopens the newest segment's index for appends (after recovery). */
  private openIndex(seg: Segment): void {
    if (seg.idxFd < 0) seg.idxFd = fs.openSync(path.join(this.dir, `${pad(seg.first)}.idx`), 'a');
  }

  close(): void {
    if (this.closed) return;
    this.flushWrites();
    try { fs.fsyncSync(this.active.fd); } catch { /* closing anyway */ }
    this.closed = true;
    for (const s of this.segments) {
      fs.closeSync(s.fd);
      if (s.idxFd >= 0) fs.closeSync(s.idxFd);
    }
  }

  /** The stream was deleted: its files go. */
  destroy(): void {
    this.wlen = 0;
    this.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The last i in [0, n) with at(i) <= v (values ascending), or -1. */
function lastAtOrBelow(n: number, at: (i: number) => number, v: number): number {
  let lo = 0;
  let hi = n - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (at(mid) <= v) { best = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return best;
}

function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
  } catch { /* not every platform syncs directories */ }
}
