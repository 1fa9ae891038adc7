// Broker-side retry with backoff on classic queues through amqplib (Warren's design; RabbitMQ 3.10
// refuses x-delivery-limit on classic queues, so the suite skips in differential mode):
// argument checks, x-delivery-count, linear / constant / exponential backoff with a cap, the
// delivery limit dead-lettering with reason delivery_limit, no head-of-line blocking, exact
// message_count while messages wait (f), broker-made requeues, and the DLQ replay loop.
import type { Channel, ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { amqpError } from '../test/support/amqp.js';
import { external, getOne, Inbox, interopSuite, sleep, uniqueName, xDeath } from '../test/support/suite.js';

const s = interopSuite();

const count = (m: { properties: { headers?: Record<string, unknown> } }) => m.properties.headers?.['x-delivery-count'];

/** A queue with these arguments and a dead-letter queue behind it (through the default exchange). */
async function withDlq(args: Record<string, unknown>): Promise<{ q: string; dlq: string }> {
  const dlq = await s.queue('dlq');
  const q = await s.queue('work', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq, ...args });
  return { q, dlq };
}

/** A consumer that nacks (requeue) everything, noting when and with which count each came. */
async function failing(ch: Channel, q: string): Promise<{ seen: [number, unknown, boolean][]; inbox: Inbox }> {
  const seen: [number, unknown, boolean][] = [];
  const inbox = new Inbox();
  await ch.consume(q, (m: ConsumeMessage | null) => {
    if (m === null) return;
    seen.push([Date.now(), count(m), m.fields.redelivered]);
    ch.nack(m, false, true);
    inbox.cb(m);
  });
  return { seen, inbox };
}

const gaps = (seen: [number, unknown, boolean][]) => seen.slice(1).map(([t], i) => t - seen[i]![0]);

describe.skipIf(external)('retry: arguments', () => {
  it('refuses bad values with invalid arg texts, in table order', async () => {
    for (const [args, key, why] of [
      [{ 'x-delivery-limit': -1 }, 'x-delivery-limit', '{value_negative,-1}'],
      [{ 'x-delivery-limit': 'five' }, 'x-delivery-limit', '"expected integer, got longstr"'],
      [{ 'x-delayed-retry-min': 0 }, 'x-delayed-retry-min', '{value_zero,0}'],
      [{ 'x-delayed-retry-min': 1.5 }, 'x-delayed-retry-min', '"expected integer, got double"'],
      [{ 'x-delayed-retry-multiplier': 2 }, 'x-delayed-retry-multiplier', 'delayed_retry_min_not_defined'],
      [{ 'x-delayed-retry-max': 100 }, 'x-delayed-retry-max', 'delayed_retry_min_not_defined'],
      [{ 'x-delayed-retry-min': 10, 'x-delayed-retry-multiplier': 0 }, 'x-delayed-retry-multiplier', '{value_zero,0}'],
      [{ 'x-delayed-retry-min': 10, 'x-delayed-retry-max': 5 }, 'x-delayed-retry-max', '{value_below_min,5}'],
      [{ 'x-delayed-retry-min': 10, 'x-delayed-retry-max': -5 }, 'x-delayed-retry-max', '{value_negative,-5}'],
    ] as const) {
      const q = uniqueName('bad');
      await expect((await s.chan()).assertQueue(q, { durable: false, arguments: args }), key).rejects.toThrow(amqpError(406,
        `PRECONDITION_FAILED - invalid arg '${key}' for queue '${q}' in vhost '/': ${why}`));
    }
  });

  it('accepts good ones and compares them on re-declare', async () => {
    const q = await s.queue('ok', { 'x-delivery-limit': 0, 'x-delayed-retry-min': 10, 'x-delayed-retry-multiplier': 1, 'x-delayed-retry-max': 10 });
    await expect((await s.chan()).assertQueue(q, { durable: false, arguments: { 'x-delivery-limit': 0, 'x-delayed-retry-min': 20 } }))
      .rejects.toThrow(amqpError(406, `PRECONDITION_FAILED - inequivalent arg 'x-delayed-retry-min' for queue '${q}' in vhost '/': received '20' but current is '10'`));
  });
});

describe.skipIf(external)('retry: attempts and limits', () => {
  it('counts nack-requeues in x-delivery-count and dead-letters past x-delivery-limit (reason delivery_limit)', async () => {
    const { q, dlq } = await withDlq({ 'x-delivery-limit': 2 });
    await s.send(q, ['job'], { headers: { 'x-delivery-count': 99, keep: 'me' } });
    const ch = await s.chan();
    const { seen, inbox } = await failing(ch, q);
    await inbox.waitFor(3);
    const dead = await getOne(s.ch, dlq);
    expect(seen.map(([, c, r]) => [c, r])).toEqual([[undefined, false], [1, true], [2, true]]);
    expect(dead.content.toString()).toBe('job');
    expect(dead.properties.headers!['x-first-death-reason']).toBe('delivery_limit');
    expect(xDeath(dead)[0]).toMatchObject({ reason: 'delivery_limit', queue: q, count: 1 });
    expect(dead.properties.headers!.keep).toBe('me');
    await sleep(50);
    expect(inbox.msgs).toHaveLength(3);
  });

  it('drops the message past the limit without a dead-letter exchange; x-delivery-limit 0 means one delivery', async () => {
    const q = await s.queue('nodlx', { 'x-delivery-limit': 0 });
    await s.send(q, ['once']);
    const ch = await s.chan();
    const { inbox } = await failing(ch, q);
    await inbox.waitFor(1);
    await sleep(100);
    expect(inbox.msgs).toHaveLength(1);
    expect((await s.ch.checkQueue(q)).messageCount).toBe(0);
  });

  it('broker-made requeues (channel closed) count as attempts and are immediate', async () => {
    const q = await s.queue('brk', { 'x-delivery-limit': 5, 'x-delayed-retry-min': 5000 });
    await s.send(q, ['m']);
    const c1 = await s.chan();
    const got = new Inbox();
    await c1.consume(q, got.cb);
    await got.waitFor(1);
    await c1.close();
    const m = await getOne(s.ch, q, false, 1000);
    expect([count(m), m.fields.redelivered]).toEqual([1, true]);
  });

  it('with only x-delayed-retry-min the limit is 20', async () => {
    const { q, dlq } = await withDlq({ 'x-delayed-retry-min': 1, 'x-delayed-retry-multiplier': 1 });
    await s.send(q, ['m']);
    const ch = await s.chan();
    const { inbox } = await failing(ch, q);
    await getOne(s.ch, dlq, false, 5000);
    expect(inbox.msgs).toHaveLength(21);
  });
});

describe.skipIf(external)('retry: backoff', () => {
  it('exponential: min * multiplier^(k-1), capped by max', async () => {
    const { q, dlq } = await withDlq({ 'x-delivery-limit': 4, 'x-delayed-retry-min': 100, 'x-delayed-retry-multiplier': 2, 'x-delayed-retry-max': 300 });
    await s.send(q, ['m']);
    const { seen } = await failing(await s.chan(), q);
    await getOne(s.ch, dlq, false, 5000);
    const g = gaps(seen);
    expect(seen.map(([, c]) => c)).toEqual([undefined, 1, 2, 3, 4]);
    for (const [i, want] of [100, 200, 300, 300].entries()) {
      expect(g[i]).toBeGreaterThanOrEqual(want - 5);
      expect(g[i]).toBeLessThan(want + 150);
    }
  });

  it('linear without a multiplier, constant with multiplier 1', async () => {
    for (const [args, want] of [[{}, [80, 160, 240]], [{ 'x-delayed-retry-multiplier': 1 }, [80, 80, 80]]] as const) {
      const { q, dlq } = await withDlq({ 'x-delivery-limit': 3, 'x-delayed-retry-min': 80, ...args });
      await s.send(q, ['m']);
      const { seen } = await failing(await s.chan(), q);
      await getOne(s.ch, dlq, false, 5000);
      for (const [i, w] of want.entries()) {
        expect(gaps(seen)[i]).toBeGreaterThanOrEqual(w - 5);
        expect(gaps(seen)[i]).toBeLessThan(w + 150);
      }
    }
  });

  it('a waiting message blocks nobody, is not in message_count, and comes back at its own position', async () => {
    const q = await s.queue('hol', { 'x-delayed-retry-min': 300 });
    await s.send(q, ['A', 'B', 'C']);
    const ch = await s.chan();
    const a = await getOne(ch, q, true);
    ch.nack(a, false, true);
    const b = await getOne(ch, q, true);
    expect(b.content.toString()).toBe('B');
    // (f) message_count: ready only; A waits, B is unacked.
    expect((await ch.checkQueue(q)).messageCount).toBe(1);
    ch.ack(b);
    await sleep(400);
    expect((await ch.checkQueue(q)).messageCount).toBe(2);
    const again = await getOne(ch, q, true);
    expect([again.content.toString(), count(again), again.fields.redelivered]).toEqual(['A', 1, true]);
    ch.ack(again);
  });
});

describe.skipIf(external)('retry: replaying the dead-letter queue', () => {
  it('republishing to x-first-death-exchange with the x-death routing key gives a fresh attempt budget', async () => {
    const { q, dlq } = await withDlq({ 'x-delivery-limit': 1 });
    await s.send(q, ['poison']);
    const fail = await s.chan();
    const { inbox } = await failing(fail, q);
    await inbox.waitFor(2);
    await fail.close();
    // The documented replay loop: get from the DLQ, republish as first published, confirm, ack.
    const ch = await s.chan();
    const dead = await getOne(ch, dlq, true);
    const h = { ...dead.properties.headers! };
    const death = xDeath(dead).at(-1)!;
    delete h['x-delivery-count'];
    s.pub.publish(String(h['x-first-death-exchange']), String((death['routing-keys'] as string[])[0]), dead.content, { ...dead.properties, headers: h });
    await s.pub.waitForConfirms();
    ch.ack(dead);
    const again = await getOne(s.ch, q, true);
    expect([again.content.toString(), count(again)]).toEqual(['poison', undefined]);
    s.ch.ack(again);
  });
});
