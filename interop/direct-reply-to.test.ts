// Direct reply-to (amq.rabbitmq.reply-to) through amqplib: RPC without reply queues, 100
// concurrent requests, replies to channels that are gone, and every refusal with RabbitMQ's
// code and text. Every assertion also holds against RabbitMQ 3.10 (WARREN_EXTERNAL_URL=...).
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amqpError, Clients, rpc } from '../test/support/amqp.js';
import { startBroker, uniqueName, type TestBroker } from '../test/support/broker.js';

const RT = 'amq.rabbitmq.reply-to';
let b: TestBroker;
const clients = new Clients(() => b.url);
let server: ChannelModel;
let requests: string;

beforeAll(async () => {
  b = await startBroker();
  // An RPC server: answers "n" with "n*2" to the request's reply_to, on its own connection.
  server = await clients.connect();
  const ch = await server.createChannel();
  requests = (await ch.assertQueue(uniqueName('rpc'), { exclusive: true })).queue;
  await ch.consume(requests, (m) => {
    if (m === null) return;
    const n = Number(m.content.toString());
    ch.sendToQueue(m.properties.replyTo, Buffer.from(String(n * 2)), { correlationId: m.properties.correlationId });
  }, { noAck: true });
});
afterAll(async () => {
  await clients.closeAll();
  await b.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A requester channel with a reply consumer; replies are collected by correlation id. */
async function requester(c?: ChannelModel) {
  const ch = await clients.chan(c ?? await clients.connect());
  const replies = new Map<string, ConsumeMessage>();
  const waiters = new Map<string, (m: ConsumeMessage) => void>();
  const ok = await ch.consume(RT, (m) => {
    if (m === null) return;
    const id = m.properties.correlationId as string;
    replies.set(id, m);
    waiters.get(id)?.(m);
  }, { noAck: true });
  const call = (n: number, id = String(n)) => new Promise<ConsumeMessage>((resolve) => {
    waiters.set(id, resolve);
    ch.sendToQueue(requests, Buffer.from(String(n)), { replyTo: RT, correlationId: id });
  });
  return { ch, tag: ok.consumerTag, replies, call };
}

/** The address the broker put in reply_to, seen by publishing a request to a queue we read. */
async function replyAddress(ch: Channel): Promise<string> {
  const q = (await ch.assertQueue('', { exclusive: true })).queue;
  ch.sendToQueue(q, Buffer.from('probe'), { replyTo: RT });
  for (;;) {
    const m = await ch.get(q, { noAck: true });
    if (m !== false) return m.properties.replyTo as string;
    await sleep(5);
  }
}

describe('direct reply-to RPC', () => {
  it('a request gets its reply on the requester channel, from the default exchange, addressed as rewritten', async () => {
    const r = await requester();
    const reply = await r.call(21);
    expect(reply.content.toString()).toBe('42');
    expect(reply.fields).toMatchObject({ consumerTag: r.tag, exchange: '', redelivered: false });
    expect(reply.fields.routingKey).toMatch(/^amq\.rabbitmq\.reply-to\.[A-Za-z0-9+/=_.-]{16,}$/);
    const address = await replyAddress(r.ch);
    expect(address).toBe(reply.fields.routingKey);
  });

  it('answers 100 concurrent requests, each reply matched by correlation id', async () => {
    const r = await requester();
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => r.call(i, `id-${i}`)));
    expect(replies.map((m) => Number(m.content.toString()))).toEqual(Array.from({ length: 100 }, (_, i) => i * 2));
    expect(replies.map((m) => m.properties.correlationId)).toEqual(Array.from({ length: 100 }, (_, i) => `id-${i}`));
  });

  it('keeps requesters apart: two channels of one connection each get only their replies', async () => {
    const c = await clients.connect();
    const a = await requester(c);
    const z = await requester(c);
    await Promise.all([a.call(1, 'a1'), z.call(2, 'z2'), a.call(3, 'a3')]);
    expect([...a.replies.keys()].sort()).toEqual(['a1', 'a3']);
    expect([...z.replies.keys()]).toEqual(['z2']);
    expect(await replyAddress(a.ch)).not.toBe(await replyAddress(z.ch));
  });

  it('leaves other reply_to values alone', async () => {
    const r = await requester();
    const q = (await r.ch.assertQueue('', { exclusive: true })).queue;
    r.ch.sendToQueue(q, Buffer.from('x'), { replyTo: 'my-own-queue' });
    await sleep(50);
    const m = await r.ch.get(q, { noAck: true });
    expect(m && m.properties.replyTo).toBe('my-own-queue');
  });

  it('a reply to a channel that closed (or cancelled its reply consumer) is dropped, or returned when mandatory', async () => {
    const r = await requester();
    const address = await replyAddress(r.ch);
    await r.ch.cancel(r.tag);
    const pub = await (await clients.connect()).createConfirmChannel();
    const returned: string[] = [];
    pub.on('return', (m: { fields: { replyCode: number; replyText: string }; content: Buffer }) => returned.push(`${m.fields.replyCode} ${m.fields.replyText} ${m.content.toString()}`));
    pub.publish('', address, Buffer.from('after-cancel'));
    pub.publish('', address, Buffer.from('mandatory'), { mandatory: true });
    pub.publish('', `${RT}.not-an-address`, Buffer.from('bogus'), { mandatory: true });
    pub.publish('', RT, Buffer.from('bare'), { mandatory: true });
    await pub.waitForConfirms();
    await sleep(50);
    expect(returned).toEqual(['312 NO_ROUTE mandatory', '312 NO_ROUTE bogus', '312 NO_ROUTE bare']);
    expect(r.replies.size).toBe(0);
    // The server and other requesters are unaffected.
    const other = await requester();
    expect((await other.call(5)).content.toString()).toBe('10');
  });

  it('a reply published in a transaction goes to the requester at once, as RabbitMQ does', async () => {
    const r = await requester();
    const address = await replyAddress(r.ch);
    const txc = await clients.chan(await clients.connect());
    await rpc(txc, (90 << 16) | 10, {}, (90 << 16) | 11); // tx.select
    txc.publish('', address, Buffer.from('in-tx'), { correlationId: 'tx' });
    for (let i = 0; i < 100 && !r.replies.has('tx'); i++) await sleep(10);
    expect(r.replies.get('tx')?.content.toString()).toBe('in-tx');
    await rpc(txc, (90 << 16) | 30, {}, (90 << 16) | 31); // tx.rollback takes nothing back
    await sleep(50);
    expect([...r.replies.keys()]).toEqual(['tx']);
  });

  it('queue.declare of the pseudo-queue or of a live address is ok (0 messages, 1 consumer); a dead address is 404', async () => {
    const c = await clients.connect();
    const ch = await clients.chan(c);
    expect(await ch.checkQueue(RT)).toEqual({ queue: RT, messageCount: 0, consumerCount: 1 });
    expect(await ch.assertQueue(RT)).toEqual({ queue: RT, messageCount: 0, consumerCount: 1 });
    const r = await requester(c);
    const address = await replyAddress(r.ch);
    expect(await ch.checkQueue(address)).toEqual({ queue: address, messageCount: 0, consumerCount: 1 });
    await r.ch.close();
    const gone = await clients.chan(c);
    const err = new Promise<Error>((resolve) => gone.once('error', resolve));
    gone.checkQueue(address).catch(() => {});
    expect(String(await err)).toMatch(amqpError(404, `NOT_FOUND - no queue '${address}' in vhost '/'`));
  });
});

describe('direct reply-to refusals', () => {
  async function refused(action: (ch: Channel) => Promise<unknown> | void): Promise<string> {
    const ch = await clients.chan(await clients.connect());
    const err = new Promise<Error>((resolve) => ch.once('error', resolve));
    try {
      await action(ch);
    } catch {
      // the channel error below is the answer
    }
    return String(await err);
  }

  it('consuming with acks is 406', async () => {
    expect(await refused((ch) => ch.consume(RT, () => {}, { noAck: false })))
      .toMatch(amqpError(406, 'PRECONDITION_FAILED - reply consumer cannot acknowledge'));
  });

  it('a second reply consumer on the same channel is 406; after a cancel one may consume again', async () => {
    expect(await refused(async (ch) => {
      const first = await ch.consume(RT, () => {}, { noAck: true });
      await ch.cancel(first.consumerTag);
      await ch.consume(RT, () => {}, { noAck: true, consumerTag: 'again' });
      await ch.consume(RT, () => {}, { noAck: true });
    })).toMatch(amqpError(406, 'PRECONDITION_FAILED - reply consumer already set'));
  });

  it('publishing with reply_to amq.rabbitmq.reply-to without a reply consumer is 406, checked before user_id', async () => {
    expect(await refused((ch) => { ch.sendToQueue(requests, Buffer.from('1'), { replyTo: RT, userId: 'bob' }); }))
      .toMatch(amqpError(406, 'PRECONDITION_FAILED - fast reply consumer does not exist'));
  });

  it('basic.get and queue.bind on the pseudo-queue are 404, and consuming from an address is too', async () => {
    expect(await refused((ch) => ch.get(RT))).toMatch(amqpError(404, `NOT_FOUND - no queue '${RT}' in vhost '/'`));
    expect(await refused((ch) => ch.bindQueue(RT, 'amq.direct', 'k'))).toMatch(amqpError(404, `NOT_FOUND - no queue '${RT}' in vhost '/'`));
    expect(await refused((ch) => ch.consume(`${RT}.abc`, () => {}, { noAck: true })))
      .toMatch(amqpError(404, `NOT_FOUND - no queue '${RT}.abc' in vhost '/'`));
  });
});
