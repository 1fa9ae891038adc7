// x-single-active-consumer through amqplib: only one consumer receives at a time (the first to
// subscribe, whatever its priority); when it is cancelled or its channel or connection goes, the
// highest-priority, earliest remaining consumer takes over, getting the old one's requeued
// unacked messages first. Every assertion also holds against RabbitMQ 3.10.
import type { Channel, ChannelModel, Message, Options } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { amqpError } from '../test/support/amqp.js';
import { body, eventually, external, interopSuite, sleep } from '../test/support/suite.js';

const s = interopSuite();
const { send } = s;
const sacQueue = () => s.queue('sac', { 'x-single-active-consumer': true });
const until = (check: () => boolean, what: string) => eventually(check, what, { intervalMs: 10 });

interface Sub { name: string; ch: Channel; conn: ChannelModel; tag: string; got: Message[] }

/** A consumer on its own connection; manual ack, nothing acked unless the test does it. */
async function subscribe(q: string, name: string, options: Options.Consume = {}, prefetch = 0): Promise<Sub> {
  const conn = await s.connect();
  const c = await s.chan(conn);
  if (prefetch) await c.prefetch(prefetch);
  const got: Message[] = [];
  const { consumerTag } = await c.consume(q, (m) => { if (m) got.push(m); }, options);
  return { name, ch: c, conn, tag: consumerTag, got };
}

const bodies = (sub: Sub) => sub.got.map(body);

describe('x-single-active-consumer', () => {
  it('only the first consumer receives; all are counted', async () => {
    const q = await sacQueue();
    const subs = [await subscribe(q, 'a'), await subscribe(q, 'b'), await subscribe(q, 'c')];
    expect(await s.ch.checkQueue(q)).toMatchObject({ consumerCount: 3 });
    await send(q, ['1', '2', '3', '4', '5', '6']);
    await until(() => subs[0]!.got.length === 6, 'the first consumer got all');
    await sleep(100);
    expect(subs.map(bodies)).toEqual([['1', '2', '3', '4', '5', '6'], [], []]);
  });

  it('a full active consumer makes the others wait rather than take over', async () => {
    const q = await sacQueue();
    const a = await subscribe(q, 'a', {}, 2);
    const bsub = await subscribe(q, 'b');
    await send(q, ['1', '2', '3', '4']);
    await until(() => a.got.length === 2, 'a is full');
    await sleep(150);
    expect([bodies(a), bodies(bsub)]).toEqual([['1', '2'], []]);
    expect(await s.ch.checkQueue(q)).toMatchObject({ messageCount: 2 });
    a.ch.ack(a.got[1]!, true);
    await until(() => a.got.length === 4, 'a got the rest');
    expect(bodies(bsub)).toEqual([]);
  });

  it('on basic.cancel the next consumer takes over; the cancelled one still holds (and may ack) its unacked messages', async () => {
    const q = await sacQueue();
    const a = await subscribe(q, 'a', {}, 2);
    const bsub = await subscribe(q, 'b');
    await send(q, ['1', '2']);
    await until(() => a.got.length === 2, 'a has two');
    await a.ch.cancel(a.tag);
    await send(q, ['3', '4']);
    await until(() => bsub.got.length === 2, 'b took over');
    expect(bodies(bsub)).toEqual(['3', '4']);
    a.ch.ack(a.got[1]!, true);
    await sleep(100);
    expect(await s.ch.checkQueue(q)).toMatchObject({ messageCount: 0, consumerCount: 1 });
    expect(bodies(a)).toEqual(['1', '2']);
  });

  // RabbitMQ 3.10.8 does not deliver messages that were waiting when the active consumer was
  // cancelled to the new active one, and its queue process crashes ({badmatch,false} in
  // attempt_delivery) on the next publish. Warren hands them over at once, in order.
  it.skipIf(external)('messages waiting when the active consumer is cancelled go to the new one at once', async () => {
    const q = await sacQueue();
    const a = await subscribe(q, 'a', {}, 2);
    const bsub = await subscribe(q, 'b');
    await send(q, ['1', '2', '3', '4']);
    await until(() => a.got.length === 2, 'a is full');
    await a.ch.cancel(a.tag);
    await until(() => bsub.got.length === 2, 'b took over');
    expect(bodies(bsub)).toEqual(['3', '4']);
  });

  it("fail-over when the active consumer's connection closes: its unacked messages go to the next one first", async () => {
    const q = await sacQueue();
    const a = await subscribe(q, 'a', {}, 3);
    const bsub = await subscribe(q, 'b');
    const c = await subscribe(q, 'c');
    await send(q, ['1', '2', '3', '4', '5']);
    await until(() => a.got.length === 3, 'a is full');
    a.ch.ack(a.got[0]!);
    await until(() => a.got.length === 4, 'a got one more');
    expect(bodies(a)).toEqual(['1', '2', '3', '4']);
    await a.conn.close();
    await until(() => bsub.got.length === 4, 'b took over');
    expect(bsub.got.map((m) => [body(m), m.fields.redelivered])).toEqual([['2', true], ['3', true], ['4', true], ['5', false]]);
    await send(q, ['6']);
    await until(() => bsub.got.length === 5, 'b gets new ones');
    expect(bodies(c)).toEqual([]);
    // And on to the third when the second's channel closes.
    await bsub.ch.close();
    await until(() => c.got.length === 5, 'c took over');
    expect(bodies(c)).toEqual(['2', '3', '4', '5', '6']);
  });

  it('the first subscriber is active whatever its priority; on fail-over the highest priority, earliest one takes over', async () => {
    const q = await sacQueue();
    const subs = [
      await subscribe(q, 'A', { priority: 0 }), await subscribe(q, 'B', { priority: 0 }),
      await subscribe(q, 'C', { priority: 10 }), await subscribe(q, 'D', { priority: 10 }),
    ];
    const order: Message[] = [];
    const who = () => {
      for (const sub of subs) for (const m of sub.got) if (!order.includes(m)) order.push(m);
      return order.map((m) => `${subs.find((sub) => sub.got.includes(m))!.name}:${body(m)}`);
    };
    const step = async (n: string) => {
      await send(q, [n]);
      await until(() => who().length === Number(n), `message ${n} delivered`);
    };
    await step('1');
    await subs[0]!.ch.cancel(subs[0]!.tag);
    await step('2');
    await subs[2]!.ch.cancel(subs[2]!.tag);
    await step('3');
    await subs[3]!.ch.cancel(subs[3]!.tag);
    await step('4');
    expect(who()).toEqual(['A:1', 'C:2', 'D:3', 'B:4']);
  });

  it('with no consumers left, messages wait for the next one to subscribe', async () => {
    const q = await sacQueue();
    const a = await subscribe(q, 'a');
    await a.ch.cancel(a.tag);
    await send(q, ['1', '2']);
    const bsub = await subscribe(q, 'b');
    await until(() => bsub.got.length === 2, 'b got them');
    expect(bodies(bsub)).toEqual(['1', '2']);
  });

  it('basic.get works as on any queue', async () => {
    const q = await sacQueue();
    const a = await subscribe(q, 'a', {}, 1);
    await send(q, ['1', '2']);
    await until(() => a.got.length === 1, 'a is full');
    const m = await s.ch.get(q, { noAck: true });
    expect(m && body(m)).toBe('2');
  });

  it('an exclusive consumer is refused: 403 ... in exclusive use', async () => {
    const q = await sacQueue();
    const c = await s.chan(await s.connect());
    await expect(c.consume(q, () => {}, { exclusive: true })).rejects.toThrow(amqpError(403,
      `ACCESS_REFUSED - queue '${q}' in vhost '/' in exclusive use`));
  });
});
