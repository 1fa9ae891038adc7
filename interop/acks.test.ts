// Acknowledgements through amqplib: ack / nack / reject (single and multiple), requeue to the
// original position, delivery-tag errors, requeue of everything unacked when a channel or
// connection closes, basic.get and basic.recover. Every assertion also holds against RabbitMQ
// (WARREN_EXTERNAL_URL=... differential mode).
import type { Channel, ChannelModel, GetMessage, Message } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { amqpError, channelError, connectionError, rpc } from '../test/support/amqp.js';
import { external } from '../test/support/broker.js';
import { Inbox, body, interopSuite, numbered, sleep, takeAll, uniqueName } from '../test/support/suite.js';

const s = interopSuite();
const { connect, chan } = s;
const queue = () => s.queue('aq');
const publish = (q: string, n: number) => s.send(q, numbered(n));

async function get(ch: Channel, q: string, noAck = false): Promise<GetMessage> {
  const m = await ch.get(q, { noAck });
  if (m === false) throw new Error(`queue ${q} unexpectedly empty`);
  return m;
}

/** Drain the queue with basic.get (noAck) on a fresh channel: [body, redelivered] in order. */
async function drain(q: string): Promise<[string, boolean][]> {
  const ch = await chan();
  const out = (await takeAll(ch, q)).map((m): [string, boolean] => [body(m), m.fields.redelivered]);
  await ch.close();
  return out;
}

async function readyCount(q: string): Promise<number> {
  const ch = await chan();
  const { messageCount } = await ch.checkQueue(q);
  await ch.close();
  return messageCount;
}

/**
 * Wait until the queue holds `n` ready messages. RabbitMQ requeues the messages of a closed
 * channel or connection asynchronously (the queue notices the channel is gone), so there is no
 * reply to await; this polls the queue with passive declares.
 */
async function readyBecomes(q: string, n: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let got = await readyCount(q); got !== n; got = await readyCount(q)) {
    if (Date.now() > deadline) throw new Error(`queue ${q} has ${got} ready messages, expected ${n}`);
    await sleep(10);
  }
}

describe('settling', () => {
  it('ack removes the message for good', async () => {
    const q = await queue();
    await publish(q, 2);
    const ch = await chan();
    const m = await get(ch, q);
    ch.ack(m);
    await ch.close(); // nothing left unacked to requeue
    expect(await drain(q)).toEqual([['1', false]]);
  });

  it('ack multiple settles every outstanding tag up to and including the one given', async () => {
    const q = await queue();
    await publish(q, 5);
    const ch = await chan();
    const inbox = new Inbox();
    await ch.consume(q, inbox.cb);
    const msgs = await inbox.waitFor(5);
    expect(msgs.map((m) => m.fields.deliveryTag)).toEqual([1, 2, 3, 4, 5]);
    ch.ack(msgs[2]!, true);
    await ch.close();
    await readyBecomes(q, 2);
    expect(await drain(q)).toEqual([['3', true], ['4', true]]);
  });

  it('nack multiple with requeue puts them back at the head, in order, redelivered', async () => {
    const q = await queue();
    await publish(q, 5);
    const ch = await chan();
    const got = [];
    for (let i = 0; i < 5; i++) got.push(await get(ch, q));
    ch.nack(got[2]!, true, true);
    const again = [];
    for (let m = await ch.get(q); m !== false; m = await ch.get(q)) again.push(m);
    expect(again.map((m) => [m.content.toString(), m.fields.redelivered])).toEqual([['0', true], ['1', true], ['2', true]]);
    expect(again.map((m) => m.fields.deliveryTag)).toEqual([6, 7, 8]);
    ch.nackAll(true); // tag 0 + multiple: everything outstanding
    expect((await get(ch, q)).content.toString()).toBe('0');
    await ch.close();
  });

  it('nack multiple without requeue drops them', async () => {
    const q = await queue();
    await publish(q, 4);
    const ch = await chan();
    const got = [];
    for (let i = 0; i < 3; i++) got.push(await get(ch, q));
    ch.nack(got[1]!, true, false);
    await ch.close();
    await readyBecomes(q, 2);
    expect(await drain(q)).toEqual([['2', true], ['3', false]]);
  });

  it('reject with requeue returns the message, marked redelivered; without requeue drops it', async () => {
    const q = await queue();
    await publish(q, 3);
    const ch = await chan();
    const m0 = await get(ch, q);
    const m1 = await get(ch, q);
    ch.reject(m0, true);
    const back = await get(ch, q);
    expect([back.content.toString(), back.fields.redelivered, back.fields.messageCount]).toEqual(['0', true, 1]);
    ch.reject(m1, false);
    ch.reject(back, false);
    expect(await ch.checkQueue(q)).toMatchObject({ messageCount: 1 });
    await ch.close();
    expect(await drain(q)).toEqual([['2', false]]);
  });

  it('requeued messages go back to their original position, whatever the requeue order', async () => {
    const q = await queue();
    await publish(q, 6);
    const ch = await chan();
    const got = [];
    for (let i = 0; i < 4; i++) got.push(await get(ch, q));
    ch.reject(got[3]!, true);
    ch.reject(got[1]!, true);
    ch.nack(got[2]!, false, true);
    ch.reject(got[0]!, true);
    await ch.close();
    await readyBecomes(q, 6);
    expect(await drain(q)).toEqual([['0', true], ['1', true], ['2', true], ['3', true], ['4', false], ['5', false]]);
  });

  it('requeued messages are redelivered to a consumer ahead of newer ones', async () => {
    const q = await queue();
    await publish(q, 4);
    const ch = await chan();
    await ch.prefetch(2);
    const inbox = new Inbox();
    await ch.consume(q, inbox.cb);
    const [, m1] = await inbox.waitFor(2);
    ch.nack(m1!, true, true); // both at once, so neither is redelivered before the other is back
    const all = await inbox.waitFor(4);
    expect(inbox.seen.slice(0, 4)).toEqual([['0', false], ['1', false], ['0', true], ['1', true]]);
    ch.ack(all[3]!, true);
    await inbox.waitFor(6);
    expect(inbox.seen.slice(4)).toEqual([['2', false], ['3', false]]);
    await ch.close();
  });

  it('acking a message whose queue was deleted is fine', async () => {
    const q = await queue();
    await publish(q, 1);
    const ch = await chan();
    const m = await get(ch, q);
    await (await chan()).deleteQueue(q);
    ch.ack(m);
    expect(await ch.checkQueue(q).catch((e: Error) => e.message)).toMatch(amqpError(404, `NOT_FOUND - no queue '${q}' in vhost '/'`));
  });
});

describe('delivery tag errors (406 PRECONDITION_FAILED, channel closed)', () => {
  const fake = (deliveryTag: number) => ({ fields: { deliveryTag } }) as unknown as Message;

  it('an unknown delivery tag', async () => {
    const ch = await chan();
    const closed = channelError(ch);
    ch.ack(fake(42));
    expect((await closed).message).toMatch(amqpError(406, 'PRECONDITION_FAILED - unknown delivery tag 42'));
    // Only the channel: the connection goes on.
    const ch2 = await chan();
    await ch2.close();
  });

  it('a double ack', async () => {
    const q = await queue();
    await publish(q, 1);
    const ch = await chan();
    const closed = channelError(ch);
    const m = await get(ch, q);
    ch.ack(m);
    ch.ack(m);
    expect((await closed).message).toMatch(amqpError(406, 'PRECONDITION_FAILED - unknown delivery tag 1'));
  });

  it('ack multiple, nack and reject of unknown tags', async () => {
    for (const [settle, tag] of [
      [(ch: Channel) => ch.ack(fake(7), true), 7],
      [(ch: Channel) => ch.nack(fake(3), false, true), 3],
      [(ch: Channel) => ch.nack(fake(9), true, false), 9],
      [(ch: Channel) => ch.reject(fake(5), true), 5],
      [(ch: Channel) => ch.ack(fake(0)), 0], // tag 0 only means "all" with multiple
    ] as const) {
      const ch = await chan();
      const closed = channelError(ch);
      settle(ch);
      expect((await closed).message).toMatch(amqpError(406, `PRECONDITION_FAILED - unknown delivery tag ${tag}`));
    }
  });

  it('a tag from another channel', async () => {
    const q = await queue();
    await publish(q, 1);
    const ch1 = await chan();
    const m = await get(ch1, q);
    const ch2 = await chan();
    const closed = channelError(ch2);
    ch2.ack(m);
    expect((await closed).message).toMatch(amqpError(406, 'PRECONDITION_FAILED - unknown delivery tag 1'));
    ch1.ack(m); // still fine on its own channel
    expect(await ch1.checkQueue(q)).toMatchObject({ messageCount: 0 });
    await ch1.close();
  });

  it('a basic.get noAck delivery has a tag but cannot be acked', async () => {
    const q = await queue();
    await publish(q, 2);
    const ch = await chan();
    const closed = channelError(ch);
    const m1 = await get(ch, q, true);
    const m2 = await get(ch, q);
    expect([m1.fields.deliveryTag, m2.fields.deliveryTag]).toEqual([1, 2]);
    ch.ack(m1);
    expect((await closed).message).toMatch(amqpError(406, 'PRECONDITION_FAILED - unknown delivery tag 1'));
    // The error closed the channel: m2 goes back, m1 does not.
    await readyBecomes(q, 1);
    expect(await drain(q)).toEqual([['1', true]]);
  });

  it('ackAll with nothing outstanding is fine', async () => {
    const ch = await chan();
    ch.ackAll();
    ch.nackAll(true);
    await ch.close();
  });
});

describe('unacked messages are requeued, in order and redelivered', () => {
  async function holdSome(c: ChannelModel, q: string): Promise<Channel> {
    // Channel holds 0..2 through a consumer and 3 through basic.get; 4 and 5 stay ready.
    const ch = await chan(c);
    await ch.prefetch(3);
    const inbox = new Inbox();
    await ch.consume(q, inbox.cb);
    await inbox.waitFor(3);
    const { consumerTag } = inbox.msgs[0]!.fields;
    await ch.cancel(consumerTag);
    expect((await get(ch, q)).content.toString()).toBe('3');
    expect(await ch.checkQueue(q)).toMatchObject({ messageCount: 2 });
    return ch;
  }

  it('when their channel closes', async () => {
    const q = await queue();
    await publish(q, 6);
    const ch = await holdSome(s.main, q);
    await ch.close();
    await readyBecomes(q, 6);
    expect(await drain(q)).toEqual([['0', true], ['1', true], ['2', true], ['3', true], ['4', false], ['5', false]]);
  });

  it('when their connection closes', async () => {
    const q = await queue();
    await publish(q, 6);
    const c = await connect();
    await holdSome(c, q);
    await c.close();
    await readyBecomes(q, 6);
    expect(await drain(q)).toEqual([['0', true], ['1', true], ['2', true], ['3', true], ['4', false], ['5', false]]);
  });

  it('when their channel is closed by an error', async () => {
    const q = await queue();
    await publish(q, 6);
    const ch = await holdSome(s.main, q);
    await expect(ch.checkQueue(uniqueName('missing'))).rejects.toThrow(/404/);
    await readyBecomes(q, 6);
    expect(await drain(q)).toEqual([['0', true], ['1', true], ['2', true], ['3', true], ['4', false], ['5', false]]);
  });

  // Skipped against RabbitMQ: it has the same race between its channel processes and usually,
  // not always, wins it (one differential run in three lost it), so there it proves nothing.
  it.skipIf(external)('when their connection closes, not to a noAck consumer on another channel of that connection', async () => {
    // Warren bug (src/amqp/connection.ts, connection.close from the client): the channels are
    // released while the connection is still 'running', so what the first channel requeues is
    // delivered to a noAck consumer on a later channel of the same, closing connection, and lost.
    const q = await queue();
    await publish(q, 5);
    const c = await connect();
    const holder = await chan(c);
    const held = new Inbox();
    await holder.consume(q, held.cb);
    await held.waitFor(5);
    await (await chan(c)).consume(q, () => {}, { noAck: true });
    await c.close();
    await readyBecomes(q, 5, 2000);
  });

  it('to another consumer of the queue, which gets them before newer messages', async () => {
    const q = await queue();
    await publish(q, 4);
    const holder = await chan();
    await holder.prefetch(2);
    const held = new Inbox();
    await holder.consume(q, held.cb);
    await held.waitFor(2);
    const other = await chan();
    await other.prefetch(1);
    const inbox = new Inbox();
    await other.consume(q, inbox.cb);
    const [first] = await inbox.waitFor(1);
    expect(inbox.seen).toEqual([['2', false]]);
    await holder.close();
    other.ack(first!);
    await inbox.waitFor(2);
    other.ack(inbox.msgs[1]!);
    await inbox.waitFor(3);
    other.ack(inbox.msgs[2]!);
    await inbox.waitFor(4);
    expect(inbox.seen).toEqual([['2', false], ['0', true], ['1', true], ['3', false]]);
    await other.close();
  });
});

describe('basic.get', () => {
  it('get-ok carries tag, redelivered, exchange, routing key and the count of messages left', async () => {
    const q = await queue();
    await publish(q, 3);
    const ch = await chan();
    const counts = [];
    for (let i = 0; i < 3; i++) {
      const m = await get(ch, q);
      expect(m.fields).toMatchObject({ deliveryTag: i + 1, redelivered: false, exchange: '', routingKey: q });
      expect(m.content.toString()).toBe(String(i));
      counts.push(m.fields.messageCount);
    }
    expect(counts).toEqual([2, 1, 0]);
    expect(await ch.get(q)).toBe(false); // get-empty
    ch.ackAll();
    await ch.close();
    expect(await readyCount(q)).toBe(0);
  });

  it('noAck takes the message for good', async () => {
    const q = await queue();
    await publish(q, 1);
    const ch = await chan();
    expect((await get(ch, q, true)).content.toString()).toBe('0');
    await ch.close();
    expect(await readyCount(q)).toBe(0);
  });

  it('of a missing queue is 404', async () => {
    const q = uniqueName('missing');
    await expect((await chan()).get(q)).rejects.toThrow(amqpError(404, `NOT_FOUND - no queue '${q}' in vhost '/'`));
  });
});

describe('basic.recover', () => {
  it('requeue=true puts every unacked message of the channel back, redelivered', async () => {
    const q = await queue();
    await publish(q, 3);
    const ch = await chan();
    const m0 = await get(ch, q);
    await get(ch, q);
    // Another channel's unacked message is not touched.
    const other = await chan();
    await get(other, q);
    await ch.recover();
    const again = [];
    for (let m = await ch.get(q); m !== false; m = await ch.get(q)) again.push([m.content.toString(), m.fields.redelivered]);
    expect(again).toEqual([['0', true], ['1', true]]);
    // The old tags are gone.
    const closed = channelError(ch);
    ch.ack(m0);
    expect((await closed).message).toMatch(amqpError(406, `PRECONDITION_FAILED - unknown delivery tag ${m0.fields.deliveryTag}`));
    await other.close();
  });

  it('requeue=true redelivers to the channel\'s consumer, in order', async () => {
    const q = await queue();
    await publish(q, 3);
    const ch = await chan();
    const inbox = new Inbox();
    await ch.consume(q, inbox.cb);
    await inbox.waitFor(3);
    await ch.recover();
    await inbox.waitFor(6);
    expect(inbox.seen).toEqual([['0', false], ['1', false], ['2', false], ['0', true], ['1', true], ['2', true]]);
    expect(inbox.msgs.map((m) => m.fields.deliveryTag)).toEqual([1, 2, 3, 4, 5, 6]);
    await ch.close();
  });

  it('the redeliveries to a live consumer can be acked, one by one and with multiple', async () => {
    const q = await queue();
    await publish(q, 4);
    const ch = await chan();
    const errors: Error[] = [];
    ch.on('error', (e: Error) => errors.push(e));
    const inbox = new Inbox();
    await ch.consume(q, inbox.cb);
    await inbox.waitFor(4);
    await ch.recover();
    await inbox.waitFor(8);
    const redelivered = inbox.msgs.slice(4);
    expect(redelivered.map((m) => m.fields.redelivered)).toEqual([true, true, true, true]);
    ch.ack(redelivered[0]!);
    ch.ack(redelivered[2]!, true);
    ch.ack(redelivered[3]!);
    // A round trip on the same channel: had an ack been refused, the channel would be closed.
    await ch.checkQueue(q);
    expect(errors).toEqual([]);
    await ch.close();
    expect(await readyCount(q)).toBe(0);
  });

  it('requeue=false is 540 NOT_IMPLEMENTED, closing the connection', async () => {
    const c = await connect();
    const closed = connectionError(c);
    const ch = await chan(c);
    // amqplib's recover() always sends requeue=true; basic.recover is (60,110), recover-ok (60,111).
    await expect(rpc(ch, (60 << 16) | 110, { requeue: false }, (60 << 16) | 111)).rejects.toThrow();
    expect((await closed).message).toMatch(amqpError(540, 'NOT_IMPLEMENTED - requeue=false'));
  });
});
