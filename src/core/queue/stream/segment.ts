// One segment file of a stream's log and what reads it: the record layout, a reader's Cursor,
// the corruption error, and recovery of a segment at startup (segment-log.ts owns the log).
//
// Record: u32 length of what follows | u32 CRC-32 of what follows the CRC | f64 offset |
// f64 timestamp (ms) | u8 exchange length, exchange | u8 routing key length, routing key |
// u32 properties length, properties | body. Index entry (.idx): f64 offset | f64 ts | u32 pos.
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from './crc32.js';

export const INDEX_EVERY = 64 * 1024;
export const IDX_ENTRY = 20;
/** Length, CRC, offset, timestamp: what precedes the message record (../../message-record.ts). */
export const FIXED_HEAD = 4 + 4 + 8 + 8;
/** The smallest record: the fixed head, the two name lengths, the properties length. */
export const FIXED = FIXED_HEAD + 1 + 1 + 4;
/** Where the CRC'd part of a record starts. */
export const CRC_FROM = 8;

export const pad = (n: number): string => String(n).padStart(20, '0');

export type Report = (level: 'error' | 'warn', msg: string, meta: Record<string, unknown>) => void;

export class Segment {
  /** Offset after the last record. */
  next: number;
  /** Bytes in the file, written or still in the log's write buffer. */
  size = 0;
  idxOff: number[] = [];
  idxTs: number[] = [];
  idxPos: number[] = [];
  lastTs = 0;
  deleted = false;
  /** Records before this position have had their CRC checked (each is checked once). */
  checked = 0;
  /** The first bad record's position: nothing from there on is served. */
  corruptAt = Infinity;
  constructor(readonly first: number, readonly file: string, public fd: number, public idxFd: number) {
    this.next = first;
  }

  index(offset: number, ts: number, pos: number): void {
    this.idxOff.push(offset);
    this.idxTs.push(ts);
    this.idxPos.push(pos);
  }
}

/** One reader's place in the log. */
export class Cursor {
  next = 0;
  /** Attached at an offset past the end: messages below it are skipped. */
  from = 0;
  pos = 0;
  /** Timestamp of the record read last. */
  lastTs = 0;
  buf: Buffer | null = null;
  bufPos = 0;
  bufLen = 0;
  constructor(public seg: Segment) {}
}

/** A record whose length, offset or CRC is wrong: the segment is not served from there on. */
export class CorruptSegment extends Error {
  constructor(readonly file: string, readonly pos: number, readonly offset: number) {
    super(`stream segment ${file} is corrupt at byte ${pos} (offset ${offset})`);
  }
}

/** The record at b[at] (its 4 + len bytes present) is offset `next` and its CRC matches. */
export function recordOk(b: Buffer, at: number, len: number, next: number): boolean {
  return b.readDoubleBE(at + 8) === next && crc32(b, at + CRC_FROM, at + 4 + len) === b.readUInt32BE(at + 4);
}

/**
 * Startup: a segment's index, then a check of every record from its last entry to the end.
 * In the newest segment a bad or incomplete tail is a write torn by a crash: it is cut. An
 * older segment was fsynced whole before the next one began, so a bad record there is
 * corruption: reported, kept on disk, and not served.
 */
export function recoverSegment(dir: string, first: number, newest: boolean, report: Report): Segment {
  const file = path.join(dir, `${pad(first)}.seg`);
  const idxFile = path.join(dir, `${pad(first)}.idx`);
  const fd = fs.openSync(file, 'r+');
  const size = fs.fstatSync(fd).size;
  const seg = new Segment(first, file, fd, -1);
  let idx: Buffer = Buffer.alloc(0);
  try { idx = fs.readFileSync(idxFile); } catch { /* rebuilt by the scan */ }
  for (let at = 0; at + IDX_ENTRY <= idx.length; at += IDX_ENTRY) {
    const off = idx.readDoubleBE(at);
    const pos = idx.readUInt32BE(at + 16);
    if (pos >= size || off < first || (seg.idxPos.length > 0 && pos <= seg.idxPos[seg.idxPos.length - 1]!)) break;
    seg.index(off, idx.readDoubleBE(at + 8), pos);
  }
  const k = seg.idxPos.length - 1;
  let pos = k < 0 ? 0 : seg.idxPos[k]!;
  let next = k < 0 ? first : seg.idxOff[k]!;
  let rebuilt = false;
  let rec = Buffer.allocUnsafe(64 * 1024);
  while (pos + 4 <= size) {
    const lenBuf = rec.subarray(0, 4);
    fs.readSync(fd, lenBuf, 0, 4, pos);
    const len = lenBuf.readUInt32BE(0);
    if (len < FIXED - 4 || pos + 4 + len > size) break;
    if (rec.length < 4 + len) rec = Buffer.allocUnsafe(4 + len);
    fs.readSync(fd, rec, 0, 4 + len, pos);
    if (!recordOk(rec, 0, len, next)) break;
    const ts = rec.readDoubleBE(16);
    const lastPos = seg.idxPos.length > 0 ? seg.idxPos[seg.idxPos.length - 1]! : -Infinity;
    if (pos - lastPos >= INDEX_EVERY) { seg.index(next, ts, pos); rebuilt = true; }
    seg.lastTs = ts;
    pos += 4 + len;
    next++;
  }
  seg.size = pos;
  seg.next = next;
  if (pos < size && newest) {
    report('warn', 'stream segment: a torn tail was cut at recovery', { file, at: pos, bytes: size - pos, nextOffset: next });
    fs.ftruncateSync(fd, pos);
  } else if (pos < size) {
    report('error', 'stream segment is corrupt: not served from the bad record on', { file, at: pos, offset: next });
    seg.size = size;
    seg.corruptAt = pos;
  }
  // Rewrite the index as recovered (entries past a cut tail go).
  const out = Buffer.alloc(seg.idxOff.length * IDX_ENTRY);
  for (let i = 0; i < seg.idxOff.length; i++) {
    out.writeDoubleBE(seg.idxOff[i]!, i * IDX_ENTRY);
    out.writeDoubleBE(seg.idxTs[i]!, i * IDX_ENTRY + 8);
    out.writeUInt32BE(seg.idxPos[i]!, i * IDX_ENTRY + 16);
  }
  if (rebuilt || out.length !== idx.length) fs.writeFileSync(idxFile, out);
  if (seg.lastTs === 0 && seg.idxTs.length > 0) seg.lastTs = seg.idxTs[seg.idxTs.length - 1]!;
  return seg;
}
