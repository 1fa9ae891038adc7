// Long lists of held messages keep their persistent bodies in the store, not in memory: past
// 4,096 delayed messages on a durable x-delayed-message exchange, and past 4,096 messages
// waiting out a retry backoff on a durable queue, a persistent body is read back when due.
// Every message still arrives once, whole, on time; also across a restart. Warren-only.
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { external } from '../test/support/broker.js';
import { tmpDataDir as dataDir } from '../test/support/process.js';
import { restartable } from '../test/support/restartable.js';
import { Inbox } from '../test/support/suite.js';

const r = restartable();
const N = 6000;
const body = (i: number) => `held-${i}-${'x'.repeat(i % 50)}`;

async function confirmChannel(dir: string): Promise<ConfirmChannel> {
  await r.restart(dir);
  return (await r.clients.connect()).createConfirmChannel();
}

function heldCounts(x: string): { held: number; bodiesInMemory: number } {
  const v = r.broker!.broker!.registry.vhost('/')!;
  return v.exchanges.get(x)!.hold!.counts!();
}

describe.skipIf(external)('held bodies page out to the store', () => {
  it(`${N} persistent delayed messages: bodies past 4,096 stay in the store, all arrive whole and not early, across a restart`, async () => {
    const dir = dataDir();
    let ch = await confirmChannel(dir);
    await ch.assertExchange('later', 'x-delayed-message', { durable: true, arguments: { 'x-delayed-type': 'direct' } });
    await ch.assertQueue('due', { durable: true });
    await ch.bindQueue('due', 'later', 'k');
    const due = new Map<string, number>();
    for (let i = 0; i < N; i++) {
      const delay = 1500 + (i % 7) * 100;
      due.set(body(i), Date.now() + delay);
      ch.publish('later', 'k', Buffer.from(body(i)), { persistent: true, headers: { 'x-delay': delay, i } });
    }
    await ch.waitForConfirms();
    expect(heldCounts('later')).toEqual({ held: N, bodiesInMemory: 4096 });
    // Half of them over a restart: recovery keeps 4,096 bodies and leaves the rest in the store.
    ch = await confirmChannel(dir);
    expect(heldCounts('later')).toEqual({ held: N, bodiesInMemory: 4096 });
    const inbox = new Inbox();
    const at = new Map<string, number>();
    await ch.consume('due', (m: ConsumeMessage | null) => {
      if (m) at.set(m.content.toString(), Date.now());
      inbox.cb(m);
    }, { noAck: true });
    await inbox.waitFor(N, 15_000);
    expect(new Set(inbox.bodies)).toEqual(new Set(due.keys()));
    for (const m of inbox.msgs) {
      const i = m.properties.headers!.i as number;
      expect(m.content.toString()).toBe(body(i));
      expect(at.get(body(i))!).toBeGreaterThanOrEqual(due.get(body(i))!);
    }
    expect(heldCounts('later')).toEqual({ held: 0, bodiesInMemory: 0 });
  }, 40_000);

  it(`${N} persistent messages nacked into a backoff all come back whole, with x-delivery-count 1`, async () => {
    const ch = await confirmChannel(dataDir());
    await ch.assertQueue('retrying', { durable: true, arguments: { 'x-delayed-retry-min': 800, 'x-delivery-limit': 3 } });
    for (let i = 0; i < N; i++) ch.sendToQueue('retrying', Buffer.from(body(i)), { persistent: true, headers: { i } });
    await ch.waitForConfirms();
    const first = new Set<number>();
    const again = new Map<number, ConsumeMessage>();
    await ch.prefetch(N + 100);
    let firstDone = () => {};
    const firstRound = new Promise<void>((resolve) => { firstDone = resolve; });
    const done = new Promise<void>((resolve) => {
      void ch.consume('retrying', (m) => {
        if (!m) return;
        const i = m.properties.headers!.i as number;
        expect(m.content.toString()).toBe(body(i));
        if (!first.has(i)) {
          first.add(i);
          ch.nack(m, false, true); // a failed attempt: into the backoff
          if (first.size === N) firstDone();
        } else {
          again.set(i, m);
          ch.ack(m);
          if (again.size === N) resolve();
        }
      });
    });
    await firstRound;
    // While they wait out the backoff, only the first 4,096 keep their bodies in memory.
    const waiting = () => {
      const q = r.broker!.broker!.registry.vhost('/')!.queues.get('retrying') as unknown as { retry: { waiting: { values(): readonly { msg: unknown }[] } } };
      return q.retry.waiting.values();
    };
    for (let t = 0; t < 50 && waiting().length < N; t++) await new Promise((res) => setTimeout(res, 10));
    expect(waiting()).toHaveLength(N);
    expect(waiting().filter((e) => e.msg !== null)).toHaveLength(4096);
    await done;
    expect(first.size).toBe(N);
    for (const [i, m] of again) {
      expect(m.content.toString()).toBe(body(i));
      expect(m.properties.headers!['x-delivery-count']).toBe(1);
    }
    expect((await ch.checkQueue('retrying')).messageCount).toBe(0);
  }, 40_000);
});
