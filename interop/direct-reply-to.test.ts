// Direct reply-to (amq.rabbitmq.reply-to) through amqplib: RPC round trips, many requests in
// flight, replies to channels that went away, the pseudo queue's declare/get/cancel, and every
// refusal with RabbitMQ 3.10's code and text. All of it holds on RabbitMQ too
// (WARREN_EXTERNAL_URL=... differential mode), except the test that needs a second vhost.
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { amqpError, channelError, connectionError, rpc } from '../test/support/amqp.js';
import { startBroker } from '../test/support/broker.js';
import { external, interopSuite, uniqueName } from '../test/support/suite.js';

const REPLY_TO = 'amq.rabbitmq.reply-to';
const TOKEN = /^amq\.rabbitmq\.reply-to\.[A-Za-z0-9+/=._-]+$/;
/** tx.select (10), tx.commit (20) or tx.rollback (30) on `ch`, waiting for its -ok (amqplib has no tx API). */
const txMethod = (ch: amqp.Channel, method: 10 | 20 | 30) => rpc(ch, (90 << 16) | method, {}, (90 << 16) | (method + 1));

const { clients } = interopSuite();

/** A client channel consuming its replies; `replies` fills as they come. */
async function replyConsumer(c?: amqp.ChannelModel) {
  const ch = await clients.chan(c ?? (await clients.connect()));
  const replies: amqp.ConsumeMessage[] = [];
  const waiters: (() => void)[] = [];
  const { consumerTag } = await ch.consume(REPLY_TO, (m) => {
    if (m) replies.push(m);
    for (const w of waiters.splice(0)) w();
  }, { noAck: true });
  /** Resolves once `n` replies have arrived in all. */
  const received = async (n: number) => {
    while (replies.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
    return replies;
  };
  return { ch, consumerTag, replies, received };
}

/** A queue to send requests to, and the reply_to a request from `ch` carries when it gets there. */
async function tokenOf(ch: amqp.Channel): Promise<string> {
  const q = (await ch.assertQueue('', { exclusive: true })).queue;
  ch.sendToQueue(q, Buffer.from('probe'), { replyTo: REPLY_TO });
  for (;;) {
    const m = await ch.get(q, { noAck: true });
    if (m) return m.properties.replyTo as string;
  }
}

/** An RPC server on its own connection: answers each request on `queue` with "re:<body>". */
async function rpcServer(queue: string) {
  const ch = await clients.chan(await clients.connect());
  await ch.assertQueue(queue, { exclusive: true });
  const seen: amqp.ConsumeMessage[] = [];
  await ch.consume(queue, (m) => {
    if (!m) return;
    seen.push(m);
    ch.sendToQueue(m.properties.replyTo, Buffer.from(`re:${m.content}`), { correlationId: m.properties.correlationId });
  }, { noAck: true });
  return { ch, seen };
}

/**
 * A round trip on each channel in turn: what the first one published has been routed, and any
 * delivery that caused to the later ones is in before their answer.
 */
async function roundTrips(...chs: amqp.Channel[]): Promise<void> {
  for (const ch of chs) await ch.checkExchange('amq.direct');
}

/** Publish on a fresh channel; the error the channel is closed with, or 'no error'. */
async function publishError(options: amqp.Options.Publish, c?: amqp.ChannelModel): Promise<string> {
  const ch = await clients.chan(c ?? (await clients.connect()));
  ch.publish('amq.direct', 'k', Buffer.from('x'), options);
  return ch.checkExchange('amq.direct').then(async () => { await ch.close(); return 'no error'; }, (e: Error) => e.message);
}

describe('RPC', () => {
  it('a request carries a reply_to naming the channel; the reply comes straight back as a delivery', async () => {
    const queue = uniqueName('rpc');
    const server = await rpcServer(queue);
    const client = await replyConsumer();
    client.ch.sendToQueue(queue, Buffer.from('ping'), { replyTo: REPLY_TO, correlationId: 'c-1', messageId: 'm-1' });
    const [reply] = await client.received(1);
    expect(reply!.content.toString()).toBe('re:ping');
    expect(reply!.properties.correlationId).toBe('c-1');
    const [request] = server.seen;
    const token = request!.properties.replyTo as string;
    expect(token).toMatch(TOKEN);
    expect(request!.properties).toMatchObject({ correlationId: 'c-1', messageId: 'm-1' });
    // Delivered as from the default exchange, with the routing key the reply was published with.
    expect(reply!.fields).toMatchObject({ consumerTag: client.consumerTag, redelivered: false, exchange: '', routingKey: token });
  });

  it('100 concurrent requests from one channel, answered from another connection, all match', async () => {
    const queue = uniqueName('rpc-many');
    await rpcServer(queue);
    const client = await replyConsumer();
    for (let i = 0; i < 100; i++) {
      client.ch.sendToQueue(queue, Buffer.from(`n${i}`), { replyTo: REPLY_TO, correlationId: `id-${i}` });
    }
    const replies = await client.received(100);
    const byId = new Map(replies.map((m) => [m.properties.correlationId as string, m.content.toString()]));
    expect(byId.size).toBe(100);
    for (let i = 0; i < 100; i++) expect(byId.get(`id-${i}`)).toBe(`re:n${i}`);
  });

  it('each channel gets its own token, and a new one on each basic.consume', async () => {
    const c = await clients.connect();
    const one = await replyConsumer(c);
    const two = await replyConsumer(c);
    const first = await tokenOf(one.ch);
    expect(await tokenOf(one.ch)).toBe(first);
    const other = await tokenOf(two.ch);
    expect(other).toMatch(TOKEN);
    expect(other).not.toBe(first);
    await one.ch.cancel(one.consumerTag);
    await one.ch.consume(REPLY_TO, () => {}, { noAck: true });
    const again = await tokenOf(one.ch);
    expect(again).not.toBe(first);
    expect(again).toMatch(TOKEN);
  });

  it('leaves every other reply_to as it is', async () => {
    const { ch } = await replyConsumer();
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    const others = ['my-own-queue', `${REPLY_TO}.x`, 'AMQ.RABBITMQ.REPLY-TO', `${REPLY_TO} `];
    for (const replyTo of others) ch.sendToQueue(q, Buffer.from(replyTo), { replyTo });
    const seen: unknown[] = [];
    while (seen.length < others.length) {
      const m = await ch.get(q, { noAck: true });
      if (m) seen.push(m.properties.replyTo);
    }
    expect(seen).toEqual(others);
  });

  it('replies reach the consumer through CC and BCC keys of a default-exchange publish, not through other exchanges', async () => {
    const client = await replyConsumer();
    const token = await tokenOf(client.ch);
    const sender = await clients.chan(await clients.connect());
    sender.publish('amq.direct', token, Buffer.from('via amq.direct'));
    sender.sendToQueue(uniqueName('nobody'), Buffer.from('via CC'), { CC: [token] });
    const q = (await sender.assertQueue('', { exclusive: true })).queue;
    sender.sendToQueue(q, Buffer.from('via BCC'), { BCC: token, headers: { keep: 1 } });
    const [cc, bcc] = await client.received(2);
    await sender.checkQueue(q); // a round trip after the publishes: nothing else is on its way
    expect(client.replies.map((m) => m.content.toString())).toEqual(['via CC', 'via BCC']);
    // The routing key shown is the one published, as RabbitMQ shows it.
    expect(cc!.fields).toMatchObject({ exchange: '', routingKey: expect.stringMatching(/^nobody-/) });
    expect(bcc!.fields.routingKey).toBe(q);
    expect(bcc!.properties.headers).toEqual({ keep: 1 });
  });

  it('a reply published in a transaction goes out at publish; a mandatory one comes back at the commit, not at a rollback', async () => {
    const client = await replyConsumer();
    const token = await tokenOf(client.ch);
    const tx = await clients.chan(await clients.connect());
    const events: string[] = [];
    tx.on('return', (m: amqp.Message) => events.push(`return ${m.content}`));
    await txMethod(tx, 10);
    tx.sendToQueue(token, Buffer.from('in tx'), { mandatory: true });
    expect((await client.received(1))[0]!.content.toString()).toBe('in tx');
    events.push('delivered');
    await txMethod(tx, 20);
    events.push('commit-ok');
    tx.sendToQueue(token, Buffer.from('rolled back'), { mandatory: true });
    expect((await client.received(2))[1]!.content.toString()).toBe('rolled back');
    await txMethod(tx, 30);
    await roundTrips(tx, client.ch);
    // rabbit_channel keeps the publish (routed to no queue) in the transaction until the commit.
    expect(events).toEqual(['delivered', 'return in tx', 'commit-ok']);
    expect(client.replies).toHaveLength(2);
  });

  it("replies show the channel's next delivery tag without using it up", async () => {
    const client = await replyConsumer();
    const token = await tokenOf(client.ch);
    const sender = await clients.chan(await clients.connect());
    sender.sendToQueue(token, Buffer.from('r1'));
    sender.sendToQueue(token, Buffer.from('r2'));
    await client.received(2);
    const q = (await client.ch.assertQueue('', { exclusive: true })).queue;
    client.ch.sendToQueue(q, Buffer.from('normal'));
    let got: amqp.GetMessage | false = false;
    while (got === false) got = await client.ch.get(q, { noAck: false });
    sender.sendToQueue(token, Buffer.from('r3'));
    await client.received(3);
    const tag = got.fields.deliveryTag; // tokenOf's basic.get took some tags before
    expect(client.replies.map((m) => m.fields.deliveryTag)).toEqual([tag, tag, tag + 1]);
    client.ch.ack(got);
  });

  it.skipIf(external)('replies cross vhosts, as RabbitMQ routes them by channel and not by vhost', async () => {
    const own = await startBroker({ vhosts: ['/', 'other'] });
    try {
      const c = await amqp.connect(own.url);
      const ch = await c.createChannel();
      const got = new Promise<amqp.ConsumeMessage | null>((resolve) => void ch.consume(REPLY_TO, resolve, { noAck: true }));
      const token = await tokenOf(ch);
      const o = await amqp.connect(`${own.url}/other`);
      const och = await o.createChannel();
      expect(await och.checkQueue(token)).toEqual({ queue: token, messageCount: 0, consumerCount: 1 });
      och.sendToQueue(token, Buffer.from('from other vhost'));
      expect((await got)?.content.toString()).toBe('from other vhost');
      await o.close();
      await c.close();
    } finally {
      await own.stop();
    }
  });
});

describe('replies nobody can take', () => {
  it('a reply to a closed channel is dropped; other replies and the sender carry on; mandatory ones come back', async () => {
    const c = await clients.connect();
    const gone = await replyConsumer(c);
    const staying = await replyConsumer(c);
    const goneToken = await tokenOf(gone.ch);
    const stayingToken = await tokenOf(staying.ch);
    await gone.ch.close();
    const sender = await (await clients.connect()).createConfirmChannel();
    const returned: amqp.Message[] = [];
    sender.on('return', (m: amqp.Message) => returned.push(m));
    sender.sendToQueue(goneToken, Buffer.from('lost'));
    sender.sendToQueue(goneToken, Buffer.from('lost, mandatory'), { mandatory: true });
    sender.sendToQueue(stayingToken, Buffer.from('kept'));
    await sender.waitForConfirms();
    expect((await staying.received(1)).map((m) => m.content.toString())).toEqual(['kept']);
    expect(returned.map((m) => [m.content.toString(), m.fields])).toEqual([
      ['lost, mandatory', { replyCode: 312, replyText: 'NO_ROUTE', exchange: '', routingKey: goneToken }],
    ]);
    await roundTrips(sender, staying.ch);
    expect(staying.replies).toHaveLength(1);
  });

  it('a mandatory reply that reaches its consumer is returned all the same: no queue took it', async () => {
    const client = await replyConsumer();
    const token = await tokenOf(client.ch);
    const sender = await (await clients.connect()).createConfirmChannel();
    const returned = new Promise<amqp.Message>((resolve) => sender.on('return', resolve));
    sender.sendToQueue(token, Buffer.from('both'), { mandatory: true });
    await sender.waitForConfirms();
    expect((await returned).fields).toEqual({ replyCode: 312, replyText: 'NO_ROUTE', exchange: '', routingKey: token });
    expect((await client.received(1))[0]!.content.toString()).toBe('both');
  });

  it('after basic.cancel the token is stale: cancel-ok, replies dropped, no more requests', async () => {
    const client = await replyConsumer();
    const token = await tokenOf(client.ch);
    expect(await client.ch.cancel(client.consumerTag)).toEqual({ consumerTag: client.consumerTag });
    const sender = await clients.chan(await clients.connect());
    sender.sendToQueue(token, Buffer.from('too late'));
    await roundTrips(sender, client.ch);
    expect(client.replies).toEqual([]);
    expect(await sender.checkQueue(token).catch((e: Error) => e.message))
      .toMatch(amqpError(404, `NOT_FOUND - no queue '${token}' in vhost '/'`));
    const closed = channelError(client.ch);
    client.ch.sendToQueue('anything', Buffer.from('x'), { replyTo: REPLY_TO });
    expect((await closed).message).toMatch(amqpError(406, 'PRECONDITION_FAILED - fast reply consumer does not exist'));
  });

  it('unknown names are dropped, or returned when mandatory, as is a publish to the pseudo queue itself', async () => {
    const sender = await (await clients.connect()).createConfirmChannel();
    const returned: string[] = [];
    sender.on('return', (m: amqp.Message) => returned.push(m.content.toString()));
    const names = [`${REPLY_TO}.`, `${REPLY_TO}.garbage`, `${REPLY_TO}.a.b.c`, REPLY_TO];
    for (const key of names) {
      sender.sendToQueue(key, Buffer.from(`dropped ${key}`));
      sender.sendToQueue(key, Buffer.from(key), { mandatory: true });
    }
    await sender.waitForConfirms();
    expect(returned).toEqual(names);
  });
});

describe('refusals', () => {
  it('basic.consume with no_ack=false is 406, even when already consuming', async () => {
    const c = await clients.connect();
    const ch = await clients.chan(c);
    expect(await ch.consume(REPLY_TO, () => {}, { noAck: false }).catch((e: Error) => e.message))
      .toMatch(amqpError(406, 'PRECONDITION_FAILED - reply consumer cannot acknowledge'));
    const { ch: consuming } = await replyConsumer(c);
    expect(await consuming.consume(REPLY_TO, () => {}, { noAck: false }).catch((e: Error) => e.message))
      .toMatch(amqpError(406, 'PRECONDITION_FAILED - reply consumer cannot acknowledge'));
  });

  it('a second reply consumer on the channel is 406', async () => {
    const { ch } = await replyConsumer();
    expect(await ch.consume(REPLY_TO, () => {}, { noAck: true }).catch((e: Error) => e.message))
      .toMatch(amqpError(406, 'PRECONDITION_FAILED - reply consumer already set'));
  });

  it('a consumer tag in use by a queue consumer is 530, a connection error', async () => {
    const c = await clients.connect();
    const ch = await clients.chan(c);
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.consume(q, () => {}, { consumerTag: 'taken', noAck: true });
    const closed = connectionError(c);
    void ch.consume(REPLY_TO, () => {}, { consumerTag: 'taken', noAck: true }).catch(() => {});
    expect((await closed).message).toMatch(amqpError(530, "NOT_ALLOWED - attempt to reuse consumer tag 'taken'"));
  });

  it('publishing with reply_to amq.rabbitmq.reply-to without consuming is 406, before user_id is checked', async () => {
    expect(await publishError({ replyTo: REPLY_TO })).toMatch(amqpError(406, 'PRECONDITION_FAILED - fast reply consumer does not exist'));
    expect(await publishError({ replyTo: REPLY_TO, userId: 'bob' }))
      .toMatch(amqpError(406, 'PRECONDITION_FAILED - fast reply consumer does not exist'));
    // Only the exact name asks for a rewrite.
    expect(await publishError({ replyTo: `${REPLY_TO}.x` })).toBe('no error');
    expect(await publishError({ replyTo: 'AMQ.RABBITMQ.REPLY-TO' })).toBe('no error');
  });

  it('another channel of the same connection consuming replies does not count', async () => {
    const c = await clients.connect();
    await replyConsumer(c);
    expect(await publishError({ replyTo: REPLY_TO }, c)).toMatch(amqpError(406, 'PRECONDITION_FAILED - fast reply consumer does not exist'));
  });

  it('basic.get and queue.bind on the pseudo queue are 404, and so is consuming from an address', async () => {
    const c = await clients.connect();
    const refused = async (action: (ch: amqp.Channel) => Promise<unknown>) => action(await clients.chan(c)).then(() => 'no error', (e: Error) => e.message);
    expect(await refused((ch) => ch.get(REPLY_TO))).toMatch(amqpError(404, `NOT_FOUND - no queue '${REPLY_TO}' in vhost '/'`));
    expect(await refused((ch) => ch.bindQueue(REPLY_TO, 'amq.direct', 'k')))
      .toMatch(amqpError(404, `NOT_FOUND - no queue '${REPLY_TO}' in vhost '/'`));
    const { ch } = await replyConsumer(c);
    const token = await tokenOf(ch);
    expect(await refused((other) => other.consume(token, () => {}, { noAck: true })))
      .toMatch(amqpError(404, `NOT_FOUND - no queue '${token}' in vhost '/'`));
  });

  it("a queue consumer may take the reply consumer's tag; basic.cancel with it stops the reply consumer first", async () => {
    const ch = await clients.chan(await clients.connect());
    await ch.consume(REPLY_TO, () => {}, { noAck: true, consumerTag: 'same' });
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    expect(await ch.consume(q, () => {}, { noAck: true, consumerTag: 'same' })).toEqual({ consumerTag: 'same' });
    expect(await ch.cancel('same')).toEqual({ consumerTag: 'same' });
    expect((await ch.checkQueue(q)).consumerCount).toBe(1);
    const closed = channelError(ch);
    ch.sendToQueue(q, Buffer.from('x'), { replyTo: REPLY_TO });
    expect((await closed).message).toMatch(amqpError(406, 'PRECONDITION_FAILED - fast reply consumer does not exist'));
  });
});

describe('queue.declare', () => {
  it('of amq.rabbitmq.reply-to, passive or not, answers declare-ok with 0 messages and 1 consumer', async () => {
    const ch = await clients.chan(await clients.connect());
    const ok = { queue: REPLY_TO, messageCount: 0, consumerCount: 1 };
    expect(await ch.checkQueue(REPLY_TO)).toEqual(ok);
    expect(await ch.assertQueue(REPLY_TO, { durable: true, arguments: { 'x-max-length': 'not checked' } })).toEqual(ok);
    expect(await ch.checkQueue(`${REPLY_TO}\r\n`)).toEqual(ok); // CR/LF stripped after the prefix test
    // The declared name is the channel's last queue, so an empty name consumes replies.
    const { consumerTag } = await ch.consume('', () => {}, { noAck: true });
    expect(await tokenOf(ch)).toMatch(TOKEN);
    await ch.cancel(consumerTag);
  });

  it("of a live reply consumer's token answers declare-ok; unknown names with the prefix are 404, never 403", async () => {
    const client = await replyConsumer();
    const token = await tokenOf(client.ch);
    const ch = await clients.chan(await clients.connect());
    expect(await ch.checkQueue(token)).toEqual({ queue: token, messageCount: 0, consumerCount: 1 });
    for (const name of [`${REPLY_TO}X`, `${REPLY_TO}.garbage`, `${REPLY_TO}.`]) {
      const probe = await clients.chan(await clients.connect());
      expect(await probe.assertQueue(name).catch((e: Error) => e.message))
        .toMatch(amqpError(404, `NOT_FOUND - no queue '${name}' in vhost '/'`));
    }
  });
});
