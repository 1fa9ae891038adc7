// Dead-letter replay, Warren's extension of the management API (POST /api/queues/V/Q/replay):
// messages dead-lettered over AMQP are replayed over HTTP and arrive, through amqplib, where
// they died from with their x-death kept and x-warren-replayed added; messages that cannot go
// anywhere stay; and a broker SIGKILLed in the middle of a large replay loses nothing.
// RabbitMQ has no such endpoint: the suite skips in differential mode.
import amqp from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { httpSuite } from '../test/support/http.js';
import { built, killAll, startWarren, tmpDataDir } from '../test/support/process.js';
import { eventually, external, getOne, sleep, takeAll, uniqueName, xDeath } from '../test/support/suite.js';
import { createServer } from 'node:net';
import type { GetMessage } from 'amqplib';

const s = httpSuite();
const q = (name: string) => `/api/queues/%2F/${encodeURIComponent(name)}`;

/** A dead-letter queue `dlq` and a queue `work` whose rejected messages go there. */
async function pair(prefix: string): Promise<{ work: string; dlq: string }> {
  const work = uniqueName(`${prefix}-work`);
  const dlq = uniqueName(`${prefix}-dlq`);
  await s.ch.assertQueue(dlq, { durable: false });
  await s.ch.assertQueue(work, { durable: false, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq } });
  s.removeAfter(work, dlq);
  return { work, dlq };
}

/** `n` messages of `q`, left unacked on the suite's channel. */
async function take(queue: string, n: number): Promise<GetMessage[]> {
  const out: GetMessage[] = [];
  while (out.length < n) out.push(await getOne(s.ch, queue, true));
  return out;
}

const freePort = () => new Promise<number>((resolve) => {
  const srv = createServer().listen(0, '127.0.0.1', () => {
    const { port } = srv.address() as { port: number };
    srv.close(() => resolve(port));
  });
});

/** Publish the bodies to `work`, take them and reject them all: they are dead-lettered to its DLQ. */
async function deadLetter(work: string, dlq: string, bodies: string[], headers: Record<string, unknown> = {}): Promise<void> {
  await s.send(work, bodies, { headers, persistent: true, messageId: 'm' });
  for (const m of await take(work, bodies.length)) s.ch.nack(m, false, false);
  await eventually(async () => (await s.ch.checkQueue(dlq)).messageCount === bodies.length, 'dead-lettered');
}

describe.skipIf(external)('management API: dead-letter replay (Warren extension)', () => {
  it('replays N messages to the queue they died from, x-death kept, x-warren-replayed added; then all', async () => {
    const { work, dlq } = await pair('rp');
    await deadLetter(work, dlq, ['a', 'b', 'c', 'd', 'e'], { custom: 'kept' });

    const r = await s.api('POST', `${q(dlq)}/replay`, { count: 3 });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ replayed: 3, skipped: { not_dead_lettered: 0, exchange_gone: 0, unroutable: 0, refused: 0 }, remaining: 2 });
    const back = await takeAll(s.ch, work);
    expect(back.map((m) => m.content.toString())).toEqual(['a', 'b', 'c']);
    for (const m of back) {
      expect(m.properties.headers).toMatchObject({ custom: 'kept', 'x-warren-replayed': 1, 'x-first-death-queue': work, 'x-first-death-reason': 'rejected' });
      expect(xDeath(m)).toMatchObject([{ queue: work, reason: 'rejected', count: 1, exchange: '', 'routing-keys': [work] }]);
      expect(m.properties.deliveryMode).toBe(2);
      expect(m.properties.messageId).toBe('m');
    }
    // Dead-lettered again and replayed again: the history grows, the replay count too.
    for (const m of back) await s.ch.sendToQueue(work, m.content, { ...m.properties, headers: m.properties.headers });
    for (const m of await take(work, 3)) s.ch.nack(m, false, false);
    await eventually(async () => (await s.ch.checkQueue(dlq)).messageCount === 5, 'dead-lettered again');
    const all = await s.api('POST', `${q(dlq)}/replay`, { count: 'all' });
    expect(all.body).toMatchObject({ replayed: 5, remaining: 0 });
    const again = await takeAll(s.ch, work);
    expect(again.map((m) => m.content.toString()).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    const twice = again.filter((m) => m.properties.headers?.['x-warren-replayed'] === 2);
    expect(twice.map((m) => m.content.toString()).sort()).toEqual(['a', 'b', 'c']);
    expect(xDeath(twice[0]!)).toMatchObject([{ queue: work, reason: 'rejected', count: 2 }]);
  });

  it('moves messages to a named queue with "to"', async () => {
    const { work, dlq } = await pair('rpto');
    const other = await s.queue('rp-other');
    await deadLetter(work, dlq, ['x', 'y']);
    const r = await s.api('POST', `${q(dlq)}/replay`, { count: 'all', to: other });
    expect(r.body).toMatchObject({ replayed: 2, remaining: 0 });
    expect((await takeAll(s.ch, other)).map((m) => [m.content.toString(), xDeath(m)[0]?.queue])).toEqual([['x', work], ['y', work]]);
    expect((await s.ch.checkQueue(work)).messageCount).toBe(0);
    expect((await s.api('POST', `${q(dlq)}/replay`, { count: 1, to: 'no-such-queue' })).status).toBe(404);
  });

  it('leaves in place, in order, what cannot go anywhere: no x-death, exchange gone, nothing bound', async () => {
    const x = uniqueName('rp-x');
    const dlq = await s.queue('rp-dlq3');
    const work = await s.queue('rp-work3', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq });
    await s.ch.assertExchange(x, 'direct', { durable: false });
    await s.ch.bindQueue(work, x, 'k');
    await s.publish(x, 'k', ['via-x']);
    s.ch.nack((await take(work, 1))[0]!, false, false);
    await s.send(dlq, ['plain']); // never dead-lettered
    await eventually(async () => (await s.ch.checkQueue(dlq)).messageCount === 2, 'both in the DLQ');
    await s.ch.unbindQueue(work, x, 'k');
    const unroutable = await s.api('POST', `${q(dlq)}/replay`, { count: 'all' });
    expect(unroutable.body).toEqual({ replayed: 0, skipped: { not_dead_lettered: 1, exchange_gone: 0, unroutable: 1, refused: 0 }, remaining: 2 });
    await s.ch.deleteExchange(x);
    const gone = await s.api('POST', `${q(dlq)}/replay`, { count: 'all' });
    expect(gone.body.skipped).toMatchObject({ not_dead_lettered: 1, exchange_gone: 1 });
    expect((await takeAll(s.ch, dlq)).map((m) => m.content.toString())).toEqual(['via-x', 'plain']);
  });

  it('names the queues whose dead letters reach a queue, and refuses bad bodies', async () => {
    const { work, dlq } = await pair('rpsrc');
    expect((await s.api('GET', `${q(dlq)}/replay`)).body).toEqual({ dead_letter_sources: [work] });
    expect((await s.api('GET', `${q(work)}/replay`)).body).toEqual({ dead_letter_sources: [] });
    expect((await s.api('POST', `${q(dlq)}/replay`, { count: 0 })).status).toBe(400);
    expect((await s.api('POST', `${q(dlq)}/replay`, { count: 'some' })).status).toBe(400);
    expect((await s.api('POST', `${q(dlq)}/replay`, { to: 7 })).status).toBe(400);
    expect((await s.api('POST', `${q('nope')}/replay`, {})).status).toBe(404);
    expect((await s.api('POST', `${q(dlq)}/replay`, {}, { user: 'guest', pass: 'wrong' })).status).toBe(401);
  });
});

describe.skipIf(external || !built)('dead-letter replay: crash', () => {
  afterAll(() => killAll());

  it('SIGKILL during a replay of 20,000 persistent messages, restart: every message is in one queue or the other', async () => {
    const N = 20_000;
    const dir = tmpDataDir();
    const mport = await freePort();
    const args = ['--port', '0', '--host', '127.0.0.1', '--data-dir', dir, '--management-port', String(mport), '--log-level', 'info'];
    const start = async () => {
      const w = startWarren(args);
      const port = await w.listening;
      await eventually(async () => /management API listening on http:\/\/[^:]+:(\d+)/.test(w.output()), 'management listening');
      const http = `http://127.0.0.1:${/management API listening on http:\/\/[^:]+:(\d+)/.exec(w.output())![1]}`;
      return { w, url: `amqp://guest:guest@127.0.0.1:${port}`, http };
    };
    const auth = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' };
    let b = await start();
    let c = await amqp.connect(b.url);
    const pub = await c.createConfirmChannel();
    await pub.assertQueue('dlq', { durable: true });
    await pub.assertQueue('work', { durable: true, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dlq' } });
    // expiration 0: each message dies at once into dlq (expiration is dropped on the way).
    for (let i = 0; i < N; i++) pub.sendToQueue('work', Buffer.from(`m${i}`), { persistent: true, expiration: '0', messageId: String(i) });
    await pub.waitForConfirms();
    await eventually(async () => (await pub.checkQueue('dlq')).messageCount === N, 'all dead-lettered', { timeoutMs: 15_000 });
    await c.close();

    const replay = fetch(`${b.http}/api/queues/%2F/dlq/replay`, { method: 'POST', headers: auth, body: JSON.stringify({ count: 'all' }) })
      .then((r) => r.json(), () => 'killed');
    const depth = async () => ((await (await fetch(`${b.http}/api/queues/%2F/work`, { headers: auth })).json()) as { messages?: number }).messages ?? 0;
    let before = 0;
    for (let i = 0; i < 400 && before < N / 5; i++) { before = await depth(); await sleep(5); }
    b.w.proc.kill('SIGKILL');
    await b.w.exited;
    expect(await replay).toBe('killed');
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(N);

    b = await start();
    c = await amqp.connect(b.url);
    const ch = await c.createChannel();
    const count = new Map<string, number>();
    let replayedMarked = 0;
    let deathsKept = 0;
    for (const name of ['work', 'dlq']) {
      const n = (await ch.checkQueue(name)).messageCount;
      await new Promise<void>((resolve) => {
        let got = 0;
        if (n === 0) resolve();
        void ch.consume(name, (m) => {
          if (m === null) return;
          const id = m.properties.messageId as string;
          count.set(id, (count.get(id) ?? 0) + 1);
          if (name === 'work' && m.properties.headers?.['x-warren-replayed'] === 1) replayedMarked++;
          if (xDeath(m)[0]?.queue === 'work') deathsKept++;
          if (++got === n) resolve();
        }, { noAck: true });
      });
    }
    await c.close();
    const missing = Array.from({ length: N }, (_, i) => String(i)).filter((id) => !count.has(id));
    const duplicated = [...count.values()].filter((v) => v > 1).length;
    console.log(`replay crash: ${before} in work when killed; after restart ${count.size} distinct, ${duplicated} in both queues, ${missing.length} missing`);
    expect(missing).toEqual([]);
    expect(duplicated).toBeLessThanOrEqual(512); // the in-flight window (256), with a commit's worth of slack
    expect(replayedMarked).toBeGreaterThan(0);
    expect(deathsKept).toBe([...count.values()].reduce((a, v) => a + v, 0));
  }, 90_000);
});
