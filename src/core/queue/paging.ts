// Paging: past `count` ready messages or `bytes` of bodies (PagingSettings; RabbitMQ-like
// defaults 4096 and 8 MiB), a new message keeps only its index entry in memory, so memory does
// not grow with the backlog:
// - a persistent message of a durable queue leaves its body in the store (it is there anyway),
//   read back in runs of PAGE_IN_RUN with one range query when the head reaches it;
// - any other message (transient, or in a non-durable queue) goes to the queue's page file
//   (../page-file.ts, not fsynced, emptied at start), its entry keeping (segment, offset,
//   length); consecutive records are read back with one pread when the head reaches them, and
//   their space comes back once read.
// Messages waiting out a retry backoff page out the same way past the same thresholds.
import { decodeRecord } from '../message-record.js';
import { PageFile, pastThreshold } from '../page-file.js';
import type { PagingSettings, QueueJournal } from '../persistence.js';
import type { Entry, Ready } from './ready-list.js';

/** The default thresholds (BrokerConfig pageOutCount, pageOutBytes). */
export const PAGE_OUT_COUNT = 4096;
export const PAGE_OUT_BYTES = 8 * 1024 * 1024;
/** A queue without settings (no broker around it: unit tests) still pages persistent bodies to its journal. */
const JOURNAL_ONLY: PagingSettings = { dir: '', count: PAGE_OUT_COUNT, bytes: PAGE_OUT_BYTES };
const PAGE_IN_RUN = 256;
/** A page-file run is at most this many records or bytes (one read, one buffer the messages share). */
const FILE_RUN = 4096;
const FILE_RUN_BYTES = 1024 * 1024;

/** One queue's paging: where its paged bodies are and how they come back. */
export class Pager {
  private file: PageFile | null = null;

  private readonly limits: PagingSettings;

  constructor(private readonly settings: PagingSettings | null, private readonly journal: QueueJournal | null) {
    this.limits = settings ?? JOURNAL_ONLY;
  }

  /** Past the thresholds: what is added now should not keep its body in memory. */
  over(count: number, bytes: number): boolean {
    return pastThreshold(this.limits, count, bytes);
  }

  /** Should a new ready entry page out (persistent ones to the store, others to the page file)? */
  shouldPageOut(ready: Ready): boolean {
    return this.over(ready.length, ready.bytes);
  }

  /** Bytes of the page file on disk (0 when it has none). */
  get diskBytes(): number {
    return this.file?.diskBytes ?? 0;
  }

  /**
   * Drops e's body from memory: a persisted entry's is in the store; any other goes to the page
   * file. A dead-lettered message keeps its routing keys (Message.routeKeys), which a record
   * does not hold: it stays in memory.
   */
  pageOut(e: Entry): void {
    const msg = e.msg;
    if (msg === null) return;
    if (e.persisted) {
      e.msg = null;
      return;
    }
    if (this.settings === null || msg.routeKeys !== null) return;
    const f = (this.file ??= new PageFile(this.settings.dir));
    e.pageOff = f.append(msg);
    e.pageSeg = f.lastSeg;
    e.pageLen = f.lastLen;
    e.msg = null;
  }

  /**
   * Reads back the body of `e` (just taken from the head, or leaving) and of the paged-out
   * entries right behind it in the list the head is taken from, in one read.
   */
  pageIn(r: Ready, e: Entry): void {
    if (e.pageSeg >= 0) this.pageInFile(r, e);
    else this.pageInStore(r, e);
  }

  /** A ready entry leaves unread (dropped, expired without a dead-letter exchange, purged). */
  dropped(e: Entry): void {
    if (e.pageSeg < 0) return;
    this.file!.release(e.pageSeg);
    e.pageSeg = -1;
  }

  /** Every paged entry went at once (purge). */
  clear(): void {
    this.file?.clear();
  }

  /** The queue is gone, or the broker stops: the page file is deleted. */
  close(): void {
    this.file?.close();
    this.file = null;
  }

  private pageInFile(r: Ready, e: Entry): void {
    const f = this.file!;
    const seg = e.pageSeg;
    const start = e.pageOff;
    let end = start + e.pageLen;
    const list = r.runList();
    let n = 0;
    if (list !== null) {
      while (n < FILE_RUN && n < list.objects) {
        const x = list.at(n);
        if (x.msg !== null || x.pageSeg !== seg || x.pageOff !== end || end + x.pageLen - start > FILE_RUN_BYTES) break;
        end += x.pageLen;
        n++;
      }
    }
    const buf = f.readRun(seg, start, end - start);
    e.msg = decodeRecord(buf, 0, e.pageLen);
    e.pageSeg = -1;
    let at = e.pageLen;
    for (let i = 0; i < n; i++) {
      const x = list!.at(i);
      x.msg = decodeRecord(buf, at, at + x.pageLen);
      x.pageSeg = -1;
      at += x.pageLen;
    }
    f.release(seg, n + 1);
  }

  private pageInStore(r: Ready, e: Entry): void {
    const j = this.journal!;
    const list = r.runList();
    let n = 0;
    if (list !== null) while (n < PAGE_IN_RUN && n < list.objects && list.at(n).msg === null && list.at(n).persisted) n++;
    if (n === 0) {
      e.msg = j.read(e.seq);
      return;
    }
    let i = -1; // -1: e itself, then list.at(0..n-1)
    let want: Entry = e;
    j.readRange(e.seq, list!.at(n - 1).seq, (seq, msg) => {
      while (want.seq < seq && i < n - 1) want = list!.at(++i);
      if (want.seq === seq) want.msg = msg;
    });
    if (e.msg === null) e.msg = j.read(e.seq);
  }
}
