// Definitions, both directions: GET /api/definitions exports users (with their hashes), vhosts,
// permissions, exchanges, queues and bindings in RabbitMQ's format, POST imports them, and the
// round trip works through a real RabbitMQ 3.10.8: Warren's export imports into RabbitMQ and
// RabbitMQ's export imports into Warren, users logging in with their old passwords. That is the
// path for a team moving to a RabbitMQ cluster.
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpSuite, vh } from '../test/support/http.js';
import { rabbitmqInstalled, startRabbit, type RabbitNode } from '../test/support/rabbitmq-node.js';
import { external, uniqueName } from '../test/support/suite.js';

const s = httpSuite();

async function api(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(base + path, {
    method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' },
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? '' : JSON.parse(text) };
}

async function setUp(base: string, tag: string) {
  const v = `defs-${tag}`;
  const user = `defs-user-${tag}`;
  await api(base, 'PUT', `/api/vhosts/${vh(v)}`, { description: 'moved' });
  await api(base, 'PUT', `/api/users/${user}`, { password: 'moving-pw', tags: 'management' });
  await api(base, 'PUT', `/api/permissions/${vh(v)}/${user}`, { configure: '.*', write: '.*', read: '^orders' });
  await api(base, 'PUT', `/api/exchanges/${vh(v)}/orders-x`, { type: 'topic', durable: true, arguments: { 'alternate-exchange': 'ae' } });
  await api(base, 'PUT', `/api/queues/${vh(v)}/orders-q`, { durable: true, arguments: { 'x-message-ttl': 60000 } });
  await api(base, 'POST', `/api/bindings/${vh(v)}/e/orders-x/q/orders-q`, { routing_key: 'order.*', arguments: {} });
  return { v, user };
}

/** What must have moved, as the target broker reports it. */
async function expectMoved(base: string, amqpBase: string, v: string, user: string, descriptionMoves: boolean) {
  // RabbitMQ 3.10.8 exports a vhost's name only (it imports a description it is given).
  if (descriptionMoves) expect((await api(base, 'GET', `/api/vhosts/${vh(v)}`)).body.description).toBe('moved');
  else expect((await api(base, 'GET', `/api/vhosts/${vh(v)}`)).status).toBe(200);
  expect((await api(base, 'GET', `/api/permissions/${vh(v)}/${user}`)).body).toMatchObject({ configure: '.*', write: '.*', read: '^orders' });
  expect((await api(base, 'GET', `/api/exchanges/${vh(v)}/orders-x`)).body).toMatchObject({ type: 'topic', durable: true, arguments: { 'alternate-exchange': 'ae' } });
  expect((await api(base, 'GET', `/api/queues/${vh(v)}/orders-q`)).body).toMatchObject({ durable: true, arguments: { 'x-message-ttl': 60000 } });
  const bindings = (await api(base, 'GET', `/api/bindings/${vh(v)}/e/orders-x/q/orders-q`)).body;
  expect(bindings).toEqual([expect.objectContaining({ routing_key: 'order.*' })]);
  // The user logs in with the password it had on the other broker (its hash moved).
  const u = new URL(amqpBase);
  const c = await amqp.connect(`amqp://${user}:moving-pw@${u.host}/${encodeURIComponent(v)}`);
  const ch = await c.createChannel();
  await ch.checkQueue('orders-q');
  await c.close();
}

describe('management API: definitions', () => {
  it('exports in RabbitMQ\'s format, without amq.* exchanges or default bindings', async () => {
    const tag = uniqueName('e');
    const { v, user } = await setUp(s.http, tag);
    const d = (await s.api('GET', '/api/definitions')).body;
    for (const k of ['rabbit_version', 'users', 'vhosts', 'permissions', 'topic_permissions', 'parameters', 'policies', 'queues', 'exchanges', 'bindings']) {
      expect(d, k).toHaveProperty(k);
    }
    expect(d.users.find((x: { name: string }) => x.name === user)).toMatchObject({ hashing_algorithm: 'rabbit_password_hashing_sha256', tags: ['management'] });
    expect(d.exchanges.some((x: { name: string }) => x.name.startsWith('amq.') || x.name === '')).toBe(false);
    expect(d.bindings.some((b: { source: string }) => b.source === '')).toBe(false);
    expect(d.queues).toContainEqual({ name: 'orders-q', vhost: v, durable: true, auto_delete: false, arguments: { 'x-message-ttl': 60000 } });
    const per = (await s.api('GET', `/api/definitions/${vh(v)}`)).body;
    expect(per.queues).toContainEqual({ name: 'orders-q', durable: true, auto_delete: false, arguments: { 'x-message-ttl': 60000 } });
    expect(per).not.toHaveProperty('users');
    await s.api('DELETE', `/api/vhosts/${vh(v)}`);
    await s.api('DELETE', `/api/users/${user}`);
  });

  it('imports (204), refuses bad JSON and objects in a missing vhost', async () => {
    const q = uniqueName('imp-q');
    const r = await s.api('POST', '/api/definitions', { queues: [{ name: q, vhost: '/', durable: true, auto_delete: false, arguments: {} }] });
    expect(r.status).toBe(204);
    s.removeAfter(q);
    expect((await s.ch.checkQueue(q)).queue).toBe(q);
    expect((await s.api('POST', '/api/definitions', 'bad')).body).toEqual({ error: 'bad_request', reason: 'failed_to_parse_json' });
    const nov = uniqueName('nov');
    expect((await s.api('POST', '/api/definitions', { queues: [{ name: 'x', vhost: nov, durable: true, auto_delete: false, arguments: {} }] })).body)
      .toEqual({ error: 'bad_request', reason: ['no_such_vhost', nov] });
  });
});

describe.skipIf(external || !rabbitmqInstalled)('definitions round trip through a real RabbitMQ 3.10.8', () => {
  let rabbit: RabbitNode;
  beforeAll(async () => { rabbit = await startRabbit(5000 + (process.pid % 500)); }, 150_000);
  afterAll(async () => { await rabbit?.stop(); }, 100_000);

  it('Warren\'s export imports into RabbitMQ with everything there', async () => {
    const { v, user } = await setUp(s.http, uniqueName('w2r'));
    const exported = (await s.api('GET', '/api/definitions')).body;
    const r = await api(rabbit.http, 'POST', '/api/definitions', exported);
    expect(r.status, JSON.stringify(r.body)).toBe(204);
    await expectMoved(rabbit.http, rabbit.amqpUrl, v, user, true);
  }, 60_000);

  it('RabbitMQ\'s export imports into Warren with everything there', async () => {
    const { v, user } = await setUp(rabbit.http, uniqueName('r2w'));
    const exported = (await api(rabbit.http, 'GET', '/api/definitions')).body;
    const r = await s.api('POST', '/api/definitions', exported);
    expect(r.status, JSON.stringify(r.body)).toBe(204);
    await expectMoved(s.http, s.url, v, user, false);
  }, 60_000);
});
