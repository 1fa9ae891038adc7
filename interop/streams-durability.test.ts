// Stream queues survive a restart and a SIGKILL: every confirmed message is back with its
// offset unchanged, and offsets go on from where they were (never reused). Warren's own process
// is needed, so these skip in differential mode.
import fs from 'node:fs';
import path from 'node:path';
import amqp, { type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { external } from '../test/support/broker.js';
import { built, killAll, startWarren, tmpDataDir } from '../test/support/process.js';

afterEach(() => killAll());

const STREAM = { 'x-queue-type': 'stream', 'x-stream-max-segment-size-bytes': 20_000 };

async function readAll(url: string, q: string, n: number): Promise<[string, number][]> {
  const c = await amqp.connect(url);
  const ch = await c.createChannel();
  await ch.prefetch(500);
  const got: [string, number][] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`got ${got.length} of ${n}`)), 10_000);
    void ch.consume(q, (m: ConsumeMessage | null) => {
      if (m === null) return;
      got.push([m.content.toString(), Number(m.properties.headers!['x-stream-offset'])]);
      // Multiple-acks now and then (credit back), the last one before the channel close.
      if (got.length % 100 === 0 || got.length >= n) ch.ack(m, true);
      if (got.length >= n) { clearTimeout(timer); resolve(); }
    }, { arguments: { 'x-stream-offset': 'first' } });
  });
  await ch.close();
  await c.close();
  return got;
}

describe.skipIf(external || !built)('streams: restart and SIGKILL', () => {
  it('confirmed messages and their offsets survive SIGTERM and SIGKILL; offsets are never reused', async () => {
    const dir = tmpDataDir();
    const args = ['--port', '0', '--host', '127.0.0.1', '--data-dir', dir];
    let w = startWarren(args);
    let url = `amqp://guest:guest@127.0.0.1:${await w.listening}`;
    let c = await amqp.connect(url);
    let pub: ConfirmChannel = await c.createConfirmChannel();
    await pub.assertQueue('log', { durable: true, arguments: STREAM });
    for (let i = 0; i < 500; i++) pub.sendToQueue('log', Buffer.from(`a${i}`.padEnd(100, '.')));
    await pub.waitForConfirms();
    const before = await readAll(url, 'log', 500);
    await c.close();
    w.proc.kill('SIGTERM');
    await w.exited;
    w = startWarren(args);
    url = `amqp://guest:guest@127.0.0.1:${await w.listening}`;
    expect(await readAll(url, 'log', 500)).toEqual(before);
    // Confirmed, then killed at once.
    c = await amqp.connect(url);
    c.on('error', () => {});
    pub = await c.createConfirmChannel();
    pub.on('error', () => {});
    for (let i = 0; i < 300; i++) pub.sendToQueue('log', Buffer.from(`b${i}`.padEnd(100, '.')));
    await pub.waitForConfirms();
    w.proc.kill('SIGKILL');
    await w.exited;
    w = startWarren(args);
    url = `amqp://guest:guest@127.0.0.1:${await w.listening}`;
    const after = await readAll(url, 'log', 800);
    expect(after.slice(0, 500)).toEqual(before);
    expect(after.slice(500).map(([b]) => b.replace(/\.+$/, ''))).toEqual(Array.from({ length: 300 }, (_, i) => `b${i}`));
    for (let i = 1; i < after.length; i++) expect(after[i]![1]).toBe(after[i - 1]![1] + 1);
    // New messages go on after the last offset.
    c = await amqp.connect(url);
    pub = await c.createConfirmChannel();
    pub.sendToQueue('log', Buffer.from('c0'));
    await pub.waitForConfirms();
    const all = await readAll(url, 'log', 801);
    expect(all[800]).toEqual(['c0', after[799]![1] + 1]);
    await c.close();
  }, 60_000);

  it('a segment corrupted on disk: the error is logged at startup, a reader gets what is intact and then basic.cancel, never garbage', async () => {
    const dir = tmpDataDir();
    const args = ['--port', '0', '--host', '127.0.0.1', '--data-dir', dir];
    let w = startWarren(args);
    let c = await amqp.connect(`amqp://guest:guest@127.0.0.1:${await w.listening}`);
    const pub = await c.createConfirmChannel();
    await pub.assertQueue('dmg', { durable: true, arguments: STREAM });
    for (let i = 0; i < 500; i++) pub.sendToQueue('dmg', Buffer.from(`d${i}`.padEnd(100, '.')));
    await pub.waitForConfirms();
    await c.close();
    w.proc.kill('SIGTERM');
    await w.exited;
    const sdir = path.join(dir, 'streams', '%2F', 'dmg');
    const victim = path.join(sdir, fs.readdirSync(sdir).filter((f) => f.endsWith('.seg')).sort()[1]!);
    const buf = fs.readFileSync(victim);
    buf[buf.length >> 1]! ^= 0xff;
    fs.writeFileSync(victim, buf);
    w = startWarren(args);
    c = await amqp.connect(`amqp://guest:guest@127.0.0.1:${await w.listening}`);
    const ch = await c.createChannel();
    await ch.prefetch(1000);
    const got: string[] = [];
    await new Promise<void>((resolve) => {
      void ch.consume('dmg', (m) => {
        if (m === null) return resolve(); // basic.cancel from the broker
        got.push(m.content.toString().replace(/\.+$/, ''));
        ch.ack(m);
      }, { arguments: { 'x-stream-offset': 'first' } });
    });
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(500);
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => `d${i}`));
    expect(w.output()).toMatch(/stream segment is corrupt/);
    expect(w.output()).toContain(path.basename(victim));
    await c.close();
  }, 60_000);
});
