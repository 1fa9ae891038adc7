// The embedded API (`import { startBroker } from 'warren'`) used the way a user's test suite
// would: brokers inside this process on free ports, throw-away data, preloaded users, and a
// stop() after which the port and the data directory are free again.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import amqp from 'amqplib';
import winston from 'winston';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startBroker, type WarrenHandle } from '../src/index.js';
import { external } from '../test/support/broker.js';

const started: WarrenHandle[] = [];
const dirs: string[] = [];
/** startBroker, stopped after the test even when it fails. */
async function start(options: Parameters<typeof startBroker>[0] = {}): Promise<WarrenHandle> {
  const h = await startBroker(options);
  started.push(h);
  return h;
}
afterEach(async () => {
  for (const h of started.splice(0)) await h.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Resolves once something can listen on the port again. */
function listenOn(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => s.close(() => resolve()));
  });
}

describe.skipIf(external)('embedded broker (startBroker)', () => {
  it('runs two brokers in one process on different ports with separate state', async () => {
    const a = await start();
    const b = await start();
    expect(a.port).not.toBe(b.port);
    expect(a.dataDir).not.toBe(b.dataDir);
    const ca = await amqp.connect(a.url);
    const cb = await amqp.connect(b.url);
    try {
      const cha = await ca.createChannel();
      await cha.assertQueue('only-on-a', { durable: true });
      cha.sendToQueue('only-on-a', Buffer.from('hello'), { persistent: true });
      await cha.close();
      const chb = await cb.createChannel();
      chb.on('error', () => {});
      await expect(chb.checkQueue('only-on-a')).rejects.toThrow(/404/);
      expect(a.broker.vhost('/')!.queues.has('only-on-a')).toBe(true);
      expect(b.broker.vhost('/')!.queues.has('only-on-a')).toBe(false);
      expect(a.broker.replies).not.toBe(b.broker.replies);
    } finally {
      await ca.close();
      await cb.close().catch(() => {});
    }
  });

  it('ephemeral (the default without dataDir) keeps its store in a temporary directory and leaves none behind', async () => {
    let dir: string;
    {
      await using w = await startBroker();
      dir = w.dataDir;
      expect(w.ephemeral).toBe(true);
      expect(dir.startsWith(tmpdir())).toBe(true);
      expect(readdirSync(dir)).toContain('warren.db');
      const c = await amqp.connect(w.url);
      await (await c.createChannel()).assertQueue('durable-but-ephemeral', { durable: true });
      await c.close();
    }
    expect(existsSync(dir)).toBe(false);
  });

  it('logs that an ephemeral broker keeps durable things only as long as the process', async () => {
    const lines: string[] = [];
    const logger = { error: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), info: (m: string) => lines.push(m), debug: () => {} };
    const w = await start({ logger });
    expect(lines.some((l) => /ephemeral.*durable queues and persistent messages last only as long as this process/.test(l))).toBe(true);
    expect(lines).toContain(`Warren ${w.broker.version} listening for AMQP 0-9-1 on 127.0.0.1:${w.port}`);
  });

  it('hands its logs to a winston logger, levels and metadata included', async () => {
    const lines: string[] = [];
    const stream = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
    const logger = winston.createLogger({ level: 'info', format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
    const w = await start({ logger });
    await w.stop();
    const listening = lines.map((l) => JSON.parse(l)).find((e) => /listening for AMQP/.test(e.message));
    expect(listening).toMatchObject({ level: 'info', dataDir: w.dataDir });
    expect(lines.some((l) => JSON.parse(l).level === 'debug')).toBe(false);
  });

  it('says nothing on stderr by default', async () => {
    const write = vi.spyOn(process.stderr, 'write');
    try {
      const w = await start();
      await w.stop();
      expect(write.mock.calls.filter(([chunk]) => String(chunk).includes('Warren'))).toEqual([]);
    } finally {
      write.mockRestore();
    }
  });

  it('preloads users and vhosts; the url carries the first user, escaped', async () => {
    const w = await start({ users: [{ name: 'ci', password: 'p@ss:w/rd' }, { name: 'bob', password: 'b' }], vhosts: ['/', 'tests'] });
    expect(w.url).toBe(`amqp://ci:p%40ss%3Aw%2Frd@127.0.0.1:${w.port}`);
    const c = await amqp.connect(`${w.url}/tests`);
    await c.close();
    const bob = await amqp.connect(`amqp://bob:b@127.0.0.1:${w.port}`);
    await bob.close();
    // Preloaded users replace the default guest, as in the config.
    await expect(amqp.connect(`amqp://guest:guest@127.0.0.1:${w.port}`)).rejects.toThrow(/ACCESS_REFUSED|403/);
    await expect(amqp.connect(`${w.url}/nowhere`)).rejects.toThrow();
  });

  it('stop() closes clients with 320 and resolves once the port can be listened on again', async () => {
    const w = await start();
    const c = await amqp.connect(w.url);
    c.on('error', () => {});
    const closed = new Promise<Error>((r) => c.on('close', r));
    const stopping = w.stop();
    expect(w.stop()).toBe(stopping); // idempotent: the same promise
    await stopping;
    expect(String(await closed)).toMatch(/320 \(CONNECTION-FORCED\)/);
    await listenOn(w.port);
    expect(existsSync(w.dataDir)).toBe(false);
  });

  it('keeps a given dataDir, unlocked after stop, and recovers durable queues from it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-embedded-'));
    dirs.push(dataDir);
    const first = await startBroker({ dataDir });
    expect(first.ephemeral).toBe(false);
    const c = await amqp.connect(first.url);
    const ch = await c.createConfirmChannel();
    await ch.assertQueue('kept', { durable: true });
    ch.sendToQueue('kept', Buffer.from('m1'), { persistent: true });
    await ch.waitForConfirms();
    await c.close();
    await first.stop();
    expect(existsSync(join(dataDir, 'warren.db'))).toBe(true);
    const second = await start({ dataDir, port: first.port });
    const c2 = await amqp.connect(second.url);
    const m = await (await c2.createChannel()).get('kept', { noAck: true });
    expect(m && m.content.toString()).toBe('m1');
    await c2.close();
  });

  it('a second broker on a held data directory or a taken port fails to start and cleans up', async () => {
    const a = await start();
    await expect(startBroker({ dataDir: a.dataDir })).rejects.toThrow(/in use by this process/);
    // The ephemeral directory the failed start made (named in its first log line) is gone.
    const made: string[] = [];
    const logger = { error: () => {}, warn: () => {}, debug: () => {}, info: (_m: string, meta?: Record<string, unknown>) => { if (meta?.dataDir) made.push(String(meta.dataDir)); } };
    await expect(startBroker({ port: a.port, logger })).rejects.toThrow(/EADDRINUSE/);
    expect(made.length).toBeGreaterThan(0);
    for (const d of made) expect(existsSync(d)).toBe(false);
  });

  it('refuses options that contradict each other', async () => {
    await expect(startBroker({ ephemeral: true, dataDir: '/tmp/x' })).rejects.toThrow(/exclude each other/);
  });

  it('has the management API off unless asked, and on a free port when asked', async () => {
    const off = await start();
    expect(off.managementUrl).toBeNull();
    await using on = await startBroker({ management: true });
    const u = new URL(on.managementUrl!);
    const auth = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
    const res = await fetch(`${u.origin}/api/whoami`, { headers: { authorization: auth } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: 'guest', tags: ['administrator'] });
  });
});
