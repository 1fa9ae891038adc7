// Policies and operator policies survive a restart, and apply to the durable queues recovered
// with them; so do vhost limits, in their order, and they are enforced after it. Restarts need
// Warren's own process: skipped in differential mode.
import { afterEach, describe, expect, it } from 'vitest';
import { ANY_FREE_PORT } from '../src/config.js';
import { Clients } from '../test/support/amqp.js';
import { external, startBroker, type TestBroker } from '../test/support/broker.js';
import { tmpDataDir } from '../test/support/process.js';

// One broker at a time on the test's data dir, with its management listener.
const r: { broker: TestBroker | null; clients: Clients; restart(dir: string): Promise<void>; stop(): Promise<void> } = {
  broker: null,
  clients: new Clients(() => r.broker!.url),
  async restart(dir: string) {
    await r.stop();
    r.broker = await startBroker({ dataDir: dir, managementPort: ANY_FREE_PORT });
  },
  async stop() {
    await r.clients.closeAll();
    await r.broker?.stop();
    r.broker = null;
  },
};
afterEach(() => r.stop());

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${r.broker!.broker!.managementPort}${path}`, {
    method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' },
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? '' : JSON.parse(text) };
}

describe.skipIf(external)('policies across a restart', () => {
  it('are kept, cleared ones stay cleared, and recovered queues take them', async () => {
    const dir = tmpDataDir();
    await r.restart(dir);
    expect((await api('PUT', '/api/policies/%2F/cap', { pattern: '^kept', definition: { 'max-length': 2, 'ha-mode': 'all' }, priority: 2 })).status).toBe(201);
    expect((await api('PUT', '/api/operator-policies/%2F/ttl', { pattern: '^kept', definition: { 'message-ttl': 60000 } })).status).toBe(201);
    expect((await api('PUT', '/api/policies/%2F/gone', { pattern: '^x', definition: { 'max-length': 1 } })).status).toBe(201);
    expect((await api('DELETE', '/api/policies/%2F/gone')).status).toBe(204);
    const ch = await (await r.clients.connect()).createConfirmChannel();
    await ch.assertQueue('kept-q', { durable: true });
    await r.restart(dir);
    expect((await api('GET', '/api/policies')).body).toEqual([
      { vhost: '/', name: 'cap', pattern: '^kept', 'apply-to': 'all', definition: { 'ha-mode': 'all', 'max-length': 2 }, priority: 2 },
    ]);
    expect((await api('GET', '/api/operator-policies/%2F/ttl')).body.definition).toEqual({ 'message-ttl': 60000 });
    expect((await api('GET', '/api/queues/%2F/kept-q')).body).toMatchObject({
      policy: 'cap', operator_policy: 'ttl', effective_policy_definition: { 'ha-mode': 'all', 'max-length': 2, 'message-ttl': 60000 },
    });
    const ch2 = await (await r.clients.connect()).createConfirmChannel();
    for (const b of ['1', '2', '3']) ch2.sendToQueue('kept-q', Buffer.from(b), { persistent: true });
    await ch2.waitForConfirms();
    expect((await ch2.checkQueue('kept-q')).messageCount).toBe(2);
  });
});

describe.skipIf(external)('vhost limits across a restart', () => {
  it('are kept in their order and enforced; cleared ones and a deleted vhost\'s stay gone', async () => {
    const dir = tmpDataDir();
    await r.restart(dir);
    for (const v of ['lv', 'gone']) expect((await api('PUT', `/api/vhosts/${v}`, {})).status).toBe(201);
    expect((await api('PUT', '/api/vhost-limits/lv/max-queues', { value: 0 })).status).toBe(204);
    expect((await api('PUT', '/api/vhost-limits/lv/max-connections', { value: 5 })).status).toBe(204);
    expect((await api('PUT', '/api/parameters/vhost-limits/%2F/limits', { value: { 'max-queues': 9 } })).status).toBe(201);
    expect((await api('DELETE', '/api/parameters/vhost-limits/%2F/limits')).status).toBe(204);
    expect((await api('PUT', '/api/vhost-limits/gone/max-queues', { value: 1 })).status).toBe(204);
    expect((await api('DELETE', '/api/vhosts/gone')).status).toBe(204);
    await r.restart(dir);
    expect((await api('GET', '/api/vhost-limits')).body).toEqual([{ vhost: 'lv', value: { 'max-connections': 5, 'max-queues': 0 } }]);
    expect(Object.keys((await api('GET', '/api/vhost-limits/lv')).body[0].value)).toEqual(['max-connections', 'max-queues']);
    const ch = await (await r.clients.connect('/lv')).createChannel();
    ch.on('error', () => {});
    await expect(ch.assertQueue('q', { durable: false })).rejects.toThrow(/cannot declare queue 'q': queue limit in vhost 'lv' \(0\) is reached/);
    expect((await api('PUT', '/api/vhosts/gone', {})).status).toBe(201);
    expect((await api('GET', '/api/vhost-limits/gone')).body).toEqual([]);
  });
});
