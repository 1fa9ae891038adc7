// Queue length limits through amqplib: x-max-length and x-max-length-bytes (ready messages and
// their body bytes; unacked ones do not count) with each x-overflow mode: drop-head (the head
// goes, dead-lettered as maxlen), reject-publish (the new message is refused; a confirming
// publisher gets a nack), reject-publish-dlx (refused and dead-lettered). Every assertion also
// holds against RabbitMQ 3.10.
import type { ConfirmChannel, GetMessage, Message, Options } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { body, drain, getN, interopSuite, sleep, xDeath } from '../test/support/suite.js';

const s = interopSuite();
const { queue } = s;

/** Publish each body on a confirm channel; the outcome of each: 'ack' or 'nack'. */
async function publishConfirmed(pub: ConfirmChannel, q: string, bodies: string[]): Promise<string[]> {
  const outcomes = bodies.map((b) => new Promise<string>((resolve) => {
    pub.sendToQueue(q, Buffer.from(b), {}, (err) => resolve(err ? 'nack' : 'ack'));
  }));
  return Promise.all(outcomes);
}

/** A confirm channel on a connection of its own. */
async function confirmChannel(): Promise<ConfirmChannel> {
  const c = await (await s.connect()).createConfirmChannel();
  c.on('error', () => {});
  return c;
}

/** Publish and wait until the broker has handled them (without depending on nacks). */
async function publish(q: string, bodies: string[], options: Options.Publish = {}): Promise<void> {
  const pub = await confirmChannel();
  await Promise.all(bodies.map((b) => new Promise<void>((resolve) => {
    pub.sendToQueue(q, Buffer.from(b), options, () => resolve());
  })));
  await pub.close();
}

const reasons = (m: Message) => xDeath(m).map((d) => `${String(d.queue)}:${String(d.reason)}`);

describe('x-overflow drop-head (the default)', () => {
  it('x-max-length keeps the newest messages; every publish is confirmed', async () => {
    const q = await queue('max', { 'x-max-length': 3 });
    expect(await publishConfirmed(await confirmChannel(), q, ['1', '2', '3', '4', '5'])).toEqual(['ack', 'ack', 'ack', 'ack', 'ack']);
    expect(await s.ch.checkQueue(q)).toMatchObject({ messageCount: 3 });
    expect(await drain(s.ch, q)).toEqual(['3', '4', '5']);
  });

  it('dropped heads are dead-lettered with reason maxlen, in order', async () => {
    const dlq = await queue('dlq');
    const q = await queue('max', { 'x-max-length': 2, 'x-overflow': 'drop-head', 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq });
    await publish(q, ['a', 'b', 'c', 'd', 'e']);
    const dead = await getN(s.ch, dlq, 3);
    expect(dead.map(body)).toEqual(['a', 'b', 'c']);
    for (const d of dead) expect(reasons(d)).toEqual([`${q}:maxlen`]);
    expect(await drain(s.ch, q)).toEqual(['d', 'e']);
  });

  it('x-max-length-bytes counts body bytes of ready messages', async () => {
    const q = await queue('bytes', { 'x-max-length-bytes': 10 });
    await publish(q, ['aaaa', 'bbbb', 'cccc']); // 12 bytes: the first goes
    expect(await drain(s.ch, q)).toEqual(['bbbb', 'cccc']);
    await publish(q, ['0123456789A']); // longer than the limit on its own: dropped at once
    expect(await drain(s.ch, q)).toEqual([]);
    await publish(q, ['0123456789']);
    expect(await drain(s.ch, q)).toEqual(['0123456789']);
  });

  it('both limits at once: whichever is exceeded', async () => {
    const q = await queue('both', { 'x-max-length': 3, 'x-max-length-bytes': 6 });
    await publish(q, ['11', '22', '33', '44']);
    expect(await drain(s.ch, q)).toEqual(['22', '33', '44']);
    await publish(q, ['1', '2', '3', '4567']);
    expect(await drain(s.ch, q)).toEqual(['2', '3', '4567']); // 6 bytes: at the limit, not over it
  });

  it('unacked messages do not count', async () => {
    const q = await queue('unacked', { 'x-max-length': 2 });
    await publish(q, ['1', '2']);
    const held = [await s.ch.get(q), await s.ch.get(q)];
    expect(held.map((m) => m && body(m))).toEqual(['1', '2']);
    await publish(q, ['3', '4']);
    expect(await s.ch.checkQueue(q)).toMatchObject({ messageCount: 2 });
    // Requeued messages go back to the head, over the limit: drop-head removes them again.
    for (const m of held) s.ch.nack(m as GetMessage, false, true);
    await sleep(100);
    expect(await drain(s.ch, q)).toEqual(['3', '4']);
  });

  it('x-max-length 0 with a consumer waiting: delivered; with none: dropped', async () => {
    const q = await queue('zero', { 'x-max-length': 0 });
    await publish(q, ['dropped']);
    expect(await s.ch.checkQueue(q)).toMatchObject({ messageCount: 0 });
    const c = await s.chan(await s.connect());
    const got: string[] = [];
    await c.consume(q, (m) => { if (m) got.push(body(m)); }, { noAck: true });
    await publish(q, ['delivered']);
    const deadline = Date.now() + 5000;
    while (got.length === 0 && Date.now() < deadline) await sleep(10);
    expect(got).toEqual(['delivered']);
  });
});

describe('x-overflow reject-publish', () => {
  it('refused publishes are not stored: the queue keeps the oldest', async () => {
    const q = await queue('rp', { 'x-max-length': 3, 'x-overflow': 'reject-publish' });
    await publish(q, ['1', '2', '3', '4', '5']);
    expect(await drain(s.ch, q)).toEqual(['1', '2', '3']);
    await publish(q, ['6']);
    expect(await drain(s.ch, q)).toEqual(['6']);
  });

  it('with confirms, a refused publish is nacked and the rest are acked', async () => {
    const q = await queue('rp', { 'x-max-length': 3, 'x-overflow': 'reject-publish' });
    const pub = await confirmChannel();
    expect(await publishConfirmed(pub, q, ['1', '2', '3', '4', '5'])).toEqual(['ack', 'ack', 'ack', 'nack', 'nack']);
    expect(await s.ch.get(q, { noAck: true })).toMatchObject({ content: Buffer.from('1') });
    expect(await publishConfirmed(pub, q, ['6', '7'])).toEqual(['ack', 'nack']);
    const bq = await queue('rpb', { 'x-max-length-bytes': 4, 'x-overflow': 'reject-publish' });
    expect(await publishConfirmed(pub, bq, ['12', '34', '5'])).toEqual(['ack', 'ack', 'nack']);
  });

  it('is not dead-lettered, even with a DLX; requeues may go over the limit', async () => {
    const dlq = await queue('dlq');
    const q = await queue('rp', { 'x-max-length': 1, 'x-overflow': 'reject-publish', 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq });
    await publish(q, ['1']);
    const held = await s.ch.get(q);
    await publish(q, ['2', '3']);
    s.ch.nack(held as GetMessage, false, true);
    await sleep(100);
    expect(await drain(s.ch, q)).toEqual(['1', '2']);
    expect(await drain(s.ch, dlq)).toEqual([]);
  });

  it('x-max-length 0 refuses every publish, even with a consumer waiting', async () => {
    const q = await queue('rp0', { 'x-max-length': 0, 'x-overflow': 'reject-publish' });
    const c = await s.chan(await s.connect());
    const got: string[] = [];
    await c.consume(q, (m) => { if (m) got.push(body(m)); }, { noAck: true });
    await publish(q, ['refused']);
    await sleep(200);
    expect(got).toEqual([]);
  });
});

describe('x-overflow reject-publish-dlx', () => {
  it('refused publishes are dead-lettered with reason maxlen; the queue keeps the oldest', async () => {
    const dlq = await queue('dlq');
    const q = await queue('rpd', {
      'x-max-length': 2, 'x-overflow': 'reject-publish-dlx', 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq,
    });
    await publish(q, ['1', '2', '3', '4'], { headers: { h: 1 } });
    const dead = await getN(s.ch, dlq, 2);
    expect(dead.map(body)).toEqual(['3', '4']);
    for (const d of dead) {
      expect(reasons(d)).toEqual([`${q}:maxlen`]);
      expect(d.properties.headers).toMatchObject({ h: 1, 'x-first-death-reason': 'maxlen', 'x-first-death-queue': q });
    }
    expect(await drain(s.ch, q)).toEqual(['1', '2']);
  });

  it('with confirms, the refused publishes are nacked', async () => {
    const dlq = await queue('dlq');
    const q = await queue('rpd', {
      'x-max-length': 2, 'x-overflow': 'reject-publish-dlx', 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq,
    });
    expect(await publishConfirmed(await confirmChannel(), q, ['1', '2', '3'])).toEqual(['ack', 'ack', 'nack']);
    expect((await getN(s.ch, dlq, 1)).map(body)).toEqual(['3']);
  });
});
