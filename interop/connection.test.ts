// amqplib against Warren over TCP: handshake, auth, vhosts, channels, heartbeats, closing.
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { startBroker } from '../test/support/broker.js';
import { external, interopSuite, sleep } from '../test/support/suite.js';

// The tests open and close their own connections, with amqplib itself: they test just that.
const s = interopSuite({ broker: { users: [{ name: 'guest', password: 'guest' }, { name: 'alice', password: 's3cret' }] } });

/**
 * Tests that need Warren itself: its connection table, its product name, the second user it is
 * started with, a broker the test can stop. Skipped in differential mode.
 */
const warrenOnly = it.skipIf(external);

const closed = (c: amqp.ChannelModel) => new Promise<Error | undefined>((resolve) => c.on('close', resolve));

describe('connection handshake', () => {
  warrenOnly('connects with PLAIN and sees the server properties RabbitMQ clients expect', async () => {
    const c = await amqp.connect(s.url);
    const props = (c.connection as unknown as { serverProperties: Record<string, unknown> }).serverProperties;
    expect(props.product).toBe('Warren');
    expect(typeof props.version).toBe('string');
    expect(props.capabilities).toMatchObject({
      publisher_confirms: true, exchange_exchange_bindings: true, 'basic.nack': true,
      consumer_cancel_notify: true, 'connection.blocked': true, consumer_priorities: true,
      authentication_failure_close: true, per_consumer_qos: true, direct_reply_to: true,
    });
    await c.close();
  });

  warrenOnly('connects with AMQPLAIN', async () => {
    const c = await amqp.connect(s.url, { credentials: amqp.credentials.amqplain('alice', 's3cret') });
    const ch = await c.createChannel();
    await ch.close();
    await c.close();
  });

  it('refuses a wrong password with ACCESS_REFUSED', async () => {
    await expect(amqp.connect(`amqp://guest:wrong@127.0.0.1:${s.port}`)).rejects.toThrow(
      /403 \(ACCESS-REFUSED\) with message "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN/,
    );
  });

  it('refuses an unknown user with ACCESS_REFUSED, over AMQPLAIN too', async () => {
    await expect(
      amqp.connect(s.url, { credentials: amqp.credentials.amqplain('mallory', 'x') }),
    ).rejects.toThrow(/ACCESS_REFUSED - Login was refused using authentication mechanism AMQPLAIN/);
  });

  it('refuses an unknown vhost with 530 NOT_ALLOWED', async () => {
    const err = await amqp.connect(`${s.url}/nope`).then(() => null, (e: Error) => e);
    expect(err).not.toBeNull();
    // amqplib reports the connection.close it got instead of open-ok.
    expect(String(err)).toMatch(/ConnectionClose|530|NOT_ALLOWED/);
  });

  warrenOnly('negotiates heartbeats and stays up across several intervals', async () => {
    const c = await amqp.connect(`${s.url}?heartbeat=1`);
    const conn = [...s.warren!.connections].at(-1)!; // the newest (the suite's own comes first)
    expect(conn.heartbeat).toBe(1);
    await sleep(3500);
    const ch = await c.createChannel(); // still alive after > 3 heartbeat intervals
    await ch.close();
    await c.close();
  });

  warrenOnly('honours heartbeat=0 (disabled) from the client', async () => {
    const c = await amqp.connect(`${s.url}?heartbeat=0`);
    expect([...s.warren!.connections].some((x) => x.heartbeat === 0)).toBe(true);
    await c.close();
  });

  warrenOnly('negotiates frame_max down to what the client asks', async () => {
    const c = await amqp.connect(`${s.url}?frameMax=8192`);
    expect([...s.warren!.connections].some((x) => x.frameMax === 8192)).toBe(true);
    await c.close();
  });
});

describe('channels', () => {
  warrenOnly('opens 100 channels on one connection and closes them', async () => {
    const c = await amqp.connect(s.url);
    const chans = await Promise.all(Array.from({ length: 100 }, () => c.createChannel()));
    const conn = [...s.warren!.connections].find((x) => x.channels.size === 100);
    expect(conn).toBeDefined();
    await Promise.all(chans.map((ch) => ch.close()));
    expect(conn!.channels.size).toBe(0);
    await c.close();
  });

  it('reopens a channel number after it was closed', async () => {
    const c = await amqp.connect(s.url);
    const ch1 = await c.createChannel();
    await ch1.close();
    const ch2 = await c.createChannel();
    await ch2.checkExchange('amq.direct');
    await c.close();
  });

  it('a channel error closes only that channel', async () => {
    const c = await amqp.connect(s.url);
    const bad = await c.createChannel();
    const good = await c.createChannel();
    bad.on('error', () => {});
    await expect(bad.checkQueue('no-such-queue')).rejects.toThrow(/404 \(NOT-FOUND\) with message "NOT_FOUND - no queue 'no-such-queue' in vhost '\/'"/);
    await good.checkExchange('amq.fanout'); // the connection and other channels carry on
    await c.close();
  });
});

describe('closing', () => {
  warrenOnly('client close gets close-ok and the server forgets the connection', async () => {
    const before = s.warren!.connections.size;
    const c = await amqp.connect(s.url);
    expect(s.warren!.connections.size).toBe(before + 1);
    await c.close();
    await sleep(50);
    expect(s.warren!.connections.size).toBe(before);
  });

  warrenOnly('server shutdown closes clients with 320 CONNECTION_FORCED', async () => {
    const own = await startBroker();
    const c = await amqp.connect(own.url);
    c.on('error', () => {});
    const gone = closed(c);
    await own.stop();
    const err = await gone;
    expect(String(err)).toMatch(/320 \(CONNECTION-FORCED\)/);
  });
});
