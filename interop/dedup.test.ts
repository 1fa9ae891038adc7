// Deduplication through amqplib, as the rabbitmq-message-deduplication plugin documents it: the
// x-message-deduplication exchange (x-cache-size / -ttl / -persistence, the plugin's texts) and
// the x-message-deduplication queue argument, keyed by the x-deduplication-header header.
// RabbitMQ 3.10 lacks the plugin: the suite skips in differential mode. The disk cache across a
// restart and SIGKILL: patterns-durability.test.ts.
import type { Channel } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { amqpError, channelError } from '../test/support/amqp.js';
import { drain, external, getOne, interopSuite, sleep, uniqueName } from '../test/support/suite.js';

const s = interopSuite();
const DEDUP = 'x-message-deduplication';
const H = 'x-deduplication-header';

async function dedupExchange(ch: Channel, args: Record<string, unknown>): Promise<{ x: string; q: string }> {
  const x = uniqueName('dedup');
  await ch.assertExchange(x, DEDUP, { durable: false, arguments: args });
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, x, 'ignored');
  return { x, q: queue };
}

/** Publish each [body, header value] pair (undefined: no header) with confirms. */
async function send(x: string, msgs: [string, unknown][], extra: Record<string, unknown> = {}): Promise<void> {
  for (const [b, v] of msgs) s.pub.publish(x, 'any-key', Buffer.from(b), { headers: v === undefined ? { ...extra } : { [H]: v, ...extra } });
  await s.pub.waitForConfirms();
}

describe.skipIf(external)('x-message-deduplication exchange', () => {
  it('refuses bad arguments with the plugin\'s texts; takes a numeric string size', async () => {
    for (const [args, text] of [
      [{}, "Missing or invalid argument, 'x-cache-size' must be an integer greater than 0"],
      [{ 'x-cache-size': 0 }, "Missing or invalid argument, 'x-cache-size' must be an integer greater than 0"],
      [{ 'x-cache-size': 'ten' }, "Missing or invalid argument, 'x-cache-size' must be an integer greater than 0"],
      [{ 'x-cache-size': 5, 'x-cache-ttl': 0 }, "Invalid argument, 'x-cache-ttl' must be an integer greater than 0"],
      [{ 'x-cache-size': 5, 'x-cache-ttl': 'soon' }, "Invalid argument, 'x-cache-ttl' must be an integer greater than 0"],
      [{ 'x-cache-size': 5, 'x-cache-persistence': 'cloud' }, "Invalid argument, 'x-cache-persistence' must be either 'disk' or 'memory'"],
    ] as const) {
      const ch = await s.chan();
      const err = channelError(ch);
      ch.assertExchange(uniqueName('d'), DEDUP, { durable: false, arguments: args }).catch(() => {});
      expect(String(await err), JSON.stringify(args)).toMatch(amqpError(406, `PRECONDITION_FAILED - ${text}`));
    }
    await dedupExchange(await s.chan(), { 'x-cache-size': '10', 'x-cache-ttl': '1000', 'x-cache-persistence': 'memory' });
  });

  it('routes fanout, drops a duplicate (still acked), never deduplicates messages without the header', async () => {
    const ch = await s.chan();
    const { x, q } = await dedupExchange(ch, { 'x-cache-size': 100 });
    await send(x, [['a', 'k1'], ['b', 'k1'], ['c', 'k2'], ['d', undefined], ['e', undefined], ['f', 1], ['g', 1.5], ['h', 'k2']]);
    expect(await drain(ch, q)).toEqual(['a', 'c', 'd', 'e', 'f', 'g']);
    // Integer widths are one value: a long 1 is the byte 1 seen above.
    await send(x, [['i', { '!': 'long', value: 1 }], ['j', 1]]);
    expect(await drain(ch, q)).toEqual([]);
  });

  it('a full cache evicts an entry for the new one: size 1, this, that, this are all routed', async () => {
    const ch = await s.chan();
    const { x, q } = await dedupExchange(ch, { 'x-cache-size': 1 });
    await send(x, [['1', 'this'], ['2', 'that'], ['3', 'this']]);
    expect(await drain(ch, q)).toEqual(['1', '2', '3']);
  });

  it('entries expire after x-cache-ttl; a message\'s own x-cache-ttl header sets its entry\'s', async () => {
    const ch = await s.chan();
    const { x, q } = await dedupExchange(ch, { 'x-cache-size': 10, 'x-cache-ttl': 150 });
    await send(x, [['a', 'k'], ['b', 'k']]);
    await send(x, [['c', 'own']], { 'x-cache-ttl': 5000 });
    await sleep(250);
    await send(x, [['d', 'k'], ['e', 'own']]);
    expect(await drain(ch, q)).toEqual(['a', 'c', 'd']);
  });
});

describe.skipIf(external)('x-message-deduplication queue argument', () => {
  const dq = (args: Record<string, unknown> = {}) => s.queue('dq', { 'x-message-deduplication': true, ...args });
  const put = (q: string, pairs: [string, string][]) =>
    (async () => { for (const [b, v] of pairs) s.pub.sendToQueue(q, Buffer.from(b), { headers: { [H]: v } }); await s.pub.waitForConfirms(); })();

  it('discards a message whose value is in the queue, ready or unacked; a requeue keeps the value taken', async () => {
    const q = await dq();
    await put(q, [['a', 'k'], ['b', 'k'], ['c', 'j']]);
    expect((await s.ch.checkQueue(q)).messageCount).toBe(2);
    const ch = await s.chan();
    const a = await getOne(ch, q, true);
    await put(q, [['a2', 'k']]); // a is unacked: still in the queue
    ch.nack(a, false, true);
    await put(q, [['a3', 'k']]); // requeued: still there
    expect((await s.ch.checkQueue(q)).messageCount).toBe(2);
    ch.ack(await getOne(ch, q, true)); // a leaves for good
    await put(q, [['a4', 'k']]);
    expect(await drain(s.ch, q)).toEqual(['c', 'a4']);
  });

  it('frees the value on reject, no-ack get, purge, expiry and drop-head', async () => {
    const ch = await s.chan();
    const q = await dq();
    await put(q, [['r', 'v']]);
    ch.reject(await getOne(ch, q, true), false);
    await put(q, [['g', 'v']]);
    await getOne(ch, q); // no-ack
    await put(q, [['p', 'v']]);
    await ch.purgeQueue(q);
    await put(q, [['last', 'v']]);
    expect(await drain(ch, q)).toEqual(['last']);
    const ttl = await dq({ 'x-message-ttl': 50 });
    await put(ttl, [['t1', 'v']]);
    await sleep(120);
    await put(ttl, [['t2', 'v']]);
    expect(await drain(ch, ttl)).toEqual(['t2']);
    const capped = await dq({ 'x-max-length': 1 });
    await put(capped, [['h1', 'v'], ['h2', 'w'], ['h3', 'v']]);
    expect(await drain(ch, capped)).toEqual(['h3']);
  });
});
