// consumer_timeout as RabbitMQ 3.10: the channel's periodic tick (channel_tick_interval) closes a
// channel whose oldest outstanding delivery, to a consumer or from basic.get, has waited longer
// than consumer_timeout for its ack, with 406 and RabbitMQ's text; the message goes back to its
// queue, the connection and its other channels stay. Acked-in-time and no-ack deliveries never
// time out. Differential: the same holds on RabbitMQ 3.10.8 started with
//   RABBITMQ_EXTRA_CONF='consumer_timeout = 2000' RABBITMQ_EXTRA_ADVANCED='{channel_tick_interval, 1000}' \
//     interop/differential/rabbitmq.sh start 5761
import type { Channel, ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { amqpError, channelError } from '../test/support/amqp.js';
import { getOne, interopSuite, sleep } from '../test/support/suite.js';

const TIMEOUT_MS = 2000;
const TICK_MS = 1000;
const s = interopSuite({ broker: { consumerTimeout: TIMEOUT_MS, channelTickIntervalMs: TICK_MS } });

const text = (ch: number) =>
  `PRECONDITION_FAILED - delivery acknowledgement on channel ${ch} timed out. Timeout value used: ${TIMEOUT_MS} ms. ` +
  'This timeout value can be configured, see consumers doc guide to learn more';

const channelNumber = (ch: Channel): number => (ch as unknown as { ch: number }).ch;

describe('consumer_timeout', () => {
  it('closes the channel of a consumer that does not ack in time; the message is requeued', async () => {
    const q = await s.queue('ct-consume');
    const conn = await s.connect();
    const ch = await s.chan(conn);
    const other = await s.chan(conn);
    const got: ConsumeMessage[] = [];
    await ch.consume(q, (m) => { if (m) got.push(m); });
    const closed = channelError(ch);
    const started = Date.now();
    await s.send(q, ['late']);
    const err = await closed;
    const took = Date.now() - started;
    expect(err.message).toMatch(amqpError(406, text(channelNumber(ch))));
    expect(got.map((m) => m.content.toString())).toEqual(['late']);
    // Between the timeout and one tick after it (plus scheduling slack).
    expect(took).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(took).toBeLessThan(TIMEOUT_MS + TICK_MS + 1500);
    // The connection and its other channel live on; the message is back, redelivered.
    const m = await getOne(other, q);
    expect([m.content.toString(), m.fields.redelivered]).toEqual(['late', true]);
  }, 15_000);

  it('an unacked basic.get delivery times out too', async () => {
    const q = await s.queue('ct-get');
    await s.send(q, ['got']);
    const ch = await s.chan(await s.connect());
    const closed = channelError(ch);
    const m = await getOne(ch, q, true);
    expect(m.content.toString()).toBe('got');
    expect((await closed).message).toMatch(amqpError(406, text(channelNumber(ch))));
    const again = await getOne(s.ch, q);
    expect([again.content.toString(), again.fields.redelivered]).toEqual(['got', true]);
  }, 15_000);

  it('deliveries acked within the timeout, and no-ack ones, never close the channel', async () => {
    const q = await s.queue('ct-ok');
    const q2 = await s.queue('ct-noack');
    const conn = await s.connect();
    const ch = await s.chan(conn);
    const errors: Error[] = [];
    ch.on('error', (e: Error) => errors.push(e));
    let acked = 0;
    await ch.consume(q, (m) => {
      if (!m) return;
      setTimeout(() => { ch.ack(m); acked++; }, TIMEOUT_MS / 4);
    });
    let noAck = 0;
    await ch.consume(q2, () => { noAck++; }, { noAck: true });
    // A steady trickle over three timeouts: the oldest unacked one is never older than T/4.
    for (let i = 0; i < 12; i++) {
      await s.send(q, [`m${i}`]);
      await s.send(q2, [`n${i}`]);
      await sleep(TIMEOUT_MS / 4);
    }
    await sleep(TIMEOUT_MS / 2);
    expect(errors).toEqual([]);
    expect(acked).toBe(12);
    expect(noAck).toBe(12);
    // Still open: a round trip works.
    await ch.checkQueue(q);
  }, 20_000);

  it('only the oldest delivery counts: acking it in time and leaving a newer one out still times out', async () => {
    const q = await s.queue('ct-oldest');
    const ch = await s.chan(await s.connect());
    await ch.prefetch(10);
    const got: ConsumeMessage[] = [];
    await ch.consume(q, (m) => { if (m) got.push(m); });
    const closed = channelError(ch);
    await s.send(q, ['a']);
    await sleep(TIMEOUT_MS / 2);
    await s.send(q, ['b']);
    while (got.length < 2) await sleep(10);
    ch.ack(got[0]!); // 'a' in time; 'b' is left out
    const started = Date.now();
    expect((await closed).message).toMatch(amqpError(406, text(channelNumber(ch))));
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS / 2 - 100);
  }, 15_000);
});
