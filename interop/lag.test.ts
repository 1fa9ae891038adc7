// Consumer lag on classic queues (issue 14 f): passive queue.declare's message_count is the ready
// messages only (unacked ones, and on Warren messages waiting out a retry backoff, excluded),
// consumer_count the consumers, both exact right after the operations; a worker pool's lag is
// message_count plus its unacked. The first test also holds on RabbitMQ 3.10 (differential mode).
import type { ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import type { ClassicQueue } from '../src/core/queue/classic.js';
import { external, interopSuite, numbered, sleep } from '../test/support/suite.js';

const s = interopSuite();

describe('lag: message_count and consumer_count', () => {
  it('count ready messages only, exactly, as deliveries and acks happen', async () => {
    const q = await s.queue('lag');
    await s.send(q, numbered(10));
    expect(await s.ch.checkQueue(q)).toMatchObject({ messageCount: 10, consumerCount: 0 });
    const ch = await s.chan();
    await ch.prefetch(3);
    const got: ConsumeMessage[] = [];
    await ch.consume(q, (m) => { if (m) got.push(m); });
    while (got.length < 3) await sleep(5);
    expect(await s.ch.checkQueue(q)).toMatchObject({ messageCount: 7, consumerCount: 1 });
    ch.ack(got[2]!, true);
    while (got.length < 6) await sleep(5);
    expect(await s.ch.checkQueue(q)).toMatchObject({ messageCount: 4, consumerCount: 1 });
    await ch.close();
    // The 3 unacked come back: ready again.
    expect(await s.ch.checkQueue(q)).toMatchObject({ messageCount: 7, consumerCount: 0 });
  });

  it.skipIf(external)('Warren: messages waiting out a retry backoff are neither ready nor unacked', async () => {
    const q = await s.queue('lag-retry', { 'x-delayed-retry-min': 400 });
    await s.send(q, numbered(5));
    const ch = await s.chan();
    for (let i = 0; i < 2; i++) {
      const m = await ch.get(q);
      if (m) ch.nack(m, false, true);
    }
    const queue = s.warren!.vhost('/')!.queues.get(q) as ClassicQueue;
    expect(await s.ch.checkQueue(q)).toMatchObject({ messageCount: 3 });
    expect([queue.messageCount, queue.unackedCount, queue.waitingCount]).toEqual([3, 0, 2]);
    await sleep(500);
    expect(await s.ch.checkQueue(q)).toMatchObject({ messageCount: 5 });
  });
});
