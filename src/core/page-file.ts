// Transient message bodies paged out of memory (RabbitMQ's msg_store_transient idea): an
// append-only file of records, never fsynced (nothing in it survives a restart; the directory
// is emptied at every start, see resetPageDir), split into segments so that space comes back
// while a queue is drained: a segment whose records have all been read back (or dropped) is
// deleted, and the segment being written is truncated to nothing when it empties.
//
// A record is one message as routed, laid out as message-record.ts says (as in stream
// segments). Whoever pages a message out keeps
// only (segment, offset, length) and hands them back to read it. Writes are collected in one
// buffer and written with one write per PENDING_BYTES (or before a read needs them), reads of
// consecutive records are one pread (readRun), and nothing is allocated per record but the
// Message that comes back.
import { closeSync, ftruncateSync, mkdirSync, openSync, readSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Message } from './message.js';
import { decodeRecord, recordHeadLength, writeRecordHead } from './message-record.js';
import type { PagingSettings } from './persistence.js';

/** Where a page file's record is, for owners that keep one object per paged message (held ones). */
export interface PageRef {
  readonly seg: number;
  readonly off: number;
  readonly len: number;
}

const SEGMENT_BYTES = 16 * 1024 * 1024;
const PENDING_BYTES = 256 * 1024;

interface Segment {
  readonly fd: number;
  readonly path: string;
  /** Records appended and not yet released. */
  live: number;
  /** Bytes appended (written or still in the pending buffer). */
  size: number;
}

/** Names page files uniquely within the process (the directory is emptied at each start). */
let nextFileId = 1;

/** Past the thresholds: a queue or hold with `count` messages and `bytes` of bodies pages new ones out. */
export function pastThreshold(s: PagingSettings | null, count: number, bytes: number): boolean {
  return s !== null && (count >= s.count || bytes >= s.bytes);
}

/** Empties (or makes) the page-file directory: transient bodies never outlive the broker. */
export function resetPageDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

export class PageFile {
  private readonly segs = new Map<number, Segment>();
  private readonly id = nextFileId++;
  private curNo = -1;
  private cur: Segment | null = null;
  private pending: Buffer | null = null;
  private pendingLen = 0;
  /** The segment offset where the pending bytes go. */
  private pendingAt = 0;
  /** The segment of the record the last append() wrote. */
  lastSeg = -1;
  /** The length of the record the last append() wrote. */
  lastLen = 0;

  constructor(private readonly dir: string, private readonly segmentBytes = SEGMENT_BYTES) {}

  /** Bytes in the segments on disk or pending (what the page file costs). */
  get diskBytes(): number {
    let n = 0;
    for (const s of this.segs.values()) n += s.size;
    return n;
  }

  /** Segments that exist now. */
  get segmentCount(): number { return this.segs.size; }

  /** Appends `msg`; returns its offset in segment `lastSeg`, `lastLen` bytes long. */
  append(msg: Message): number {
    const props = msg.properties;
    const body = msg.body;
    const head = recordHeadLength(msg.exchange, msg.routingKey, props);
    const total = head + body.length;
    let s = this.cur;
    if (s === null || (s.size > 0 && s.size + total > this.segmentBytes)) s = this.roll();
    if (this.pending === null) this.pending = Buffer.allocUnsafe(PENDING_BYTES);
    if (this.pendingLen + total > PENDING_BYTES) this.flush();
    const off = s.size;
    if (total <= PENDING_BYTES) {
      const at = writeRecordHead(this.pending, this.pendingLen, msg.exchange, msg.routingKey, props);
      body.copy(this.pending, at);
      this.pendingLen += total;
    } else {
      // Larger than the buffer (flushed above): the head written on its own, the body straight from its buffer.
      const h = head <= PENDING_BYTES ? this.pending : Buffer.allocUnsafe(head);
      writeRecordHead(h, 0, msg.exchange, msg.routingKey, props);
      writeAll(s.fd, h, head, off);
      writeAll(s.fd, body, body.length, off + head);
      this.pendingAt = off + total;
    }
    this.lastLen = total;
    s.size += this.lastLen;
    s.live++;
    this.lastSeg = this.curNo;
    return off;
  }

  /** The record at (seg, off, len) as a Message (its buffers are slices of one read). */
  read(seg: number, off: number, len: number): Message {
    return decodeRecord(this.readRun(seg, off, len), 0, len);
  }

  /** The bytes [off, off + len) of segment seg, in one read (consecutive records decode with decodeRecord). */
  readRun(seg: number, off: number, len: number): Buffer {
    const s = this.segs.get(seg);
    // Callers only ask for records they appended and have not released: anything else is a bug.
    if (s === undefined || off + len > s.size) throw new Error(`page file has no record at ${seg}:${off}+${len}`);
    if (s === this.cur && off + len > this.pendingAt) this.flush();
    const buf = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const n = readSync(s.fd, buf, got, len - got, off + got);
      if (n === 0) throw new Error(`page file ${s.path} ends before ${off + len}`);
      got += n;
    }
    return buf;
  }

  /**
   * `n` records of segment seg are no longer needed (read back, or dropped): an emptied segment
   * is deleted, or truncated if it is the one being written.
   */
  release(seg: number, n = 1): void {
    const s = this.segs.get(seg);
    if (s === undefined) return;
    s.live -= n;
    if (s.live > 0) return;
    if (s === this.cur) {
      this.pendingLen = 0;
      this.pendingAt = 0;
      s.size = 0;
      ftruncateSync(s.fd, 0);
    } else {
      this.remove(seg, s);
    }
  }

  /** Every record goes (purge); the file is kept for what comes next. */
  clear(): void {
    for (const [no, s] of this.segs) if (s !== this.cur) this.remove(no, s);
    if (this.cur !== null) this.release(this.curNo, this.cur.live);
  }

  /** The owner is gone: every segment is deleted. */
  close(): void {
    for (const [no, s] of this.segs) this.remove(no, s);
    this.cur = null;
    this.pending = null;
    this.pendingLen = 0;
  }

  /** Writes the pending bytes at the end of the current segment. */
  private flush(): void {
    if (this.pendingLen === 0 || this.cur === null) return;
    writeAll(this.cur.fd, this.pending!, this.pendingLen, this.pendingAt);
    this.pendingAt += this.pendingLen;
    this.pendingLen = 0;
  }

  private roll(): Segment {
    this.flush();
    const old = this.cur;
    if (old !== null && old.live === 0) this.remove(this.curNo, old);
    this.curNo++;
    const path = join(this.dir, `${this.id}.${this.curNo}.page`);
    const s: Segment = { fd: openSync(path, 'w+'), path, live: 0, size: 0 };
    this.segs.set(this.curNo, s);
    this.cur = s;
    this.pendingAt = 0;
    return s;
  }

  private remove(no: number, s: Segment): void {
    closeSync(s.fd);
    unlinkSync(s.path);
    this.segs.delete(no);
    if (s === this.cur) this.cur = null;
  }
}

function writeAll(fd: number, b: Buffer, len: number, pos: number): void {
  let done = 0;
  while (done < len) done += writeSync(fd, b, done, len - done, pos + done);
}
