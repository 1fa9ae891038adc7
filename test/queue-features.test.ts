// Queue features without sockets: TTL and the one timer per queue, x-expires, length limits and
// overflow modes, priorities, single active consumer, dead-letter message building and cycles.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ByteWriter } from '../src/protocol/byte-writer.js';
import { toTable, type FieldTable, type FieldValue } from '../src/protocol/field-table.js';
import { writeBasicProperties, type BasicProperties } from '../src/protocol/generated/amqp.js';
import { Message } from '../src/core/message.js';
import { validateQueueArgs } from '../src/core/queue/arguments.js';
import { isCycle, makeDeadLetter, type DeathReason } from '../src/core/queue/dead-letter.js';
import { ClassicQueue as Queue } from '../src/core/queue/classic.js';
import { Consumer } from '../src/core/queue/consumer.js';
import type { MessageQueue, QueueHost } from '../src/core/queue/types.js';
import { Owner, fakeActor, handleOf, take } from './support/queue-owner.js';
import type { Entry } from '../src/core/queue/ready-list.js';
import { VHost } from '../src/core/vhost.js';

function props(p: BasicProperties): Buffer {
  const w = new ByteWriter();
  writeBasicProperties(w, p);
  return Buffer.concat(w.take());
}
const msg = (s: string, p: BasicProperties = {}) => new Message('', 'q', props(p), Buffer.from(s));
const bodies = (q: Queue) => [...q.ready].map((e) => e.msg!.body.toString());

class Host implements QueueHost {
  dead: [string, DeathReason][] = [];
  expired: MessageQueue[] = [];
  unused: MessageQueue[] = [];
  deadLetter(_q: MessageQueue, m: Message, reason: DeathReason) { this.dead.push([m.body.toString(), reason]); }
  expireQueue(q: MessageQueue) { this.expired.push(q); (q as Queue).deleted = true; q.close(); }
  queueUnused(q: MessageQueue) { this.unused.push(q); }
}

function queue(args: Record<string, unknown> = {}, host: Host | null = new Host()): Queue {
  return new Queue('q', { durable: false, autoDelete: false, owner: null, args: toTable(args), host });
}
const timerOf = (q: Queue) => ((q as unknown as { timer: { armed: boolean } }).timer.armed ? 'armed' : null);

describe('TTL', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('a plain queue never arms a timer', () => {
    const q = queue();
    for (let i = 0; i < 10; i++) q.enqueue(msg(String(i)));
    take(q, true);
    expect(timerOf(q)).toBeNull();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('one timer per queue, for the head; expired heads are dead-lettered in order', () => {
    const host = new Host();
    const q = queue({ 'x-message-ttl': 1000, 'x-dead-letter-exchange': 'dlx' }, host);
    q.enqueue(msg('a'));
    vi.advanceTimersByTime(400);
    q.enqueue(msg('b'));
    q.enqueue(msg('c'));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(600);
    expect(host.dead).toEqual([['a', 'expired']]);
    expect(bodies(q)).toEqual(['b', 'c']);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(400);
    expect(host.dead).toEqual([['a', 'expired'], ['b', 'expired'], ['c', 'expired']]);
    // Nothing left to expire: no timer.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a message with a shorter expiration behind the head waits; the timer follows the head', () => {
    const host = new Host();
    const q = queue({ 'x-dead-letter-exchange': 'dlx' }, host);
    q.enqueue(msg('long', { expiration: '5000' }));
    q.enqueue(msg('short', { expiration: '10' }));
    vi.advanceTimersByTime(1000);
    expect(host.dead).toEqual([]);
    expect(take(q, true)?.msg!.body.toString()).toBe('long');
    // The new head is overdue: the re-armed timer fires at once.
    vi.advanceTimersByTime(0);
    expect(host.dead).toEqual([['short', 'expired']]);
  });

  it('the timer is re-armed earlier when a priority message with a shorter TTL becomes the head', () => {
    const host = new Host();
    const q = queue({ 'x-max-priority': 5, 'x-dead-letter-exchange': 'dlx' }, host);
    q.enqueue(msg('low', { expiration: '10000' }));
    q.enqueue(msg('high', { expiration: '100', priority: 5 }));
    vi.advanceTimersByTime(100);
    expect(host.dead).toEqual([['high', 'expired']]);
    expect(bodies(q)).toEqual(['low']);
  });

  it('TTL 0 goes straight to a consumer with room, else is dropped', () => {
    const host = new Host();
    const q = queue({ 'x-message-ttl': 0, 'x-dead-letter-exchange': 'dlx' }, host);
    q.enqueue(msg('dropped'));
    expect(host.dead).toEqual([['dropped', 'expired']]);
    const o = new Owner();
    q.addConsumer(new Consumer('c', q, o, true, false, 0, {}));
    q.enqueue(msg('delivered'));
    expect(o.got.map((g) => g.e.msg!.body.toString())).toEqual(['delivered']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an expired head is never delivered', () => {
    const host = new Host();
    const q = queue({ 'x-message-ttl': 100 }, host);
    q.enqueue(msg('old'));
    vi.setSystemTime(Date.now() + 200); // the clock moves, the timer has not fired yet
    const o = new Owner();
    q.addConsumer(new Consumer('c', q, o, true, false, 0, {}));
    q.dispatch();
    expect(o.got).toEqual([]);
    expect(q.messageCount).toBe(0);
  });

  it('waits longer than setTimeout allows are armed in steps', () => {
    const q = queue({ 'x-message-ttl': 30 * 24 * 3600 * 1000 }); // 30 days
    q.enqueue(msg('a'));
    vi.advanceTimersByTime(2 ** 31);
    expect(q.messageCount).toBe(1);
    vi.advanceTimersByTime(30 * 24 * 3600 * 1000 - 2 ** 31);
    expect(q.messageCount).toBe(0);
  });
});

describe('x-expires', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('an unused queue expires; use pushes the deadline back; consumers keep it', () => {
    const host = new Host();
    const q = queue({ 'x-expires': 1000 }, host);
    vi.advanceTimersByTime(800);
    take(q, true); // basic.get counts as use
    vi.advanceTimersByTime(800);
    expect(host.expired).toEqual([]);
    const c = new Consumer('c', q, new Owner(), true, false, 0, {});
    q.addConsumer(c);
    vi.advanceTimersByTime(5000);
    expect(host.expired).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    q.removeConsumer(c);
    vi.advanceTimersByTime(999);
    expect(host.expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(host.expired).toEqual([q]);
  });
});

describe('length limits', () => {
  it('drop-head dead-letters the head as maxlen; unacked messages do not count', () => {
    const host = new Host();
    const q = queue({ 'x-max-length': 2, 'x-dead-letter-exchange': 'dlx' }, host);
    for (const s of ['1', '2', '3']) expect(q.enqueue(msg(s))).toBe('queued');
    expect(bodies(q)).toEqual(['2', '3']);
    expect(host.dead).toEqual([['1', 'maxlen']]);
    const held = take(q, false)!;
    q.enqueue(msg('4'));
    expect(bodies(q)).toEqual(['3', '4']);
    q.requeue(handleOf(held), null); // back at the head, over the limit: dropped again
    expect(bodies(q)).toEqual(['3', '4']);
    expect(host.dead).toEqual([['1', 'maxlen'], ['2', 'maxlen']]);
  });

  it('reject-publish refuses (enqueue returns refused) without dead-lettering; reject-publish-dlx dead-letters', () => {
    const host = new Host();
    const q = queue({ 'x-max-length-bytes': 4, 'x-overflow': 'reject-publish', 'x-dead-letter-exchange': 'dlx' }, host);
    expect([q.enqueue(msg('12')), q.enqueue(msg('34')), q.enqueue(msg('5'))]).toEqual(['queued', 'queued', 'refused']);
    expect(bodies(q)).toEqual(['12', '34']);
    expect(host.dead).toEqual([]);
    const q2 = queue({ 'x-max-length': 1, 'x-overflow': 'reject-publish-dlx', 'x-dead-letter-exchange': 'dlx' }, host);
    expect([q2.enqueue(msg('a')), q2.enqueue(msg('b'))]).toEqual(['queued', 'refused']);
    expect(host.dead).toEqual([['b', 'maxlen']]);
  });

  it('reject dead-letters as rejected only with a DLX', () => {
    const host = new Host();
    const q = queue({ 'x-dead-letter-exchange': '' }, host);
    q.enqueue(msg('r'));
    q.reject(handleOf(take(q, false)!), null);
    expect(host.dead).toEqual([['r', 'rejected']]);
    expect(q.unackedCount).toBe(0);
    const plain = queue({}, host);
    plain.enqueue(msg('x'));
    plain.reject(handleOf(take(plain, false)!), null);
    expect(host.dead).toHaveLength(1);
  });
});

describe('priorities', () => {
  it('highest first, FIFO within a priority, capped at the maximum; requeue by position', () => {
    const q = queue({ 'x-max-priority': 3 });
    for (const [s, p] of [['a', 0], ['b', 3], ['c', undefined], ['d', 9], ['e', 1]] as const) {
      q.enqueue(msg(s, p === undefined ? {} : { priority: p }));
    }
    expect(bodies(q)).toEqual(['b', 'd', 'e', 'a', 'c']);
    const b = take(q, false)!;
    const d = take(q, false)!;
    q.requeue(handleOf(d), null);
    q.requeue(handleOf(b), null);
    expect(bodies(q)).toEqual(['b', 'd', 'e', 'a', 'c']);
    expect(q.ready.bytes).toBe(5);
  });
});

describe('single active consumer', () => {
  it('serves only the active one; the next by priority then age takes over', async () => {
    const q = queue({ 'x-single-active-consumer': true });
    const o = new Owner();
    const mk = (tag: string, prio: number) => new Consumer(tag, q, o, true, false, 0, toTable({ 'x-priority': prio }));
    const [a, bb, c] = [mk('a', 0), mk('b', 0), mk('c', 5)];
    for (const x of [a, bb, c]) q.addConsumer(x);
    q.enqueue(msg('1'));
    q.removeConsumer(a);
    q.enqueue(msg('2'));
    q.removeConsumer(c);
    q.enqueue(msg('3'));
    expect(o.got.map((g) => `${g.c.tag}:${g.e.msg!.body.toString()}`)).toEqual(['a:1', 'c:2', 'b:3']);
  });
});

describe('dead-letter messages', () => {
  const deathsOf = (m: Message) => (m.props.headers!['x-death'] as { value: FieldValue[] }).value;
  const entry = (d: FieldValue) => Object.fromEntries(Object.entries((d as { value: FieldTable }).value).map(([k, v]) => [k, v.value]));

  it('builds x-death, x-first-death-*, drops expiration and BCC, keeps the body buffer', () => {
    const m = new Message('ex', 'rk', props({
      contentType: 'text/plain', expiration: '500',
      headers: toTable({ CC: ['c1'], BCC: ['b1'], z: 1 }),
    }), Buffer.from('body'));
    const { msg: dl, deaths } = makeDeadLetter(m, 'expired', 'q1', 'dlx', null, 1_700_000_000_500);
    expect(dl.body).toBe(m.body);
    expect([dl.exchange, dl.routingKey, dl.routeKeys]).toEqual(['dlx', 'rk', ['rk', 'c1', 'b1']]);
    expect(dl.props.expiration).toBeUndefined();
    expect(dl.props.contentType).toBe('text/plain');
    expect(Object.keys(dl.props.headers!)).toEqual(['CC', 'x-death', 'x-first-death-exchange', 'x-first-death-queue', 'x-first-death-reason', 'z']);
    expect(deaths).toEqual(deathsOf(dl));
    expect(entry(deaths[0]!)).toEqual({
      count: 1, reason: 'expired', queue: 'q1', time: 1_700_000_000, exchange: 'ex',
      'routing-keys': [{ type: 'S', value: 'rk' }, { type: 'S', value: 'c1' }], 'original-expiration': '500',
    });
  });

  it('counts per queue and reason, moving the entry to the front; a DLX routing key drops CC', () => {
    let m = new Message('ex', 'rk', props({ headers: toTable({ CC: ['c1'] }) }), Buffer.from('b'));
    m = makeDeadLetter(m, 'rejected', 'q1', 'd1', 'k2', 0).msg;
    expect(m.props.headers!.CC).toBeUndefined();
    expect([m.routingKey, m.routeKeys]).toEqual(['k2', null]);
    m = makeDeadLetter(m, 'expired', 'q2', 'd2', null, 0).msg;
    m = makeDeadLetter(m, 'rejected', 'q1', 'd1', 'k2', 0).msg;
    expect(deathsOf(m).map((d) => [entry(d).queue, entry(d).reason, entry(d).count])).toEqual([['q1', 'rejected', 2], ['q2', 'expired', 1]]);
    expect(m.props.headers!['x-first-death-queue']).toEqual({ type: 'S', value: 'q1' });
  });

  it('isCycle: the queue was visited and no rejection happened since', () => {
    const d = (queue: string, reason: string): FieldValue => ({ type: 'F', value: toTable({ queue, reason }) });
    expect(isCycle('a', [d('b', 'expired'), d('a', 'expired')])).toBe(true);
    expect(isCycle('a', [d('b', 'expired'), d('a', 'rejected')])).toBe(false);
    expect(isCycle('a', [d('b', 'rejected'), d('a', 'expired')])).toBe(false);
    expect(isCycle('c', [d('b', 'expired'), d('a', 'expired')])).toBe(false);
    expect(isCycle('a', [d('a', 'maxlen'), d('b', 'rejected')])).toBe(true);
  });

  it('cascading dead-letters through a vhost stay iterative (no deep recursion)', () => {
    const v = new VHost('/');
    const owner = fakeActor();
    const n = 20000;
    // Two full queues dead-lettering into each other by max-length: every publish cascades.
    v.declareQueue('a', { passive: false, durable: false, exclusive: false, autoDelete: false,
      args: toTable({ 'x-max-length': n, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'b' }) }, owner);
    v.declareQueue('b', { passive: false, durable: false, exclusive: false, autoDelete: false,
      args: toTable({ 'x-max-length': n, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'a' }) }, owner);
    const a = v.queues.get('a')!;
    const bq = v.queues.get('b')!;
    for (let i = 0; i < n; i++) a.enqueue(new Message('', 'a', props({}), Buffer.from('x')));
    for (let i = 0; i < n; i++) bq.enqueue(new Message('', 'b', props({}), Buffer.from('y')));
    expect(() => a.enqueue(new Message('', 'a', props({}), Buffer.from('z')))).not.toThrow();
    expect(a.messageCount).toBe(n);
    expect(bq.messageCount).toBe(n);
  });
});

describe('argument validation', () => {
  it('reports the first failing check in RabbitMQ order', () => {
    expect(() => validateQueueArgs(toTable({ 'x-overflow': 'x', 'x-expires': 0 }), 'q', '/'))
      .toThrow("invalid arg 'x-expires' for queue 'q' in vhost '/': {value_zero,0}");
    expect(() => validateQueueArgs(toTable({ 'x-message-ttl': 2 ** 40 }), 'q', '/'))
      .toThrow("invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_too_large,1099511627776}");
    expect(() => validateQueueArgs(toTable({ 'x-queue-type': 'quorum' }), 'q', '/'))
      .toThrow(`invalid arg 'x-queue-type' for queue 'q' in vhost '/': "unsupported queue type 'quorum'"`);
    expect(() => validateQueueArgs(toTable({ 'x-unknown': [1, 2], 'x-max-priority': 255 }), 'q', '/')).not.toThrow();
  });
});
