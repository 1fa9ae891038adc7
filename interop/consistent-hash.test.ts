// The consistent-hash exchange (x-consistent-hash) through amqplib, as RabbitMQ 3.10.8's
// rabbitmq_consistent_hash_exchange: declare and binding refusals with the plugin's texts, one
// queue per message, shares proportional to the binding weights, a stable mapping, minimal
// movement on unbind, hash-header / hash-property, per-key order and one consumer per partition.
// Every test also passes against RabbitMQ with the plugin (WARREN_EXTERNAL_URL=...) except the
// ones marked Warren-only (the plugin renumbers its buckets when a middle binding goes).
import type { Channel, ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { amqpError, channelError } from '../test/support/amqp.js';
import { external, Inbox, interopSuite, uniqueName } from '../test/support/suite.js';

const s = interopSuite();
const CHX = 'x-consistent-hash';

async function exchange(ch: Channel, args: Record<string, unknown> = {}): Promise<string> {
  const x = uniqueName('chx');
  await ch.assertExchange(x, CHX, { durable: false, autoDelete: false, arguments: args });
  return x;
}

/** `n` exclusive queues bound to `x` with these weights. */
async function partitions(ch: Channel, x: string, weights: number[]): Promise<string[]> {
  const qs: string[] = [];
  for (const w of weights) {
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, x, String(w));
    qs.push(queue);
  }
  return qs;
}

/** Every message now in `qs` (consumed, no-ack), as messageId -> queue; each must be in one queue only. */
async function mapping(ch: Channel, qs: string[], expected: number): Promise<Map<string, string>> {
  const where = new Map<string, string>();
  const inbox = new Inbox();
  const tags: string[] = [];
  const seen: [ConsumeMessage, string][] = [];
  for (const q of qs) {
    const { consumerTag } = await ch.consume(q, (m) => {
      inbox.cb(m);
      if (m) seen.push([m, q]);
    }, { noAck: true });
    tags.push(consumerTag);
  }
  await inbox.waitFor(expected, 10_000);
  for (const t of tags) await ch.cancel(t);
  for (const [m, q] of seen) {
    const id = String(m.properties.messageId);
    expect(where.has(id), `message ${id} reached one queue only`).toBe(false);
    where.set(id, q);
  }
  return where;
}

const keys = (n: number, prefix = 'key') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

async function publishKeys(x: string, ks: string[], options: (k: string) => object = () => ({})): Promise<void> {
  for (const k of ks) s.pub.publish(x, k, Buffer.from(k), { messageId: k, ...options(k) });
  await s.pub.waitForConfirms();
}

describe('x-consistent-hash: declare and bind', () => {
  it('declares with no arguments, hash-header, or each supported hash-property', async () => {
    const ch = await s.chan();
    await exchange(ch);
    await exchange(ch, { 'hash-header': 'tenant' });
    for (const p of ['message_id', 'correlation_id', 'timestamp']) await exchange(ch, { 'hash-property': p });
  });

  it('refuses hash-header with hash-property, and an unsupported property (406, the plugin\'s texts)', async () => {
    for (const [args, text] of [
      [{ 'hash-header': 'h', 'hash-property': 'message_id' }, 'hash-header and hash-property are mutually exclusive'],
      [{ 'hash-property': 'app_id' }, 'Unsupported property: app_id'],
    ] as const) {
      const ch = await s.chan();
      const err = channelError(ch);
      ch.assertExchange(uniqueName('chx'), CHX, { durable: false, arguments: args }).catch(() => {});
      expect(String(await err)).toMatch(amqpError(406, `PRECONDITION_FAILED - ${text}`));
    }
  });

  it('refuses binding keys that are not positive integers', async () => {
    const setup = await s.chan();
    const x = await exchange(setup);
    const { queue } = await setup.assertQueue('', { exclusive: true });
    for (const [key, text] of [
      ['abc', 'The binding key must be an integer: <<"abc">>'],
      ['', 'The binding key must be an integer: <<>>'],
      ['1.5', 'The binding key must be an integer: <<"1.5">>'],
      ['0', 'The binding key must be greater than 0'],
      ['-2', 'The binding key must be greater than 0'],
    ]) {
      const ch = await s.chan();
      const err = channelError(ch);
      ch.bindQueue(queue, x, key!).catch(() => {});
      expect(String(await err)).toMatch(amqpError(406, `PRECONDITION_FAILED - ${text}`));
    }
    await setup.bindQueue(queue, x, '+7'); // list_to_integer takes a sign
  });
});

describe('x-consistent-hash: routing', () => {
  it('sends each message to exactly one queue, shares in proportion to the weights', async () => {
    const ch = await s.chan();
    const x = await exchange(ch);
    const [heavy, light] = await partitions(ch, x, [3, 1]);
    await publishKeys(x, keys(4000));
    const where = await mapping(ch, [heavy!, light!], 4000);
    expect(where.size).toBe(4000);
    const share = [...where.values()].filter((q) => q === heavy).length / 4000;
    expect(share).toBeGreaterThan(0.7);
    expect(share).toBeLessThan(0.8);
  });

  it('maps a key to the same queue every time while the bindings stay', async () => {
    const ch = await s.chan();
    const x = await exchange(ch);
    const qs = await partitions(ch, x, [1, 1, 1, 1]);
    await publishKeys(x, keys(300));
    const first = await mapping(ch, qs, 300);
    await publishKeys(x, keys(300));
    expect(await mapping(ch, qs, 300)).toEqual(first);
  });

  it('unbinding the last-bound queue moves only its keys; binding it again restores the mapping', async () => {
    const ch = await s.chan();
    const x = await exchange(ch);
    const qs = await partitions(ch, x, [1, 1, 1]);
    await publishKeys(x, keys(600));
    const before = await mapping(ch, qs, 600);
    await ch.unbindQueue(qs[2]!, x, '1');
    await publishKeys(x, keys(600));
    const without = await mapping(ch, qs, 600);
    for (const [k, q] of before) if (q !== qs[2]) expect(without.get(k)).toBe(q);
    expect([...without.values()].includes(qs[2]!)).toBe(false);
    await ch.bindQueue(qs[2]!, x, '1');
    await publishKeys(x, keys(600));
    expect(await mapping(ch, qs, 600)).toEqual(before);
  });

  it.skipIf(external)('Warren: unbinding any queue moves only its keys (the plugin renumbers its buckets)', async () => {
    const ch = await s.chan();
    const x = await exchange(ch);
    const qs = await partitions(ch, x, [2, 1, 3, 1]);
    await publishKeys(x, keys(800));
    const before = await mapping(ch, qs, 800);
    await ch.unbindQueue(qs[1]!, x, '1');
    await publishKeys(x, keys(800));
    const without = await mapping(ch, qs, 800);
    for (const [k, q] of before) if (q !== qs[1]) expect(without.get(k)).toBe(q);
    await ch.bindQueue(qs[1]!, x, '1');
    await publishKeys(x, keys(800));
    expect(await mapping(ch, qs, 800)).toEqual(before);
  });

  it('hash-header: the header value decides, not the routing key; messages without it share one queue', async () => {
    const ch = await s.chan();
    const x = await exchange(ch, { 'hash-header': 'tenant' });
    const qs = await partitions(ch, x, [1, 1, 1, 1, 1]);
    const ids = keys(200);
    // Seven tenants' messages under random routing keys, and 50 without the header.
    for (const k of ids) s.pub.publish(x, `rk-${Math.random()}`, Buffer.from(k), { messageId: k, headers: { tenant: `t${Number(k.split('-')[1]) % 7}` } });
    for (let i = 0; i < 50; i++) s.pub.publish(x, `rk-${i}`, Buffer.from('none'), { messageId: `none-${i}` });
    await s.pub.waitForConfirms();
    const where = await mapping(ch, qs, 250);
    const byTenant = new Map<number, Set<string>>();
    for (const k of ids) {
      const t = Number(k.split('-')[1]) % 7;
      if (!byTenant.has(t)) byTenant.set(t, new Set());
      byTenant.get(t)!.add(where.get(k)!);
    }
    for (const set of byTenant.values()) expect(set.size).toBe(1);
    expect(new Set(Array.from({ length: 50 }, (_, i) => where.get(`none-${i}`))).size).toBe(1);
  });

  it('hash-property message_id: the property decides', async () => {
    const ch = await s.chan();
    const x = await exchange(ch, { 'hash-property': 'message_id' });
    const qs = await partitions(ch, x, [1, 1, 1]);
    // The same message id twice under different routing keys: same queue both times.
    for (const k of keys(100)) s.pub.publish(x, `a-${k}`, Buffer.from('a'), { messageId: k });
    await s.pub.waitForConfirms();
    const first = await mapping(ch, qs, 100);
    for (const k of keys(100)) s.pub.publish(x, `b-${k}`, Buffer.from('b'), { messageId: k });
    await s.pub.waitForConfirms();
    expect(await mapping(ch, qs, 100)).toEqual(first);
    expect(new Set(first.values()).size).toBeGreaterThan(1);
  });

  it('with no bindings a mandatory message comes back 312 NO_ROUTE', async () => {
    const ch = await s.chan();
    const x = await exchange(ch);
    const returned = new Promise<number>((r) => ch.once('return', (m) => r((m.fields as unknown as { replyCode: number }).replyCode)));
    ch.publish(x, 'k', Buffer.from('nobody'), { mandatory: true });
    expect(await returned).toBe(312);
  });

  it('keeps publish order per key', async () => {
    const ch = await s.chan();
    const x = await exchange(ch);
    const qs = await partitions(ch, x, [1, 1, 1]);
    for (let i = 0; i < 300; i++) s.pub.publish(x, `k${i % 10}`, Buffer.from(`k${i % 10}:${i}`), { messageId: String(i) });
    await s.pub.waitForConfirms();
    const inbox = new Inbox();
    for (const q of qs) await ch.consume(q, inbox.cb, { noAck: true });
    await inbox.waitFor(300);
    const perKey = new Map<string, number[]>();
    for (const b of inbox.bodies) {
      const [k, n] = b.split(':');
      if (!perKey.has(k!)) perKey.set(k!, []);
      perKey.get(k!)!.push(Number(n));
    }
    for (const seq of perKey.values()) expect(seq).toEqual([...seq].sort((a, b) => a - b));
  });

  it('with single-active-consumer queues: one consumer per partition, the other takes over when it goes', async () => {
    const ch = await s.chan();
    const x = await exchange(ch);
    const q = uniqueName('part');
    await ch.assertQueue(q, { exclusive: true, arguments: { 'x-single-active-consumer': true } });
    await ch.bindQueue(q, x, '1');
    const c1 = await s.chan();
    const c2 = await s.chan();
    const a = new Inbox();
    const b = new Inbox();
    const { consumerTag } = await c1.consume(q, a.cb, { noAck: true });
    await c2.consume(q, b.cb, { noAck: true });
    await s.publish(x, 'k1', ['1', '2']);
    await a.waitFor(2);
    await c1.cancel(consumerTag);
    await s.publish(x, 'k1', ['3']);
    await b.waitFor(1);
    expect([a.bodies, b.bodies]).toEqual([['1', '2'], ['3']]);
  });
});
