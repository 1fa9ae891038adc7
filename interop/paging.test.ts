// Paging through amqplib, on a broker whose thresholds are lowered (pageOutCount 500) so a few
// thousand messages page out: transient bodies go to the page file and come back in order and
// intact; priorities, TTL with dead-lettering, drop-head, purge, delayed-exchange holds and
// retry backoffs work on paged messages, and the page files' disk use returns to 0 once the
// messages are gone. Warren-internal (broker options, the data directory): skipped in
// differential mode.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { external, startBroker, type TestBroker } from '../test/support/broker.js';

let b: TestBroker;
let conn: ChannelModel;
let ch: Channel;
const N = 20_000;

beforeAll(async () => {
  if (external) return;
  b = await startBroker({ pageOutCount: 500 });
  conn = await amqp.connect(b.url);
  ch = await conn.createChannel();
});
afterAll(async () => {
  if (external) return;
  await conn.close();
  await b.stop();
});

const pageDir = () => join(b.broker!.config.dataDir, 'msg_store_transient');
const pageBytes = () => readdirSync(pageDir()).reduce((n, f) => n + statSync(join(pageDir(), f)).size, 0);
const body = (i: number) => Buffer.from(`message-${i}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Consumes n messages from q (acking each), returning their bodies as strings. */
async function drain(q: string, n: number, prefetch = 200): Promise<string[]> {
  const c = await conn.createChannel();
  await c.prefetch(prefetch);
  const got: string[] = [];
  await new Promise<void>((resolve) => {
    void c.consume(q, (m: ConsumeMessage | null) => {
      if (m === null) return;
      got.push(m.content.toString());
      c.ack(m);
      if (got.length === n) resolve();
    });
  });
  await c.close();
  return got;
}

async function waitFor(cond: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}

describe.skipIf(external)('transient paging', () => {
  it('pages 20,000 transient messages out and delivers every body in order; the page file empties', async () => {
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    for (let i = 0; i < N; i++) ch.sendToQueue(q, body(i));
    await waitFor(async () => (await ch.checkQueue(q)).messageCount === N);
    expect(pageBytes()).toBeGreaterThan(0);
    const got = await drain(q, N);
    expect(got).toEqual(Array.from({ length: N }, (_, i) => `message-${i}`));
    expect(pageBytes()).toBe(0);
  });

  it('redelivers an unacked paged message, and basic.get reads paged ones', async () => {
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    for (let i = 0; i < 3000; i++) ch.sendToQueue(q, body(i));
    await waitFor(async () => (await ch.checkQueue(q)).messageCount === 3000);
    const c = await conn.createChannel();
    for (let i = 0; i < 2000; i++) expect(await c.get(q, { noAck: true })).toBeTruthy();
    const m = await c.get(q, { noAck: false });
    expect(m && m.content.toString()).toBe('message-2000');
    await c.close(); // requeued
    const again = await ch.get(q, { noAck: true });
    expect(again && [again.content.toString(), again.fields.redelivered]).toEqual(['message-2000', true]);
    expect((await drain(q, 999)).at(-1)).toBe('message-2999');
    expect(pageBytes()).toBe(0);
  });

  it('keeps priority order with paged messages', async () => {
    const q = (await ch.assertQueue('', { exclusive: true, arguments: { 'x-max-priority': 3 } })).queue;
    for (let i = 0; i < 4000; i++) ch.sendToQueue(q, body(i), { priority: i % 4 });
    await waitFor(async () => (await ch.checkQueue(q)).messageCount === 4000);
    const got = await drain(q, 4000);
    const want = [3, 2, 1, 0].flatMap((p) => Array.from({ length: 1000 }, (_, k) => `message-${k * 4 + p}`));
    expect(got).toEqual(want);
    expect(pageBytes()).toBe(0);
  });

  it('expires paged messages (TTL) and dead-letters them with their bodies', async () => {
    const dlq = (await ch.assertQueue('', { exclusive: true })).queue;
    const q = (await ch.assertQueue('', { exclusive: true, arguments: { 'x-message-ttl': 200, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq } })).queue;
    for (let i = 0; i < 3000; i++) ch.sendToQueue(q, body(i));
    await waitFor(async () => (await ch.checkQueue(dlq)).messageCount === 3000);
    expect((await ch.checkQueue(q)).messageCount).toBe(0);
    expect(await drain(dlq, 3000)).toEqual(Array.from({ length: 3000 }, (_, i) => `message-${i}`));
    expect(pageBytes()).toBe(0);
  });

  it('drop-head dead-letters paged heads; purge frees the page file', async () => {
    const dlq = (await ch.assertQueue('', { exclusive: true })).queue;
    const q = (await ch.assertQueue('', { exclusive: true, arguments: { 'x-max-length': 1000, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq } })).queue;
    const p = (await ch.assertQueue('', { exclusive: true })).queue;
    for (let i = 0; i < 3000; i++) { ch.sendToQueue(q, body(i)); ch.sendToQueue(p, body(i)); }
    await waitFor(async () => (await ch.checkQueue(dlq)).messageCount === 2000 && (await ch.checkQueue(p)).messageCount === 3000);
    expect(await drain(dlq, 2000)).toEqual(Array.from({ length: 2000 }, (_, i) => `message-${i}`));
    expect((await ch.purgeQueue(p)).messageCount).toBe(3000);
    expect(await drain(q, 1000)).toEqual(Array.from({ length: 1000 }, (_, i) => `message-${i + 2000}`));
    expect(pageBytes()).toBe(0);
  });

  it('pages out delayed-exchange holds and routes every body when due', async () => {
    await ch.assertExchange('paging.delayed', 'x-delayed-message', { autoDelete: true, arguments: { 'x-delayed-type': 'direct' } });
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.bindQueue(q, 'paging.delayed', 'k');
    // Padded past the page file's 256 KiB write buffer, so the held bodies reach the disk.
    for (let i = 0; i < 3000; i++) ch.publish('paging.delayed', 'k', Buffer.concat([body(i), Buffer.alloc(200, 32)]), { headers: { 'x-delay': 300 } });
    await waitFor(() => b.broker!.vhost('/')!.exchanges.get('paging.delayed')!.hold!.counts!().held === 3000);
    expect(pageBytes()).toBeGreaterThan(0);
    const got = (await drain(q, 3000)).map((t) => t.trimEnd());
    expect(got).toEqual(Array.from({ length: 3000 }, (_, i) => `message-${i}`));
    expect(pageBytes()).toBe(0);
  });

  it('pages out messages waiting out a retry backoff and redelivers every body', async () => {
    const q = (await ch.assertQueue('', { exclusive: true, arguments: { 'x-delayed-retry-min': 100, 'x-delayed-retry-multiplier': 1, 'x-delivery-limit': 3 } })).queue;
    for (let i = 0; i < 3000; i++) ch.sendToQueue(q, body(i));
    const c = await conn.createChannel();
    await c.prefetch(500);
    const acked = new Set<string>();
    let firstTries = 0;
    await new Promise<void>((resolve) => {
      void c.consume(q, (m: ConsumeMessage | null) => {
        if (m === null) return;
        if (m.properties.headers?.['x-delivery-count'] === undefined) { firstTries++; c.nack(m, false, true); return; }
        acked.add(m.content.toString());
        c.ack(m);
        if (acked.size === 3000) resolve();
      });
    });
    await c.close();
    expect(firstTries).toBe(3000);
    expect([...acked].sort()).toEqual(Array.from({ length: 3000 }, (_, i) => `message-${i}`).sort());
    expect(pageBytes()).toBe(0);
  });
});
