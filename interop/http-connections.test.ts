// The management API's view of clients: connections, channels and consumers as amqplib makes
// them, and closing a connection with a reason. Runs against Warren and, in differential mode,
// RabbitMQ's management plugin (whose view lags by its statistics interval, hence eventually).
import type { ChannelModel } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { httpSuite } from '../test/support/http.js';
import { eventually, uniqueName } from '../test/support/suite.js';

const s = httpSuite();

/** The connection's name as the broker lists it: "client:port -> server:port". */
function nameOf(c: ChannelModel): string {
  const sock = (c.connection as unknown as { stream: { localAddress: string; localPort: number; remoteAddress: string; remotePort: number } }).stream;
  return `${sock.localAddress}:${sock.localPort} -> ${sock.remoteAddress}:${sock.remotePort}`;
}

async function listed<T>(path: string, pick: (items: T[]) => T | undefined): Promise<T> {
  let found: T | undefined;
  await eventually(async () => {
    const r = await s.api('GET', path);
    found = r.status === 200 ? pick(r.body as T[]) : undefined;
    return found !== undefined;
  }, `${path} lists it`, { timeoutMs: 15_000, intervalMs: 250 });
  return found!;
}

describe('management API: connections, channels, consumers', () => {
  it('lists a connection with its client properties, and shows it by name', async () => {
    const c = await s.connect();
    const name = nameOf(c);
    const conn = await listed<Record<string, any>>('/api/connections', (xs) => xs.find((x) => x.name === name)); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(conn).toMatchObject({
      name, user: 'guest', vhost: '/', protocol: 'AMQP 0-9-1', auth_mechanism: 'PLAIN', type: 'network', ssl: false,
      peer_host: '127.0.0.1', frame_max: 131072, channel_max: 2047,
    });
    expect(conn.client_properties).toMatchObject({ product: 'amqplib', capabilities: expect.objectContaining({ publisher_confirms: true }) });
    expect(typeof conn.recv_oct).toBe('number');
    const one = await s.api('GET', `/api/connections/${encodeURIComponent(name)}`);
    expect(one.body.name).toBe(name);
    expect((await s.api('GET', `/api/connections/${encodeURIComponent('nope -> nowhere')}`)).status).toBe(404);
  });

  it('lists channels and consumers with their settings', async () => {
    const c = await s.connect();
    const name = nameOf(c);
    const ch = await c.createConfirmChannel();
    await ch.prefetch(7);
    const q = await s.queue('hc-cons');
    await ch.consume(q, () => {}, { consumerTag: uniqueName('ctag'), arguments: { 'x-priority': 3 } });
    const channel = await listed<Record<string, any>>('/api/channels', (xs) => xs.find((x) => x.connection_details?.name === name)); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(channel).toMatchObject({ number: 1, name: `${name} (1)`, user: 'guest', vhost: '/', confirm: true, transactional: false, prefetch_count: 7 });
    await eventually(async () => (await s.api('GET', `/api/channels/${encodeURIComponent(`${name} (1)`)}`)).body.consumer_count === 1,
      'the channel shows its consumer', { timeoutMs: 15_000, intervalMs: 250 });
    const consumer = await listed<Record<string, any>>('/api/consumers/%2F', (xs) => xs.find((x) => x.queue?.name === q)); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(consumer).toMatchObject({
      queue: { name: q, vhost: '/' }, ack_required: true, exclusive: false, prefetch_count: 7, arguments: { 'x-priority': 3 },
      channel_details: expect.objectContaining({ connection_name: name, number: 1, user: 'guest' }),
    });
    const ofConn = await s.api('GET', `/api/connections/${encodeURIComponent(name)}/channels`);
    expect(ofConn.body.map((x: { number: number }) => x.number)).toEqual([1]);
  });

  it('DELETE closes the connection with 320 and the X-Reason text', async () => {
    const c = await s.clients.connect();
    const name = nameOf(c);
    await listed<Record<string, unknown>>('/api/connections', (xs) => xs.find((x) => x.name === name));
    const closed = new Promise<Error>((r) => c.once('close', r));
    const r = await s.api('DELETE', `/api/connections/${encodeURIComponent(name)}`, undefined, { headers: { 'X-Reason': 'maintenance window' } });
    expect(r.status).toBe(204);
    expect(String(await closed)).toMatch(/320 \(CONNECTION-FORCED\) with message "CONNECTION_FORCED - maintenance window"/);
  });
});
