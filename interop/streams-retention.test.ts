// Stream retention in Warren's files: x-max-age is applied by the stream's timer even when
// nobody publishes, x-max-length-bytes when segments roll over; whole segments go from the head
// and offsets are never reused. These look at the segment files, so they skip in differential
// mode (RabbitMQ's own retention is checked through AMQP in streams-policies.test.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import type { StreamQueue } from '../src/core/queue/stream/stream-queue.js';
import { Inbox, eventually, external, interopSuite, uniqueName } from '../test/support/suite.js';

const t = interopSuite();

export async function declareStream(args: Record<string, unknown>): Promise<string> {
  const q = uniqueName('ret');
  const ch = await t.chan();
  await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'stream', ...args } });
  t.removeAfter(q);
  await ch.close();
  return q;
}

const streamOf = (q: string): StreamQueue => t.warren!.registry.vhost('/')!.queues.get(q) as StreamQueue;
const segFiles = (q: string): string[] => fs.readdirSync(streamOf(q).log.dir).filter((f) => f.endsWith('.seg')).sort();
const dirBytes = (q: string): number => segFiles(q).reduce((n, f) => n + fs.statSync(path.join(streamOf(q).log.dir, f)).size, 0);

/** The offset of the first message a consumer from `first` gets. */
async function firstOffset(q: string): Promise<number> {
  const ch = await t.chan();
  await ch.prefetch(1);
  const inbox = new Inbox();
  await ch.consume(q, (m) => inbox.cb(m), { arguments: { 'x-stream-offset': 'first' } });
  const [m] = await inbox.waitFor(1);
  await ch.close();
  return Number((m as ConsumeMessage).properties.headers!['x-stream-offset']);
}

async function publish(q: string, n: number, size = 100): Promise<void> {
  for (let i = 0; i < n; i++) t.pub.sendToQueue(q, Buffer.alloc(size, 'm'));
  await t.pub.waitForConfirms();
}

describe.skipIf(external)('stream retention (Warren files)', () => {
  it('x-max-age drops aged segments on its timer without further publishes; offsets go on', async () => {
    const q = await declareStream({ 'x-max-age': '1s', 'x-stream-max-segment-size-bytes': 2000 });
    await publish(q, 60);
    const before = segFiles(q).length;
    expect(before).toBeGreaterThan(3);
    // Nothing is published from here on: only the timer can drop them.
    await eventually(() => segFiles(q).length === 1, 'only the active segment is left', { timeoutMs: 15_000 });
    const s = streamOf(q);
    expect(s.log.first).toBeGreaterThan(0);
    expect(s.messageCount).toBe(60 - s.log.first);
    expect(await firstOffset(q)).toBe(s.log.first);
    await publish(q, 1);
    expect(s.log.nextOffset).toBe(61);
  }, 20_000);

  it('x-max-length-bytes drops whole head segments when segments roll; retained bytes stay within limit + 2 segments', async () => {
    const q = await declareStream({ 'x-max-length-bytes': 5000, 'x-stream-max-segment-size-bytes': 2000 });
    await publish(q, 300);
    const s = streamOf(q);
    expect(dirBytes(q)).toBeLessThanOrEqual(5000 + 2 * 2000);
    expect(dirBytes(q)).toBe(s.log.totalBytes);
    expect(s.log.first).toBeGreaterThan(200);
    expect(segFiles(q)[0]).toBe(`${String(s.log.first).padStart(20, '0')}.seg`);
    expect(await firstOffset(q)).toBe(s.log.first);
    expect(s.log.nextOffset).toBe(300);
  });
});
