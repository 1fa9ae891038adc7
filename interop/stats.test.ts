// The statistics counters (core/stats.ts) as a client's traffic moves them: per queue,
// exchange, channel and connection, read straight from the in-process broker. Warren-only
// (RabbitMQ's figures are read over its management API, a later suite), so it skips in
// differential mode.
import type { Channel, ChannelModel } from 'amqplib';
import { describe, expect, it } from 'vitest';
import type { Connection } from '../src/amqp/connection.js';
import { Inbox, external, interopSuite, sleep, uniqueName } from '../test/support/suite.js';

const s = interopSuite();

/** The broker's side of an amqplib connection, found by the client's local port. */
function serverSide(c: ChannelModel): Connection {
  const port = (c.connection as unknown as { stream: { localPort: number } }).stream.localPort;
  const conn = [...s.warren!.connections].find((x) => x.peer.remotePort === port);
  if (!conn) throw new Error(`no server connection for client port ${port}`);
  return conn;
}

const channelNumber = (ch: Channel) => (ch as unknown as { ch: number }).ch;

describe.skipIf(external)('statistics counters', () => {
  it('count publishes, deliveries, gets, redeliveries, acks, confirms and returns where they happen', async () => {
    const c = await s.connect();
    const ch = await c.createConfirmChannel();
    const x = uniqueName('stats-x');
    const q = uniqueName('stats-q');
    await ch.assertExchange(x, 'fanout', { autoDelete: true });
    await ch.assertQueue(q, { autoDelete: false });
    s.removeAfter(q);
    await ch.bindQueue(q, x, '');
    for (let i = 0; i < 5; i++) ch.publish(x, '', Buffer.from('12345'));
    ch.publish('', uniqueName('nowhere'), Buffer.from('x'), { mandatory: true }); // returned
    ch.publish('', uniqueName('nowhere'), Buffer.from('x')); // dropped
    await ch.waitForConfirms();

    const vhost = s.warren!.vhost('/')!;
    const queue = vhost.queues.get(q)!;
    const exchange = vhost.exchanges.get(x)!;
    expect([queue.stats.publish, queue.stats.publishBytes]).toEqual([5, 25]);
    expect([exchange.stats.publishIn, exchange.stats.publishOut]).toEqual([5, 5]);

    // Two gets (one acked, one not), then a consumer takes the rest; recover redelivers the get.
    const g1 = await ch.get(q);
    await ch.get(q, { noAck: true });
    const inbox = new Inbox();
    await ch.consume(q, inbox.cb);
    await inbox.waitFor(3);
    for (const m of inbox.msgs) ch.ack(m);
    ch.ack(g1 as never);
    await ch.checkQueue(q);
    expect(queue.stats).toMatchObject({ get: 1, getNoAck: 1, deliver: 3, deliverNoAck: 0, ack: 4, redeliver: 0 });
    expect(queue.stats.deliverGet).toBe(5);

    const session = serverSide(c).channels.get(channelNumber(ch))!.session!;
    expect(session.stats).toMatchObject({
      publish: 7, confirm: 7, returnUnroutable: 1, dropUnroutable: 1, get: 1, getNoAck: 1, deliver: 3, ack: 4,
    });
    await c.close();
  });

  it('count redeliveries on the queue and the channel', async () => {
    const c = await s.connect();
    const ch = await c.createChannel();
    const q = await s.queue('stats-redeliver');
    await s.send(q, ['a', 'b']);
    const inbox = new Inbox();
    await ch.consume(q, inbox.cb);
    await inbox.waitFor(2);
    await ch.recover();
    await inbox.waitFor(4);
    const queue = s.warren!.vhost('/')!.queues.get(q)!;
    expect([queue.stats.deliver, queue.stats.redeliver]).toEqual([4, 2]);
    expect(serverSide(c).channels.get(channelNumber(ch))!.session!.stats.redeliver).toBe(2);
    await c.close();
  });

  it('count octets and socket reads and writes per connection', async () => {
    const c = await s.connect();
    const conn = serverSide(c);
    const before = { ...conn.stats };
    const ch = await c.createChannel();
    const q = await s.queue('stats-octets');
    ch.sendToQueue(q, Buffer.alloc(10_000));
    await ch.checkQueue(q);
    await sleep(10);
    expect(conn.stats.recvOct - before.recvOct).toBeGreaterThan(10_000);
    expect(conn.stats.recvCnt).toBeGreaterThan(before.recvCnt);
    expect(conn.stats.sendOct).toBeGreaterThan(before.sendOct);
    expect(conn.stats.sendCnt).toBeGreaterThan(before.sendCnt);
    await c.close();
  });
});
