// Paging of a durable queue's persistent messages: past PAGE_OUT_COUNT ready messages or
// PAGE_OUT_BYTES of bodies, a new persistent message keeps only its index entry in memory (its
// body is in the store anyway); bodies are read back in runs of PAGE_IN_RUN, with one range
// query, when the head reaches them. So memory does not grow with the backlog.
import type { QueueJournal } from '../persistence.js';
import { ReadyList, type Entry, type Ready } from './ready-list.js';

const PAGE_OUT_COUNT = 4096;
const PAGE_OUT_BYTES = 8 * 1024 * 1024;
const PAGE_IN_RUN = 256;

/** Should a new persistent entry leave its body in the store? */
export function shouldPageOut(ready: Ready): boolean {
  return ready.length >= PAGE_OUT_COUNT || ready.bytes >= PAGE_OUT_BYTES;
}

/**
 * Reads back the body of `e` (just taken from the head) and, for a plain queue, of the
 * paged-out entries right behind it, in one range read.
 */
export function pageIn(j: QueueJournal, r: Ready, e: Entry): void {
  let n = 0;
  if (r instanceof ReadyList) while (n < PAGE_IN_RUN && n < r.length && r.at(n).msg === null) n++;
  if (n === 0) {
    e.msg = j.read(e.seq);
    return;
  }
  const list = r as ReadyList;
  let i = -1; // -1: e itself, then list.at(0..n-1)
  let want: Entry = e;
  j.readRange(e.seq, list.at(n - 1).seq, (seq, msg) => {
    while (want.seq < seq && i < n - 1) want = list.at(++i);
    if (want.seq === seq) want.msg = msg;
  });
  if (e.msg === null) e.msg = j.read(e.seq);
}
