// Consumer lag as the age of a queue's oldest ready message, without reading the clock per
// message. Every message a queue takes gets the next sequence number (MessageQueue's
// nextEnqueueSeq); this tracker notes, per queue, checkpoints (seq, time): "at this time the
// next seq was this", once a second and at every scrape. A message with seq h was enqueued no
// later than the first checkpoint whose seq is above h, so its age is at least now minus that
// checkpoint's time. The figure is a lower bound that under-states by at most the checkpoint
// interval (1 s); a message already there when the tracker first saw the queue (recovered at
// startup, for one) counts from that first look.
//
// Per queue it keeps only checkpoints above the oldest ready seq, at most MAX_CHECKPOINTS of
// them (thinning the older half when full, so resolution degrades with age, never the bound).
// Costs one walk over the queues per second when the Prometheus listener is on; nothing per
// message.
import type { MessageQueue } from '../core/queue/types.js';

export const CHECKPOINT_INTERVAL_MS = 1000;
const MAX_CHECKPOINTS = 64;

interface Track {
  seqs: number[];
  times: number[];
}

export class LagTracker {
  private readonly tracks = new WeakMap<MessageQueue, Track>();

  /** Note the queue's next seq against `now` and forget checkpoints nothing needs. */
  observe(q: MessageQueue, now: number): void {
    let t = this.tracks.get(q);
    if (t === undefined) this.tracks.set(q, (t = { seqs: [], times: [] }));
    const { seqs, times } = t;
    const next = q.nextEnqueueSeq;
    // For one seq the earliest time is the tighter bound: keep it.
    if (seqs.length === 0 || seqs[seqs.length - 1]! < next) {
      seqs.push(next);
      times.push(now);
    }
    const oldest = q.oldestReadySeq;
    // Nothing ready: the latest checkpoint still bounds a message requeued later.
    let drop = oldest < 0 ? seqs.length - 1 : 0;
    if (oldest >= 0) while (drop < seqs.length - 1 && seqs[drop]! <= oldest) drop++;
    if (drop > 0) {
      seqs.splice(0, drop);
      times.splice(0, drop);
    }
    if (seqs.length > MAX_CHECKPOINTS) thin(t);
  }

  /** Seconds the oldest ready message has at least been waiting (0 when none is ready). */
  ageSeconds(q: MessageQueue, now: number): number {
    const h = q.oldestReadySeq;
    const t = this.tracks.get(q);
    if (h < 0 || t === undefined) return 0;
    const { seqs, times } = t;
    let lo = 0;
    let hi = seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seqs[mid]! <= h) lo = mid + 1;
      else hi = mid;
    }
    if (lo === seqs.length) return 0;
    return Math.max(0, now - times[lo]!) / 1000;
  }
}

/** Drop every other checkpoint of the older half (never the first): the bound only loosens. */
function thin(t: Track): void {
  const half = t.seqs.length >>> 1;
  const seqs: number[] = [];
  const times: number[] = [];
  for (let i = 0; i < t.seqs.length; i++) {
    if (i < half && i % 2 === 1) continue;
    seqs.push(t.seqs[i]!);
    times.push(t.times[i]!);
  }
  t.seqs = seqs;
  t.times = times;
}
