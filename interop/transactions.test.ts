// Transactions (tx.select / tx.commit / tx.rollback) through amqplib, which has no tx API: the
// tx methods go through the channel's low-level rpc(). Every assertion here holds on RabbitMQ
// 3.x too: run with WARREN_EXTERNAL_URL to check (see interop/differential/rabbitmq.sh).
import type { Socket } from 'node:net';
import type { Channel, ChannelModel, ConsumeMessage, GetMessage, Message } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { rpc, returned, sendRaw, serverClose, serverConnectionClose, type AmqpError } from '../test/support/amqp.js';
import { external, interopSuite, takeAll, uniqueName } from '../test/support/suite.js';

// Method ids (class << 16 | method), as in amqplib's lib/defs.js (not exported by the package).
const TX_SELECT = (90 << 16) | 10;
const TX_SELECT_OK = (90 << 16) | 11;
const TX_COMMIT = (90 << 16) | 20;
const TX_COMMIT_OK = (90 << 16) | 21;
const TX_ROLLBACK = (90 << 16) | 30;
const TX_ROLLBACK_OK = (90 << 16) | 31;

/** tx.* on an amqplib channel; each resolves on the -ok and rejects if the server closes the channel. */
function tx(ch: Channel) {
  return {
    select: () => rpc(ch, TX_SELECT, {}, TX_SELECT_OK),
    commit: () => rpc(ch, TX_COMMIT, {}, TX_COMMIT_OK),
    rollback: () => rpc(ch, TX_ROLLBACK, {}, TX_ROLLBACK_OK),
  };
}

// The connections have no 'error' listener: an unexpected connection error fails the run
// (serverConnectionClose() adds one where a test expects the close).
const s = interopSuite({ onConnectionError: null });
const { connect } = s;

/** A queue (deleted when the test's connection closes) holding `bodies`, confirmed in. */
async function seededQueue(c: ChannelModel, bodies: string[]): Promise<string> {
  const ch = await c.createConfirmChannel();
  const q = uniqueName('tx-q');
  await ch.assertQueue(q, { exclusive: true });
  for (const body of bodies) ch.sendToQueue(q, Buffer.from(body));
  await ch.waitForConfirms();
  await ch.close();
  return q;
}

/** basic.get with manual ack, as "body" or "body (redelivered)", or null when empty. */
async function take(ch: Channel, q: string): Promise<GetMessage | null> {
  const m = await ch.get(q, { noAck: false });
  return m === false ? null : m;
}
function show(m: Message | null): string | null {
  if (m === null) return null;
  return m.fields.redelivered ? `${m.content} (redelivered)` : `${m.content}`;
}
/** Everything left in the queue, taken with no-ack. */
const drain = async (ch: Channel, q: string): Promise<string[]> => (await takeAll(ch, q)).map((m) => show(m)!);

/** A new connection with a queue holding `bodies` (see seededQueue), and a channel on it in tx mode. */
async function inTx(bodies: string[]) {
  const c = await connect();
  const q = await seededQueue(c, bodies);
  const ch = await c.createChannel();
  const t = tx(ch);
  await t.select();
  return { c, q, ch, t };
}

describe('tx.select', () => {
  it('is answered with select-ok, and selecting again is fine', async () => {
    const ch = await (await connect()).createChannel();
    const t = tx(ch);
    await expect(t.select()).resolves.toBeDefined();
    await expect(t.select()).resolves.toBeDefined();
    await expect(t.commit()).resolves.toBeDefined();
    await expect(t.rollback()).resolves.toBeDefined();
  });

  it.each(['commit', 'rollback'] as const)('tx.%s without tx.select: 406 channel is not transactional', async (method) => {
    const ch = await (await connect()).createChannel();
    const closed = serverClose(ch);
    const err = await tx(ch)[method]().then(() => null, (e: AmqpError) => e);
    expect(err?.code).toBe(406);
    expect(err?.message).toContain('"PRECONDITION_FAILED - channel is not transactional"');
    expect((await closed).code).toBe(406);
  });

  it('a client sending tx.select-ok or tx.commit-ok: connection closed, 503 unimplemented method', async () => {
    for (const [id, classId, methodId] of [[TX_SELECT_OK, 90, 11], [TX_COMMIT_OK, 90, 21]]) {
      const c = await connect();
      const closed = serverConnectionClose(c);
      const ch = await c.createChannel();
      await tx(ch).select();
      sendRaw(ch, id!, {});
      expect(await closed).toEqual({ replyCode: 503, replyText: 'COMMAND_INVALID - unimplemented method', classId, methodId });
    }
  });
});

describe('publishing in a transaction', () => {
  it('messages are invisible to basic.get and queue counts until tx.commit', async () => {
    const { c, q, ch: pub, t } = await inTx([]);
    for (const body of ['a', 'b', 'c']) pub.sendToQueue(q, Buffer.from(body));
    // Round trips on the publishing channel: the server has seen the publishes.
    expect((await pub.checkQueue(q)).messageCount).toBe(0);
    expect(await pub.get(q)).toBe(false);
    const other = await c.createChannel();
    expect(await other.get(q)).toBe(false);
    await t.commit();
    expect((await other.checkQueue(q)).messageCount).toBe(3);
    expect(await drain(other, q)).toEqual(['a', 'b', 'c']);
  });

  it('messages reach a consumer only after tx.commit, in publish order', async () => {
    const c = await connect();
    const q = await seededQueue(c, []);
    const sub = await c.createChannel(); // the queue is exclusive to c
    const got: string[] = [];
    let resolveAll!: () => void;
    const all = new Promise<void>((r) => { resolveAll = r; });
    await sub.consume(q, (m) => { got.push(`${m!.content}`); if (got.length === 3) resolveAll(); }, { noAck: true });
    const pub = await c.createChannel();
    const t = tx(pub);
    await t.select();
    for (const body of ['1', '2', '3']) pub.sendToQueue(q, Buffer.from(body));
    expect((await pub.checkQueue(q)).messageCount).toBe(0);
    await sub.checkQueue(q); // a round trip on the consumer's channel too
    expect(got).toEqual([]);
    await t.commit();
    await all;
    expect(got).toEqual(['1', '2', '3']);
  });

  it('tx.rollback discards the publishes; the channel stays transactional', async () => {
    const { q, ch: pub, t } = await inTx([]);
    for (const body of ['x', 'y']) pub.sendToQueue(q, Buffer.from(body));
    await t.rollback();
    await t.commit(); // nothing left to commit
    expect((await pub.checkQueue(q)).messageCount).toBe(0);
    pub.sendToQueue(q, Buffer.from('z'));
    expect((await pub.checkQueue(q)).messageCount).toBe(0);
    await t.commit();
    expect(await drain(pub, q)).toEqual(['z']);
  });

  it('closing the channel discards uncommitted publishes', async () => {
    const { c, q, ch: pub } = await inTx([]);
    pub.sendToQueue(q, Buffer.from('never'));
    await pub.close();
    const other = await c.createChannel();
    expect((await other.checkQueue(q)).messageCount).toBe(0);
  });

  it('publishing to a missing exchange fails at once (404), not at commit', async () => {
    const ch = await (await connect()).createChannel();
    await tx(ch).select();
    const closed = serverClose(ch);
    const missing = uniqueName('no-such-exchange');
    ch.publish(missing, 'k', Buffer.from('x'));
    const err = await closed;
    expect(err.code).toBe(404);
    expect(err.message).toContain(`"NOT_FOUND - no exchange '${missing}' in vhost '/'"`);
  });

  it('a mandatory unroutable publish is returned at commit time, before tx.commit-ok', async () => {
    const ch = await (await connect()).createChannel();
    const t = tx(ch);
    await t.select();
    const events: string[] = [];
    ch.on('return', (m: Message) => {
      events.push(`return ${returned(m).replyCode} ${returned(m).replyText} '${returned(m).exchange}' ${m.content}`);
    });
    const missing = uniqueName('no-such-queue');
    ch.sendToQueue(missing, Buffer.from('bounce'), { mandatory: true });
    ch.sendToQueue(missing, Buffer.from('lost'), { mandatory: false });
    await ch.checkExchange('amq.direct'); // a round trip: a return sent at publish time would be here by now
    events.push('round trip');
    await t.commit();
    events.push('commit-ok');
    expect(events).toEqual(['round trip', "return 312 NO_ROUTE '' bounce", 'commit-ok']);
  });

  it('a mandatory unroutable publish that is rolled back is never returned', async () => {
    const ch = await (await connect()).createChannel();
    const t = tx(ch);
    await t.select();
    const returns: string[] = [];
    ch.on('return', (m: Message) => returns.push(`${m.content}`));
    ch.sendToQueue(uniqueName('no-such-queue'), Buffer.from('bounce'), { mandatory: true });
    await t.rollback();
    await t.commit();
    await ch.checkExchange('amq.direct');
    expect(returns).toEqual([]);
  });

  it('a queue deleted between publish and commit: the mandatory message is returned at commit', async () => {
    const c = await connect();
    const ch = await c.createChannel();
    const q = uniqueName('tx-doomed');
    await ch.assertQueue(q, { exclusive: true });
    const t = tx(ch);
    await t.select();
    const events: string[] = [];
    ch.on('return', (m: Message) => events.push(`return ${returned(m).replyText} ${m.content}`));
    ch.sendToQueue(q, Buffer.from('orphan'), { mandatory: true });
    const other = await c.createChannel();
    await other.deleteQueue(q);
    await t.commit();
    events.push('commit-ok');
    expect(events).toEqual(['return NO_ROUTE orphan', 'commit-ok']);
  });

  it('routing happens at publish time: a binding made before the commit does not catch an earlier publish', async () => {
    // Warren bug (src/amqp/session.ts): publishes in a tx are routed at commit. RabbitMQ routes
    // at basic.publish and only delivers at commit, so this message is returned NO_ROUTE.
    const ch = await (await connect()).createChannel();
    const x = uniqueName('tx-route');
    await ch.assertExchange(x, 'direct', { durable: false });
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    const t = tx(ch);
    await t.select();
    const events: string[] = [];
    ch.on('return', (m: Message) => events.push(`return ${returned(m).replyText} ${m.content}`));
    ch.publish(x, 'k', Buffer.from('early'), { mandatory: true });
    await ch.bindQueue(q, x, 'k');
    ch.publish(x, 'k', Buffer.from('late'), { mandatory: true });
    await t.commit();
    events.push('commit-ok');
    expect(events).toEqual(['return NO_ROUTE early', 'commit-ok']);
    expect(await drain(ch, q)).toEqual(['late']);
    await ch.deleteExchange(x);
  });

  it('an exchange deleted between publish and commit still delivers what it routed at publish', async () => {
    // Same Warren bug: routing at commit finds the exchange gone and returns NO_ROUTE.
    const c = await connect();
    const ch = await c.createChannel();
    const x = uniqueName('tx-doomed-x');
    await ch.assertExchange(x, 'fanout', { durable: false });
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.bindQueue(q, x, '');
    const t = tx(ch);
    await t.select();
    const returns: string[] = [];
    ch.on('return', (m: Message) => returns.push(`${returned(m).replyText} ${m.content}`));
    ch.publish(x, '', Buffer.from('routed'), { mandatory: true });
    await (await c.createChannel()).deleteExchange(x);
    await t.commit();
    expect(returns).toEqual([]);
    expect(await drain(ch, q)).toEqual(['routed']);
  });
});

describe('acknowledging in a transaction', () => {
  it('an ack takes effect only at commit', async () => {
    const { c, q, ch, t } = await inTx(['m']);
    const m = await take(ch, q);
    expect(show(m)).toBe('m');
    ch.ack(m!);
    await t.commit();
    await ch.close(); // nothing unacked is left to requeue
    const other = await c.createChannel();
    expect((await other.checkQueue(q)).messageCount).toBe(0);
    expect(await other.get(q)).toBe(false);
  });

  it('an uncommitted ack is lost when the channel closes: the message is requeued, redelivered', async () => {
    const { c, q, ch } = await inTx(['m']);
    const m = await take(ch, q);
    expect(show(m)).toBe('m');
    ch.ack(m!);
    const other = await c.createChannel();
    await ch.checkQueue(q); // the ack has reached the server
    expect(await other.get(q)).toBe(false); // still unacked on ch, not back in the queue
    await ch.close();
    expect(await drain(other, q)).toEqual(['m (redelivered)']);
  });

  it('tx.rollback of an ack: the message stays unacked, may be acked again, and is requeued on close', async () => {
    const { c, q, ch, t } = await inTx(['m1', 'm2']);
    const m1 = await take(ch, q);
    const m2 = await take(ch, q);
    expect([show(m1), show(m2)]).toEqual(['m1', 'm2']);
    ch.ack(m1!);
    ch.ack(m2!);
    await t.rollback();
    const other = await c.createChannel();
    expect(await other.get(q)).toBe(false);
    ch.ack(m2!); // known again after the rollback
    await t.commit();
    await ch.close();
    expect(await drain(other, q)).toEqual(['m1 (redelivered)']);
  });

  it('ack multiple in a tx covers the tags up to it, at commit', async () => {
    const { c, q, ch, t } = await inTx(['a', 'b', 'c']);
    const got = [await take(ch, q), await take(ch, q), await take(ch, q)];
    ch.ack(got[1]!, true); // a and b
    await t.commit();
    await ch.close();
    const other = await c.createChannel();
    expect(await drain(other, q)).toEqual(['c (redelivered)']);
  });

  it('an unknown delivery tag is refused at once (406), not at commit', async () => {
    const ch = await (await connect()).createChannel();
    await tx(ch).select();
    const closed = serverClose(ch);
    ch.ack({ fields: { deliveryTag: 99 } } as Message);
    const err = await closed;
    expect(err.code).toBe(406);
    expect(err.message).toContain('"PRECONDITION_FAILED - unknown delivery tag 99"');
  });

  it('acking the same tag twice in one tx: 406 unknown delivery tag', async () => {
    // Warren bug (src/amqp/session.ts onSettle): acks in a tx are validated but not taken out
    // of the unacked map, so a second ack of the same tag is accepted. RabbitMQ removes the tags
    // at basic.ack (and puts them back on tx.rollback).
    const { q, ch, t } = await inTx(['m']);
    const m = await take(ch, q);
    const closed = serverClose(ch);
    ch.ack(m!);
    ch.ack(m!);
    const commit = await t.commit().then(() => 'commit-ok', (e: AmqpError) => e.code);
    expect(commit).toBe(406);
    const err = await closed;
    expect(err.code).toBe(406);
    expect(err.message).toContain(`"PRECONDITION_FAILED - unknown delivery tag ${m!.fields.deliveryTag}"`);
  });

  it('basic.recover inside a tx does not requeue a message already acked in that tx', async () => {
    // Same Warren bug as above: the tx-acked message is still in Warren's unacked map, so
    // recover requeues (and redelivers) it, and the commit then acks nothing.
    const { c, q, ch, t } = await inTx(['m']);
    const m = await take(ch, q);
    ch.ack(m!);
    await ch.recover();
    expect(await ch.get(q)).toBe(false);
    await t.commit();
    await ch.close();
    const other = await c.createChannel();
    expect((await other.checkQueue(q)).messageCount).toBe(0);
  });

  it('reject with requeue in a tx: the message goes back to the queue only at commit', async () => {
    const { c, q, ch, t } = await inTx(['m']);
    const m = await take(ch, q);
    ch.reject(m!, true);
    const other = await c.createChannel();
    await ch.checkQueue(q);
    expect(await other.get(q)).toBe(false);
    await t.commit();
    expect(await drain(other, q)).toEqual(['m (redelivered)']);
  });

  it('nack multiple with requeue in a tx: nothing until commit, rolled back, then requeued in order at commit', async () => {
    const { c, q, ch, t } = await inTx(['n1', 'n2', 'n3']);
    const got = [await take(ch, q), await take(ch, q)];
    ch.nack(got[1]!, true, true);
    const other = await c.createChannel();
    expect((await ch.checkQueue(q)).messageCount).toBe(1); // only n3: n1 and n2 are still unacked
    await t.rollback(); // both still unacked on ch
    expect((await other.checkQueue(q)).messageCount).toBe(1);
    ch.nack(got[1]!, true, true);
    await t.commit();
    expect(await drain(other, q)).toEqual(['n1 (redelivered)', 'n2 (redelivered)', 'n3']);
  });

  it('nack without requeue in a tx drops the message at commit', async () => {
    const { c, q, ch, t } = await inTx(['gone', 'kept']);
    const m = await take(ch, q);
    ch.nack(m!, false, false);
    await t.commit();
    await ch.close();
    const other = await c.createChannel();
    expect(await drain(other, q)).toEqual(['kept']);
  });

  it.each([false, true])('a consumer with prefetch 1 (global=%s) gets its next message only once the tx with the ack commits', async (global) => {
    const { c, q, ch, t } = await inTx(['p1', 'p2']);
    await ch.prefetch(1, global);
    const got: ConsumeMessage[] = [];
    let wake: (() => void) | null = null;
    const next = (n: number) => new Promise<void>((r) => { wake = () => { if (got.length >= n) r(); }; wake(); });
    await ch.consume(q, (m) => { got.push(m!); wake?.(); }, { noAck: false });
    await next(1);
    expect(got.map((m) => `${m.content}`)).toEqual(['p1']);
    ch.ack(got[0]!);
    await ch.checkQueue(q); // the ack has reached the server, but is not committed
    expect(got.length).toBe(1);
    await t.commit();
    await next(2);
    expect(got.map((m) => `${m.content}`)).toEqual(['p1', 'p2']);
    ch.ack(got[1]!);
    await t.commit();
    await ch.close();
    const other = await c.createChannel();
    expect((await other.checkQueue(q)).messageCount).toBe(0);
  });
});

it.skipIf(external)('Warren: a committed tx leaves nothing pending on the channel', async () => {
  const { c, q, ch, t } = await inTx(['w']);
  const m = await take(ch, q);
  ch.ack(m!);
  ch.sendToQueue(q, Buffer.from('w2'));
  await t.commit();
  const port = (c.connection as unknown as { stream: Socket }).stream.localPort;
  const server = [...s.warren!.connections].find((x) => x.peer.remotePort === port)!;
  const sessions = [...server.channels.values()].map((x) => x.session).filter((x) => x?.tx);
  expect(sessions.length).toBe(1);
  expect(sessions[0]!.tx).toEqual({ publishes: [], settles: [] });
  expect(sessions[0]!.unacked.size).toBe(0);
  expect((await ch.checkQueue(q)).messageCount).toBe(1);
});
