// Message TTL (x-message-ttl, per-message `expiration`) and queue expiry (x-expires) through
// amqplib. Classic-queue semantics: a message expires only at the head of the queue, the lower
// of the two TTLs applies, TTL 0 means "deliver now or drop". Timing-based: generous margins,
// polling with deadlines. Every assertion also holds against RabbitMQ 3.10.
import type { ChannelModel, GetMessage, Message } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { body, drain, eventually, getN, interopSuite, sleep, xDeath } from '../test/support/suite.js';

const s = interopSuite();
const { queue, send } = s;
const count = async (q: string) => (await s.ch.checkQueue(q)).messageCount;
const deathReasons = (m: Message) => xDeath(m).map((d) => `${String(d.reason)}:${String(d.count)}`);

describe('x-message-ttl', () => {
  it('messages left unconsumed longer than the TTL are removed without anyone looking', async () => {
    const q = await queue('ttl', { 'x-message-ttl': 150 });
    await send(q, ['a', 'b', 'c']);
    expect(await count(q)).toBe(3);
    await eventually(async () => (await count(q)) === 0, 'the messages expired');
  });

  it('messages consumed in time are delivered as published, expiration property untouched', async () => {
    const q = await queue('ttl', { 'x-message-ttl': 60000 });
    await send(q, ['a'], { expiration: '50000', messageId: 'id' });
    const m = await s.ch.get(q, { noAck: true });
    expect(m && [body(m), m.properties.expiration, m.properties.messageId]).toEqual(['a', '50000', 'id']);
  });

  it('x-message-ttl 0: delivered at once to a waiting consumer, dropped (dead-lettered as expired) otherwise', async () => {
    const dlq = await queue('dlq');
    const q = await queue('ttl0', { 'x-message-ttl': 0, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq });
    await send(q, ['nobody there']);
    const d = await getN(s.ch, dlq, 1);
    expect(body(d[0]!)).toBe('nobody there');
    expect(deathReasons(d[0]!)).toEqual(['expired:1']);
    const c = await s.chan(await s.connect());
    const got: string[] = [];
    await c.consume(q, (m) => { if (m) got.push(body(m)); }, { noAck: true });
    await send(q, ['x', 'y', 'z']);
    await eventually(async () => got.length === 3, 'the consumer got them');
    expect(got).toEqual(['x', 'y', 'z']);
    expect(await count(dlq)).toBe(0);
  });

  it('a manual-ack consumer at its prefetch limit does not count as waiting: TTL 0 messages are dropped', async () => {
    const dlq = await queue('dlq');
    const q = await queue('ttl0', { 'x-message-ttl': 0, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq });
    const c = await s.chan(await s.connect());
    await c.prefetch(1);
    const got: Message[] = [];
    await c.consume(q, (m) => { if (m) got.push(m); });
    await send(q, ['first', 'second', 'third']);
    await eventually(async () => got.length === 1, 'the first delivery');
    expect((await getN(s.ch, dlq, 2)).map(body)).toEqual(['second', 'third']);
    c.ack(got[0]!);
    await send(q, ['fourth']);
    await eventually(async () => got.length === 2, 'the next delivery');
    expect(body(got[1]!)).toBe('fourth');
  });

  it('expiry while the consumer is slow (prefetch 1): the waiting messages expire and are dead-lettered in order', async () => {
    const dlq = await queue('dlq');
    const q = await queue('slow', { 'x-message-ttl': 300, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq });
    const c = await s.chan(await s.connect());
    await c.prefetch(1);
    const got: string[] = [];
    await c.consume(q, (m) => {
      if (!m) return;
      got.push(body(m));
      setTimeout(() => c.ack(m), 1200); // slow work
    });
    await send(q, ['1', '2', '3', '4', '5']);
    const dead = await getN(s.ch, dlq, 4);
    expect(dead.map(body)).toEqual(['2', '3', '4', '5']);
    for (const d of dead) expect(deathReasons(d)).toEqual(['expired:1']);
    // Fresh messages published after the slow consumer is free again reach it.
    await eventually(async () => (await count(q)) === 0 && got.length === 1, 'the queue is empty');
    await sleep(1300);
    await send(q, ['6']);
    await eventually(async () => got.length === 2, 'the next message is delivered');
    expect(got).toEqual(['1', '6']);
  });

  it('a message requeued after its TTL passed is dead-lettered instead of redelivered', async () => {
    const dlq = await queue('dlq');
    const q = await queue('rq', { 'x-message-ttl': 200, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq });
    await send(q, ['late']);
    const m = await s.ch.get(q);
    expect(m && body(m)).toBe('late');
    await sleep(400);
    s.ch.nack(m as GetMessage, false, true);
    const d = await getN(s.ch, dlq, 1);
    expect(body(d[0]!)).toBe('late');
    expect(deathReasons(d[0]!)).toEqual(['expired:1']);
    expect(await count(q)).toBe(0);
  });
});

describe('per-message expiration', () => {
  it('a message expires on its own', async () => {
    const q = await queue('exp');
    await send(q, ['short'], { expiration: '100' });
    await send(q, ['long'], { expiration: '60000' });
    await eventually(async () => (await count(q)) === 1, 'the short one expired');
    expect(await drain(s.ch, q)).toEqual(['long']);
  });

  it('expires only once it reaches the head: one behind a longer-lived message waits for it', async () => {
    const dlq = await queue('dlq');
    const q = await queue('head', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq });
    await send(q, ['no expiry']);
    await send(q, ['expires soon'], { expiration: '50' });
    await sleep(300);
    expect(await count(q)).toBe(2);
    expect(await count(dlq)).toBe(0);
    // Taking the head lets the expired one be noticed.
    const m = await s.ch.get(q, { noAck: true });
    expect(m && body(m)).toBe('no expiry');
    const d = await getN(s.ch, dlq, 1);
    expect(body(d[0]!)).toBe('expires soon');
    expect(d[0]!.properties.headers?.['x-death']).toMatchObject([{ reason: 'expired', 'original-expiration': '50' }]);
    expect(await s.ch.get(q)).toBe(false);
  });

  it('the lower of x-message-ttl and expiration applies', async () => {
    const q1 = await queue('lower', { 'x-message-ttl': 60000 });
    await send(q1, ['msg-ttl wins'], { expiration: '100' });
    const q2 = await queue('lower', { 'x-message-ttl': 100 });
    await send(q2, ['queue-ttl wins'], { expiration: '60000' });
    await eventually(async () => (await count(q1)) === 0 && (await count(q2)) === 0, 'both expired');
  });

  it('expiration "0": deliver now or drop', async () => {
    const q = await queue('exp0');
    await send(q, ['dropped'], { expiration: '0' });
    expect(await count(q)).toBe(0);
    const c = await s.chan(await s.connect());
    const got: string[] = [];
    await c.consume(q, (m) => { if (m) got.push(body(m)); }, { noAck: true });
    await send(q, ['delivered'], { expiration: '0' });
    await eventually(async () => got.length === 1, 'delivery');
    expect(got).toEqual(['delivered']);
  });
});

describe('x-expires', () => {
  let probe: ChannelModel | undefined;
  /** Does `q` exist? Probed with queue.purge, which (unlike a passive declare) does not count as use. */
  async function alive(q: string): Promise<boolean> {
    const c = await s.chan(probe ??= await s.connect());
    try {
      await c.purgeQueue(q);
      await c.close();
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return false;
      throw err;
    }
  }

  it('an unused queue is deleted after x-expires, with its messages', async () => {
    const q = await queue('exp', { 'x-expires': 300 });
    await send(q, ['a']); // publishing does not count as use
    const t0 = Date.now();
    await eventually(async () => !(await alive(q)), 'the queue is gone');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
  });

  it('a consumer keeps it; after the last consumer goes, the countdown starts again', async () => {
    const q = await queue('exp', { 'x-expires': 300 });
    const c = await s.chan(await s.connect());
    const { consumerTag } = await c.consume(q, () => {});
    await sleep(700);
    expect(await alive(q)).toBe(true);
    await c.cancel(consumerTag);
    await sleep(100);
    expect(await alive(q)).toBe(true);
    await eventually(async () => !(await alive(q)), 'the queue is gone');
  });

  it('basic.get and re-declaring count as use', async () => {
    const q = await queue('exp', { 'x-expires': 400 });
    for (let i = 0; i < 5; i++) {
      await sleep(200);
      await s.ch.get(q);
    }
    expect(await alive(q)).toBe(true);
    for (let i = 0; i < 5; i++) {
      await sleep(200);
      await s.ch.assertQueue(q, { durable: false, arguments: { 'x-expires': 400 } });
    }
    expect(await alive(q)).toBe(true);
    await eventually(async () => !(await alive(q)), 'the queue is gone');
  });
});
