// Queue logic without sockets: ordering on requeue, round-robin, prefetch via canTake.
import { prng } from './support/prng.js';
import { describe, expect, it } from 'vitest';
import { Message } from '../src/core/message.js';
import { ClassicQueue as Queue } from '../src/core/queue/classic.js';
import { Consumer } from '../src/core/queue/consumer.js';
import { Owner, handleOf } from './support/queue-owner.js';
import { newEntry, ReadyList, type Entry } from '../src/core/queue/ready-list.js';

const msg = (s: string) => new Message('', 'q', Buffer.from([0, 0]), Buffer.from(s));
const bodies = (q: Queue) => [...q.ready].map((e) => e.msg!.body.toString());


function queue(): Queue {
  return new Queue('q', { durable: false, autoDelete: false, owner: null, args: {} });
}

function entry(seq: number): Entry {
  const m = msg(String(seq));
  return newEntry(m, seq, false, 0, m.body.length, 0, false, 0, 0);
}

describe('ReadyList', () => {
  it('keeps FIFO order across growth and wrap-around', () => {
    const r = new ReadyList();
    const e = (seq: number): Entry => entry(seq);
    let next = 0;
    const out: number[] = [];
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 7; i++) r.push(e(next++));
      for (let i = 0; i < 5; i++) out.push(r.shift()!.seq);
    }
    while (r.length) out.push(r.shift()!.seq);
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
  });

  it('insertBySeq puts entries back at their original positions', () => {
    const r = new ReadyList();
    const entries = Array.from({ length: 40 }, (_, seq): Entry => entry(seq));
    for (const e of entries) r.push(e);
    const taken = Array.from({ length: 25 }, () => r.shift()!);
    // Requeue in a scrambled order: 3, 17, 0, 24, 9, ...
    const order = [3, 17, 0, 24, 9, 1, 2, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23];
    for (const i of order) r.insertBySeq(taken[i]!);
    expect([...r].map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(r.bytes).toBe(entries.reduce((n, e) => n + e.size, 0));
  });

  it('insertBySeq keeps seq order from either side, across wrap-around and growth (random model check)', () => {
    const rnd = prng(5);
    const r = new ReadyList();
    let model: number[] = [];
    let next = 0;
    const out: Entry[] = [];
    for (let step = 0; step < 20000; step++) {
      const x = rnd();
      if (x < 0.45) {
        r.push(entry(next));
        model.push(next++);
      } else if (x < 0.75 && r.length > 0) {
        const e = r.shift()!;
        expect(e.seq).toBe(model.shift());
        out.push(e);
      } else if (out.length > 0) {
        // Back in: mostly old entries (near the head), sometimes recent ones (near the tail).
        const i = rnd() < 0.7 ? Math.floor(rnd() * Math.min(3, out.length)) : out.length - 1;
        const [e] = out.splice(i, 1);
        r.insertBySeq(e!);
        model.push(e!.seq);
        model = model.sort((a, b) => a - b);
      }
    }
    expect([...r].map((e) => e.seq)).toEqual(model);
  });

  it('a long backlog of paged-out entries goes to the compact tail and comes back intact, in order, with requeues (random model check)', () => {
    const rnd = prng(11);
    const r = new ReadyList();
    type Row = { seq: number; size: number; expiresAt: number; redelivered: boolean; persisted: boolean; pageSeg: number; pageOff: number; pageLen: number; attempts: number; special: boolean };
    const rowOf = (e: Entry): Row => ({ seq: e.seq, size: e.size, expiresAt: e.expiresAt, redelivered: e.redelivered, persisted: e.persisted,
      pageSeg: e.pageSeg, pageOff: e.pageOff, pageLen: e.pageLen, attempts: e.attempts, special: e.msg !== null });
    const want = new Map<number, Row>();
    let model: number[] = [];
    let next = 1;
    let bytes = 0;
    const out: Entry[] = [];
    const make = (seq: number): Entry => {
      // Mostly paged (no body in memory), now and then one that keeps its body or counts attempts.
      const kind = rnd();
      const e = newEntry(kind < 0.03 ? msg(String(seq)) : null, seq, false, kind < 0.5 ? 0 : 1_800_000_000_000 + seq, 1 + Math.floor(rnd() * 2000), 0,
        rnd() < 0.5, kind > 0.97 ? 2 : 0, 0);
      if (e.msg === null && !e.persisted) { e.pageSeg = Math.floor(seq / 1000); e.pageOff = seq * 7; e.pageLen = 30 + (seq % 50); }
      return e;
    };
    for (let step = 0; step < 60000; step++) {
      const x = rnd();
      // Phases: grow to ~15,000 (well past the ring's 4,096), then drain, then grow again.
      const growing = step < 20000 || (step > 40000 && step < 50000);
      if (x < (growing ? 0.75 : 0.2)) {
        const e = make(next++);
        want.set(e.seq, rowOf(e));
        r.push(e);
        model.push(e.seq);
        bytes += e.size;
      } else if (x < 0.93 && r.length > 0) {
        const e = r.shift()!;
        expect(e.seq).toBe(model.shift());
        expect(rowOf(e)).toEqual(want.get(e.seq));
        bytes -= e.size;
        out.push(e);
      } else if (out.length > 0) {
        const [e] = out.splice(rnd() < 0.8 ? out.length - 1 : 0, 1);
        e!.redelivered = true;
        want.set(e!.seq, rowOf(e!));
        r.insertBySeq(e!);
        model.push(e!.seq);
        model = model.sort((a, b) => a - b);
        bytes += e!.size;
      }
      expect(r.length).toBe(model.length);
      if (step === 19999) expect([r.length > 10000, r.objects <= 4096]).toEqual([true, true]); // most of it is columns
    }
    expect(r.bytes).toBe(bytes);
    expect([...r].map((e) => e.seq)).toEqual(model);
    expect([...r].map(rowOf)).toEqual(model.map((s) => want.get(s)));
    while (r.length > 0) expect(r.shift()!.seq).toBe(model.shift());
    expect([r.peek(), r.oldestSeq, r.bytes]).toEqual([undefined, -1, 0]);
  });
});

describe('Queue', () => {
  it('requeued messages return to their original position, marked redelivered', () => {
    const q = queue();
    for (const s of ['a', 'b', 'c', 'd', 'e']) q.enqueue(msg(s));
    const owner = new Owner();
    owner.room = 3;
    const c = new Consumer('t', q, owner, false, false, 0, {});
    q.addConsumer(c);
    q.dispatch();
    expect(owner.got.map((g) => g.e.msg!.body.toString())).toEqual(['a', 'b', 'c']);
    expect(bodies(q)).toEqual(['d', 'e']);
    // Requeue c then a (out of order): the queue reads a, c, d, e with b still out.
    q.removeConsumer(c);
    q.requeue(handleOf(owner.got[2]!.e), c);
    q.requeue(handleOf(owner.got[0]!.e), c);
    expect(bodies(q)).toEqual(['a', 'c', 'd', 'e']);
    expect([...q.ready].map((e) => e.redelivered)).toEqual([true, true, false, false]);
    expect(q.unackedCount).toBe(1);
  });

  it('round-robins across consumers that have room', () => {
    const q = queue();
    const o = new Owner();
    const c1 = new Consumer('1', q, o, true, false, 0, {});
    const c2 = new Consumer('2', q, o, true, false, 0, {});
    const c3 = new Consumer('3', q, o, true, false, 0, {});
    for (const c of [c1, c2, c3]) q.addConsumer(c);
    for (let i = 0; i < 9; i++) q.enqueue(msg(String(i)));
    expect(o.got.map((g) => g.c.tag).join('')).toBe('123123123');
  });

  it('stops delivering when no consumer can take more, and resumes on dispatch', () => {
    const q = queue();
    const o = new Owner();
    o.room = 2;
    const c = new Consumer('t', q, o, false, false, 2, {});
    q.addConsumer(c);
    for (let i = 0; i < 5; i++) q.enqueue(msg(String(i)));
    expect(o.got).toHaveLength(2);
    q.ack(handleOf(o.got[0]!.e), c);
    q.dispatch();
    expect(o.got).toHaveLength(3);
    expect(q.messageCount).toBe(2);
  });

  it('auto-delete fires only after the queue has had a consumer and lost the last one', () => {
    let unused = 0;
    const host = { deadLetter: () => {}, expireQueue: () => {}, queueUnused: () => { unused++; } };
    const q = new Queue('ad', { durable: false, autoDelete: true, owner: null, args: {}, host });
    const o = new Owner();
    const c = new Consumer('t', q, o, true, false, 0, {});
    expect(unused).toBe(0);
    q.addConsumer(c);
    q.removeConsumer(c);
    expect(unused).toBe(1);
  });
});
