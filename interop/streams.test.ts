// Stream queues (x-queue-type stream) over AMQP 0-9-1, as RabbitMQ 3.10 has them: declare rules
// and texts, consume rules, x-stream-offset, the x-stream-offset header, many readers of the same
// messages, acks as credit. Every test here also runs against RabbitMQ (differential mode).
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { amqpError, serverConnectionClose } from '../test/support/amqp.js';
import { Inbox, body, external, interopSuite, numbered, sleep, uniqueName } from '../test/support/suite.js';

const t = interopSuite();
const STREAM = { 'x-queue-type': 'stream' };

async function stream(args: Record<string, unknown> = {}): Promise<string> {
  const q = uniqueName('stream');
  const ch = await t.chan();
  await ch.assertQueue(q, { durable: true, arguments: { ...STREAM, ...args } });
  t.removeAfter(q);
  await ch.close();
  return q;
}

async function declareError(q: string, opts: Record<string, unknown>): Promise<string> {
  const ch = await t.chan();
  return ch.assertQueue(q, opts).then(() => 'declared', (e: Error) => e.message);
}

/** Consume from `q` with `prefetch` on a fresh channel. */
async function consume(q: string, offset: unknown, prefetch = 100, ack = true, c?: ChannelModel): Promise<{ ch: Channel; inbox: Inbox }> {
  const ch = await t.chan(c);
  await ch.prefetch(prefetch);
  const inbox = new Inbox();
  await ch.consume(q, (m) => {
    inbox.cb(m);
    if (m !== null && ack) ch.ack(m);
  }, { arguments: offset === undefined ? {} : { 'x-stream-offset': offset } });
  return { ch, inbox };
}

const offsetOf = (m: ConsumeMessage): number => Number(m.properties.headers?.['x-stream-offset']);

/** The connection.close a failing method on a new connection gets. */
async function hardError(fn: (ch: Channel) => Promise<unknown>): Promise<string> {
  const c = await t.connect();
  const closed = serverConnectionClose(c);
  const ch = await c.createChannel();
  ch.on('error', () => {});
  fn(ch).catch(() => {});
  const f = await closed;
  return `${f.replyCode} ${f.replyText}`;
}

describe('stream queues: declare', () => {
  it('must be durable, not exclusive, not auto-delete (auto-delete reported first, then exclusive)', async () => {
    const q = uniqueName('sd');
    expect(await declareError(q, { durable: false, arguments: STREAM })).toMatch(amqpError(406, `PRECONDITION_FAILED - invalid property 'non-durable' for queue '${q}' in vhost '/'`));
    expect(await declareError(q, { durable: true, exclusive: true, arguments: STREAM })).toMatch(amqpError(406, `PRECONDITION_FAILED - invalid property 'exclusive-owner' for queue '${q}' in vhost '/'`));
    expect(await declareError(q, { durable: true, autoDelete: true, arguments: STREAM })).toMatch(amqpError(406, `PRECONDITION_FAILED - invalid property 'auto-delete' for queue '${q}' in vhost '/'`));
    expect(await declareError(q, { durable: false, exclusive: true, arguments: STREAM })).toMatch(/invalid property 'exclusive-owner'/);
    expect(await declareError(q, { durable: false, exclusive: true, autoDelete: true, arguments: STREAM })).toMatch(/invalid property 'auto-delete'/);
    // Arguments are checked before the properties.
    expect(await declareError(q, { durable: false, arguments: { ...STREAM, 'x-max-length': 5 } })).toMatch(/invalid arg 'x-max-length'/);
  });

  it('takes its own arguments and refuses the classic ones with the stream type in the text', async () => {
    await stream({ 'x-max-age': '7D', 'x-max-length-bytes': 1_000_000, 'x-stream-max-segment-size-bytes': 100_000, 'x-initial-cluster-size': 1, 'x-queue-leader-locator': 'balanced', 'x-custom': 'kept' });
    for (const a of ['1Y', '2M', '3D', '4h', '5m', '6s', '007s']) await stream({ 'x-max-age': a });
    const q = uniqueName('sa');
    for (const [k, v] of [['x-max-length', 5], ['x-message-ttl', 1], ['x-expires', 1000], ['x-dead-letter-exchange', 'dlx'], ['x-max-priority', 1],
      ['x-overflow', 'drop-head'], ['x-single-active-consumer', true], ['x-queue-mode', 'lazy'], ['x-delivery-limit', 1], ['x-queue-version', 1],
      ['x-quorum-initial-group-size', 1], ['x-dead-letter-strategy', 'at-most-once'], ['x-max-in-memory-length', 1]] as const) {
      expect(await declareError(q, { durable: true, arguments: { ...STREAM, [k]: v } }))
        .toMatch(amqpError(406, `PRECONDITION_FAILED - invalid arg '${k}' for queue '${q}' in vhost '/' of queue type rabbit_stream_queue`));
    }
    const bad = (k: string, v: unknown) => declareError(q, { durable: true, arguments: { ...STREAM, [k]: v } });
    const text = (k: string, why: string) => amqpError(406, `PRECONDITION_FAILED - invalid arg '${k}' for queue '${q}' in vhost '/': ${why}`);
    expect(await bad('x-max-age', '7X')).toMatch(text('x-max-age', 'invalid_max_age'));
    expect(await bad('x-max-age', '10')).toMatch(text('x-max-age', 'invalid_max_age'));
    expect(await bad('x-max-age', '0s')).toMatch(text('x-max-age', 'invalid_max_age'));
    expect(await bad('x-max-age', 7)).toMatch(text('x-max-age', '{unacceptable_type,byte}'));
    expect(await bad('x-max-length-bytes', 'x')).toMatch(text('x-max-length-bytes', '"expected integer, got longstr"'));
    expect(await bad('x-max-length-bytes', -1)).toMatch(text('x-max-length-bytes', '{value_negative,-1}'));
    expect(await bad('x-stream-max-segment-size-bytes', -5)).toMatch(text('x-stream-max-segment-size-bytes', '{value_negative,-5}'));
    expect(await bad('x-initial-cluster-size', 0)).toMatch(text('x-initial-cluster-size', '{value_zero,0}'));
    expect(await bad('x-queue-leader-locator', 'x')).toMatch(text('x-queue-leader-locator', 'invalid_queue_locator_arg'));
    expect(await bad('x-queue-leader-locator', 3)).toMatch(text('x-queue-leader-locator', '{unacceptable_type,byte}'));
    expect(await hardError((ch) => ch.assertQueue(q, { durable: true, arguments: { ...STREAM, 'x-max-age': 'h' } }))).toBe('541 INTERNAL_ERROR');
  });

  it('re-declare compares the stream arguments, the first differing one reported', async () => {
    const args = { 'x-max-age': '7D', 'x-max-length-bytes': 1_000_000, 'x-stream-max-segment-size-bytes': 100_000 };
    const q = await stream(args);
    const ch = await t.chan();
    await ch.assertQueue(q, { durable: true, arguments: { ...STREAM, ...args } });
    const again = (a: Record<string, unknown>, durable = true) => declareError(q, { durable, arguments: a });
    const res = `for queue '${q}' in vhost '/'`;
    expect(await again({ ...STREAM, ...args, 'x-max-age': '6D' })).toMatch(amqpError(406, `PRECONDITION_FAILED - inequivalent arg 'x-max-age' ${res}: received '6D' but current is '7D'`));
    expect(await again({ ...STREAM, ...args, 'x-stream-max-segment-size-bytes': 100_001 })).toMatch(/inequivalent arg 'x-stream-max-segment-size-bytes'.*received '100001' but current is '100000'/);
    expect(await again(STREAM)).toMatch(amqpError(406, `PRECONDITION_FAILED - inequivalent arg 'x-max-length-bytes' ${res}: received none but current is the value '1000000' of type 'signedint'`));
    expect(await again({ ...STREAM, ...args }, false)).toMatch(/inequivalent arg 'durable'.*received 'false' but current is 'true'/);
    const cl = uniqueName('classic');
    await ch.assertQueue(cl, { durable: true });
    t.removeAfter(cl);
    expect(await declareError(cl, { durable: true, arguments: STREAM })).toMatch(amqpError(406, `PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue '${cl}' in vhost '/': received the value 'stream' of type 'longstr' but current is none`));
  });

  it.skipIf(external)('quorum queues are still refused (Warren has none; RabbitMQ makes one)', async () => {
    expect(await declareError(uniqueName('qq'), { durable: true, arguments: { 'x-queue-type': 'quorum' } })).not.toBe('declared');
  }, 10_000);
});

describe('stream queues: consume rules', () => {
  it('needs a consumer prefetch; no-ack, global qos, basic.get and purge are refused', async () => {
    const q = await stream();
    const res = `queue '${q}' in vhost '/'`;
    const ch = await t.chan();
    const noQos = await ch.consume(q, () => {}).then(() => 'ok', (e: Error) => e.message);
    expect(noQos).toMatch(amqpError(406, `PRECONDITION_FAILED - consumer prefetch count is not set for '${res}'`));
    const ch2 = await t.chan();
    await ch2.prefetch(10, true);
    expect(await ch2.consume(q, () => {}).then(() => 'ok', (e: Error) => e.message)).toMatch(/consumer prefetch count is not set/);
    expect(await hardError(async (c) => { await c.prefetch(10); return c.consume(q, () => {}, { noAck: true }); }))
      .toBe(`540 NOT_IMPLEMENTED - automatic acknowledgement not supported by stream queues ${res}`);
    expect(await hardError(async (c) => { await c.prefetch(10); await c.prefetch(10, true); return c.consume(q, () => {}); }))
      .toBe(`540 NOT_IMPLEMENTED - ${res} does not support global qos`);
    expect(await hardError((c) => c.get(q))).toBe(`540 NOT_IMPLEMENTED - basic.get not supported by stream queues ${res}`);
    expect(await hardError((c) => c.purgeQueue(q))).toBe(`540 NOT_IMPLEMENTED - queue.purge not supported by stream queues ${res}`);
    const ch3 = await t.chan();
    await ch3.prefetch(1);
    expect(await ch3.consume(q, () => {}, { priority: 1 }).then(() => 'ok', (e: Error) => e.message))
      .toMatch(amqpError(406, `PRECONDITION_FAILED - invalid arg 'x-priority' for ${res} of queue type rabbit_stream_queue`));
    const ch4 = await t.chan();
    await ch4.prefetch(1);
    expect(await ch4.consume(q, () => {}, { arguments: { 'x-stream-offset': '5x' } }).then(() => 'ok', (e: Error) => e.message))
      .toMatch(amqpError(406, `PRECONDITION_FAILED - invalid arg 'x-stream-offset' for ${res}: {invalid_stream_offset_arg,{longstr,<<"5x">>}}`));
    expect(await hardError(async (c) => { await c.prefetch(1); return c.consume(q, () => {}, { arguments: { 'x-stream-offset': 'bad' } }); })).toBe('541 INTERNAL_ERROR');
  });
});

describe('stream queues: reading', () => {
  it('first, last, next, an offset; each delivery carries x-stream-offset; properties kept; many readers', async () => {
    const q = await stream();
    for (const s of numbered(5)) await t.send(q, [s], { headers: { h: s }, messageId: `m${s}`, contentType: 'text/plain' });
    const first = await consume(q, 'first');
    const again = await consume(q, 'first');
    const [a] = [await first.inbox.waitFor(5), await again.inbox.waitFor(5)];
    expect(first.inbox.bodies).toEqual(numbered(5));
    expect(again.inbox.bodies).toEqual(numbered(5));
    const offs = a.map(offsetOf);
    for (let i = 1; i < offs.length; i++) expect(offs[i]).toBeGreaterThan(offs[i - 1]!);
    expect(a[2]!.properties.headers!.h).toBe('2');
    expect(a[2]!.properties.messageId).toBe('m2');
    expect(a[2]!.properties.contentType).toBe('text/plain');
    expect(a[2]!.fields.redelivered).toBe(false);
    const last = await consume(q, 'last');
    expect((await last.inbox.waitFor(1)).map(body)).toEqual(['4']);
    const at = await consume(q, offs[3]);
    expect((await at.inbox.waitFor(2)).map(body)).toEqual(['3', '4']);
    const next = await consume(q, 'next');
    const dflt = await consume(q, undefined);
    await sleep(200);
    expect(next.inbox.msgs.length).toBe(0);
    expect(dflt.inbox.msgs.length).toBe(0);
    await t.send(q, ['5']);
    expect((await next.inbox.waitFor(1)).map(body)).toEqual(['5']);
    expect((await dflt.inbox.waitFor(1)).map(body)).toEqual(['5']);
    expect((await first.inbox.waitFor(6)).map(body)).toEqual(numbered(6));
    expect(offsetOf(next.inbox.msgs[0]!)).toBe(offsetOf(first.inbox.msgs[5]!));
    // Past the end: from that offset on, when it comes.
    const past = await consume(q, offsetOf(first.inbox.msgs[5]!) + 2);
    await t.send(q, ['6', '7', '8']);
    expect((await past.inbox.waitFor(2)).map(body)).toEqual(['7', '8']);
  });

  it('a timestamp or an interval attaches at the first message stored at or after it', async () => {
    const q = await stream();
    await t.send(q, ['old']);
    await sleep(2100);
    const cut = Math.floor(Date.now() / 1000);
    await sleep(1100);
    await t.send(q, ['new']);
    const ts = await consume(q, { '!': 'timestamp', value: cut });
    expect((await ts.inbox.waitFor(1)).map(body)).toEqual(['new']);
    await sleep(300);
    expect(ts.inbox.bodies).toEqual(['new']);
    const all = await consume(q, { '!': 'timestamp', value: cut - 3600 });
    expect((await all.inbox.waitFor(2)).map(body)).toEqual(['old', 'new']);
    const future = await consume(q, { '!': 'timestamp', value: cut + 3600 });
    const hour = await consume(q, '1h');
    expect((await hour.inbox.waitFor(2)).map(body)).toEqual(['old', 'new']);
    await sleep(300);
    expect(future.inbox.msgs.length).toBe(0);
  }, 15_000);

  it('acks are credit: at most prefetch unacked per consumer', async () => {
    const q = await stream();
    // One publish per confirm: RabbitMQ hands out whole chunks, and each is then a chunk of one.
    for (const s of numbered(10)) await t.send(q, [s]);
    const ch = await t.chan();
    await ch.prefetch(3);
    const got: ConsumeMessage[] = [];
    await ch.consume(q, (m) => { if (m) got.push(m); }, { arguments: { 'x-stream-offset': 'first' } });
    await sleep(300);
    expect(got.map(body)).toEqual(['0', '1', '2']);
    ch.ack(got[1]!, true);
    await sleep(300);
    expect(got.map(body)).toEqual(numbered(5));
    ch.ack(got[4]!, true);
    await sleep(300);
    expect(got.map(body)).toEqual(numbered(8));
    expect(got.every((m) => !m.fields.redelivered)).toBe(true);
  });

  it('basic.nack and basic.reject close the connection with 540', async () => {
    const q = await stream();
    await t.send(q, ['a']);
    const res = `queue '${q}' in vhost '/'`;
    for (const settle of ['nack', 'reject'] as const) {
      const text = await hardError(async (c) => {
        await c.prefetch(1);
        await new Promise<void>((resolve) => {
          void c.consume(q, (m) => {
            if (m === null) return;
            if (settle === 'nack') c.nack(m, false, false); else c.reject(m, true);
            resolve();
          }, { arguments: { 'x-stream-offset': 'first' } });
        });
      });
      expect(text).toBe(`540 NOT_IMPLEMENTED - basic.nack and basic.reject not supported by stream queues ${res}`);
    }
  });

  it('five consumers each read every message, in order', async () => {
    const q = await stream();
    await t.send(q, numbered(300));
    const readers = await Promise.all([1, 2, 3, 4, 5].map(() => consume(q, 'first', 7)));
    for (const r of readers) expect((await r.inbox.waitFor(300)).map(body)).toEqual(numbered(300));
  });
});
