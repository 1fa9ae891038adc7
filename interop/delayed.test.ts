// The delayed-message exchange (x-delayed-message) through amqplib, as the
// rabbitmq_delayed_message_exchange plugin documents it: x-delayed-type, the x-delay header,
// routing by the bindings of the moment the delay ends, due-time order, `x-delay: -<delay>` on
// delivery, confirms at publish, mandatory not returned. RabbitMQ 3.10 lacks the plugin, so the
// suite skips in differential mode. Restarts and SIGKILL: patterns-durability.test.ts.
import type { Channel, ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { amqpError, channelError, connectionError, rpc } from '../test/support/amqp.js';
import { external, Inbox, interopSuite, sleep, uniqueName } from '../test/support/suite.js';

const s = interopSuite();
const DELAYED = 'x-delayed-message';
// tx.select / tx.commit by method id (class << 16 | method): amqplib has no tx API.
const TX_SELECT = (90 << 16) | 10;
const TX_SELECT_OK = (90 << 16) | 11;
const TX_COMMIT = (90 << 16) | 20;
const TX_COMMIT_OK = (90 << 16) | 21;

async function delayed(ch: Channel, type = 'direct', args: Record<string, unknown> = {}): Promise<string> {
  const x = uniqueName('delayed');
  await ch.assertExchange(x, DELAYED, { durable: false, arguments: { 'x-delayed-type': type, ...args } });
  return x;
}

/** An exclusive queue bound to `x` with `key`, and an inbox consuming it (no-ack). */
async function consumer(ch: Channel, x: string, key = 'k'): Promise<{ q: string; inbox: Inbox; at: number[] }> {
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, x, key);
  const inbox = new Inbox();
  const at: number[] = [];
  await ch.consume(queue, (m) => { at.push(Date.now()); inbox.cb(m); }, { noAck: true });
  return { q: queue, inbox, at };
}

const headers = (m: ConsumeMessage) => m.properties.headers as Record<string, unknown>;

describe.skipIf(external)('x-delayed-message: declare', () => {
  it('refuses a missing x-delayed-type, itself as the type (406) and an unknown type (503)', async () => {
    for (const [args, text] of [
      [{}, "Invalid argument, 'x-delayed-type' must bean existing exchnage type"],
      [{ 'x-delayed-type': 5 }, "Invalid argument, 'x-delayed-type' must bean existing exchnage type"],
      [{ 'x-delayed-type': DELAYED }, "Invalid argument, 'x-delayed-message' can't be used for 'x-delayed-type'"],
    ] as const) {
      const ch = await s.chan();
      const err = channelError(ch);
      ch.assertExchange(uniqueName('d'), DELAYED, { durable: false, arguments: args }).catch(() => {});
      expect(String(await err)).toMatch(amqpError(406, `PRECONDITION_FAILED - ${text}`));
    }
    const c = await s.connect();
    const closed = connectionError(c);
    const ch = await s.chan(c);
    ch.assertExchange(uniqueName('d'), DELAYED, { arguments: { 'x-delayed-type': 'nope' } }).catch(() => {});
    expect(String(await closed)).toMatch(amqpError(503, "COMMAND_INVALID - unknown exchange type 'nope'"));
  });

  it('compares x-delayed-type on re-declare; the inner type checks arguments and bindings', async () => {
    const ch = await s.chan();
    const x = await delayed(ch, 'direct');
    await ch.assertExchange(x, DELAYED, { durable: false, arguments: { 'x-delayed-type': 'direct' } });
    const err = channelError(ch);
    ch.assertExchange(x, DELAYED, { durable: false, arguments: { 'x-delayed-type': 'topic' } }).catch(() => {});
    expect(String(await err)).toMatch(amqpError(406,
      `PRECONDITION_FAILED - inequivalent arg 'x-delayed-type' for exchange '${x}' in vhost '/': received 'topic' but current is 'direct'`));
    const ch2 = await s.chan();
    const e2 = channelError(ch2);
    ch2.assertExchange(uniqueName('d'), DELAYED, { arguments: { 'x-delayed-type': 'x-consistent-hash', 'hash-property': 'app_id' } }).catch(() => {});
    expect(String(await e2)).toMatch(amqpError(406, 'PRECONDITION_FAILED - Unsupported property: app_id'));
    const ch3 = await s.chan();
    const chx = await delayed(ch3, 'x-consistent-hash');
    const { queue } = await ch3.assertQueue('', { exclusive: true });
    const e3 = channelError(ch3);
    ch3.bindQueue(queue, chx, 'abc').catch(() => {});
    expect(String(await e3)).toMatch(amqpError(406, 'PRECONDITION_FAILED - The binding key must be an integer: <<"abc">>'));
  });
});

describe.skipIf(external)('x-delayed-message: delivery', () => {
  it('holds a message for x-delay ms, then delivers it with x-delay negated and everything else intact', async () => {
    const ch = await s.chan();
    const x = await delayed(ch);
    const { inbox, at } = await consumer(ch, x);
    const sent = Date.now();
    await s.publish(x, 'k', ['later'], { headers: { 'x-delay': 300, other: 'kept' }, messageId: 'm1', contentType: 'text/plain', priority: 3 });
    await sleep(150);
    expect(inbox.msgs).toHaveLength(0);
    const [m] = await inbox.waitFor(1);
    expect(at[0]! - sent).toBeGreaterThanOrEqual(300);
    expect(at[0]! - sent).toBeLessThan(800);
    expect(headers(m!)).toEqual({ 'x-delay': -300, other: 'kept' });
    expect([m!.fields.exchange, m!.fields.routingKey, m!.properties.messageId, m!.properties.contentType, m!.properties.priority])
      .toEqual([x, 'k', 'm1', 'text/plain', 3]);
  });

  it('routes at once without x-delay, with 0, a negative, an unparsable or a too-large one; converts strings and floats', async () => {
    const ch = await s.chan();
    const x = await delayed(ch);
    const { inbox } = await consumer(ch, x);
    for (const d of [undefined, 0, -50, 'soon', 2 ** 32]) {
      await s.publish(x, 'k', [`now:${String(d)}`], d === undefined ? {} : { headers: { 'x-delay': d } });
    }
    await inbox.waitFor(5, 1000);
    await s.publish(x, 'k', ['str'], { headers: { 'x-delay': '200' } });
    await s.publish(x, 'k', ['float'], { headers: { 'x-delay': 150.9 } });
    await sleep(80);
    expect(inbox.msgs).toHaveLength(5);
    await inbox.waitFor(7);
    expect(inbox.bodies.slice(5)).toEqual(['float', 'str']);
    expect(headers(inbox.msgs[5]!)['x-delay']).toBe(-150);
  });

  it('delivers in due-time order, not publish order', async () => {
    const ch = await s.chan();
    const x = await delayed(ch);
    const { inbox } = await consumer(ch, x);
    for (const d of [400, 100, 250, 100]) s.pub.publish(x, 'k', Buffer.from(`d${d}`), { headers: { 'x-delay': d }, messageId: String(d) });
    await s.pub.waitForConfirms();
    await inbox.waitFor(4);
    expect(inbox.bodies).toEqual(['d100', 'd100', 'd250', 'd400']);
  });

  it('routes by the bindings that exist when the delay ends', async () => {
    const ch = await s.chan();
    const x = await delayed(ch);
    const a = await consumer(ch, x, 'k');
    const { queue: late } = await ch.assertQueue('', { exclusive: true });
    await s.publish(x, 'k', ['which'], { headers: { 'x-delay': 250 } });
    await ch.unbindQueue(a.q, x, 'k');
    await ch.bindQueue(late, x, 'k');
    await sleep(450);
    expect(a.inbox.msgs).toHaveLength(0);
    expect((await ch.checkQueue(late)).messageCount).toBe(1);
  });

  it('routes by topic, fanout, headers and x-consistent-hash rules', async () => {
    const ch = await s.chan();
    const cases: [string, string, string, object][] = [
      ['topic', 'a.*', 'a.b', {}], ['fanout', '', 'anything', {}], ['x-consistent-hash', '1', 'key', {}],
      ['headers', '', '', { 'x-match': 'all', kind: 'job' }],
    ];
    for (const [type, bindKey, key, bindArgs] of cases) {
      const x = await delayed(ch, type);
      const { queue } = await ch.assertQueue('', { exclusive: true });
      await ch.bindQueue(queue, x, bindKey, bindArgs);
      await s.publish(x, key, [type], { headers: { 'x-delay': 50, kind: 'job' } });
      await sleep(200);
      const m = await ch.get(queue, { noAck: true });
      expect(m && m.content.toString(), type).toBe(type);
    }
  });

  it('confirms at publish and returns nothing for mandatory', async () => {
    const ch = await s.chan();
    const x = await delayed(ch);
    const { inbox } = await consumer(ch, x);
    const returned: string[] = [];
    const onReturn = (m: { content: Buffer }) => returned.push(m.content.toString());
    s.pub.on('return', onReturn);
    const t0 = Date.now();
    await new Promise<void>((resolve, reject) => s.pub.publish(x, 'k', Buffer.from('m'), { mandatory: true, headers: { 'x-delay': 500 } },
      (err) => (err ? reject(err) : resolve())));
    expect(Date.now() - t0).toBeLessThan(300);
    await inbox.waitFor(1);
    expect(returned).toEqual([]);
    s.pub.off('return', onReturn);
  });

  it('holds a message published in a transaction from the commit on', async () => {
    const ch = await s.chan();
    const x = await delayed(ch);
    const { inbox } = await consumer(ch, x);
    const t = await s.chan();
    await rpc(t, TX_SELECT, {}, TX_SELECT_OK);
    t.publish(x, 'k', Buffer.from('tx'), { headers: { 'x-delay': 200 } });
    await sleep(300);
    expect(inbox.msgs).toHaveLength(0); // not committed yet
    await rpc(t, TX_COMMIT, {}, TX_COMMIT_OK);
    const t0 = Date.now();
    await inbox.waitFor(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
  });

  it('drops what it holds when the exchange is deleted', async () => {
    const ch = await s.chan();
    const x = await delayed(ch);
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, x, 'k');
    await s.publish(x, 'k', ['gone'], { headers: { 'x-delay': 150 } });
    await ch.deleteExchange(x);
    await sleep(300);
    expect((await ch.checkQueue(queue)).messageCount).toBe(0);
  });
});
