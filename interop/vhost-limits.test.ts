// Vhost limits enforced, through amqplib: max-connections refuses connection.open (530, before
// the permission check) and max-queues refuses queue.declare of a new queue (406, server-named
// ones too, before argument validation), with RabbitMQ 3.10.8's texts; redeclaring is fine, 0
// allows none, a negative limit is none, and lowering a limit closes nothing. Limits are set
// through the management API, so the same test runs against RabbitMQ in differential mode.
import amqp, { type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessAdmin, openRefusal } from '../test/support/access.js';
import { amqpError, channelError } from '../test/support/amqp.js';
import { httpSuite, vh } from '../test/support/http.js';
import { eventually, uniqueName } from '../test/support/suite.js';

const s = httpSuite();
const admin = accessAdmin(() => s.warren, () => s.port);
const V = uniqueName('lim');
const open: ChannelModel[] = [];

async function limit(name: 'max-connections' | 'max-queues', value: number): Promise<void> {
  const r = await s.api('PUT', `/api/vhost-limits/${vh(V)}/${name}`, { value });
  expect([r.status, r.text]).toEqual([204, '']);
}

async function connect(user = 'guest', pass = 'guest'): Promise<ChannelModel> {
  const c = await amqp.connect(`amqp://${user}:${pass}@127.0.0.1:${s.port}/${encodeURIComponent(V)}`);
  c.on('error', () => {});
  open.push(c);
  return c;
}

/** How connection.open as `user` ends: 'connected' (the connection is closed again) or the refusal. */
const refusal = (user = 'guest', pass = 'guest') => openRefusal(async () => {
  const c = await amqp.connect(`amqp://${user}:${pass}@127.0.0.1:${s.port}/${encodeURIComponent(V)}`);
  await c.close();
});
const connLimit = (n: number, user = 'guest') => `530 NOT_ALLOWED - access to vhost '${V}' refused for user '${user}': connection limit (${n}) is reached`;
const queueLimit = (q: string, n: number) => `PRECONDITION_FAILED - cannot declare queue '${q}': queue limit in vhost '${V}' (${n}) is reached`;

beforeAll(async () => {
  await admin.addVhost(V);
});
afterAll(async () => {
  for (const c of open) await c.close().catch(() => {});
  await admin.cleanup();
});

describe('max-connections', () => {
  it('refuses connection.open at the limit with 530; a closed connection makes room; lowering it closes nobody', async () => {
    await limit('max-connections', 2);
    const a = await connect();
    await connect();
    expect(await refusal()).toBe(connLimit(2));
    // RabbitMQ forgets a closed connection asynchronously.
    await a.close();
    await eventually(async () => (await refusal()) === 'connected', 'a connection is let in after one closed', { timeoutMs: 10_000, intervalMs: 200 });
    for (const c of open.splice(0)) await c.close().catch(() => {});
    const kept = await connect();
    await limit('max-connections', 0);
    expect(await refusal()).toBe(connLimit(0));
    // The open connection still works.
    await (await kept.createChannel()).checkExchange('amq.direct');
    await limit('max-connections', -1);
    await eventually(async () => (await refusal()) === 'connected', 'a negative limit is none', { timeoutMs: 10_000, intervalMs: 200 });
  });

  it('is checked before the user\'s permissions, as RabbitMQ does', async () => {
    const u = uniqueName('lim-nobody');
    await admin.addUser(u, 'pw');
    await limit('max-connections', 0);
    expect(await refusal(u, 'pw')).toBe(connLimit(0, u));
    await limit('max-connections', 10);
    expect(await refusal(u, 'pw')).toBe(`530 NOT_ALLOWED - access to vhost '${V}' refused for user '${u}'`);
    expect((await s.api('DELETE', `/api/vhost-limits/${vh(V)}/max-connections`)).status).toBe(204);
  });
});

describe('max-queues', () => {
  it('refuses a new queue over the limit with 406 (named, server-named, bad arguments); redeclaring and passive declares are fine', async () => {
    const c = await connect();
    const ch = await c.createChannel();
    await limit('max-queues', 2);
    await ch.assertQueue('lq1', { durable: false });
    const { queue: generated } = await ch.assertQueue('', { exclusive: true });
    await ch.assertQueue('lq1', { durable: false });
    await ch.checkQueue('lq1');
    for (const [name, args] of [['lq3', {}], ['lq4', { 'x-max-length': 'abc' }]] as const) {
      const bad = await c.createChannel();
      const closed = channelError(bad);
      await expect(bad.assertQueue(name, { durable: false, arguments: args })).rejects.toThrow(amqpError(406, queueLimit(name, 2)));
      expect(String(await closed)).toContain(queueLimit(name, 2));
    }
    const bad = await c.createChannel();
    bad.on('error', () => {});
    await expect(bad.assertQueue('', { exclusive: true })).rejects.toThrow(/PRECONDITION_FAILED - cannot declare queue 'amq\.gen-[\w-]+': queue limit in vhost '[^']+' \(2\) is reached/);
    // Over HTTP too: 400 with the same text.
    const http = await s.api('PUT', `/api/queues/${vh(V)}/lq5`, { durable: false });
    expect([http.status, http.body]).toEqual([400, { error: 'bad_request', reason: `cannot declare queue 'lq5': queue limit in vhost '${V}' (2) is reached` }]);
    // A deleted queue makes room.
    await ch.deleteQueue(generated);
    await ch.assertQueue('lq3', { durable: false });
    await limit('max-queues', 0);
    const none = await c.createChannel();
    none.on('error', () => {});
    await expect(none.assertQueue('lq6', { durable: false })).rejects.toThrow(amqpError(406, queueLimit('lq6', 0)));
    await limit('max-queues', -5);
    const ch2 = await c.createChannel();
    for (let i = 0; i < 4; i++) await ch2.assertQueue(`lq-free-${i}`, { durable: false });
    await ch2.assertQueue('lq1', { durable: false });
    expect((await ch2.checkQueue('lq1')).messageCount).toBe(0);
  });
});
