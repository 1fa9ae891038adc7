// The management API as a client meets it first: authentication and user levels, error shapes
// and status codes, the overview, whoami, nodes, vhosts, the aliveness test and health checks.
// Runs against Warren and, in differential mode, against RabbitMQ's management plugin.
import { describe, expect, it } from 'vitest';
import { httpSuite, vh } from '../test/support/http.js';
import { eventually, external, uniqueName } from '../test/support/suite.js';

const s = httpSuite({
  broker: {
    users: [
      { name: 'guest', password: 'guest', tags: ['administrator'] },
      { name: 'mgmt-user', password: 'p', tags: ['management'] },
      { name: 'plain-user', password: 'p', tags: [] },
    ],
  },
});

/** The users these tests log in as; on RabbitMQ they are created through the API first. */
async function users(): Promise<void> {
  if (!external) return;
  await s.api('PUT', '/api/users/mgmt-user', { password: 'p', tags: 'management' });
  await s.api('PUT', '/api/users/plain-user', { password: 'p', tags: '' });
}

describe('management API: authentication and errors', () => {
  it('asks for credentials with an empty 401', async () => {
    const r = await s.api('GET', '/api/overview', undefined, { user: '' });
    expect(r.status).toBe(401);
    expect(r.text).toBe('');
    expect(r.headers.get('www-authenticate')).toBe('Basic realm="RabbitMQ Management"');
  });

  it('refuses a wrong password, a user without management tags, and a too-low level', async () => {
    await users();
    const wrong = await s.api('GET', '/api/overview', undefined, { pass: 'nope' });
    expect([wrong.status, wrong.body]).toEqual([401, { error: 'not_authorized', reason: 'Login failed' }]);
    const plain = await s.api('GET', '/api/overview', undefined, { user: 'plain-user', pass: 'p' });
    expect([plain.status, plain.body]).toEqual([401, { error: 'not_authorised', reason: 'Not management user' }]);
    const nodes = await s.api('GET', '/api/nodes', undefined, { user: 'mgmt-user', pass: 'p' });
    expect([nodes.status, nodes.body]).toEqual([401, { error: 'not_authorised', reason: 'Not monitor user' }]);
    const ok = await s.api('GET', '/api/whoami', undefined, { user: 'mgmt-user', pass: 'p' });
    expect([ok.status, ok.body]).toEqual([200, { name: 'mgmt-user', tags: ['management'] }]);
  });

  it('answers an unknown path 404 and a wrong method 405 with an empty body', async () => {
    const missing = await s.api('GET', '/api/no-such-thing');
    expect([missing.status, missing.body]).toEqual([404, { error: 'Object Not Found', reason: 'Not Found' }]);
    const wrong = await s.api('PATCH', '/api/overview');
    expect([wrong.status, wrong.text]).toEqual([405, '']);
  });

  it('refuses a body that is not a JSON object', async () => {
    for (const body of ['{bad', '[1]']) {
      const r = await s.api('PUT', `/api/queues/%2F/${uniqueName('badjson')}`, body);
      expect([r.status, r.body]).toEqual([400, { error: 'bad_request', reason: 'not_json' }]);
    }
  });
});

describe('management API: the broker as a whole', () => {
  it('whoami names the user and its tags', async () => {
    expect((await s.api('GET', '/api/whoami')).body).toEqual({ name: 'guest', tags: ['administrator'] });
  });

  it('overview has the fields dashboards read, and its totals follow the traffic', async () => {
    const q = await s.queue('ov');
    const before = (await s.api('GET', '/api/overview')).body;
    for (const k of ['management_version', 'rabbitmq_version', 'node', 'exchange_types', 'listeners', 'object_totals', 'queue_totals', 'message_stats']) {
      expect(before, k).toHaveProperty(k);
    }
    expect(before.exchange_types.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['direct', 'fanout', 'headers', 'topic']));
    expect(before.listeners).toEqual(expect.arrayContaining([expect.objectContaining({ protocol: 'amqp' })]));
    expect(before.object_totals.queues).toBeGreaterThanOrEqual(1);
    await s.send(q, ['a', 'b', 'c']);
    // RabbitMQ's statistics arrive every 5 s; Warren's counters are live.
    await eventually(async () => {
      const o = (await s.api('GET', '/api/overview')).body;
      return (o.message_stats?.publish ?? 0) >= (before.message_stats?.publish ?? 0) + 3 && o.queue_totals?.messages_ready >= 3;
    }, 'the overview counts the publishes', { timeoutMs: 15_000, intervalMs: 250 });
  });

  it('nodes lists this node with memory and alarm fields', async () => {
    const r = await s.api('GET', '/api/nodes');
    expect(r.status).toBe(200);
    const [node] = r.body;
    expect(node).toMatchObject({ running: true, type: 'disc', mem_alarm: false, disk_free_alarm: false });
    expect(typeof node.mem_used).toBe('number');
    expect((await s.api('GET', `/api/nodes/${encodeURIComponent(node.name)}`)).body.name).toBe(node.name);
  });

  it('vhosts lists / with its counters; an unknown vhost is 404', async () => {
    const r = await s.api('GET', '/api/vhosts');
    expect(r.body.map((v: { name: string }) => v.name)).toContain('/');
    const root = (await s.api('GET', '/api/vhosts/%2F')).body;
    expect(root).toMatchObject({ name: '/', tracing: false });
    expect(root).toHaveProperty('messages_ready');
    expect((await s.api('GET', `/api/vhosts/${vh(uniqueName('nov'))}`)).status).toBe(404);
  });

  it('the aliveness test publishes and gets a message; an unknown vhost is 404', async () => {
    expect(await s.api('GET', '/api/aliveness-test/%2F').then((r) => [r.status, r.body])).toEqual([200, { status: 'ok' }]);
    expect((await s.api('GET', `/api/aliveness-test/${vh(uniqueName('nov'))}`)).status).toBe(404);
  });

  it('health checks answer ok, or 503 naming what is missing', async () => {
    for (const p of ['alarms', 'local-alarms', 'virtual-hosts', 'certificate-expiration/1/months']) {
      expect((await s.api('GET', `/api/health/checks/${p}`)).body, p).toEqual({ status: 'ok' });
    }
    const port = Number(new URL(s.url).port);
    expect((await s.api('GET', `/api/health/checks/port-listener/${port}`)).body).toEqual({ status: 'ok', port });
    const missing = await s.api('GET', '/api/health/checks/port-listener/1');
    expect(missing.status).toBe(503);
    expect(missing.body).toMatchObject({ status: 'failed', reason: 'No active listener', missing: 1 });
    expect(missing.body.ports).toContain(port);
    expect((await s.api('GET', '/api/health/checks/protocol-listener/amqp091')).body).toEqual({ status: 'ok', protocol: 'amqp' });
    const mqtt = await s.api('GET', '/api/health/checks/protocol-listener/mqtt');
    expect([mqtt.status, mqtt.body.missing]).toEqual([503, 'mqtt']);
    expect((await s.api('GET', '/api/health/checks/node-is-quorum-critical')).body).toEqual({ status: 'ok', reason: 'single node cluster' });
  });
});
