// Publisher confirms (confirm.select, basic.ack from the server) through amqplib's ConfirmChannel.
// Every assertion here holds on RabbitMQ 3.x too: run with WARREN_EXTERNAL_URL to check
// (see interop/differential/rabbitmq.sh). Warren-internal checks are it.skipIf(external).
import type { Channel, Message } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { returned, rpc, sendRaw, serverClose, serverConnectionClose, type AmqpError } from '../test/support/amqp.js';
import { external, interopSuite, uniqueName } from '../test/support/suite.js';

// Method ids (class << 16 | method) for the methods amqplib has no API for.
const CONFIRM_SELECT = (85 << 16) | 10;
const CONFIRM_SELECT_OK = (85 << 16) | 11;
const TX_SELECT = (90 << 16) | 10;
const TX_SELECT_OK = (90 << 16) | 11;

/** Every connection error, in order: a test checks that none came. */
const connErrors: Error[] = [];
const s = interopSuite({ onConnectionError: (err) => connErrors.push(err) });
const { connect } = s;

/** Confirm callback: records the outcome, in the order the callbacks run. */
function recorder() {
  const calls: { i: number; err: unknown }[] = [];
  return { calls, cb: (i: number) => (err: unknown) => { calls.push({ i, err }); } };
}

/**
 * Follows basic.ack frames as the client sees them ('ack' events) and checks that together they
 * confirm every sequence number exactly once: a single ack names an unconfirmed tag, a multiple
 * ack confirms everything unconfirmed up to its tag and must confirm something new.
 */
function ackTracker(ch: Channel) {
  const frames: { deliveryTag: number; multiple: boolean }[] = [];
  const confirmed = new Set<number>();
  let highest = 0;
  const problems: string[] = [];
  ch.on('ack', (f: { deliveryTag: number; multiple: boolean }) => {
    frames.push({ deliveryTag: f.deliveryTag, multiple: f.multiple });
    if (f.multiple) {
      let fresh = 0;
      for (let t = 1; t <= f.deliveryTag; t++) if (!confirmed.has(t)) { confirmed.add(t); fresh++; }
      if (fresh === 0) problems.push(`multiple ack ${f.deliveryTag} confirmed nothing new`);
    } else {
      if (confirmed.has(f.deliveryTag)) problems.push(`tag ${f.deliveryTag} acked twice`);
      confirmed.add(f.deliveryTag);
    }
    highest = Math.max(highest, f.deliveryTag);
  });
  return {
    frames,
    problems,
    /** Every tag in 1..n confirmed once and nothing beyond n. */
    covers(n: number): boolean {
      return confirmed.size === n && highest === n;
    },
  };
}

async function exclusiveQueue(ch: Channel): Promise<string> {
  return (await ch.assertQueue('', { exclusive: true })).queue;
}

describe('confirm.select', () => {
  it('is answered with select-ok, and selecting again on a confirm channel is fine', async () => {
    const ch = await (await connect()).createConfirmChannel();
    await expect(rpc(ch, CONFIRM_SELECT, {}, CONFIRM_SELECT_OK)).resolves.toBeDefined();
    const q = await exclusiveQueue(ch);
    const r = recorder();
    ch.sendToQueue(q, Buffer.from('x'), {}, r.cb(0));
    await ch.waitForConfirms();
    expect(r.calls).toEqual([{ i: 0, err: null }]);
  });

  it('confirm.select with nowait: no select-ok comes back, and publishes are still acked', async () => {
    const ch = await (await connect()).createChannel();
    sendRaw(ch, CONFIRM_SELECT, { nowait: true });
    const acked = new Promise<{ deliveryTag: number; multiple: boolean }>((r) => ch.once('ack', r));
    // A stray select-ok would be taken as the reply to this declare, and amqplib would fail it.
    const q = await exclusiveQueue(ch);
    ch.sendToQueue(q, Buffer.from('n'));
    expect(await acked).toEqual({ deliveryTag: 1, multiple: false });
    expect((await ch.checkQueue(q)).messageCount).toBe(1);
  });

  it('tx then confirm.select: 406 cannot switch from tx to confirm mode', async () => {
    const ch = await (await connect()).createChannel();
    await rpc(ch, TX_SELECT, {}, TX_SELECT_OK);
    const closed = serverClose(ch);
    const err = await rpc(ch, CONFIRM_SELECT, {}, CONFIRM_SELECT_OK).then(() => null, (e: AmqpError) => e);
    expect(err?.code).toBe(406);
    expect(err?.message).toContain('"PRECONDITION_FAILED - cannot switch from tx to confirm mode"');
    expect((await closed).code).toBe(406);
  });

  it('confirm then tx.select: 406 cannot switch from confirm to tx mode', async () => {
    const ch = await (await connect()).createConfirmChannel();
    const closed = serverClose(ch);
    const err = await rpc(ch, TX_SELECT, {}, TX_SELECT_OK).then(() => null, (e: AmqpError) => e);
    expect(err?.code).toBe(406);
    expect(err?.message).toContain('"PRECONDITION_FAILED - cannot switch from confirm to tx mode"');
    expect((await closed).code).toBe(406);
  });

  it('a client sending confirm.select-ok: connection closed, 503 unimplemented method', async () => {
    const c = await connect();
    const closed = serverConnectionClose(c);
    const ch = await c.createConfirmChannel();
    sendRaw(ch, CONFIRM_SELECT_OK, {});
    expect(await closed).toEqual({ replyCode: 503, replyText: 'COMMAND_INVALID - unimplemented method', classId: 85, methodId: 11 });
  });
});

describe('acks', () => {
  it('10,000 publishes: every callback fires once, without error, in publish order', async () => {
    const ch = await (await connect()).createConfirmChannel();
    const q = await exclusiveQueue(ch);
    const acks = ackTracker(ch);
    const r = recorder();
    const n = 10_000;
    for (let i = 0; i < n; i++) ch.sendToQueue(q, Buffer.from(`m${i}`), {}, r.cb(i));
    await ch.waitForConfirms();
    expect(r.calls.length).toBe(n);
    expect(r.calls.every((c, i) => c.i === i && c.err === null)).toBe(true);
    // The raw frames: tags confirm 1..n exactly once; coalesced (multiple) acks are allowed.
    expect(acks.problems).toEqual([]);
    expect(acks.covers(n)).toBe(true);
    expect((await ch.checkQueue(q)).messageCount).toBe(n);
  });

  it('delivery tags start at 1 and continue across separate batches', async () => {
    const ch = await (await connect()).createConfirmChannel();
    const q = await exclusiveQueue(ch);
    const acks = ackTracker(ch);
    const r = recorder();
    for (let i = 0; i < 3; i++) ch.sendToQueue(q, Buffer.from('a'), {}, r.cb(i));
    await ch.waitForConfirms();
    expect(acks.covers(3)).toBe(true);
    for (let i = 3; i < 5; i++) ch.sendToQueue(q, Buffer.from('b'), {}, r.cb(i));
    await ch.waitForConfirms();
    expect(acks.problems).toEqual([]);
    expect(acks.covers(5)).toBe(true);
    expect(r.calls.map((c) => c.i)).toEqual([0, 1, 2, 3, 4]);
  });

  it('publish sequence numbers are independent of delivery tags on the same channel', async () => {
    const ch = await (await connect()).createConfirmChannel();
    const q = await exclusiveQueue(ch);
    ch.sendToQueue(q, Buffer.from('first'), {}, () => {});
    await ch.waitForConfirms();
    const m = await ch.get(q, { noAck: false });
    expect(m && m.fields.deliveryTag).toBe(1);
    const acks = ackTracker(ch);
    ch.sendToQueue(q, Buffer.from('second'), {}, () => {});
    await ch.waitForConfirms();
    expect(acks.frames).toEqual([{ deliveryTag: 2, multiple: false }]);
    ch.ack(m as Message);
    expect((await ch.checkQueue(q)).messageCount).toBe(1);
  });

  it.skipIf(external)('Warren coalesces: many publishes in one turn are confirmed by a few multiple=true acks', async () => {
    const ch = await (await connect()).createConfirmChannel();
    const q = await exclusiveQueue(ch);
    const acks = ackTracker(ch);
    const n = 1_000;
    for (let i = 0; i < n; i++) ch.sendToQueue(q, Buffer.from('c'), {}, () => {});
    await ch.waitForConfirms();
    expect(acks.problems).toEqual([]);
    expect(acks.covers(n)).toBe(true);
    expect(acks.frames.some((f) => f.multiple)).toBe(true);
    expect(acks.frames.length).toBeLessThan(n / 10);
    expect(acks.frames.at(-1)!.deliveryTag).toBe(n);
  });

  it('an unroutable message (not mandatory) is acked', async () => {
    const ch = await (await connect()).createConfirmChannel();
    const x = uniqueName('confirm-unroutable');
    await ch.assertExchange(x, 'direct', { durable: false });
    const returns: Message[] = [];
    ch.on('return', (m: Message) => returns.push(m));
    const r = recorder();
    ch.publish(x, 'nobody', Buffer.from('lost'), {}, r.cb(0));
    ch.sendToQueue(uniqueName('no-such-queue'), Buffer.from('lost too'), {}, r.cb(1));
    await ch.waitForConfirms();
    expect(r.calls).toEqual([{ i: 0, err: null }, { i: 1, err: null }]);
    expect(returns).toEqual([]);
    await ch.deleteExchange(x);
  });

  it('a mandatory unroutable message: basic.return (312 NO_ROUTE) arrives before its ack', async () => {
    const ch = await (await connect()).createConfirmChannel();
    const x = uniqueName('confirm-mandatory');
    await ch.assertExchange(x, 'direct', { durable: false });
    const events: string[] = [];
    ch.on('return', (m: Message) => {
      events.push(`return ${returned(m).replyCode} ${returned(m).replyText} ${returned(m).exchange} ${returned(m).routingKey} ${m.content}`);
    });
    ch.on('ack', (f: { deliveryTag: number }) => events.push(`ack ${f.deliveryTag}`));
    const r = recorder();
    ch.publish(x, 'nobody', Buffer.from('bounce'), { mandatory: true }, r.cb(0));
    await ch.waitForConfirms();
    // Frame order as received ('ack' listeners run after amqplib's own, which fires the callback).
    expect(events).toEqual([`return 312 NO_ROUTE ${x} nobody bounce`, 'ack 1']);
    expect(r.calls).toEqual([{ i: 0, err: null }]);
    await ch.deleteExchange(x);
  });

  it('a batch mixing routable and mandatory-unroutable messages: each return precedes the ack covering it', async () => {
    const ch = await (await connect()).createConfirmChannel();
    const q = await exclusiveQueue(ch);
    const events: string[] = [];
    let confirmedUpTo = 0;
    ch.on('return', (m: Message) => events.push(`return ${m.content} (confirmed up to ${confirmedUpTo})`));
    ch.on('ack', (f: { deliveryTag: number; multiple: boolean }) => {
      // Single acks may come out of order across queues; a return must come before ITS tag.
      confirmedUpTo = f.multiple ? f.deliveryTag : Math.max(confirmedUpTo, f.deliveryTag);
    });
    const r = recorder();
    const missing = uniqueName('no-such-queue');
    ch.sendToQueue(q, Buffer.from('1'), { mandatory: true }, r.cb(1));
    ch.sendToQueue(missing, Buffer.from('2'), { mandatory: true }, r.cb(2));
    ch.sendToQueue(q, Buffer.from('3'), { mandatory: true }, r.cb(3));
    ch.sendToQueue(missing, Buffer.from('4'), { mandatory: true }, r.cb(4));
    await ch.waitForConfirms();
    expect(r.calls.map((c) => c.err)).toEqual([null, null, null, null]);
    expect(events.length).toBe(2);
    expect(events[0]).toMatch(/^return 2 \(confirmed up to [01]\)$/);
    expect(events[1]).toMatch(/^return 4 \(confirmed up to [0-3]\)$/);
    expect((await ch.checkQueue(q)).messageCount).toBe(2);
  });

  it('a fanout to 5 queues: one ack per publish, and every queue has every message', async () => {
    const ch = await (await connect()).createConfirmChannel();
    const x = uniqueName('confirm-fanout');
    await ch.assertExchange(x, 'fanout', { durable: false });
    const queues: string[] = [];
    for (let i = 0; i < 5; i++) {
      const q = await exclusiveQueue(ch);
      await ch.bindQueue(q, x, '');
      queues.push(q);
    }
    const acks = ackTracker(ch);
    const r = recorder();
    const n = 200;
    for (let i = 0; i < n; i++) ch.publish(x, '', Buffer.from(`f${i}`), {}, r.cb(i));
    await ch.waitForConfirms();
    expect(r.calls.length).toBe(n);
    expect(r.calls.every((c) => c.err === null)).toBe(true);
    expect(new Set(r.calls.map((c) => c.i)).size).toBe(n);
    expect(acks.problems).toEqual([]);
    expect(acks.covers(n)).toBe(true);
    for (const q of queues) expect((await ch.checkQueue(q)).messageCount).toBe(n);
    await ch.deleteExchange(x);
  });
});

describe('errors on a confirm channel', () => {
  it('publishing to a missing exchange: 404 channel close, pending callbacks fail, waitForConfirms rejects', async () => {
    const ch = await (await connect()).createConfirmChannel();
    const q = await exclusiveQueue(ch);
    const r = recorder();
    ch.sendToQueue(q, Buffer.from('before'), {}, r.cb(0));
    await ch.waitForConfirms();
    expect(r.calls).toEqual([{ i: 0, err: null }]);

    const closed = serverClose(ch);
    const missing = uniqueName('no-such-exchange');
    ch.publish(missing, 'k', Buffer.from('bad'), {}, r.cb(1));
    ch.sendToQueue(q, Buffer.from('after'), {}, r.cb(2)); // the server discards it: channel is closing
    const waited = ch.waitForConfirms().then(() => 'resolved', (e: Error) => `rejected: ${e.message}`);
    const err = await closed;
    expect(err.code).toBe(404);
    expect(err.message).toContain(`"NOT_FOUND - no exchange '${missing}' in vhost '/'"`);
    expect(await waited).toBe('rejected: channel closed');
    expect(r.calls.map((c) => c.i)).toEqual([0, 1, 2]);
    expect(r.calls.slice(1).map((c) => (c.err as Error | null)?.message)).toEqual(['channel closed', 'channel closed']);
  });

  it('closing a confirm channel with confirms in flight sends no basic.ack after close-ok', async () => {
    // Warren bug (src/amqp/session.ts): the coalesced ack is written at flush time, after the
    // channel.close-ok, onto a channel the client has already released. amqplib then closes the
    // whole connection with 504 "Frame on unknown channel". RabbitMQ drops pending confirms
    // once the channel is closing.
    const c = await connect();
    const before = connErrors.length;
    const ch = await c.createConfirmChannel();
    const q = uniqueName('confirm-close');
    await ch.assertQueue(q, { durable: false });
    const r = recorder();
    for (let i = 0; i < 5; i++) ch.sendToQueue(q, Buffer.from('x'), {}, r.cb(i));
    await ch.close();
    // Each callback fired exactly once, ack or 'channel closed'.
    expect(r.calls.map((c) => c.i)).toEqual([0, 1, 2, 3, 4]);
    // The connection is intact: the reopened channel (same number) works.
    const ch2 = await c.createChannel();
    expect((await ch2.checkQueue(q)).messageCount).toBe(5);
    await ch2.deleteQueue(q);
    await ch2.close();
    expect(connErrors.slice(before)).toEqual([]);
  });
});
