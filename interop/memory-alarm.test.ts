// The memory high watermark: a publisher far faster than its consumer, on a broker with a small
// watermark, is blocked (connection.blocked), the broker's RSS stays near the watermark, and
// once the consumer drains the queues it is unblocked; no message is lost. Functional, not timed.
// The messages go round-robin to QUEUES queues: one long queue would page its bodies out
// (8 MiB of bodies in memory at most, see paging.ts) and never reach the watermark.
import { readFileSync } from 'node:fs';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { external } from '../test/support/broker.js';
import { built, killAll, startWarren as spawnWarren } from '../test/support/process.js';

// Not interopSuite(): the broker is a warren process of its own, with a small watermark and its RSS read.
afterEach(killAll);

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

async function startWarren(args: string[]) {
  const w = spawnWarren(['--port', '0', ...args]);
  return { proc: w.proc, port: await w.listening, log: w.output };
}

describe.skipIf(external || !built)('memory high watermark', () => {
  it('blocks a publisher above the watermark and unblocks it once consumers drain', async () => {
    const watermarkMiB = 96;
    const w = await startWarren(['--memory-high-watermark', `${watermarkMiB}MiB`]);
    const url = `amqp://guest:guest@127.0.0.1:${w.port}`;
    const pc = await amqp.connect(url);
    const events: string[] = [];
    let onBlocked = () => {};
    const blocked = new Promise<void>((r) => { onBlocked = r; });
    pc.on('blocked', (reason: string) => { events.push(`blocked:${reason}`); onBlocked(); });
    pc.on('unblocked', () => events.push('unblocked'));
    const pub = await pc.createChannel();
    const QUEUES = 24;
    const names = Array.from({ length: QUEUES }, (_, i) => `big-${i}`);
    for (const q of names) await pub.assertQueue(q);
    const body = Buffer.alloc(8192, 3);
    let sent = 0;
    let peakRss = 0;
    // Publish until the broker blocks us (amqplib's 'blocked' event), or give up after 200k.
    while (!events.length && sent < 200_000) {
      if (!pub.sendToQueue(names[sent % QUEUES]!, body)) await Promise.race([new Promise((r) => pub.once('drain', r)), blocked]);
      sent++;
      if (sent % 500 === 0) {
        peakRss = Math.max(peakRss, rssMiB(w.proc.pid!));
        await new Promise((r) => setImmediate(r));
      }
    }
    expect(events[0]).toBe('blocked:low on memory');
    // The broker's log line travels through a pipe: give it a moment to arrive.
    for (let i = 0; i < 100 && !/memory alarm set/.test(w.log()); i++) await new Promise((r) => setTimeout(r, 20));
    expect(w.log()).toMatch(/memory alarm set: blocking publishers/);
    // Blocked: the broker reads nothing more from us, so its memory stops growing.
    for (let i = 0; i < 20; i++) {
      pub.sendToQueue(names[sent % QUEUES]!, body);
      sent++;
      peakRss = Math.max(peakRss, rssMiB(w.proc.pid!));
      await new Promise((r) => setTimeout(r, 25));
    }
    console.log(`peak RSS ${peakRss.toFixed(0)} MiB with a ${watermarkMiB} MiB watermark`);
    expect(peakRss).toBeLessThan(watermarkMiB + 160);

    // A consumer drains everything; memory falls and the publisher is unblocked.
    const cc = await amqp.connect(url);
    const cons = await cc.createChannel();
    await cons.prefetch(500);
    let got = 0;
    const total = sent;
    const unblocked = new Promise<void>((resolve) => {
      const poll = () => (events[events.length - 1] === 'unblocked' ? resolve() : setTimeout(poll, 20));
      poll();
    });
    const drained = new Promise<void>((resolve) => {
      for (const q of names) {
        void cons.consume(q, (m) => {
          cons.ack(m!);
          if (++got === total) resolve();
        });
      }
    });
    await drained;
    await unblocked;
    // Memory may hover at the watermark while draining: blocked/unblocked pairs, ending unblocked.
    expect(events.length % 2).toBe(0);
    events.forEach((e, i) => expect(e).toBe(i % 2 === 0 ? 'blocked:low on memory' : 'unblocked'));
    expect(got).toBe(total);
    // Publishing works again.
    await pub.checkQueue(names[0]!);
    await pc.close();
    await cc.close();
  }, 90_000);
});
