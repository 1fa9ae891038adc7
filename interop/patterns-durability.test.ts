// The patterns' state across restarts and SIGKILL, through amqplib: messages held by a durable
// delayed exchange keep their due time, retrying messages keep their attempt count and due
// time, a disk-cached deduplication exchange keeps its cache, a consistent-hash exchange keeps
// its mapping. Restarts need Warren's own process: these skip in differential mode.
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { external } from '../test/support/broker.js';
import { built, startWarren, tmpDataDir as dataDir } from '../test/support/process.js';
import { restartable } from '../test/support/restartable.js';
import { Inbox, sleep } from '../test/support/suite.js';

// Each test starts, restarts or kills its own broker on a data dir of its own (gone after it).
const r = restartable();
const { clients } = r;

async function restart(dir: string): Promise<Channel> {
  await r.restart(dir);
  return (await clients.connect()).createConfirmChannel();
}

const PERSISTENT = { persistent: true } as const;

/** Consume `q` with no-ack, noting when each message arrived. */
async function arrivals(ch: Channel, q: string): Promise<{ inbox: Inbox; at: Map<string, number> }> {
  const inbox = new Inbox();
  const at = new Map<string, number>();
  await ch.consume(q, (m: ConsumeMessage | null) => {
    if (m) at.set(m.content.toString(), Date.now());
    inbox.cb(m);
  }, { noAck: true });
  return { inbox, at };
}

async function delayedSetup(ch: Channel): Promise<void> {
  await ch.assertExchange('later', 'x-delayed-message', { durable: true, arguments: { 'x-delayed-type': 'direct' } });
  await ch.assertQueue('due', { durable: true });
  await ch.bindQueue('due', 'later', 'k');
}

describe.skipIf(external)('delayed messages across a restart', () => {
  it('keep their due time (overdue ones go out at once); transient ones and non-durable exchanges do not survive', async () => {
    const dir = dataDir();
    let ch = await restart(dir);
    await delayedSetup(ch);
    await ch.assertExchange('later-t', 'x-delayed-message', { durable: false, arguments: { 'x-delayed-type': 'direct' } });
    await ch.bindQueue('due', 'later-t', 'k');
    const t0 = Date.now();
    ch.publish('later', 'k', Buffer.from('soon'), { ...PERSISTENT, headers: { 'x-delay': 200 } });
    ch.publish('later', 'k', Buffer.from('late'), { ...PERSISTENT, headers: { 'x-delay': 1500 } });
    ch.publish('later', 'k', Buffer.from('transient'), { headers: { 'x-delay': 300 } });
    ch.publish('later-t', 'k', Buffer.from('non-durable-x'), { ...PERSISTENT, headers: { 'x-delay': 300 } });
    await (ch as unknown as { waitForConfirms(): Promise<void> }).waitForConfirms();
    await r.stop();
    await sleep(400); // 'soon' is overdue when the broker is back
    ch = await restart(dir);
    const { inbox, at } = await arrivals(ch, 'due');
    await inbox.waitFor(1, 1000);
    expect(inbox.bodies).toEqual(['soon']);
    await inbox.waitFor(2, 3000);
    expect(at.get('late')! - t0).toBeGreaterThanOrEqual(1500);
    expect(inbox.msgs[1]!.properties.headers!['x-delay']).toBe(-1500);
    await sleep(200);
    expect(inbox.bodies).toEqual(['soon', 'late']);
  });

  it.skipIf(!built)('after SIGKILL every confirmed delayed message arrives, none before its due time', async () => {
    const dir = dataDir();
    let w = startWarren(['--port', '0', '--host', '127.0.0.1', '--data-dir', dir]);
    let port = await w.listening;
    let c: ChannelModel = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
    c.on('error', () => {});
    const pub = await c.createConfirmChannel();
    pub.on('error', () => {});
    await delayedSetup(pub);
    const due = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const delay = 800 + (i % 10) * 100;
      due.set(`m${i}`, Date.now() + delay);
      pub.publish('later', 'k', Buffer.from(`m${i}`), { ...PERSISTENT, headers: { 'x-delay': delay } });
    }
    await pub.waitForConfirms();
    w.proc.kill('SIGKILL');
    await w.exited;
    w = startWarren(['--port', '0', '--host', '127.0.0.1', '--data-dir', dir]);
    port = await w.listening;
    c = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
    c.on('error', () => {});
    const ch = await c.createChannel();
    const { inbox, at } = await arrivals(ch, 'due');
    await inbox.waitFor(300, 5000);
    for (const [id, when] of at) expect(when, id).toBeGreaterThanOrEqual(due.get(id)!);
    expect(new Set(inbox.bodies).size).toBe(300);
    await c.close();
  });
});

/** Declare the retrying queue, publish one persistent job, nack its first delivery; returns when. */
async function failOnce(ch: Channel): Promise<number> {
  await ch.assertQueue('retrying', { durable: true, arguments: { 'x-delayed-retry-min': 1200, 'x-delivery-limit': 5 } });
  ch.sendToQueue('retrying', Buffer.from('job'), PERSISTENT);
  await (ch as unknown as { waitForConfirms(): Promise<void> }).waitForConfirms();
  const m = await new Promise<ConsumeMessage>((resolve) => { void ch.consume('retrying', (x) => { if (x) resolve(x); }); });
  ch.nack(m, false, true);
  const at = Date.now();
  await sleep(150); // the retry state is in this turn's commit
  return at;
}

async function expectRetried(ch: Channel, nackedAt: number): Promise<void> {
  expect((await ch.checkQueue('retrying')).messageCount).toBe(0); // still waiting: not ready
  const { inbox, at } = await arrivals(ch, 'retrying');
  const [m] = await inbox.waitFor(1, 3000);
  expect(at.get('job')! - nackedAt).toBeGreaterThanOrEqual(1200);
  expect([m!.properties.headers!['x-delivery-count'], m!.fields.redelivered]).toEqual([1, true]);
}

describe.skipIf(external)('retrying messages across a restart', () => {
  it('keep their attempt count and due time over a clean restart', async () => {
    const dir = dataDir();
    let ch = await restart(dir);
    const nackedAt = await failOnce(ch);
    ch = await restart(dir);
    await expectRetried(ch, nackedAt);
  });

  it.skipIf(!built)('keep them after SIGKILL', async () => {
    const dir = dataDir();
    let w = startWarren(['--port', '0', '--host', '127.0.0.1', '--data-dir', dir]);
    let c: ChannelModel = await amqp.connect(`amqp://guest:guest@127.0.0.1:${await w.listening}`);
    c.on('error', () => {});
    const nackedAt = await failOnce(await c.createConfirmChannel());
    w.proc.kill('SIGKILL');
    await w.exited;
    w = startWarren(['--port', '0', '--host', '127.0.0.1', '--data-dir', dir]);
    c = await amqp.connect(`amqp://guest:guest@127.0.0.1:${await w.listening}`);
    c.on('error', () => {});
    await expectRetried(await c.createChannel(), nackedAt);
    await c.close();
  });
});

async function dedupSetup(ch: Channel): Promise<void> {
  for (const [x, where] of [['dd-disk', 'disk'], ['dd-mem', 'memory']] as const) {
    await ch.assertExchange(x, 'x-message-deduplication', { durable: true, arguments: { 'x-cache-size': 100, 'x-cache-persistence': where } });
    await ch.assertQueue(`${x}-q`, { durable: true });
    await ch.bindQueue(`${x}-q`, x, '');
  }
}

async function sendKeys(ch: Channel, x: string, keys: string[]): Promise<void> {
  for (const k of keys) ch.publish(x, '', Buffer.from(k), { headers: { 'x-deduplication-header': k } });
  await (ch as unknown as { waitForConfirms(): Promise<void> }).waitForConfirms();
}

async function queued(ch: Channel, q: string): Promise<number> {
  return (await ch.checkQueue(q)).messageCount;
}

describe.skipIf(external)('deduplication caches across a restart', () => {
  it('a disk cache survives a clean restart; a memory one does not', async () => {
    const dir = dataDir();
    let ch = await restart(dir);
    await dedupSetup(ch);
    await sendKeys(ch, 'dd-disk', ['k1', 'k2']);
    await sendKeys(ch, 'dd-mem', ['k1']);
    ch = await restart(dir);
    await sendKeys(ch, 'dd-disk', ['k1', 'k2', 'k3']);
    await sendKeys(ch, 'dd-mem', ['k1']);
    // The transient messages of before went with the restart: what is queued now got through now.
    expect([await queued(ch, 'dd-disk-q'), await queued(ch, 'dd-mem-q')]).toEqual([1, 1]);
  });

  it.skipIf(!built)('a disk cache survives SIGKILL once the publish was confirmed', async () => {
    const dir = dataDir();
    let w = startWarren(['--port', '0', '--host', '127.0.0.1', '--data-dir', dir]);
    let c: ChannelModel = await amqp.connect(`amqp://guest:guest@127.0.0.1:${await w.listening}`);
    c.on('error', () => {});
    let ch: Channel = await c.createConfirmChannel();
    await dedupSetup(ch);
    await sendKeys(ch, 'dd-disk', ['a', 'b']);
    w.proc.kill('SIGKILL');
    await w.exited;
    w = startWarren(['--port', '0', '--host', '127.0.0.1', '--data-dir', dir]);
    c = await amqp.connect(`amqp://guest:guest@127.0.0.1:${await w.listening}`);
    c.on('error', () => {});
    ch = await c.createConfirmChannel();
    await sendKeys(ch, 'dd-disk', ['a', 'b', 'c']);
    // Transient messages in the durable queue went with the crash; only the new key got through.
    expect(await queued(ch, 'dd-disk-q')).toBe(1);
    await c.close();
  });
});
