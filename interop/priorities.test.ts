// Priority queues (x-max-priority) through amqplib: higher `priority` first, FIFO within a
// priority, priorities above the maximum count as the maximum, none as 0, requeued messages back
// in their place within their priority; and consumer priorities (x-priority) next to them.
// Every assertion also holds against RabbitMQ 3.10.
import type { GetMessage, Message } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { body, drain, interopSuite, sleep } from '../test/support/suite.js';

const s = interopSuite();
const { queue } = s;

/** Publish [body, priority] pairs (undefined = no priority property) and wait for the confirms. */
async function send(q: string, msgs: [string, number | undefined][]): Promise<void> {
  for (const [b, priority] of msgs) s.pub.sendToQueue(q, Buffer.from(b), priority === undefined ? {} : { priority });
  await s.pub.waitForConfirms();
}

describe('x-max-priority', () => {
  it('delivers higher priorities first, FIFO within a priority, no priority as 0', async () => {
    const q = await queue('prio', { 'x-max-priority': 10 });
    await send(q, [['a0', 0], ['b5', 5], ['c-', undefined], ['d5', 5], ['e9', 9], ['f1', 1], ['g0', 0], ['h9', 9]]);
    expect(await s.ch.checkQueue(q)).toMatchObject({ messageCount: 8 });
    expect(await drain(s.ch, q)).toEqual(['e9', 'h9', 'b5', 'd5', 'f1', 'a0', 'c-', 'g0']);
  });

  it('priorities above the maximum count as the maximum', async () => {
    const q = await queue('prio', { 'x-max-priority': 3 });
    await send(q, [['p3', 3], ['p200', 200], ['p2', 2], ['p4', 4], ['p255', 255]]);
    expect(await drain(s.ch, q)).toEqual(['p3', 'p200', 'p4', 'p255', 'p2']);
  });

  it('x-max-priority 0 behaves as a plain queue', async () => {
    const q = await queue('prio', { 'x-max-priority': 0 });
    await send(q, [['a', 5], ['b', 0], ['c', 9]]);
    expect(await drain(s.ch, q)).toEqual(['a', 'b', 'c']);
  });

  it('without x-max-priority the priority property is ignored', async () => {
    const q = await queue('plain');
    await send(q, [['a', 1], ['b', 9], ['c', 5]]);
    expect(await drain(s.ch, q)).toEqual(['a', 'b', 'c']);
  });

  it('requeued messages return to their place within their priority, marked redelivered', async () => {
    const q = await queue('prio', { 'x-max-priority': 5 });
    await send(q, [['x1', 1], ['y1', 1], ['z5', 5], ['w5', 5]]);
    const taken: GetMessage[] = [];
    for (let i = 0; i < 3; i++) taken.push((await s.ch.get(q)) as GetMessage);
    expect(taken.map(body)).toEqual(['z5', 'w5', 'x1']);
    await send(q, [['v1', 1], ['u5', 5]]);
    s.ch.nack(taken[2]!, false, true);
    s.ch.nack(taken[0]!, false, true);
    const rest: [string, boolean][] = [];
    for (;;) {
      const m = await s.ch.get(q, { noAck: true });
      if (m === false) break;
      rest.push([body(m), m.fields.redelivered]);
    }
    s.ch.ack(taken[1]!);
    expect(rest).toEqual([['z5', true], ['u5', false], ['x1', true], ['y1', false], ['v1', false]]);
  });

  it('priority order under load: a 3000-message backlog with random priorities drains sorted, FIFO within each', async () => {
    const q = await queue('load', { 'x-max-priority': 9 });
    const n = 3000;
    const sent: { i: number; p: number }[] = [];
    for (let i = 0; i < n; i++) {
      const p = Math.floor(Math.random() * 10);
      sent.push({ i, p });
      s.pub.sendToQueue(q, Buffer.from(`${i}:${p}`), { priority: p });
    }
    await s.pub.waitForConfirms();
    const c = await s.chan(await s.connect());
    await c.prefetch(50);
    const got: { i: number; p: number }[] = [];
    await new Promise<void>((resolve) => {
      void c.consume(q, (m) => {
        if (!m) return;
        const [i, p] = body(m).split(':').map(Number);
        got.push({ i: i!, p: p! });
        c.ack(m);
        if (got.length === n) resolve();
      });
    });
    const expected = [...sent].sort((x, y) => y.p - x.p || x.i - y.i);
    expect(got).toEqual(expected);
  });

  it('with a consumer attached while publishing, each delivery is the highest priority waiting', async () => {
    const q = await queue('live', { 'x-max-priority': 9 });
    const c = await s.chan(await s.connect());
    await c.prefetch(1);
    const got: number[] = [];
    let held: Message | null = null;
    await c.consume(q, (m) => { if (m) { got.push(Number(body(m))); held = m; } });
    // The consumer holds the first message; the rest wait, then are taken one by one.
    await send(q, [['0', 0]]);
    for (let i = 0; i < 2000 && got.length === 0; i++) await sleep(5);
    await send(q, [['1', 1], ['7', 7], ['3', 3], ['9', 9], ['5', 5]]);
    while (got.length < 6) {
      const m = held as Message | null;
      if (m) { held = null; c.ack(m); }
      await sleep(20);
    }
    expect(got).toEqual([0, 9, 7, 5, 3, 1]);
  });
});

describe('consumer priorities (x-priority) on a priority queue', () => {
  it('the higher-priority consumer gets the messages while it has room', async () => {
    const q = await queue('cprio', { 'x-max-priority': 5 });
    const conn = await s.connect();
    const low = await s.chan(conn);
    const high = await s.chan(conn);
    const got: string[] = [];
    await low.consume(q, (m) => { if (m) got.push(`low:${body(m)}`); }, { noAck: true, priority: 0 });
    await high.consume(q, (m) => { if (m) got.push(`high:${body(m)}`); }, { noAck: true, priority: 5 });
    await send(q, [['a', 1], ['b', 2], ['c', 3]]);
    for (let i = 0; i < 500 && got.length < 3; i++) await sleep(10);
    expect(got).toEqual(['high:a', 'high:b', 'high:c']);
  });
});
