// Reading a large stream from `first` keeps the broker's memory flat: what is read is handed
// out under each consumer's credit and dropped once written, never gathered. 1 GB of 64 KiB
// messages (about 15 s; `npm run bench:stream-memory` is the same outside the suite); the bound
// is on RSS growth over the baseline after writing, not on time. Warren's own process is measured, so this skips in differential mode.
import { readFileSync } from 'node:fs';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { external } from '../test/support/broker.js';
import { built, killAll, startWarren } from '../test/support/process.js';

afterEach(() => killAll());

const MB = 1024;
const SIZE = 64 * 1024;
const rss = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

describe.skipIf(external || !built)('streams: memory while reading', () => {
  it(`reads ${MB} MB from first with broker RSS growth under 150 MB`, async () => {
    const w = startWarren(['--port', '0', '--host', '127.0.0.1']);
    const url = `amqp://guest:guest@127.0.0.1:${await w.listening}`;
    const c = await amqp.connect(url);
    const pub = await c.createConfirmChannel();
    await pub.assertQueue('big', { durable: true, arguments: { 'x-queue-type': 'stream' } });
    const n = (MB * 1024 * 1024) / SIZE;
    const body = Buffer.alloc(SIZE, 'x');
    for (let i = 0; i < n; i += 100) {
      for (let j = i; j < Math.min(i + 100, n); j++) pub.sendToQueue('big', body);
      await pub.waitForConfirms();
    }
    const pid = w.proc.pid!;
    const base = rss(pid);
    let peak = base;
    const sampler = setInterval(() => { peak = Math.max(peak, rss(pid)); }, 20);
    const ch = await c.createChannel();
    await ch.prefetch(100);
    let got = 0;
    let bytes = 0;
    await new Promise<void>((resolve) => {
      void ch.consume('big', (m) => {
        if (m === null) return;
        got++;
        bytes += m.content.length;
        if (got % 50 === 0 || got === n) ch.ack(m, true);
        if (got === n) resolve();
      }, { arguments: { 'x-stream-offset': 'first' } });
    });
    clearInterval(sampler);
    peak = Math.max(peak, rss(pid));
    expect(bytes).toBe(n * SIZE);
    expect(peak - base).toBeLessThan(150);
    await c.close();
  }, 120_000);
});
