// Durability through amqplib: what survives a restart (and what must not), confirms that wait
// for the disk, bodies paged out of a long durable queue, and a SIGKILL in the middle of a
// confirmed stream. Restarts need Warren's own process, so these skip in differential mode.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp, { type ConfirmChannel, type ConsumeMessage, type GetMessage } from 'amqplib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { StorePersistence } from '../src/persistence/store-persistence.js';
import type { ClassicQueue } from '../src/core/queue/classic.js';
import { external, startBroker, type TestBroker } from '../test/support/broker.js';
import { amqpError, channelError, Clients } from '../test/support/amqp.js';
import { built, killAll, startWarren } from '../test/support/process.js';
import { drain, sleep, takeAll } from '../test/support/suite.js';

const dirs: string[] = [];
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'warren-durable-'));
  dirs.push(d);
  return d;
}
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

// Not interopSuite(): each test starts, restarts or kills its own broker on a data dir of its own.
let broker: TestBroker | null = null;
const clients = new Clients(() => broker!.url);
afterEach(async () => {
  await clients.closeAll();
  await broker?.stop();
  broker = null;
  killAll();
});

async function restart(dir: string): Promise<void> {
  await clients.closeAll();
  await broker?.stop();
  broker = await startBroker({ dataDir: dir });
}

const PERSISTENT = { persistent: true } as const;


describe.skipIf(external)('durability: restart', () => {
  it('keeps durable exchanges, queues with their arguments, bindings between durable ends, and persistent messages of durable queues; nothing else', async () => {
    const dir = dataDir();
    await restart(dir);
    let c = await clients.connect();
    let ch = await c.createChannel();
    await ch.assertExchange('d.topic', 'topic', { durable: true, alternateExchange: 'd.ae' });
    await ch.assertExchange('d.ae', 'fanout', { durable: true });
    await ch.assertExchange('t.fanout', 'fanout', { durable: false });
    await ch.assertQueue('d.q', { durable: true, arguments: { 'x-max-length': 100, 'x-custom': 'kept' } });
    await ch.assertQueue('d.unrouted', { durable: true });
    await ch.assertQueue('t.q', { durable: false });
    await ch.assertQueue('d.excl', { durable: true, exclusive: true });
    await ch.bindQueue('d.q', 'd.topic', 'a.*');
    await ch.bindQueue('d.unrouted', 'd.ae', '');
    await ch.bindQueue('t.q', 'd.topic', 'a.*'); // transient end: gone with t.q
    await ch.bindExchange('t.fanout', 'd.topic', '#'); // transient end: gone
    ch.publish('d.topic', 'a.one', Buffer.from('p1'), { ...PERSISTENT, messageId: 'p1', headers: { h: 1 } });
    ch.publish('d.topic', 'a.two', Buffer.from('t1'), { messageId: 't1' }); // transient
    ch.publish('d.topic', 'a.three', Buffer.from('p2'), { ...PERSISTENT, messageId: 'p2' });
    ch.sendToQueue('t.q', Buffer.from('p-in-transient'), PERSISTENT);
    await ch.assertQueue('d.q', { durable: true, arguments: { 'x-max-length': 100, 'x-custom': 'kept' } }); // a round trip
    expect((await ch.checkQueue('d.q')).messageCount).toBe(3);

    await restart(dir);
    c = await clients.connect();
    ch = await c.createChannel();
    await ch.checkExchange('d.topic');
    await ch.checkExchange('d.ae');
    const gone = await clients.chan(c);
    const err = channelError(gone);
    gone.checkExchange('t.fanout').catch(() => {});
    expect(String(await err)).toMatch(amqpError(404, "NOT_FOUND - no exchange 't.fanout' in vhost '/'"));
    for (const q of ['t.q', 'd.excl']) {
      const g = await clients.chan(c);
      const e = channelError(g);
      g.checkQueue(q).catch(() => {});
      expect(String(await e)).toMatch(amqpError(404, `NOT_FOUND - no queue '${q}' in vhost '/'`));
    }
    // Arguments came back: the same declaration is equivalent, another is not.
    await ch.assertQueue('d.q', { durable: true, arguments: { 'x-max-length': 100, 'x-custom': 'kept' } });
    const differ = await clients.chan(c);
    const e406 = channelError(differ);
    differ.assertQueue('d.q', { durable: true, arguments: { 'x-max-length': 5 } }).catch(() => {});
    expect(String(await e406)).toMatch(/PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue 'd.q'/);

    const msgs = await takeAll(ch, 'd.q');
    expect(msgs.map((m) => m.properties.messageId)).toEqual(['p1', 'p2']);
    expect(msgs[0]!.content.toString()).toBe('p1');
    expect(msgs[0]!.properties.headers).toEqual({ h: 1 });
    expect(msgs[0]!.properties.deliveryMode).toBe(2);
    expect(msgs[0]!.fields).toMatchObject({ exchange: 'd.topic', routingKey: 'a.one', redelivered: false });

    // The restored bindings route; the alternate exchange argument still works.
    ch.publish('d.topic', 'a.x', Buffer.from('again'));
    ch.publish('d.topic', 'nomatch', Buffer.from('to-ae'));
    await ch.checkQueue('d.q');
    expect(await drain(ch, 'd.q')).toEqual(['again']);
    expect(await drain(ch, 'd.unrouted')).toEqual(['to-ae']);
    expect(broker!.broker!.vhost('/')!.exchanges.get('d.topic')!.bindings.map((b) => b.destination.name)).toEqual(['d.q']);
  });

  it('deleted and unbound things stay deleted after a restart', async () => {
    const dir = dataDir();
    await restart(dir);
    let ch = await (await clients.connect()).createChannel();
    await ch.assertExchange('x1', 'direct', { durable: true });
    await ch.assertQueue('q1', { durable: true });
    await ch.assertQueue('q2', { durable: true });
    await ch.bindQueue('q1', 'x1', 'k');
    await ch.bindQueue('q2', 'x1', 'k');
    ch.sendToQueue('q2', Buffer.from('gone with q2'), PERSISTENT);
    ch.sendToQueue('q1', Buffer.from('purged'), PERSISTENT);
    await ch.purgeQueue('q1');
    await ch.unbindQueue('q1', 'x1', 'k');
    await ch.deleteQueue('q2');
    await restart(dir);
    ch = await (await clients.connect()).createChannel();
    expect((await ch.checkQueue('q1')).messageCount).toBe(0);
    const v = broker!.broker!.vhost('/')!;
    expect(v.queues.has('q2')).toBe(false);
    expect(v.exchanges.get('x1')!.bindings).toHaveLength(0);
    await ch.deleteExchange('x1');
    await restart(dir);
    expect(broker!.broker!.vhost('/')!.exchanges.has('x1')).toBe(false);
  });

  it('brings back unacked messages in their original order, flagged redelivered; acked ones stay gone', async () => {
    const dir = dataDir();
    await restart(dir);
    const c = await clients.connect();
    const ch = await c.createChannel();
    await ch.assertQueue('work', { durable: true });
    for (let i = 0; i < 6; i++) ch.sendToQueue('work', Buffer.from(`m${i}`), PERSISTENT);
    await ch.prefetch(4);
    const got: ConsumeMessage[] = [];
    let tag = '';
    await new Promise<void>((resolve) => {
      void ch.consume('work', (m) => { got.push(m!); if (got.length === 4) resolve(); }).then((ok) => { tag = ok.consumerTag; });
    });
    await ch.cancel(tag); // so the acks below make no room for m4 and m5
    ch.ack(got[1]!);
    ch.ack(got[3]!);
    await ch.checkQueue('work');
    await restart(dir);
    const ch2 = await (await clients.connect()).createChannel();
    const after = await takeAll(ch2, 'work');
    expect(after.map((m) => m.content.toString())).toEqual(['m0', 'm2', 'm4', 'm5']);
    expect(after.map((m) => m.fields.redelivered)).toEqual([true, true, false, false]);
  });

  it('keeps x-death headers, and TTLs count from the original enqueue', async () => {
    const dir = dataDir();
    await restart(dir);
    let ch = await (await clients.connect()).createChannel();
    await ch.assertQueue('dead', { durable: true });
    await ch.assertQueue('src', { durable: true, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dead' } });
    ch.sendToQueue('src', Buffer.from('rejected'), PERSISTENT);
    const m = await ch.get('src');
    ch.nack(m as GetMessage, false, false);
    await ch.assertQueue('ttl', { durable: true, arguments: { 'x-message-ttl': 1500, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dead' } });
    const published = Date.now();
    ch.sendToQueue('ttl', Buffer.from('expires'), PERSISTENT);
    await ch.checkQueue('ttl');
    await restart(dir);
    ch = await (await clients.connect()).createChannel();
    const [first] = await takeAll(ch, 'dead');
    expect(first!.content.toString()).toBe('rejected');
    expect(first!.properties.headers!['x-first-death-reason']).toBe('rejected');
    expect((first!.properties.headers!['x-death'] as unknown[])[0]).toMatchObject({ count: 1, reason: 'rejected', queue: 'src' });
    // 1.5 s from the first publish, not from the restart.
    const expired = await new Promise<ConsumeMessage>((resolve) => { void ch.consume('dead', (d) => resolve(d!), { noAck: true }); });
    const elapsed = Date.now() - published;
    expect(expired.content.toString()).toBe('expires');
    expect((expired.properties.headers!['x-death'] as unknown[])[0]).toMatchObject({ reason: 'expired', queue: 'ttl' });
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(1500 + 2000 /* generous: restart time plus a loaded CI machine */);
  });

  it('priorities and length limits hold for recovered messages', async () => {
    const dir = dataDir();
    await restart(dir);
    let ch = await (await clients.connect()).createConfirmChannel();
    await ch.assertQueue('prio', { durable: true, arguments: { 'x-max-priority': 5 } });
    await ch.assertQueue('full', { durable: true, arguments: { 'x-max-length': 2, 'x-overflow': 'reject-publish' } });
    for (const p of [1, 5, 3, 5, 0]) ch.sendToQueue('prio', Buffer.from(`p${p}`), { ...PERSISTENT, priority: p });
    ch.sendToQueue('full', Buffer.from('a'), PERSISTENT);
    ch.sendToQueue('full', Buffer.from('b'), PERSISTENT);
    await ch.waitForConfirms();
    await restart(dir);
    ch = await (await clients.connect()).createConfirmChannel();
    expect(await drain(ch, 'prio')).toEqual(['p5', 'p5', 'p3', 'p1', 'p0']);
    const nacked = await new Promise<boolean>((resolve) => {
      ch.sendToQueue('full', Buffer.from('c'), PERSISTENT, (err) => resolve(err !== null && err !== undefined));
    });
    expect(nacked).toBe(true);
    expect(await drain(ch, 'full')).toEqual(['a', 'b']);
  });

  it('logs what it recovered and how long it took', async () => {
    const dir = dataDir();
    await restart(dir);
    const ch = await (await clients.connect()).createChannel();
    await ch.assertQueue('rq', { durable: true });
    for (let i = 0; i < 3; i++) ch.sendToQueue('rq', Buffer.from('x'), PERSISTENT);
    await ch.checkQueue('rq');
    await clients.closeAll();
    await broker!.stop();
    broker = null;
    const w = startWarren(['--port', '0', '--host', '127.0.0.1', '--data-dir', dir, '--log-level', 'info']);
    await w.listening;
    expect(w.output()).toMatch(/recovered 1 durable queues with 3 messages in \d+\.\d{3} s/);
  });
});

describe.skipIf(external)('durability: confirms and paging', () => {
  it('confirms a persistent message only after its commit, and later confirms wait behind it', async () => {
    broker = await startBroker();
    const persistence = broker.broker!.vhost('/')!.persistence as StorePersistence;
    const held: ((err: Error | null) => void)[] = [];
    const real = persistence.afterCommit.bind(persistence);
    persistence.afterCommit = (cb) => { held.push(cb); };
    const ch = await (await clients.connect()).createConfirmChannel();
    await ch.assertQueue('dq', { durable: true });
    await ch.assertQueue('tq', { durable: false });
    const acks: string[] = [];
    ch.sendToQueue('dq', Buffer.from('1'), PERSISTENT, () => acks.push('persistent'));
    ch.sendToQueue('tq', Buffer.from('2'), {}, () => acks.push('transient'));
    await ch.checkQueue('tq');
    await sleep(100);
    expect(acks).toEqual([]);
    expect(held.length).toBeGreaterThan(0); // one per store commit the confirms wait for
    persistence.afterCommit = real;
    for (const cb of held) real(cb);
    await ch.waitForConfirms();
    expect(acks).toEqual(['persistent', 'transient']);
    // Transient messages, or persistent ones in a transient queue, do not wait for the disk.
    const journal = persistence.store.messages;
    const addMessage = journal.addMessage;
    let written = 0;
    journal.addMessage = (...args) => { written++; return addMessage.apply(journal, args); };
    ch.sendToQueue('tq', Buffer.from('3'), PERSISTENT);
    await ch.waitForConfirms();
    journal.addMessage = addMessage;
    expect(written).toBe(0);
  });

  it('keeps only an index for most of a long durable queue, and reads bodies back in order', async () => {
    broker = await startBroker();
    const ch = await (await clients.connect()).createConfirmChannel();
    await ch.assertQueue('long', { durable: true });
    const n = 12000;
    for (let i = 0; i < n; i++) ch.sendToQueue('long', Buffer.from(`body-${i}-`.padEnd(200, 'x')), { ...PERSISTENT, messageId: String(i) });
    await ch.waitForConfirms();
    const q = broker.broker!.vhost('/')!.queues.get('long') as ClassicQueue;
    let resident = 0;
    for (const e of q.ready) if (e.msg !== null) resident++;
    expect(q.messageCount).toBe(n);
    expect(resident).toBeLessThan(5000);
    await ch.prefetch(500);
    let next = 0;
    let bad = '';
    await new Promise<void>((resolve) => {
      void ch.consume('long', (m) => {
        const i = Number(m!.properties.messageId);
        if (i !== next || m!.content.toString() !== `body-${i}-`.padEnd(200, 'x')) bad ||= `at ${next}: got ${i}`;
        next++;
        ch.ack(m!);
        if (next === n) resolve();
      });
    });
    expect(bad).toBe('');
  });
});

describe.skipIf(external || !built)('durability: crash', () => {
  it('after SIGKILL mid-stream, every confirmed message is back (by id, intact), unacked ones redelivered', async () => {
    const dir = dataDir();
    let w = startWarren(['--port', '0', '--host', '127.0.0.1', '--data-dir', dir]);
    let port = await w.listening;
    const url = () => `amqp://guest:guest@127.0.0.1:${port}`;
    const pubConn = await amqp.connect(url());
    pubConn.on('error', () => {});
    const pub: ConfirmChannel = await pubConn.createConfirmChannel();
    pub.on('error', () => {});
    await pub.assertQueue('orders', { durable: true });
    // A consumer holds the first 50 unacked, so they were delivered before the crash.
    const conConn = await amqp.connect(url());
    conConn.on('error', () => {});
    const con = await conConn.createChannel();
    con.on('error', () => {});
    await con.prefetch(50);
    const held: number[] = [];
    await con.consume('orders', (m) => { if (m) held.push(Number(m.properties.messageId)); });

    const body = (id: number) => Buffer.from(`order-${id}:`.padEnd(100 + (id % 400), String.fromCharCode(97 + (id % 26))));
    const confirmed = new Set<number>();
    let id = 0;
    let killed = false;
    // Stream with a window of 100 unconfirmed; kill once 3000 are confirmed.
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (!killed && id - confirmed.size < 100) {
          const my = id++;
          pub.sendToQueue('orders', body(my), { persistent: true, messageId: String(my) }, (err) => {
            if (err !== null && err !== undefined) return;
            confirmed.add(my);
            if (confirmed.size >= 3000 && !killed) {
              killed = true;
              w.proc.kill('SIGKILL');
              resolve();
            }
            pump();
          });
        }
      };
      pump();
    });
    await w.exited;
    expect(held.length).toBe(50);

    w = startWarren(['--port', '0', '--host', '127.0.0.1', '--data-dir', dir, '--log-level', 'info']);
    port = await w.listening;
    const c = await amqp.connect(url());
    const ch = await c.createChannel();
    const seen = new Map<number, boolean>();
    let corrupt = 0;
    for (;;) {
      const m = await ch.get('orders', { noAck: true });
      if (m === false) break;
      const mid = Number(m.properties.messageId);
      if (!m.content.equals(body(mid)) || m.properties.deliveryMode !== 2) corrupt++;
      seen.set(mid, m.fields.redelivered);
    }
    await c.close();
    expect(corrupt).toBe(0);
    const missing = [...confirmed].filter((i) => !seen.has(i));
    expect(missing).toEqual([]);
    for (const h of held) expect(seen.get(h)).toBe(true);
    // Never-delivered messages are not flagged.
    expect([...seen].filter(([i, r]) => r && !held.includes(i))).toEqual([]);
  }, 60_000);
});
