// The disk alarm (disk_free_limit), on a small tmpfs this test mounts as the data directory:
// filling it below the limit blocks publishing connections (connection.blocked "low on disk",
// amqplib's 'blocked' event) while others go on consuming, and the management API reports the
// alarm; freeing space unblocks them (connection.unblocked) and the held publish is confirmed.
// With the alarm off and the disk really full, the store refuses what it cannot write (publisher
// confirms are nacked) and never half-writes: after kill -9 and a restart every confirmed
// message is there and warren.db passes SQLite's integrity check. Needs root (mount); skips
// with the reason otherwise. The blocked reason and the health check's body are RabbitMQ
// 3.10.8's (checked with rabbitmqctl set_disk_free_limit above the free space: "low on disk",
// resource "disk space").
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp, { type ConfirmChannel } from 'amqplib';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANY_FREE_PORT } from '../src/config.js';
import { external, startBroker, type TestBroker } from '../test/support/broker.js';
import { built, killAll, startWarren } from '../test/support/process.js';
import { eventually, sleep } from '../test/support/suite.js';

const MiB = 1024 * 1024;
const mnt = mkdtempSync(join(tmpdir(), 'warren-disk-'));
let mounted = false;
let why = '';
if (!external) {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=30m', 'tmpfs', mnt], { stdio: 'pipe' });
    mounted = true;
  } catch (err) {
    why = `cannot mount a tmpfs (${String((err as { stderr?: Buffer }).stderr ?? err).trim()}): the disk alarm tests need root`;
    console.warn(`skipping disk alarm tests: ${why}`);
  }
}
afterAll(() => {
  killAll();
  if (mounted) execFileSync('umount', ['-l', mnt]);
  rmSync(mnt, { recursive: true, force: true });
});

const filler = join(mnt, 'filler');
/** Leave about `freeBytes` free on the tmpfs. */
function fillLeaving(freeBytes: number): void {
  writeFileSync(filler, Buffer.alloc(0));
  const { bavail, bsize } = statfsSync(mnt);
  writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - freeBytes), 1));
}

describe.skipIf(!mounted)('disk alarm', () => {
  let b: TestBroker;
  beforeAll(async () => {
    b = await startBroker({ dataDir: join(mnt, 'alarm'), diskFreeLimit: { absolute: 20_000_000 }, managementPort: ANY_FREE_PORT });
  });
  afterAll(async () => { await b?.stop(); });

  const api = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${b.broker!.managementPort}${path}`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } });
    return { status: res.status, body: await res.json() as Record<string, unknown> };
  };

  it('below disk_free_limit publishers are blocked ("low on disk"), consumers are not; freeing space unblocks them', async () => {
    const pc = await amqp.connect(b.url);
    const events: string[] = [];
    pc.on('blocked', (reason: string) => events.push(`blocked:${reason}`));
    pc.on('unblocked', () => events.push('unblocked'));
    const pub = await pc.createConfirmChannel();
    const q = (await pub.assertQueue('disk-q', { durable: true })).queue;
    const cc = await amqp.connect(b.url);
    const cons = await cc.createChannel();
    expect((await api('/api/health/checks/alarms')).body).toEqual({ status: 'ok' });

    fillLeaving(12 * MiB);
    await eventually(() => b.broker!.diskAlarm, 'the disk alarm is set', { timeoutMs: 3000 });
    const nodes = (await api('/api/nodes')).body as unknown as Record<string, unknown>[];
    expect(nodes[0]).toMatchObject({ disk_free_alarm: true, mem_alarm: false });
    expect(await api('/api/health/checks/alarms')).toEqual({
      status: 503, body: { status: 'failed', reason: 'There are alarms in effect in the cluster', alarms: [{ node: b.broker!.nodeName, resource: 'disk space' }] },
    });

    // The publish that finds the alarm on is taken, then its connection is blocked: nothing more
    // is read from it, so the next publish waits. (RabbitMQ's reader blocks on the publish's
    // method frame and leaves its body unread, so there the first one waits too.)
    let confirmed = 0;
    const onConfirm = (err: unknown) => { if (err === null || err === undefined) confirmed++; };
    pub.sendToQueue(q, Buffer.from('first'), { persistent: true }, onConfirm);
    await eventually(() => events.length > 0, 'connection.blocked arrives');
    expect(events).toEqual(['blocked:low on disk']);
    pub.sendToQueue(q, Buffer.from('held'), { persistent: true }, onConfirm);
    await sleep(500);
    expect(confirmed).toBeLessThanOrEqual(1);
    // A connection that does not publish is not blocked.
    expect((await cons.checkQueue(q)).messageCount).toBe(1);

    unlinkSync(filler);
    await eventually(() => events.length === 2, 'connection.unblocked arrives', { timeoutMs: 12_000 });
    expect(events).toEqual(['blocked:low on disk', 'unblocked']);
    await eventually(() => confirmed === 2, 'both publishes are confirmed');
    const got = [await cons.get(q, { noAck: true }), await cons.get(q, { noAck: true })];
    expect(got.map((m) => (m as { content: Buffer }).content.toString())).toEqual(['first', 'held']);
    expect((await api('/api/nodes')).body).toMatchObject([{ disk_free_alarm: false }]);
    expect((await api('/api/health/checks/alarms')).body).toEqual({ status: 'ok' });
    await pc.close();
    await cc.close();
  }, 30_000);
});

describe.skipIf(!mounted || !built)('a really full disk', () => {
  it('confirms are nacked, nothing is half-written: after kill -9 every confirmed message is there', async () => {
    const dir = join(mnt, 'full');
    const args = ['--port', '0', '--management-port', '0', '--data-dir', dir, '--disk-free-limit', '0'];
    const w = startWarren(args);
    const url = `amqp://guest:guest@127.0.0.1:${await w.listening}`;
    const c = await amqp.connect(url);
    c.on('error', () => {});
    const ch: ConfirmChannel = await c.createConfirmChannel();
    ch.on('error', () => {});
    await ch.assertQueue('full', { durable: true });
    fillLeaving(3 * MiB);
    const acked = new Set<string>();
    let nacked = 0;
    let closed = false;
    c.on('close', () => { closed = true; });
    const body = Buffer.alloc(8192, 7);
    // Publish 16 MiB into 3 MiB of space, 50 in flight at a time, until refusals come.
    for (let i = 0; i < 2000 && !closed && nacked < 50; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, k) => new Promise<void>((resolve) => {
        const id = String(i + k);
        try {
          ch.sendToQueue('full', body, { persistent: true, messageId: id }, (err) => {
            if (err) nacked++;
            else acked.add(id);
            resolve();
          });
        } catch { closed = true; resolve(); }
      })).concat(new Promise<void>((r) => c.once('close', () => r()))).slice(0, 50));
    }
    console.log(`full disk: ${acked.size} confirmed, ${nacked} nacked, connection closed: ${closed}`);
    expect(nacked > 0 || closed).toBe(true);
    expect(acked.size).toBeGreaterThan(0);
    w.proc.kill('SIGKILL');
    await w.exited;
    unlinkSync(filler);

    // Restart on the same directory: it opens (not corrupt) and every confirmed message is there.
    const w2 = startWarren(args);
    const c2 = await amqp.connect(`amqp://guest:guest@127.0.0.1:${await w2.listening}`);
    const ch2 = await c2.createChannel();
    const found = new Set<string>();
    for (let m = await ch2.get('full', { noAck: true }); m !== false; m = await ch2.get('full', { noAck: true })) found.add(String(m.properties.messageId));
    const lost = [...acked].filter((id) => !found.has(id));
    expect(lost).toEqual([]);
    await c2.close();
    w2.proc.kill('SIGTERM');
    await w2.exited;
    const db = new Database(join(dir, 'warren.db'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  }, 60_000);
});
