// Dead-letter exchanges through amqplib: x-dead-letter-exchange / -routing-key, dead-lettering on
// reject and nack without requeue, on expiry and on max-length, the x-death history (one entry
// per queue and reason, counted, most recent first), x-first-death-*, CC/BCC, cycles, a missing
// DLX, and the retry-with-delay pattern. Every assertion also holds against RabbitMQ 3.10
// (WARREN_EXTERNAL_URL=... differential mode).
import type { Channel, GetMessage, Message, Options } from 'amqplib';
import { describe, expect, it } from 'vitest';
import {
  body, eventually, getN, getOne, interopSuite, sleep, uniqueName, xDeath, type XDeath,
} from '../test/support/suite.js';

const s = interopSuite();
const { connect, chan, queue, send, publish } = s;
const ts = () => ({ '!': 'timestamp', value: expect.any(Number) });

/** Publish, wait for the confirm, basic.get it with ack and return it. */
async function publishAndGet(ch: Channel, q: string, content: string, options: Options.Publish = {}): Promise<GetMessage> {
  await send(q, [content], options);
  return getOne(ch, q, true);
}

describe('dead-lettering on rejection', () => {
  it('basic.reject requeue=false republishes to the DLX with x-death and x-first-death-*', async () => {
    const ch = await chan();
    const dlx = uniqueName('dlx');
    await ch.assertExchange(dlx, 'direct', { durable: false, autoDelete: true });
    const dlq = await queue('dlq');
    const q = await queue('work', { 'x-dead-letter-exchange': dlx });
    await ch.bindQueue(dlq, dlx, q);
    const before = Math.floor(Date.now() / 1000);
    const m = await publishAndGet(ch, q, 'one', {
      contentType: 'text/plain', messageId: 'm-1', persistent: true, priority: 3, headers: { app: 'x' },
    });
    ch.reject(m, false);
    const d = await getOne(ch, dlq);
    expect(body(d)).toBe('one');
    expect(d.fields).toMatchObject({ exchange: dlx, routingKey: q, redelivered: false });
    expect(d.properties).toMatchObject({ contentType: 'text/plain', messageId: 'm-1', deliveryMode: 2, priority: 3 });
    expect(d.properties.headers).toEqual({
      app: 'x',
      'x-death': [{ count: 1, reason: 'rejected', queue: q, time: ts(), exchange: '', 'routing-keys': [q] }],
      'x-first-death-exchange': '',
      'x-first-death-queue': q,
      'x-first-death-reason': 'rejected',
    });
    // RabbitMQ's field order: count first, then the event as it was recorded.
    expect(Object.keys(xDeath(d)[0]!)).toEqual(['count', 'reason', 'queue', 'time', 'exchange', 'routing-keys']);
    const time = (xDeath(d)[0]!.time as { value: number }).value;
    expect(time).toBeGreaterThanOrEqual(before - 1);
    expect(time).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 1);
    expect(await ch.checkQueue(q)).toMatchObject({ messageCount: 0 });
  });

  it('basic.nack requeue=false (multiple) dead-letters each message, in order', async () => {
    const ch = await chan();
    const dlq = await queue('dlq');
    const q = await queue('work', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq });
    await send(q, ['a', 'b', 'c']);
    const msgs: GetMessage[] = [];
    for (let i = 0; i < 3; i++) {
      const m = await ch.get(q);
      if (m === false) throw new Error('missing');
      msgs.push(m);
    }
    ch.nack(msgs[2]!, true, false);
    const d = await getN(ch, dlq, 3);
    expect(d.map(body)).toEqual(['a', 'b', 'c']);
    for (const m of d) {
      expect(m.fields).toMatchObject({ exchange: '', routingKey: dlq });
      expect(xDeath(m)).toEqual([{ count: 1, reason: 'rejected', queue: q, time: ts(), exchange: '', 'routing-keys': [q] }]);
    }
  });

  it('reject and nack with requeue=true, and ack, do not dead-letter', async () => {
    const ch = await chan();
    const dlq = await queue('dlq');
    const q = await queue('work', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq });
    const m = await publishAndGet(ch, q, 'x');
    ch.reject(m, true);
    const again = await getOne(ch, q, true);
    expect(again.fields.redelivered).toBe(true);
    ch.nack(again, false, true);
    ch.ack(await getOne(ch, q, true));
    await sleep(100);
    expect(await ch.checkQueue(dlq)).toMatchObject({ messageCount: 0 });
    expect(await ch.checkQueue(q)).toMatchObject({ messageCount: 0 });
  });

  it('a rejected message goes round a DLX loop back to its own queue, counting each time', async () => {
    const ch = await chan();
    const q = uniqueName('self');
    await ch.assertQueue(q, { durable: false, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': q } });
    s.removeAfter(q);
    await send(q, ['loop']);
    for (let round = 1; round <= 3; round++) {
      const m = await getOne(ch, q, true);
      expect(m.fields.redelivered).toBe(false);
      expect(xDeath(m).map((d) => [d.reason, d.count])).toEqual(round === 1 ? [] : [['rejected', round - 1]]);
      ch.reject(m, false);
    }
    const last = await getOne(ch, q);
    expect(xDeath(last)).toEqual([{ count: 3, reason: 'rejected', queue: q, time: ts(), exchange: '', 'routing-keys': [q] }]);
    expect(last.properties.headers).toMatchObject({ 'x-first-death-queue': q, 'x-first-death-reason': 'rejected', 'x-first-death-exchange': '' });
    // An incremented entry has its fields sorted by key, as RabbitMQ's sort_field_table leaves them.
    expect(Object.keys(xDeath(last)[0]!)).toEqual(['count', 'exchange', 'queue', 'reason', 'routing-keys', 'time']);
  });
});

describe('dead-letter routing', () => {
  it('without x-dead-letter-routing-key the message keeps its routing key and CC keys; routing-keys lists them', async () => {
    const ch = await chan();
    const dlx = uniqueName('dlx');
    await ch.assertExchange(dlx, 'direct', { durable: false, autoDelete: true });
    const byKey = await queue('dl-key');
    const byCc = await queue('dl-cc');
    await ch.bindQueue(byKey, dlx, 'main-key');
    await ch.bindQueue(byCc, dlx, 'cc-key');
    const q = await queue('work', { 'x-dead-letter-exchange': dlx });
    await ch.bindQueue(q, 'amq.direct', 'main-key');
    await publish('amq.direct', 'main-key', ['cc'], { CC: ['cc-key'] });
    ch.reject(await getOne(ch, q, true), false);
    for (const target of [byKey, byCc]) {
      const d = await getOne(ch, target);
      expect(d.fields).toMatchObject({ exchange: dlx, routingKey: 'main-key' });
      expect(d.properties.headers).toMatchObject({ CC: ['cc-key'] });
      expect(xDeath(d)).toEqual([{ count: 1, reason: 'rejected', queue: q, time: ts(), exchange: 'amq.direct', 'routing-keys': ['main-key', 'cc-key'] }]);
    }
  });

  it('x-dead-letter-routing-key replaces the routing keys and drops the CC header', async () => {
    const ch = await chan();
    const dlx = uniqueName('dlx');
    await ch.assertExchange(dlx, 'direct', { durable: false, autoDelete: true });
    const byDlrk = await queue('dl-rk');
    const byCc = await queue('dl-cc');
    await ch.bindQueue(byDlrk, dlx, 'dead');
    await ch.bindQueue(byCc, dlx, 'cc-key');
    const q = await queue('work', { 'x-dead-letter-exchange': dlx, 'x-dead-letter-routing-key': 'dead' });
    await send(q, ['rk'], { CC: ['cc-key'], headers: { keep: true } });
    ch.reject(await getOne(ch, q, true), false);
    const d = await getOne(ch, byDlrk);
    expect(d.fields).toMatchObject({ exchange: dlx, routingKey: 'dead' });
    expect(d.properties.headers).not.toHaveProperty('CC');
    expect(d.properties.headers).toMatchObject({ keep: true });
    expect(xDeath(d)[0]!['routing-keys']).toEqual([q, 'cc-key']);
    await sleep(100);
    expect(await ch.checkQueue(byCc)).toMatchObject({ messageCount: 0 });
  });

  it('BCC keys route the dead-lettered message too, but are not in routing-keys or the headers', async () => {
    const ch = await chan();
    const dlx = uniqueName('dlx');
    await ch.assertExchange(dlx, 'direct', { durable: false, autoDelete: true });
    const byBcc = await queue('dl-bcc');
    await ch.bindQueue(byBcc, dlx, 'bcc-key');
    const q = await queue('work', { 'x-dead-letter-exchange': dlx });
    await send(q, ['bcc'], { BCC: ['bcc-key'] });
    ch.reject(await getOne(ch, q, true), false);
    const d = await getOne(ch, byBcc);
    expect(d.fields).toMatchObject({ exchange: dlx, routingKey: q });
    expect(d.properties.headers).not.toHaveProperty('BCC');
    expect(xDeath(d)[0]!['routing-keys']).toEqual([q]);
  });

  it('the DLX may be the default exchange, with the routing key naming the queue', async () => {
    const ch = await chan();
    const dlq = await queue('dlq');
    const q = await queue('work', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq });
    ch.reject(await publishAndGet(ch, q, 'to-default'), false);
    const d = await getOne(ch, dlq);
    expect(d.fields).toMatchObject({ exchange: '', routingKey: dlq });
  });

  it('a dead-letter exchange that does not exist drops the message silently', async () => {
    const ch = await chan();
    const q = await queue('work', { 'x-dead-letter-exchange': uniqueName('missing') });
    ch.reject(await publishAndGet(ch, q, 'gone'), false);
    ch.reject(await publishAndGet(ch, q, 'gone too'), false);
    // The channel is fine and the queue empty.
    expect(await ch.checkQueue(q)).toMatchObject({ messageCount: 0 });
  });

  it('a DLX created after the queue is used once it exists; an alternate exchange of the DLX applies', async () => {
    const ch = await chan();
    const dlx = uniqueName('dlx');
    const ae = uniqueName('ae');
    const q = await queue('work', { 'x-dead-letter-exchange': dlx });
    await ch.assertExchange(ae, 'fanout', { durable: false, autoDelete: true });
    await ch.assertExchange(dlx, 'direct', { durable: false, autoDelete: true, alternateExchange: ae });
    const aq = await queue('ae-q');
    await ch.bindQueue(aq, ae, '');
    ch.reject(await publishAndGet(ch, q, 'via-ae'), false);
    const d = await getOne(ch, aq);
    expect(body(d)).toBe('via-ae');
    expect(d.fields).toMatchObject({ exchange: dlx, routingKey: q });
  });

  it('purge and delete do not dead-letter', async () => {
    const ch = await chan();
    const dlq = await queue('dlq');
    const q = await queue('work', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq });
    await send(q, ['1', '2']);
    expect(await ch.purgeQueue(q)).toEqual({ messageCount: 2 });
    await send(q, ['3']);
    expect(await ch.deleteQueue(q)).toEqual({ messageCount: 1 });
    await sleep(100);
    expect(await ch.checkQueue(dlq)).toMatchObject({ messageCount: 0 });
  });
});

describe('dead-lettering on expiry and max-length', () => {
  it('expired: reason expired; a per-message expiration is removed and kept as original-expiration', async () => {
    const ch = await chan();
    const dlq = await queue('dlq');
    const q = await queue('ttl', { 'x-message-ttl': 50, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq });
    s.pub.sendToQueue(q, Buffer.from('queue-ttl'));
    s.pub.sendToQueue(q, Buffer.from('msg-ttl'), { expiration: '20' });
    await s.pub.waitForConfirms();
    const [a, c] = await getN(ch, dlq, 2);
    expect([body(a!), body(c!)]).toEqual(['queue-ttl', 'msg-ttl']);
    expect(a!.properties.expiration).toBeUndefined();
    expect(xDeath(a!)).toEqual([{ count: 1, reason: 'expired', queue: q, time: ts(), exchange: '', 'routing-keys': [q] }]);
    expect(c!.properties.expiration).toBeUndefined();
    expect(xDeath(c!)).toEqual([{
      count: 1, reason: 'expired', queue: q, time: ts(), exchange: '', 'routing-keys': [q], 'original-expiration': '20',
    }]);
    expect(Object.keys(xDeath(c!)[0]!)).toEqual(['count', 'reason', 'queue', 'time', 'exchange', 'routing-keys', 'original-expiration']);
    expect(c!.properties.headers).toMatchObject({ 'x-first-death-reason': 'expired' });
  });

  it('max-length drop-head: the dropped head is dead-lettered with reason maxlen', async () => {
    const ch = await chan();
    const dlq = await queue('dlq');
    const q = await queue('max', { 'x-max-length': 2, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq });
    await send(q, ['1', '2', '3', '4']);
    const d = await getN(ch, dlq, 2);
    expect(d.map(body)).toEqual(['1', '2']);
    expect(xDeath(d[0]!)).toEqual([{ count: 1, reason: 'maxlen', queue: q, time: ts(), exchange: '', 'routing-keys': [q] }]);
    expect((await getN(ch, q, 2)).map(body)).toEqual(['3', '4']);
  });

  it('a client-set x-death that is not an array is replaced, without x-first-death-* headers', async () => {
    const ch = await chan();
    const dlq = await queue('dlq');
    const q = await queue('work', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq });
    ch.reject(await publishAndGet(ch, q, 'odd', { headers: { 'x-death': 'not an array' } }), false);
    const d = await getOne(ch, dlq);
    expect(d.properties.headers).toEqual({
      'x-death': [{ count: 1, reason: 'rejected', queue: q, time: ts(), exchange: '', 'routing-keys': [q] }],
    });
  });
});

describe('x-death history', () => {
  it('one entry per queue and reason, most recent first, as RabbitMQ 3.10 orders them', async () => {
    // q1 -> q2 -> q3 -> q4, each of the first three expiring at once (x-message-ttl 0, no consumer).
    const ch = await chan();
    const names = [uniqueName('h1'), uniqueName('h2'), uniqueName('h3'), uniqueName('h4')];
    for (let i = 3; i >= 0; i--) {
      const args = i === 3 ? {} : { 'x-message-ttl': 0, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': names[i + 1] };
      await ch.assertQueue(names[i], { durable: false, arguments: args });
      s.removeAfter(names[i]!);
    }
    await send(names[0]!, ['hops']);
    const m = await getOne(ch, names[3]!);
    // The older entries are re-grouped at each step; RabbitMQ 3.10's grouping reverses them.
    expect(xDeath(m).map((d) => d.queue)).toEqual([names[2], names[0], names[1]]);
    expect(xDeath(m).map((d) => d.count)).toEqual([1, 1, 1]);
    expect(xDeath(m).map((d) => d['routing-keys'])).toEqual([[names[2]], [names[0]], [names[1]]]);
    expect(m.properties.headers).toMatchObject({ 'x-first-death-queue': names[0], 'x-first-death-reason': 'expired' });
  });

  it('retry with delay: work queue -> DLX -> delay queue (TTL) -> DLX -> work queue, three rounds', async () => {
    const ch = await chan();
    const retryX = uniqueName('retry');
    const workX = uniqueName('work-x');
    await ch.assertExchange(retryX, 'direct', { durable: false, autoDelete: true });
    await ch.assertExchange(workX, 'direct', { durable: false, autoDelete: true });
    const work = await queue('work', { 'x-dead-letter-exchange': retryX });
    const delay = await queue('delay', { 'x-message-ttl': 100, 'x-dead-letter-exchange': workX });
    await ch.bindQueue(work, workX, 'job');
    await ch.bindQueue(delay, retryX, 'job');
    const consumer = await chan(await connect());
    const seen: { at: number; deaths: XDeath[]; redelivered: boolean }[] = [];
    const done = new Promise<Message>((resolve) => {
      void consumer.consume(work, (m) => {
        if (m === null) return;
        seen.push({ at: Date.now(), deaths: xDeath(m), redelivered: m.fields.redelivered });
        if (seen.length <= 3) consumer.reject(m, false); // fail three times
        else {
          consumer.ack(m);
          resolve(m);
        }
      });
    });
    await publish(workX, 'job', ['job-1'], { messageId: 'job-1' });
    const final = await done;
    expect(body(final)).toBe('job-1');
    expect(final.properties.messageId).toBe('job-1');
    expect(final.fields).toMatchObject({ exchange: workX, routingKey: 'job', redelivered: false });
    // Each round adds one rejection in `work` and one expiry in `delay`.
    expect(seen.map((e) => e.deaths.map((d) => `${d.queue === work ? 'work' : 'delay'}:${d.reason}:${d.count}`))).toEqual([
      [],
      ['delay:expired:1', 'work:rejected:1'],
      ['delay:expired:2', 'work:rejected:2'],
      ['delay:expired:3', 'work:rejected:3'],
    ]);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.at - seen[i - 1]!.at).toBeGreaterThanOrEqual(90);
    expect(xDeath(final)[0]).toEqual({ count: 3, reason: 'expired', queue: delay, time: ts(), exchange: retryX, 'routing-keys': ['job'] });
    expect(xDeath(final)[1]).toEqual({ count: 3, reason: 'rejected', queue: work, time: ts(), exchange: workX, 'routing-keys': ['job'] });
    expect(final.properties.headers).toMatchObject({
      'x-first-death-queue': work, 'x-first-death-reason': 'rejected', 'x-first-death-exchange': workX,
    });
  });
});

describe('dead-letter cycles', () => {
  it('a message expiring back into its own queue is dropped', async () => {
    const ch = await chan();
    const q = uniqueName('cycle');
    await ch.assertQueue(q, { durable: false, arguments: { 'x-message-ttl': 20, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': q } });
    s.removeAfter(q);
    await send(q, ['round and round']);
    await eventually(async () => (await ch.checkQueue(q)).messageCount === 0, 'the message is gone');
    await sleep(200);
    expect(await ch.checkQueue(q)).toMatchObject({ messageCount: 0 });
  });

  it('an automatic cycle through two queues drops the message where it closes; other targets still get it', async () => {
    const ch = await chan();
    const fan = uniqueName('fan');
    await ch.assertExchange(fan, 'fanout', { durable: false, autoDelete: true });
    const a = uniqueName('ca');
    const bq = uniqueName('cb');
    await ch.assertQueue(a, { durable: false, arguments: { 'x-message-ttl': 10, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': bq } });
    await ch.assertQueue(bq, { durable: false, arguments: { 'x-message-ttl': 10, 'x-dead-letter-exchange': fan } });
    s.removeAfter(a, bq);
    const watcher = await queue('watch');
    await ch.bindQueue(a, fan, '');
    await ch.bindQueue(watcher, fan, '');
    await send(a, ['x']);
    const w = await getOne(ch, watcher);
    expect(xDeath(w).map((d) => [d.queue, d.reason])).toEqual([[bq, 'expired'], [a, 'expired']]);
    await sleep(200);
    expect(await ch.checkQueue(a)).toMatchObject({ messageCount: 0 });
    expect(await ch.checkQueue(bq)).toMatchObject({ messageCount: 0 });
    expect(await ch.checkQueue(watcher)).toMatchObject({ messageCount: 0 });
  });

  it('a cycle with a rejection in it is not cut', async () => {
    // work (rejected) -> delay (expires) -> work: the retry pattern itself; covered above, here with the default exchange.
    const ch = await chan();
    const work = uniqueName('rw');
    const delay = uniqueName('rd');
    await ch.assertQueue(work, { durable: false, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': delay } });
    await ch.assertQueue(delay, { durable: false, arguments: { 'x-message-ttl': 10, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': work } });
    s.removeAfter(work, delay);
    ch.reject(await publishAndGet(ch, work, 'r'), false);
    const back = await getOne(ch, work);
    expect(xDeath(back).map((d) => [d.queue, d.reason, d.count])).toEqual([[delay, 'expired', 1], [work, 'rejected', 1]]);
  });
});
