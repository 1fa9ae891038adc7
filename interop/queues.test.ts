// queue.* through amqplib: declare (server-named, passive, flags, argument equivalence),
// exclusive and auto-delete life cycles, counts, purge, delete, reserved names and the
// "empty name = last declared queue" shortcut. Every assertion also holds against RabbitMQ
// (WARREN_EXTERNAL_URL=... differential mode).
import type { Channel, ChannelModel, Message } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { amqpError, resourceLocked as locked } from '../test/support/amqp.js';
import { eventually, external, interopSuite, uniqueName } from '../test/support/suite.js';

const s = interopSuite();
const { connect, chan } = s;
const publish = (q: string, ...bodies: string[]) => s.send(q, bodies);

/** Passive declare on a throw-away channel: does the queue exist (for this connection)? */
async function exists(q: string, c: ChannelModel = s.main): Promise<boolean> {
  const ch = await chan(c);
  try {
    await ch.checkQueue(q);
    await ch.close();
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return false;
    throw err;
  }
}

describe('queue.declare', () => {
  it('names a queue declared with an empty name amq.gen-..., a new one each time', async () => {
    const ch = await chan();
    const a = await ch.assertQueue('', { exclusive: true });
    const c = await ch.assertQueue('', { exclusive: true });
    expect(a).toEqual({ queue: expect.stringMatching(/^amq\.gen-[A-Za-z0-9_-]{22}$/), messageCount: 0, consumerCount: 0 });
    expect(c.queue).toMatch(/^amq\.gen-[A-Za-z0-9_-]{22}$/);
    expect(c.queue).not.toBe(a.queue);
    expect(await exists(a.queue)).toBe(true);
    await ch.close();
  });

  it('passive declare of an existing queue returns its counts; of a missing one is 404', async () => {
    const q = uniqueName('pq');
    const ch = await chan();
    await ch.assertQueue(q, { durable: false, autoDelete: false });
    await publish(q, 'a', 'b');
    expect(await ch.checkQueue(q)).toEqual({ queue: q, messageCount: 2, consumerCount: 0 });
    const missing = uniqueName('nope');
    await expect(ch.checkQueue(missing)).rejects.toThrow(amqpError(404, `NOT_FOUND - no queue '${missing}' in vhost '/'`));
    await ch.deleteQueue(q).catch(() => {});
  });

  it('re-declaring with the same durable / exclusive / auto-delete flags and arguments is fine', async () => {
    const ch = await chan();
    for (const opts of [
      { durable: true, autoDelete: false, exclusive: false },
      { durable: false, autoDelete: true, exclusive: false },
      { durable: false, autoDelete: false, exclusive: true },
      { durable: true, autoDelete: true, exclusive: true },
    ]) {
      const q = uniqueName('flags');
      const args = { 'x-message-ttl': 60000, 'x-max-length': 100, 'x-dead-letter-exchange': 'dlx' };
      expect(await ch.assertQueue(q, { ...opts, arguments: args })).toEqual({ queue: q, messageCount: 0, consumerCount: 0 });
      expect(await ch.assertQueue(q, { ...opts, arguments: args })).toEqual({ queue: q, messageCount: 0, consumerCount: 0 });
      await ch.deleteQueue(q);
    }
    await ch.close();
  });

  it("durable mismatch is 406 inequivalent arg 'durable'", async () => {
    const q = uniqueName('dur');
    await (await chan()).assertQueue(q, { durable: false });
    const ch = await chan();
    await expect(ch.assertQueue(q, { durable: true })).rejects.toThrow(amqpError(406,
      `PRECONDITION_FAILED - inequivalent arg 'durable' for queue '${q}' in vhost '/': received 'true' but current is 'false'`));
    const ch2 = await chan();
    await ch2.deleteQueue(q);
  });

  it("auto_delete mismatch is 406 inequivalent arg 'auto_delete'", async () => {
    const q = uniqueName('ad');
    const ch0 = await chan();
    await ch0.assertQueue(q, { durable: false, autoDelete: true });
    const ch = await chan();
    await expect(ch.assertQueue(q, { durable: false, autoDelete: false })).rejects.toThrow(amqpError(406,
      `PRECONDITION_FAILED - inequivalent arg 'auto_delete' for queue '${q}' in vhost '/': received 'false' but current is 'true'`));
    await ch0.deleteQueue(q);
  });

  it('x-message-ttl 1000 then 2000 is 406', async () => {
    const q = uniqueName('ttl');
    const ch0 = await chan();
    await ch0.assertQueue(q, { durable: false, messageTtl: 1000 });
    const ch = await chan();
    await expect(ch.assertQueue(q, { durable: false, messageTtl: 2000 })).rejects.toThrow(amqpError(406,
      `PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue '${q}' in vhost '/': received '2000' but current is '1000'`));
    await ch0.deleteQueue(q);
  });

  it('x-max-length given then missing is 406, naming the value and type', async () => {
    const q = uniqueName('maxlen');
    const ch0 = await chan();
    await ch0.assertQueue(q, { durable: false, maxLength: 1000 }); // amqplib sends 1000 as a short
    const ch = await chan();
    await expect(ch.assertQueue(q, { durable: false })).rejects.toThrow(amqpError(406,
      `PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue '${q}' in vhost '/': received none but current is the value '1000' of type 'short'`));
    await ch0.deleteQueue(q);
  });

  it('integer widths are equivalent: byte, signed int and long all mean 10', async () => {
    const q = uniqueName('width');
    const ch = await chan();
    await ch.assertQueue(q, { durable: false, arguments: { 'x-max-length': 10 } }); // amqplib: byte
    await ch.assertQueue(q, { durable: false, arguments: { 'x-max-length': { '!': 'long', value: 10 } } });
    await ch.assertQueue(q, { durable: false, arguments: { 'x-max-length': { '!': 'int', value: 10 } } });
    await ch.assertQueue(q, { durable: false, arguments: { 'x-max-length': { '!': 'short', value: 10 } } });
    await ch.deleteQueue(q);
  });

  it('unknown x- arguments are not compared', async () => {
    const q = uniqueName('unk');
    const ch = await chan();
    await ch.assertQueue(q, { durable: false, arguments: { 'x-whatever': 1, 'x-foo': 'bar' } });
    await ch.assertQueue(q, { durable: false, arguments: { 'x-whatever': 'something else' } });
    await ch.assertQueue(q, { durable: false });
    await ch.deleteQueue(q);
  });

  it('invalid values of the queue arguments RabbitMQ knows are 406 invalid arg', async () => {
    const long = (value: number) => ({ '!': 'long', value });
    const cases: [Record<string, unknown>, string, string][] = [
      [{ 'x-message-ttl': '1000' }, 'x-message-ttl', '"expected integer, got longstr"'],
      [{ 'x-message-ttl': 1.5 }, 'x-message-ttl', '"expected integer, got double"'],
      [{ 'x-message-ttl': { '!': 'float', value: 1.5 } }, 'x-message-ttl', '"expected integer, got float"'],
      [{ 'x-message-ttl': true }, 'x-message-ttl', '"expected integer, got bool"'],
      [{ 'x-message-ttl': { '!': 'timestamp', value: 5 } }, 'x-message-ttl', '"expected integer, got timestamp"'],
      [{ 'x-message-ttl': -1 }, 'x-message-ttl', '{value_negative,-1}'],
      [{ 'x-message-ttl': long(2 ** 40) }, 'x-message-ttl', '{value_too_large,1099511627776}'],
      [{ 'x-message-ttl': long(315360000001) }, 'x-message-ttl', '{value_too_large,315360000001}'],
      [{ 'x-expires': 0 }, 'x-expires', '{value_zero,0}'],
      [{ 'x-expires': -1 }, 'x-expires', '{value_negative,-1}'],
      [{ 'x-expires': '5' }, 'x-expires', '"expected integer, got longstr"'],
      [{ 'x-expires': long(2 ** 40) }, 'x-expires', '{value_too_large,1099511627776}'],
      [{ 'x-max-length': -1 }, 'x-max-length', '{value_negative,-1}'],
      [{ 'x-max-length': { '!': 'int', value: -5 } }, 'x-max-length', '{value_negative,-5}'],
      [{ 'x-max-length': 'a' }, 'x-max-length', '"expected integer, got longstr"'],
      [{ 'x-max-length-bytes': -1 }, 'x-max-length-bytes', '{value_negative,-1}'],
      [{ 'x-max-length-bytes': 1.5 }, 'x-max-length-bytes', '"expected integer, got double"'],
      [{ 'x-overflow': 'foo' }, 'x-overflow', 'invalid_overflow'],
      [{ 'x-overflow': 1 }, 'x-overflow', '{unacceptable_type,byte}'],
      [{ 'x-overflow': true }, 'x-overflow', '{unacceptable_type,bool}'],
      [{ 'x-dead-letter-routing-key': 'k' }, 'x-dead-letter-routing-key', 'routing_key_but_no_dlx_defined'],
      [{ 'x-dead-letter-exchange': 'dlx', 'x-dead-letter-routing-key': 5 }, 'x-dead-letter-routing-key', '{unacceptable_type,byte}'],
      [{ 'x-max-priority': 300 }, 'x-max-priority', '{max_value_exceeded,300}'],
      [{ 'x-max-priority': 256 }, 'x-max-priority', '{max_value_exceeded,256}'],
      [{ 'x-max-priority': -1 }, 'x-max-priority', '{value_negative,-1}'],
      [{ 'x-max-priority': '7' }, 'x-max-priority', '"expected integer, got longstr"'],
      [{ 'x-queue-mode': 'fast' }, 'x-queue-mode', `"unsupported queue mode 'fast'"`],
      [{ 'x-queue-mode': 5 }, 'x-queue-mode', '{unacceptable_type,byte}'],
      [{ 'x-queue-version': 3 }, 'x-queue-version', `"unsupported queue version '3'"`],
      [{ 'x-queue-version': 'a' }, 'x-queue-version', '"expected integer, got longstr"'],
      [{ 'x-queue-type': 'weird' }, 'x-queue-type', `"unsupported queue type 'weird'"`],
      [{ 'x-queue-type': 'Classic' }, 'x-queue-type', `"unsupported queue type 'Classic'"`],
      [{ 'x-queue-type': 5 }, 'x-queue-type', '{unacceptable_type,byte}'],
      [{ 'x-single-active-consumer': 'yes' }, 'x-single-active-consumer', '{unacceptable_type,longstr}'],
      [{ 'x-single-active-consumer': 1 }, 'x-single-active-consumer', '{unacceptable_type,byte}'],
      // The first failing check in RabbitMQ's order is the one reported.
      [{ 'x-max-length': -1, 'x-message-ttl': -1, 'x-expires': 0, 'x-overflow': 'foo' }, 'x-expires', '{value_zero,0}'],
      [{ 'x-overflow': 'foo', 'x-max-length': -1 }, 'x-max-length', '{value_negative,-1}'],
      [{ 'x-max-length-bytes': -1, 'x-max-length': -1 }, 'x-max-length', '{value_negative,-1}'],
      [{ 'x-dead-letter-routing-key': 'k', 'x-max-length': -1 }, 'x-dead-letter-routing-key', 'routing_key_but_no_dlx_defined'],
      [{ 'x-dead-letter-routing-key': 'k', 'x-message-ttl': -1 }, 'x-message-ttl', '{value_negative,-1}'],
      [{ 'x-queue-type': 'weird', 'x-message-ttl': -1 }, 'x-queue-type', `"unsupported queue type 'weird'"`],
      [{ 'x-max-priority': 300, 'x-overflow': 'foo' }, 'x-max-priority', '{max_value_exceeded,300}'],
      [{ 'x-queue-version': 3, 'x-single-active-consumer': 'y' }, 'x-queue-version', `"unsupported queue version '3'"`],
    ];
    for (const [args, key, why] of cases) {
      const q = uniqueName('inv');
      await expect((await chan()).assertQueue(q, { durable: false, arguments: args }), JSON.stringify(args)).rejects.toThrow(amqpError(406,
        `PRECONDITION_FAILED - invalid arg '${key}' for queue '${q}' in vhost '/': ${why}`));
      expect(await exists(q), key).toBe(false);
    }
    // The dead-letter exchange's type is checked first, by the channel, with its own text.
    for (const [args, type] of [
      [{ 'x-dead-letter-exchange': 5 }, 'byte'],
      [{ 'x-dead-letter-exchange': true }, 'bool'],
      [{ 'x-dead-letter-exchange': long(5), 'x-message-ttl': -1, 'x-queue-type': 'weird' }, 'long'],
    ] as const) {
      const q = uniqueName('inv');
      await expect((await chan()).assertQueue(q, { durable: false, arguments: args })).rejects.toThrow(amqpError(406,
        `PRECONDITION_FAILED - invalid type '${type}' for arg 'x-dead-letter-exchange' in queue '${q}' in vhost '/'`));
    }
  });

  // Deliberate difference: Warren has classic and stream queues (interop/streams.test.ts), not
  // quorum ones. RabbitMQ creates quorum queues; Warren refuses them with the text RabbitMQ gives
  // for a queue type it does not know, rather than give classic semantics to an application that
  // relies on theirs.
  it.skipIf(external)('x-queue-type quorum is refused as an unsupported queue type', async () => {
    const q = uniqueName('qt');
    await expect((await chan()).assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'quorum' } })).rejects.toThrow(amqpError(406,
      `PRECONDITION_FAILED - invalid arg 'x-queue-type' for queue '${q}' in vhost '/': "unsupported queue type 'quorum'"`));
  });

  it('arguments of other queue types are refused for a classic queue, after the value checks', async () => {
    // x-delivery-limit: RabbitMQ 3.10 refuses it; Warren's classic queues retry (interop/retry.test.ts).
    for (const key of ['x-max-in-memory-length', 'x-max-in-memory-bytes', ...(external ? ['x-delivery-limit'] : []), 'x-max-age',
      'x-quorum-initial-group-size', 'x-initial-cluster-size', 'x-stream-max-segment-size-bytes', 'x-queue-leader-locator', 'x-dead-letter-strategy']) {
      const q = uniqueName('inv');
      const value = key === 'x-max-age' ? '1D' : key.endsWith('locator') || key.endsWith('strategy') ? 'balanced' : 5;
      await expect((await chan()).assertQueue(q, { durable: false, arguments: { [key]: value } }), key).rejects.toThrow(amqpError(406,
        `PRECONDITION_FAILED - invalid arg '${key}' for queue '${q}' in vhost '/' of queue type rabbit_classic_queue`));
    }
    const q = uniqueName('inv');
    await expect((await chan()).assertQueue(q, { durable: false, arguments: { 'x-max-in-memory-length': 'a', 'x-message-ttl': -1 } }))
      .rejects.toThrow(amqpError(406, `PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue '${q}' in vhost '/': {value_negative,-1}`));
  });

  it('valid values, boundaries and unknown x- arguments are accepted and kept', async () => {
    const ch = await chan();
    const long = (value: number) => ({ '!': 'long', value });
    for (const args of [
      { 'x-message-ttl': 0 }, { 'x-message-ttl': long(315360000000) }, { 'x-expires': 1 }, { 'x-expires': long(315360000000) },
      { 'x-max-length': 0 }, { 'x-max-length-bytes': 0 }, { 'x-max-length': long(2 ** 40) }, { 'x-max-priority': 0 }, { 'x-max-priority': 255 },
      { 'x-overflow': 'drop-head' }, { 'x-overflow': 'reject-publish' }, { 'x-overflow': 'reject-publish-dlx' },
      { 'x-dead-letter-exchange': '' }, { 'x-dead-letter-exchange': 'does-not-exist', 'x-dead-letter-routing-key': 'k' },
      { 'x-queue-mode': 'lazy' }, { 'x-queue-mode': 'default' }, { 'x-queue-version': 1 }, { 'x-queue-version': 2 },
      { 'x-queue-type': 'classic' }, { 'x-single-active-consumer': true }, { 'x-single-active-consumer': false },
      { 'x-message-ttl': { '!': 'unsignedbyte', value: 5 } }, { 'x-whatever': 1, 'x-foo': 'bar' },
    ]) {
      const q = uniqueName('ok');
      expect(await ch.assertQueue(q, { durable: false, arguments: args }), JSON.stringify(args)).toEqual({ queue: q, messageCount: 0, consumerCount: 0 });
      await ch.deleteQueue(q);
    }
  });

  it('arguments are only validated for a new queue: re-declaring runs the equivalence check alone', async () => {
    const q = uniqueName('reval');
    const ch = await chan();
    await ch.assertQueue(q, { durable: false, arguments: { 'x-whatever': 1 } });
    // An invalid value of an argument that is not compared on re-declare: no error.
    expect(await ch.assertQueue(q, { durable: false, arguments: { 'x-max-age': -7 } })).toMatchObject({ queue: q });
    // A compared one: the equivalence error, not the validation one.
    await expect((await chan()).assertQueue(q, { durable: false, arguments: { 'x-message-ttl': -1 } })).rejects.toThrow(amqpError(406,
      `PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue '${q}' in vhost '/': received the value '-1' of type 'byte' but current is none`));
    await ch.deleteQueue(q);
  });

  it('the classic queue arguments are compared on re-declare, other queue types\' are not', async () => {
    const q = uniqueName('eqv');
    const ch = await chan();
    await ch.assertQueue(q, { durable: false });
    for (const [key, value, shown] of [
      ['x-max-priority', 5, "the value '5' of type 'byte'"], ['x-overflow', 'reject-publish', "the value 'reject-publish' of type 'longstr'"],
      ['x-queue-mode', 'lazy', "the value 'lazy' of type 'longstr'"], ['x-queue-version', 2, "the value '2' of type 'byte'"],
      ['x-single-active-consumer', true, "the value 'true' of type 'bool'"], ['x-queue-master-locator', 'min-masters', "the value 'min-masters' of type 'longstr'"],
      ['x-max-length-bytes', 10, "the value '10' of type 'byte'"], ['x-queue-type', 'quorum', "the value 'quorum' of type 'longstr'"],
    ] as const) {
      await expect((await chan()).assertQueue(q, { durable: false, arguments: { [key]: value } }), key).rejects.toThrow(amqpError(406,
        `PRECONDITION_FAILED - inequivalent arg '${key}' for queue '${q}' in vhost '/': received ${shown} but current is none`));
    }
    for (const key of ['x-max-age', ...(external ? ['x-delivery-limit'] : []), 'x-max-in-memory-length', 'x-queue-leader-locator', 'x-dead-letter-strategy']) {
      expect(await ch.assertQueue(q, { durable: false, arguments: { [key]: 'anything' } }), key).toMatchObject({ queue: q });
    }
    // No x-queue-type means classic.
    expect(await ch.assertQueue(q, { durable: false, arguments: { 'x-queue-type': 'classic' } })).toMatchObject({ queue: q });
    const q2 = uniqueName('eqv');
    await ch.assertQueue(q2, { durable: false, arguments: { 'x-queue-type': 'classic' } });
    expect(await ch.assertQueue(q2, { durable: false })).toMatchObject({ queue: q2 });
    await ch.deleteQueue(q);
    await ch.deleteQueue(q2);
  });

  it('declare-ok carries the ready message count and the consumer count', async () => {
    const q = uniqueName('counts');
    const ch = await chan();
    await ch.assertQueue(q, { durable: false });
    await publish(q, '1', '2', '3');
    expect(await ch.assertQueue(q, { durable: false })).toEqual({ queue: q, messageCount: 3, consumerCount: 0 });
    // Two consumers (prefetch 1 each) holding one unacked message each: those are not ready.
    const holders = [await chan(), await chan()];
    await Promise.all(holders.map(async (h) => {
      await h.prefetch(1);
      await new Promise<void>((resolve) => { void h.consume(q, () => resolve()); });
    }));
    const other = await chan();
    expect(await other.assertQueue(q, { durable: false })).toEqual({ queue: q, messageCount: 1, consumerCount: 2 });
    // Closing the consumers' channels requeues their messages and removes the consumers.
    for (const h of holders) await h.close();
    await eventually(async () => (await other.checkQueue(q)).messageCount === 3, 'the held messages are back');
    expect(await other.checkQueue(q)).toEqual({ queue: q, messageCount: 3, consumerCount: 0 });
    await other.deleteQueue(q);
  });

  it('names starting amq. are 403 ACCESS_REFUSED', async () => {
    const ch = await chan();
    await expect(ch.assertQueue('amq.myqueue', { durable: false })).rejects.toThrow(amqpError(403,
      "ACCESS_REFUSED - queue name 'amq.myqueue' contains reserved prefix 'amq.*'"));
    // A passive declare just does not find it.
    const ch2 = await chan();
    await expect(ch2.checkQueue('amq.myqueue')).rejects.toThrow(amqpError(404, "NOT_FOUND - no queue 'amq.myqueue' in vhost '/'"));
  });
});

describe('exclusive queues', () => {
  it('the owning connection may use it from any of its channels', async () => {
    const owner = await connect();
    const ch1 = await chan(owner);
    const { queue: q } = await ch1.assertQueue(uniqueName('ex'), { exclusive: true, durable: false });
    const ch2 = await chan(owner);
    expect(await ch2.assertQueue(q, { exclusive: true, durable: false })).toEqual({ queue: q, messageCount: 0, consumerCount: 0 });
    await ch2.bindQueue(q, 'amq.fanout', '');
    await ch2.unbindQueue(q, 'amq.fanout', '');
    expect(await ch2.get(q)).toBe(false);
    await ch2.purgeQueue(q);
    // Closing the declaring channel does not delete it.
    await ch1.close();
    expect(await exists(q, owner)).toBe(true);
    await owner.close();
  });

  it('is 405 RESOURCE_LOCKED from another connection, for every queue method', async () => {
    const owner = await connect();
    const och = await chan(owner);
    const q = uniqueName('ex');
    await och.assertQueue(q, { exclusive: true, durable: false });
    await och.bindQueue(q, 'amq.direct', 'k');
    const other = await connect();
    const attempts: [string, (ch: Channel) => Promise<unknown>][] = [
      ['declare', (ch) => ch.assertQueue(q, { exclusive: true, durable: false })],
      ['declare non-exclusive', (ch) => ch.assertQueue(q, { exclusive: false, durable: false })],
      ['passive declare', (ch) => ch.checkQueue(q)],
      ['basic.get', (ch) => ch.get(q)],
      ['basic.consume', (ch) => ch.consume(q, () => {})],
      ['queue.bind', (ch) => ch.bindQueue(q, 'amq.fanout', '')],
      ['queue.unbind', (ch) => ch.unbindQueue(q, 'amq.direct', 'k')],
      ['queue.purge', (ch) => ch.purgeQueue(q)],
      ['queue.delete', (ch) => ch.deleteQueue(q)],
    ];
    for (const [what, attempt] of attempts) {
      const ch = await chan(other);
      await expect(attempt(ch), what).rejects.toThrow(amqpError(405, locked(q)));
    }
    // The connection itself is fine and the queue is still there for its owner.
    expect(await exists(q, owner)).toBe(true);
    await owner.close();
  });

  it('the owner re-declaring it non-exclusive, or anyone declaring an existing queue exclusive, is 405', async () => {
    const owner = await connect();
    const q = uniqueName('ex');
    await (await chan(owner)).assertQueue(q, { exclusive: true, durable: false });
    await expect((await chan(owner)).assertQueue(q, { exclusive: false, durable: false })).rejects.toThrow(amqpError(405, locked(q)));
    const shared = uniqueName('shared');
    const ch = await chan();
    await ch.assertQueue(shared, { durable: false });
    await expect((await chan()).assertQueue(shared, { exclusive: true, durable: false })).rejects.toThrow(amqpError(405, locked(shared)));
    await ch.deleteQueue(shared);
    await owner.close();
  });

  it('vanishes when its connection closes, with its bindings', async () => {
    const owner = await connect();
    const ch = await chan(owner);
    const q = uniqueName('ex');
    await ch.assertQueue(q, { exclusive: true, durable: false });
    await ch.bindQueue(q, 'amq.fanout', '');
    await owner.close();
    await eventually(async () => !(await exists(q)), `exclusive queue ${q} is gone`);
    // Re-creating it under the same name gives an empty queue with no old binding.
    const c2 = await chan();
    await c2.assertQueue(q, { durable: false });
    await publish(q, 'x');
    expect(await c2.checkQueue(q)).toMatchObject({ messageCount: 1 });
    await c2.deleteQueue(q);
  });
});

describe('auto-delete queues', () => {
  it('go when their last consumer is cancelled', async () => {
    const q = uniqueName('ad');
    const ch = await chan();
    await ch.assertQueue(q, { durable: false, autoDelete: true });
    const c1 = await ch.consume(q, () => {});
    const c2 = await ch.consume(q, () => {});
    await ch.cancel(c1.consumerTag);
    expect(await exists(q)).toBe(true);
    await ch.cancel(c2.consumerTag);
    await eventually(async () => !(await exists(q)), `auto-delete queue ${q} is gone`);
  });

  it('go when the channel of their last consumer closes', async () => {
    const q = uniqueName('ad');
    const ch = await chan();
    await ch.assertQueue(q, { durable: false, autoDelete: true });
    await ch.consume(q, () => {});
    await ch.close();
    await eventually(async () => !(await exists(q)), `auto-delete queue ${q} is gone`);
  });

  it('stay if they never had a consumer; basic.get does not count', async () => {
    const q = uniqueName('ad');
    const ch = await chan();
    await ch.assertQueue(q, { durable: false, autoDelete: true });
    await publish(q, 'one');
    const m = await ch.get(q, { noAck: true });
    expect(m && m.content.toString()).toBe('one');
    expect(await ch.get(q)).toBe(false);
    await ch.close();
    expect(await exists(q)).toBe(true);
    await (await chan()).deleteQueue(q);
  });
});

describe('queue.purge', () => {
  it('returns the number of ready messages removed; unacked ones stay', async () => {
    const q = uniqueName('purge');
    const ch = await chan();
    await ch.assertQueue(q, { durable: false });
    await publish(q, '1', '2', '3', '4', '5');
    const held = await ch.get(q); // unacked: not purged
    expect(held && held.content.toString()).toBe('1');
    expect(await ch.purgeQueue(q)).toEqual({ messageCount: 4 });
    expect(await ch.purgeQueue(q)).toEqual({ messageCount: 0 });
    ch.nack(held as Message, false, true);
    const back = await ch.get(q, { noAck: true });
    expect(back && [back.content.toString(), back.fields.redelivered, back.fields.messageCount]).toEqual(['1', true, 0]);
    await ch.deleteQueue(q);
  });

  it('of a missing queue is 404', async () => {
    const q = uniqueName('nope');
    await expect((await chan()).purgeQueue(q)).rejects.toThrow(amqpError(404, `NOT_FOUND - no queue '${q}' in vhost '/'`));
  });
});

describe('queue.delete', () => {
  it('returns the number of ready messages and cancels nothing else', async () => {
    const q = uniqueName('del');
    const ch = await chan();
    await ch.assertQueue(q, { durable: false });
    await publish(q, 'a', 'b');
    expect(await ch.deleteQueue(q)).toEqual({ messageCount: 2 });
    expect(await exists(q)).toBe(false);
  });

  it('deleting a missing queue succeeds with count 0', async () => {
    expect(await (await chan()).deleteQueue(uniqueName('nope'))).toEqual({ messageCount: 0 });
  });

  it('if-unused with a consumer is 406 ... in use', async () => {
    const q = uniqueName('del');
    const ch = await chan();
    await ch.assertQueue(q, { durable: false });
    await ch.consume(q, () => {});
    const ch2 = await chan();
    await expect(ch2.deleteQueue(q, { ifUnused: true })).rejects.toThrow(amqpError(406,
      `PRECONDITION_FAILED - queue '${q}' in vhost '/' in use`));
    expect(await ch.deleteQueue(q, { ifEmpty: true })).toEqual({ messageCount: 0 });
  });

  it('if-empty with ready messages is 406 ... not empty', async () => {
    const q = uniqueName('del');
    const ch = await chan();
    await ch.assertQueue(q, { durable: false });
    await publish(q, 'a');
    const ch2 = await chan();
    await expect(ch2.deleteQueue(q, { ifEmpty: true })).rejects.toThrow(amqpError(406,
      `PRECONDITION_FAILED - queue '${q}' in vhost '/' not empty`));
    expect(await ch.deleteQueue(q, { ifUnused: true })).toEqual({ messageCount: 1 });
  });

  it('if-empty only looks at ready messages, not unacked ones', async () => {
    const q = uniqueName('del');
    const ch = await chan();
    await ch.assertQueue(q, { durable: false });
    await publish(q, 'a');
    expect(await ch.get(q)).toBeTruthy();
    expect(await ch.deleteQueue(q, { ifEmpty: true })).toEqual({ messageCount: 0 });
    expect(await exists(q)).toBe(false);
  });
});

describe('an empty queue name means the last queue declared on the channel', () => {
  it('for bind, get, purge, consume and delete', async () => {
    const ch = await chan();
    const q = uniqueName('last');
    await ch.assertQueue(q, { durable: false });
    await ch.bindQueue('', 'amq.direct', 'last-key');
    await s.publish('amq.direct', 'last-key', ['one', 'two', 'three']);
    const m = await ch.get('', { noAck: true });
    expect(m && m.content.toString()).toBe('one');
    expect(m && m.fields.messageCount).toBe(2);
    expect(await ch.purgeQueue('')).toEqual({ messageCount: 2 });
    const got = new Promise<string>((r) => { void ch.consume('', (msg) => { if (msg) r(msg.content.toString()); }, { noAck: true }); });
    await publish(q, 'four');
    expect(await got).toBe('four');
    expect(await ch.deleteQueue('')).toEqual({ messageCount: 0 });
    expect(await exists(q)).toBe(false);
  });

  it('bind with an empty queue name and empty routing key binds with the queue name as key', async () => {
    const ch = await chan();
    const { queue: q } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue('', 'amq.direct', '');
    await s.publish('amq.direct', q, ['by name']);
    const m = await ch.get(q, { noAck: true });
    expect(m && m.content.toString()).toBe('by name');
    await ch.unbindQueue('', 'amq.direct', '');
    await s.publish('amq.direct', q, ['unbound']);
    expect(await ch.get(q)).toBe(false);
  });

  it('is 404 "no previously declared queue" on a channel that declared none', async () => {
    for (const attempt of [
      (ch: Channel) => ch.get(''),
      (ch: Channel) => ch.purgeQueue(''),
      (ch: Channel) => ch.consume('', () => {}),
      (ch: Channel) => ch.deleteQueue(''),
      (ch: Channel) => ch.bindQueue('', 'amq.direct', 'k'),
    ]) {
      const ch = await chan();
      await expect(attempt(ch)).rejects.toThrow(amqpError(404, 'NOT_FOUND - no previously declared queue'));
    }
  });
});
