// Priority queues (x-max-priority) through amqplib: higher `priority` first, FIFO within a
// priority, priorities above the maximum count as the maximum, none as 0, requeued messages back
// in their place within their priority; and consumer priorities (x-priority) next to them.
// Every assertion also holds against RabbitMQ 3.10.
import amqp, { type Channel, type GetMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clients } from '../test/support/amqp.js';
import { startBroker, uniqueName, type TestBroker } from '../test/support/broker.js';

let b: TestBroker;
const clients = new Clients(() => b.url);
let ch: Channel;
let pub: amqp.ConfirmChannel;
const created: string[] = [];

beforeAll(async () => {
  b = await startBroker();
  const c = await clients.connect();
  ch = await clients.chan(c);
  pub = await c.createConfirmChannel();
});
afterAll(async () => {
  const c = await clients.chan(await clients.connect());
  for (const q of created) await c.deleteQueue(q).catch(() => {});
  await clients.closeAll();
  await b.stop();
});

async function queue(prefix: string, args: Record<string, unknown> = {}): Promise<string> {
  const q = uniqueName(prefix);
  await ch.assertQueue(q, { durable: false, arguments: args });
  created.push(q);
  return q;
}

/** Publish [body, priority] pairs (undefined = no priority property) and wait for the confirms. */
async function send(q: string, msgs: [string, number | undefined][]): Promise<void> {
  for (const [s, priority] of msgs) pub.sendToQueue(q, Buffer.from(s), priority === undefined ? {} : { priority });
  await pub.waitForConfirms();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const body = (m: amqp.Message) => m.content.toString();

async function drain(q: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const m = await ch.get(q, { noAck: true });
    if (m === false) return out;
    out.push(body(m));
  }
}

describe('x-max-priority', () => {
  it('delivers higher priorities first, FIFO within a priority, no priority as 0', async () => {
    const q = await queue('prio', { 'x-max-priority': 10 });
    await send(q, [['a0', 0], ['b5', 5], ['c-', undefined], ['d5', 5], ['e9', 9], ['f1', 1], ['g0', 0], ['h9', 9]]);
    expect(await ch.checkQueue(q)).toMatchObject({ messageCount: 8 });
    expect(await drain(q)).toEqual(['e9', 'h9', 'b5', 'd5', 'f1', 'a0', 'c-', 'g0']);
  });

  it('priorities above the maximum count as the maximum', async () => {
    const q = await queue('prio', { 'x-max-priority': 3 });
    await send(q, [['p3', 3], ['p200', 200], ['p2', 2], ['p4', 4], ['p255', 255]]);
    expect(await drain(q)).toEqual(['p3', 'p200', 'p4', 'p255', 'p2']);
  });

  it('x-max-priority 0 behaves as a plain queue', async () => {
    const q = await queue('prio', { 'x-max-priority': 0 });
    await send(q, [['a', 5], ['b', 0], ['c', 9]]);
    expect(await drain(q)).toEqual(['a', 'b', 'c']);
  });

  it('without x-max-priority the priority property is ignored', async () => {
    const q = await queue('plain');
    await send(q, [['a', 1], ['b', 9], ['c', 5]]);
    expect(await drain(q)).toEqual(['a', 'b', 'c']);
  });

  it('requeued messages return to their place within their priority, marked redelivered', async () => {
    const q = await queue('prio', { 'x-max-priority': 5 });
    await send(q, [['x1', 1], ['y1', 1], ['z5', 5], ['w5', 5]]);
    const taken: GetMessage[] = [];
    for (let i = 0; i < 3; i++) taken.push((await ch.get(q)) as GetMessage);
    expect(taken.map(body)).toEqual(['z5', 'w5', 'x1']);
    await send(q, [['v1', 1], ['u5', 5]]);
    ch.nack(taken[2], false, true);
    ch.nack(taken[0], false, true);
    const rest: [string, boolean][] = [];
    for (;;) {
      const m = await ch.get(q, { noAck: true });
      if (m === false) break;
      rest.push([body(m), m.fields.redelivered]);
    }
    ch.ack(taken[1]);
    expect(rest).toEqual([['z5', true], ['u5', false], ['x1', true], ['y1', false], ['v1', false]]);
  });

  it('priority order under load: a 3000-message backlog with random priorities drains sorted, FIFO within each', async () => {
    const q = await queue('load', { 'x-max-priority': 9 });
    const n = 3000;
    const sent: { i: number; p: number }[] = [];
    for (let i = 0; i < n; i++) {
      const p = Math.floor(Math.random() * 10);
      sent.push({ i, p });
      pub.sendToQueue(q, Buffer.from(`${i}:${p}`), { priority: p });
    }
    await pub.waitForConfirms();
    const c = await clients.chan(await clients.connect());
    await c.prefetch(50);
    const got: { i: number; p: number }[] = [];
    await new Promise<void>((resolve) => {
      void c.consume(q, (m) => {
        if (!m) return;
        const [i, p] = body(m).split(':').map(Number);
        got.push({ i, p });
        c.ack(m);
        if (got.length === n) resolve();
      });
    });
    const expected = [...sent].sort((x, y) => y.p - x.p || x.i - y.i);
    expect(got).toEqual(expected);
  });

  it('with a consumer attached while publishing, each delivery is the highest priority waiting', async () => {
    const q = await queue('live', { 'x-max-priority': 9 });
    const c = await clients.chan(await clients.connect());
    await c.prefetch(1);
    const got: number[] = [];
    let held: amqp.Message | null = null;
    await c.consume(q, (m) => { if (m) { got.push(Number(body(m))); held = m; } });
    // The consumer holds the first message; the rest wait, then are taken one by one.
    await send(q, [['0', 0]]);
    for (let i = 0; i < 2000 && got.length === 0; i++) await sleep(5);
    await send(q, [['1', 1], ['7', 7], ['3', 3], ['9', 9], ['5', 5]]);
    while (got.length < 6) {
      const m = held as amqp.Message | null;
      if (m) { held = null; c.ack(m); }
      await sleep(20);
    }
    expect(got).toEqual([0, 9, 7, 5, 3, 1]);
  });
});

describe('consumer priorities (x-priority) on a priority queue', () => {
  it('the higher-priority consumer gets the messages while it has room', async () => {
    const q = await queue('cprio', { 'x-max-priority': 5 });
    const conn = await clients.connect();
    const low = await clients.chan(conn);
    const high = await clients.chan(conn);
    const got: string[] = [];
    await low.consume(q, (m) => { if (m) got.push(`low:${body(m)}`); }, { noAck: true, priority: 0 });
    await high.consume(q, (m) => { if (m) got.push(`high:${body(m)}`); }, { noAck: true, priority: 5 });
    await send(q, [['a', 1], ['b', 2], ['c', 3]]);
    for (let i = 0; i < 500 && got.length < 3; i++) await sleep(10);
    expect(got).toEqual(['high:a', 'high:b', 'high:c']);
  });
});
