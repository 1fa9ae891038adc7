// The six RabbitMQ tutorials (amqplib versions), run unchanged against Warren.
import { describe, expect, it } from 'vitest';
import { interopSuite } from '../test/support/suite.js';

const { connect } = interopSuite({ onConnectionError: null });

function collect(n: number): { done: Promise<string[]>; push: (s: string) => void } {
  const got: string[] = [];
  let resolve!: (v: string[]) => void;
  const done = new Promise<string[]>((r) => { resolve = r; });
  return { done, push: (s) => { got.push(s); if (got.length === n) resolve(got); } };
}

describe('RabbitMQ tutorials', () => {
  it('1: hello world', async () => {
    const recv = await (await connect()).createChannel();
    await recv.assertQueue('hello', { durable: false });
    const got = collect(1);
    await recv.consume('hello', (m) => got.push(m!.content.toString()), { noAck: true });
    const send = await (await connect()).createChannel();
    await send.assertQueue('hello', { durable: false });
    send.sendToQueue('hello', Buffer.from('Hello World!'));
    expect(await got.done).toEqual(['Hello World!']);
  });

  it('2: work queues, fair dispatch with prefetch 1 and manual ack', async () => {
    const q = 'task_queue';
    const workers = await Promise.all([connect(), connect()].map(async (p) => (await p).createChannel()));
    const seen: Record<number, string[]> = { 0: [], 1: [] };
    const all = collect(10);
    for (const [i, ch] of workers.entries()) {
      await ch.assertQueue(q, { durable: true });
      await ch.prefetch(1);
      await ch.consume(q, (m) => {
        const body = m!.content.toString();
        seen[i]!.push(body);
        // Slow worker 0 holds each message a while; fair dispatch gives worker 1 more.
        setTimeout(() => { ch.ack(m!); all.push(body); }, i === 0 ? 60 : 1);
      }, { noAck: false });
    }
    const send = await (await connect()).createChannel();
    await send.assertQueue(q, { durable: true });
    for (let n = 0; n < 10; n++) send.sendToQueue(q, Buffer.from(`task ${n}`), { persistent: true });
    const done = await all.done;
    expect(done.sort()).toEqual(Array.from({ length: 10 }, (_, n) => `task ${n}`).sort());
    expect(seen[1]!.length).toBeGreaterThan(seen[0]!.length);
  });

  it('3: publish/subscribe with a fanout exchange and exclusive server-named queues', async () => {
    const subs = await Promise.all([connect(), connect()].map(async (p) => (await p).createChannel()));
    const got = collect(2);
    for (const ch of subs) {
      await ch.assertExchange('logs', 'fanout', { durable: false });
      const q = await ch.assertQueue('', { exclusive: true });
      expect(q.queue).toMatch(/^amq\.gen-[A-Za-z0-9_-]{22}$/);
      await ch.bindQueue(q.queue, 'logs', '');
      await ch.consume(q.queue, (m) => got.push(m!.content.toString()), { noAck: true });
    }
    const pub = await (await connect()).createChannel();
    await pub.assertExchange('logs', 'fanout', { durable: false });
    pub.publish('logs', '', Buffer.from('info: hello'));
    expect(await got.done).toEqual(['info: hello', 'info: hello']);
  });

  it('4: routing with a direct exchange', async () => {
    const ch = await (await connect()).createChannel();
    await ch.assertExchange('direct_logs', 'direct', { durable: false });
    const q = await ch.assertQueue('', { exclusive: true });
    for (const sev of ['error', 'warning']) await ch.bindQueue(q.queue, 'direct_logs', sev);
    const got = collect(2);
    await ch.consume(q.queue, (m) => got.push(`${m!.fields.routingKey}:${m!.content}`), { noAck: true });
    for (const sev of ['info', 'warning', 'error', 'debug']) ch.publish('direct_logs', sev, Buffer.from(sev));
    expect(await got.done).toEqual(['warning:warning', 'error:error']);
  });

  it('5: topics', async () => {
    const ch = await (await connect()).createChannel();
    await ch.assertExchange('topic_logs', 'topic', { durable: false });
    const q = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(q.queue, 'topic_logs', '*.critical');
    await ch.bindQueue(q.queue, 'topic_logs', 'kern.#');
    const got = collect(3);
    await ch.consume(q.queue, (m) => got.push(m!.fields.routingKey), { noAck: true });
    for (const k of ['kern.critical', 'anonymous.info', 'cron.critical', 'kern', 'a.b.critical']) {
      ch.publish('topic_logs', k, Buffer.from(k));
    }
    expect(await got.done).toEqual(['kern.critical', 'cron.critical', 'kern']);
  });

  it('6: RPC with reply_to and correlation_id', async () => {
    const server = await (await connect()).createChannel();
    await server.assertQueue('rpc_queue', { durable: false });
    await server.prefetch(1);
    const fib = (n: number): number => (n < 2 ? n : fib(n - 1) + fib(n - 2));
    await server.consume('rpc_queue', (m) => {
      const n = parseInt(m!.content.toString(), 10);
      server.sendToQueue(m!.properties.replyTo, Buffer.from(String(fib(n))), { correlationId: m!.properties.correlationId });
      server.ack(m!);
    });
    const client = await (await connect()).createChannel();
    const { queue } = await client.assertQueue('', { exclusive: true });
    const answers = new Map<string, string>();
    const got = collect(3);
    await client.consume(queue, (m) => {
      answers.set(m!.properties.correlationId, m!.content.toString());
      got.push(m!.properties.correlationId);
    }, { noAck: true });
    for (const n of [10, 20, 30]) {
      client.sendToQueue('rpc_queue', Buffer.from(String(n)), { correlationId: `c${n}`, replyTo: queue });
    }
    await got.done;
    expect(Object.fromEntries(answers)).toEqual({ c10: '55', c20: '6765', c30: '832040' });
  });
});
