// A durable queue's use of its journal, against an in-memory journal: what is written and
// removed when, paging bodies out past the threshold and back in by range, and recovery.
import { describe, expect, it } from 'vitest';
import { Message } from '../src/core/message.js';
import type { QueueJournal } from '../src/core/persistence.js';
import { ClassicQueue as Queue } from '../src/core/queue/classic.js';
import { Consumer } from '../src/core/queue/consumer.js';
import { Owner, handleOf, take } from './support/queue-owner.js';
import type { Entry } from '../src/core/queue/ready-list.js';

const PERSISTENT = Buffer.from([0x10, 0x00, 2]);
const TRANSIENT = Buffer.from([0x10, 0x00, 1]);
const msg = (s: string, props = PERSISTENT) => new Message('', 'q', props, Buffer.from(s));

class MemJournal implements QueueJournal {
  readonly rows = new Map<number, Message>();
  watermark = 0;
  reads = 0;
  ranges = 0;
  add(seq: number, m: Message): void { this.rows.set(seq, m); }
  remove(seq: number): void { this.rows.delete(seq); }
  delivered(seq: number): void { this.watermark = Math.max(this.watermark, seq); }
  read(seq: number): Message {
    this.reads++;
    const m = this.rows.get(seq);
    if (!m) throw new Error(`no ${seq}`);
    return new Message(m.exchange, m.routingKey, m.properties, Buffer.from(m.body));
  }
  readRange(from: number, to: number, each: (seq: number, m: Message) => void): void {
    this.ranges++;
    for (const seq of [...this.rows.keys()].sort((a, b) => a - b)) {
      if (seq >= from && seq <= to) each(seq, new Message('', 'q', PERSISTENT, Buffer.from(this.rows.get(seq)!.body)));
    }
  }
  removeAll(): void { this.rows.clear(); }
  readonly retries = new Map<number, [number, number | null]>();
  setRetry(seq: number, count: number, retryAt: number | null): void { this.retries.set(seq, [count, retryAt]); }
}


function durable(j: QueueJournal, args = {}): Queue {
  return new Queue('q', { durable: true, autoDelete: false, owner: null, args, journal: j });
}

describe('durable queue and its journal', () => {
  it('writes persistent messages only; acks and no-ack deliveries remove them', () => {
    const j = new MemJournal();
    const q = durable(j);
    q.enqueue(msg('p1'));
    q.enqueue(msg('t1', TRANSIENT));
    q.enqueue(msg('p2'));
    expect([...j.rows.keys()]).toEqual([1, 3]);
    const o = new Owner();
    const c = new Consumer('c', q, o, false, false, 0, {});
    q.addConsumer(c);
    q.dispatch();
    expect(o.entries.map((e) => e.msg!.body.toString())).toEqual(['p1', 't1', 'p2']);
    expect(j.watermark).toBe(3);
    q.ack(handleOf(o.entries[0]!), c);
    q.requeue(handleOf(o.entries[2]!), c);
    expect([...j.rows.keys()]).toEqual([3]);
    q.removeConsumer(c);
    const taken = take(q, true)!;
    expect(taken.msg!.body.toString()).toBe('p2');
    expect(j.rows.size).toBe(0);
  });

  it('hands a message straight to a no-ack consumer without writing it', () => {
    const j = new MemJournal();
    const q = durable(j);
    const o = new Owner();
    q.addConsumer(new Consumer('c', q, o, true, false, 0, {}));
    q.enqueue(msg('direct'));
    expect(o.entries).toHaveLength(1);
    expect(j.rows.size).toBe(0);
  });

  it('pages bodies out past 4096 ready messages and reads them back in ranges, skipping unacked seqs', () => {
    const j = new MemJournal();
    const q = durable(j);
    const n = 5000;
    for (let i = 0; i < n; i++) q.enqueue(msg(`m${i}`));
    const paged = [...q.ready].filter((e) => e.msg === null).length;
    expect(paged).toBe(n - 4096);
    expect(q.ready.bytes).toBe([...Array(n).keys()].reduce((s, i) => s + `m${i}`.length, 0));
    // Take everything resident, then hold two paged ones unacked so the range has gaps.
    const got: Entry[] = [];
    for (let i = 0; i < 4096; i++) got.push(take(q, false)!);
    const a = take(q, false)!;
    const b = take(q, false)!;
    expect([a.msg!.body.toString(), b.msg!.body.toString()]).toEqual(['m4096', 'm4097']);
    q.requeue(handleOf(a), null); // back at the head, body kept
    const rest: string[] = [];
    for (let e = take(q, true); e; e = take(q, true)) rest.push(e.msg!.body.toString());
    expect(rest).toEqual(['m4096', ...Array.from({ length: n - 4098 }, (_, i) => `m${i + 4098}`)]);
    expect(j.ranges).toBeLessThan(10);
    expect(j.reads).toBe(0);
  });

  it('purge removes only ready messages from the journal while some are unacked', () => {
    const j = new MemJournal();
    const q = durable(j);
    for (let i = 0; i < 4; i++) q.enqueue(msg(`m${i}`));
    const held = take(q, false)!;
    expect(q.purge()).toBe(3);
    expect([...j.rows.keys()]).toEqual([held.seq]);
    q.ack(handleOf(held), null);
    q.enqueue(msg('x'));
    expect(q.purge()).toBe(1);
    expect(j.rows.size).toBe(0);
  });

  it('recovers entries without bodies, numbers new messages after them, and expires them on time', () => {
    const j = new MemJournal();
    for (const s of [4, 7]) j.rows.set(s, msg(`r${s}`));
    const q = durable(j);
    q.restore(4, 2, 0, 0, true);
    q.restore(7, 2, 0, 0, false);
    q.restored(9);
    q.enqueue(msg('new'));
    expect([...j.rows.keys()]).toEqual([4, 7, 10]);
    const out = [take(q, true)!, take(q, true)!, take(q, true)!];
    expect(out.map((e) => [e.msg!.body.toString(), e.redelivered])).toEqual([['r4', true], ['r7', false], ['new', false]]);
  });

  it('a recovered message past its expiry leaves (dead-lettered with its body read back)', () => {
    const j = new MemJournal();
    j.rows.set(1, msg('old'));
    const dead: string[] = [];
    const q = new Queue('q', {
      durable: true, autoDelete: false, owner: null, args: { 'x-dead-letter-exchange': { type: 'S', value: 'dlx' } }, journal: j,
      host: { deadLetter: (_q, m, reason) => dead.push(`${m.body.toString()}:${reason}`), expireQueue: () => {}, queueUnused: () => {} },
    });
    q.restore(1, 3, Date.now() - 1, 0, false);
    q.restored(1);
    expect(take(q, true)).toBeUndefined();
    expect(dead).toEqual(['old:expired']);
    expect(j.rows.size).toBe(0);
  });
});
