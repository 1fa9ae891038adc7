// Exchanges through amqplib: declare/delete/bind rules with RabbitMQ's exact reply codes and
// texts, the predeclared amq.* exchanges, auto-delete, exchange-to-exchange bindings (chains,
// fan-in, loops) and topic/headers routing. Every assertion here also holds against RabbitMQ
// 3.10 (WARREN_EXTERNAL_URL=... differential mode), so names come from uniqueName().
import type { Channel, Message } from 'amqplib';
import { describe, expect, it } from 'vitest';
import type { TopicRouter } from '../src/core/exchange/topic.js';
import { resourceLocked as locked } from '../test/support/amqp.js';
import { drain, external, interopSuite, uniqueName } from '../test/support/suite.js';

// The connections have no 'error' listener (an unexpected connection error fails the run), but
// the one connectionError() opens: channel errors are asserted on the promise.
const s = interopSuite({ onConnectionError: null });
const { connect, chan: channel } = s;

const CODES: Record<string, number> = {
  ACCESS_REFUSED: 403, NOT_FOUND: 404, RESOURCE_LOCKED: 405, PRECONDITION_FAILED: 406, COMMAND_INVALID: 503,
};

/** "404 (NOT-FOUND) with message "NOT_FOUND - ..."", as amqplib formats a close frame. */
function closeText(text: string): string {
  const name = text.slice(0, text.indexOf(' - '));
  return `${CODES[name]} (${name.replace(/_/g, '-')}) with message "${text}"`;
}

/** `p` fails with channel.close carrying `text`, blamed on `method` (amqplib's method name). */
async function channelError(p: Promise<unknown>, method: string, text: string): Promise<void> {
  const err = await p.then(() => null, (e: Error) => e);
  expect(err?.message).toBe(`Operation failed: ${method}; ${closeText(text)}`);
}

/** `op` on a fresh connection closes the whole connection with `text`. */
async function connectionError(op: (ch: Channel) => Promise<unknown>, text: string): Promise<void> {
  const c = await connect();
  const closed = new Promise<Error>((resolve) => c.on('error', resolve));
  const ch = await c.createChannel();
  ch.on('error', () => {});
  await expect(op(ch)).rejects.toThrow('Channel ended, no reply will be forthcoming');
  expect((await closed).message).toBe(`Connection closed: ${closeText(text)}`);
}

/** Publish and wait for the broker's confirm: by then the message is in every queue it routes to. */
const publish = (x: string, key: string, body: string, headers?: Record<string, unknown>) =>
  s.publish(x, key, [body], headers ? { headers } : {});

async function queue(ch: Channel, prefix = 'q'): Promise<string> {
  return (await ch.assertQueue(uniqueName(prefix), { exclusive: true })).queue;
}

const DEFAULT_REFUSED = 'ACCESS_REFUSED - operation not permitted on the default exchange';
const inequivalent = (arg: string, x: string, received: string, current: string) =>
  `PRECONDITION_FAILED - inequivalent arg '${arg}' for exchange '${x}' in vhost '/': received ${received} but current is ${current}`;

describe('exchange.declare', () => {
  it('declares direct, fanout, topic and headers exchanges, which then exist', async () => {
    const ch = await channel();
    for (const type of ['direct', 'fanout', 'topic', 'headers']) {
      const x = uniqueName(type);
      expect(await ch.assertExchange(x, type, { durable: false })).toEqual({ exchange: x });
      await ch.checkExchange(x);
      await ch.deleteExchange(x);
    }
    await ch.close();
  });

  it('declares durable, auto-delete and internal exchanges; the same declaration again is ok', async () => {
    const ch = await channel();
    const flags = [
      { durable: true, autoDelete: false, internal: false },
      { durable: false, autoDelete: true, internal: false },
      { durable: false, autoDelete: false, internal: true },
      { durable: true, autoDelete: true, internal: true },
    ];
    for (const f of flags) {
      const x = uniqueName('flags');
      await ch.assertExchange(x, 'topic', f);
      await ch.assertExchange(x, 'topic', f); // identical re-declare
      await ch.checkExchange(x);
      await ch.deleteExchange(x);
    }
    await ch.close();
  });

  it('passive declare of an existing exchange is ok, of a missing one 404', async () => {
    const ch = await channel();
    const x = uniqueName('passive');
    await ch.assertExchange(x, 'fanout', { durable: false });
    await ch.checkExchange(x);
    await channelError(ch.checkExchange('nope'), 'ExchangeDeclare', "NOT_FOUND - no exchange 'nope' in vhost '/'");
    // The channel error closed only that channel: the connection carries on.
    const again = await channel();
    await again.checkExchange(x);
    await again.deleteExchange(x);
    await again.close();
  });

  it('re-declaring with another type is 406 inequivalent arg \'type\'', async () => {
    const x = uniqueName('ineq');
    const ch = await channel();
    await ch.assertExchange(x, 'direct', { durable: false });
    await channelError(ch.assertExchange(x, 'fanout', { durable: false }), 'ExchangeDeclare',
      inequivalent('type', x, "'fanout'", "'direct'"));
    const ch2 = await channel();
    // Type is checked first when several fields differ.
    await channelError(ch2.assertExchange(x, 'topic', { durable: true, autoDelete: true }), 'ExchangeDeclare',
      inequivalent('type', x, "'topic'", "'direct'"));
    const ch3 = await channel();
    await ch3.deleteExchange(x);
    await ch3.close();
  });

  it('re-declaring with another durable, auto_delete or internal is 406', async () => {
    const x = uniqueName('ineq');
    const setup = await channel();
    await setup.assertExchange(x, 'direct', { durable: false, autoDelete: false, internal: false });
    await channelError((await channel()).assertExchange(x, 'direct', { durable: true }), 'ExchangeDeclare',
      inequivalent('durable', x, "'true'", "'false'"));
    await channelError((await channel()).assertExchange(x, 'direct', { durable: false, autoDelete: true }), 'ExchangeDeclare',
      inequivalent('auto_delete', x, "'true'", "'false'"));
    await channelError((await channel()).assertExchange(x, 'direct', { durable: false, internal: true }), 'ExchangeDeclare',
      inequivalent('internal', x, "'true'", "'false'"));
    // durable is compared before auto_delete, auto_delete before internal.
    await channelError((await channel()).assertExchange(x, 'direct', { durable: true, autoDelete: true, internal: true }),
      'ExchangeDeclare', inequivalent('durable', x, "'true'", "'false'"));
    await channelError((await channel()).assertExchange(x, 'direct', { durable: false, autoDelete: true, internal: true }),
      'ExchangeDeclare', inequivalent('auto_delete', x, "'true'", "'false'"));
    await setup.deleteExchange(x);
    await setup.close();
  });

  it('re-declaring with another alternate-exchange is 406; other arguments are not compared', async () => {
    const x = uniqueName('ae');
    const setup = await channel();
    await setup.assertExchange(x, 'fanout', { durable: false, arguments: { 'x-whatever': 1 } });
    await setup.assertExchange(x, 'fanout', { durable: false, arguments: { 'x-whatever': 2, other: 'x' } });
    await channelError((await channel()).assertExchange(x, 'fanout', { durable: false, alternateExchange: 'ae1' }),
      'ExchangeDeclare', inequivalent('alternate-exchange', x, "the value 'ae1' of type 'longstr'", 'none'));
    const y = uniqueName('ae');
    await setup.assertExchange(y, 'fanout', { durable: false, alternateExchange: 'ae1' });
    await setup.assertExchange(y, 'fanout', { durable: false, alternateExchange: 'ae1' });
    await channelError((await channel()).assertExchange(y, 'fanout', { durable: false }),
      'ExchangeDeclare', inequivalent('alternate-exchange', y, 'none', "the value 'ae1' of type 'longstr'"));
    // Both present: the bare values, without types (rabbit_misc:val/1 of the value alone).
    await channelError((await channel()).assertExchange(y, 'fanout', { durable: false, alternateExchange: 'ae2' }),
      'ExchangeDeclare', inequivalent('alternate-exchange', y, "'ae2'", "'ae1'"));
    await channelError((await channel()).assertExchange(y, 'fanout', { durable: false, arguments: { 'alternate-exchange': 5 } }),
      'ExchangeDeclare', inequivalent('alternate-exchange', y, "'5'", "'ae1'"));
    await channelError((await channel()).assertExchange(y, 'fanout', { durable: false, arguments: { 'alternate-exchange': [1, 'a'] } }),
      'ExchangeDeclare', inequivalent('alternate-exchange', y, '\'[{byte,1},{longstr,<<"a">>}]\'', "'ae1'"));
    // A byte array with the same bytes is the same term as the longstr: equivalent.
    await setup.assertExchange(y, 'fanout', { durable: false, arguments: { 'alternate-exchange': Buffer.from('ae1') } });
    await setup.deleteExchange(x);
    await setup.deleteExchange(y);
    await setup.close();
  });

  it('a new exchange named amq.* is 403 ACCESS_REFUSED', async () => {
    await channelError((await channel()).assertExchange('amq.foo', 'direct', { durable: false }), 'ExchangeDeclare',
      "ACCESS_REFUSED - exchange name 'amq.foo' contains reserved prefix 'amq.*'");
    await channelError((await channel()).assertExchange('amq.', 'fanout', { durable: true }), 'ExchangeDeclare',
      "ACCESS_REFUSED - exchange name 'amq.' contains reserved prefix 'amq.*'");
  });

  it('re-declaring a predeclared amq.* exchange equivalently is ok, inequivalently 406', async () => {
    // RabbitMQ checks the reserved prefix only when the exchange does not exist yet.
    const ch = await channel();
    await ch.assertExchange('amq.direct', 'direct', { durable: true });
    await ch.assertExchange('amq.match', 'headers', { durable: true });
    await channelError(ch.assertExchange('amq.direct', 'fanout', { durable: true }), 'ExchangeDeclare',
      inequivalent('type', 'amq.direct', "'fanout'", "'direct'"));
    await channelError((await channel()).assertExchange('amq.topic', 'topic', { durable: false }), 'ExchangeDeclare',
      inequivalent('durable', 'amq.topic', "'false'", "'true'"));
  });

  it('an unknown exchange type is 503 COMMAND_INVALID, a connection error', async () => {
    await connectionError((ch) => ch.assertExchange(uniqueName('t'), 'nosuchtype'),
      "COMMAND_INVALID - unknown exchange type 'nosuchtype'");
  });

  it('the type is checked before anything else, even the name', async () => {
    await connectionError((ch) => ch.assertExchange('amq.foo', 'x-nosuch'), "COMMAND_INVALID - unknown exchange type 'x-nosuch'");
    await connectionError((ch) => ch.assertExchange('', 'x-nosuch'), "COMMAND_INVALID - unknown exchange type 'x-nosuch'");
    // ...and before equivalence with an existing exchange.
    await connectionError((ch) => ch.assertExchange('amq.direct', 'x-nosuch', { durable: true }),
      "COMMAND_INVALID - unknown exchange type 'x-nosuch'");
  });

  it('declaring the default exchange is 403, passively too', async () => {
    await channelError((await channel()).assertExchange('', 'direct', { durable: true }), 'ExchangeDeclare', DEFAULT_REFUSED);
    await channelError((await channel()).checkExchange(''), 'ExchangeDeclare', DEFAULT_REFUSED);
  });
});

describe('names', () => {
  it('CR and LF are dropped from names in declare, delete and bind (not in publish)', async () => {
    const ch = await channel();
    const x = uniqueName('crlf');
    await ch.assertExchange(`${x}\r\n`, 'fanout', { durable: false });
    await ch.checkExchange(x);
    await ch.checkExchange(`\n${x}`);
    const q = (await ch.assertQueue(`${x}-q\n`, { exclusive: true })).queue;
    expect(q).toBe(`${x}-q`);
    await ch.bindQueue(`${q}\r`, `${x}\n`, '');
    await publish(x, '', 'bound');
    expect(await drain(ch, q)).toEqual(['bound']);
    await ch.unbindQueue(`\r${q}`, `\n${x}`, '');
    await publish(x, '', 'unbound');
    expect(await drain(ch, q)).toEqual([]);
    await ch.deleteExchange(`${x}\n`);
    await channelError(ch.checkExchange(x), 'ExchangeDeclare', `NOT_FOUND - no exchange '${x}' in vhost '/'`);
  });

  it('exchange names may hold any characters, up to 255 bytes', async () => {
    const ch = await channel();
    for (const x of [`${uniqueName('sp')} spaces/slashes#*?`, `${uniqueName('u')}-ünïcødé-✓`, 'x'.repeat(243) + uniqueName('').slice(0, 12)]) {
      await ch.assertExchange(x, 'direct', { durable: false });
      await ch.checkExchange(x);
      await ch.deleteExchange(x);
    }
    await ch.close();
  });
});

describe('exchange.delete', () => {
  it('deletes an exchange; deleting a missing one is ok', async () => {
    const ch = await channel();
    const x = uniqueName('del');
    await ch.assertExchange(x, 'topic', { durable: false });
    await ch.deleteExchange(x);
    await ch.deleteExchange(x);
    await ch.deleteExchange('nope');
    await channelError(ch.checkExchange(x), 'ExchangeDeclare', `NOT_FOUND - no exchange '${x}' in vhost '/'`);
  });

  it('if-unused with a binding is 406 "in use"; without bindings it deletes', async () => {
    const ch = await channel();
    const x = uniqueName('unused');
    const q = await queue(ch);
    await ch.assertExchange(x, 'direct', { durable: false });
    await ch.bindQueue(q, x, 'k');
    await channelError(ch.deleteExchange(x, { ifUnused: true }), 'ExchangeDelete',
      `PRECONDITION_FAILED - exchange '${x}' in vhost '/' in use`);
    const ch2 = await channel();
    await ch2.checkExchange(x); // still there, binding intact
    await ch2.unbindQueue(q, x, 'k');
    await ch2.deleteExchange(x, { ifUnused: true });
    await channelError(ch2.checkExchange(x), 'ExchangeDeclare', `NOT_FOUND - no exchange '${x}' in vhost '/'`);
  });

  it('if-unused counts only bindings with the exchange as source', async () => {
    const ch = await channel();
    const src = uniqueName('src');
    const dst = uniqueName('dst');
    await ch.assertExchange(src, 'fanout', { durable: false });
    await ch.assertExchange(dst, 'fanout', { durable: false });
    await ch.bindExchange(dst, src, '');
    await channelError(ch.deleteExchange(src, { ifUnused: true }), 'ExchangeDelete',
      `PRECONDITION_FAILED - exchange '${src}' in vhost '/' in use`);
    const ch2 = await channel();
    await ch2.deleteExchange(dst, { ifUnused: true }); // only an inbound binding: unused
    await ch2.deleteExchange(src, { ifUnused: true }); // its binding went with dst
    await ch2.close();
  });

  it('deleting a predeclared amq.* exchange (or any amq.* name) is 403', async () => {
    for (const x of ['amq.direct', 'amq.fanout', 'amq.nosuch']) {
      await channelError((await channel()).deleteExchange(x), 'ExchangeDelete',
        `ACCESS_REFUSED - deletion of system exchange '${x}' in vhost '/' not allowed`);
    }
    const ch = await channel();
    await ch.checkExchange('amq.direct');
    await ch.close();
  });

  it('deleting the default exchange is 403', async () => {
    await channelError((await channel()).deleteExchange(''), 'ExchangeDelete', DEFAULT_REFUSED);
  });

  it('deleting an exchange removes its bindings, both ways', async () => {
    const ch = await channel();
    const up = uniqueName('up');
    const x = uniqueName('mid');
    const q = await queue(ch);
    await ch.assertExchange(up, 'fanout', { durable: false });
    await ch.assertExchange(x, 'fanout', { durable: false });
    await ch.bindExchange(x, up, '');
    await ch.bindQueue(q, x, '');
    await publish(up, '', 'before');
    expect(await drain(ch, q)).toEqual(['before']);
    await ch.deleteExchange(x);
    await ch.assertExchange(x, 'fanout', { durable: false });
    await publish(up, '', 'after-up');
    await publish(x, '', 'after-x');
    expect(await drain(ch, q)).toEqual([]);
    await ch.deleteExchange(up, { ifUnused: true }); // its binding to x went with x
    await ch.deleteExchange(x);
    await ch.close();
  });
});

describe('predeclared exchanges', () => {
  it('amq.direct, amq.fanout, amq.topic, amq.headers and amq.match exist', async () => {
    const ch = await channel();
    for (const x of ['amq.direct', 'amq.fanout', 'amq.topic', 'amq.headers', 'amq.match']) await ch.checkExchange(x);
    await ch.close();
  });

  it('route as their types', async () => {
    const ch = await channel();
    const q = await queue(ch, 'amq');
    const key = uniqueName('k');
    await ch.bindQueue(q, 'amq.direct', key);
    await ch.bindQueue(q, 'amq.fanout', '');
    await ch.bindQueue(q, 'amq.topic', `${key}.*`);
    await ch.bindQueue(q, 'amq.headers', '', { 'x-match': 'all', id: key, kind: 'h' });
    await ch.bindQueue(q, 'amq.match', '', { 'x-match': 'any', id: key, kind: 'm' });
    await publish('amq.direct', key, 'direct');
    await publish('amq.direct', `${key}.x`, 'direct-miss');
    await publish('amq.topic', `${key}.x`, 'topic');
    await publish('amq.topic', `${key}.x.y`, 'topic-miss');
    await publish('amq.headers', 'ignored', 'headers', { id: key, kind: 'h', extra: 1 });
    await publish('amq.headers', 'ignored', 'headers-miss', { id: key, kind: 'm' });
    await publish('amq.match', 'ignored', 'match', { kind: 'm' });
    await publish('amq.match', 'ignored', 'match-miss', { kind: 'h' });
    expect(await drain(ch, q)).toEqual(['direct', 'topic', 'headers', 'match']);
    // amq.fanout last: the other queues bound to it (other suites on an external broker) get it too.
    await publish('amq.fanout', 'anything', 'fanout');
    expect(await drain(ch, q)).toEqual(['fanout']);
    await ch.unbindQueue(q, 'amq.fanout', '');
    await ch.close();
  });

  it('the default exchange routes by queue name and cannot be bound to or from', async () => {
    const ch = await channel();
    const q = await queue(ch, 'dflt');
    await publish('', q, 'by-name');
    expect(await drain(ch, q)).toEqual(['by-name']);
    await channelError(ch.bindQueue(q, '', q), 'QueueBind', DEFAULT_REFUSED);
    await channelError((await channel()).unbindQueue(q, '', q), 'QueueUnbind', DEFAULT_REFUSED);
    await channelError((await channel()).bindExchange('amq.fanout', '', 'k'), 'ExchangeBind', DEFAULT_REFUSED);
    await channelError((await channel()).bindExchange('', 'amq.fanout', 'k'), 'ExchangeBind', DEFAULT_REFUSED);
    await channelError((await channel()).unbindExchange('amq.fanout', '', 'k'), 'ExchangeUnbind', DEFAULT_REFUSED);
    await channelError((await channel()).unbindExchange('', 'amq.fanout', 'k'), 'ExchangeUnbind', DEFAULT_REFUSED);
  });

  it('the default-exchange check comes before the queue lookup', async () => {
    await channelError((await channel()).bindQueue('nope', '', 'k'), 'QueueBind', DEFAULT_REFUSED);
    await channelError((await channel()).unbindQueue('nope', '', 'k'), 'QueueUnbind', DEFAULT_REFUSED);
  });
});

describe('queue.bind / queue.unbind errors', () => {
  it('a missing exchange or queue is 404; with both missing the exchange is named', async () => {
    const ch = await channel();
    const q = await queue(ch);
    await channelError(ch.bindQueue(q, 'nope', 'k'), 'QueueBind', "NOT_FOUND - no exchange 'nope' in vhost '/'");
    await channelError((await channel()).bindQueue('nope-q', 'amq.direct', 'k'), 'QueueBind',
      "NOT_FOUND - no queue 'nope-q' in vhost '/'");
    await channelError((await channel()).bindQueue('nope-q', 'nope', 'k'), 'QueueBind',
      "NOT_FOUND - no exchange 'nope' in vhost '/'");
  });

  it('unbinding a binding, queue or exchange that does not exist is ok', async () => {
    const ch = await channel();
    const q = await queue(ch);
    await ch.unbindQueue(q, 'amq.direct', 'never-bound');
    await ch.unbindQueue(q, 'nope', 'k');
    await ch.unbindQueue('nope-q', 'amq.direct', 'k');
    await ch.unbindQueue('nope-q', 'nope', 'k');
    await ch.close();
  });

  it('binding another connection\'s exclusive queue: 404 for a missing exchange first, then 405', async () => {
    const owner = await (await connect()).createChannel();
    const q = await queue(owner, 'excl');
    await channelError((await channel()).bindQueue(q, 'nope', 'k'), 'QueueBind', "NOT_FOUND - no exchange 'nope' in vhost '/'");
    await channelError((await channel()).bindQueue(q, 'amq.direct', 'k'), 'QueueBind',
      locked(q));
  });

  it('an invalid x-match is reported before the exclusive queue is', async () => {
    const owner = await (await connect()).createChannel();
    const q = await queue(owner, 'excl');
    await channelError((await channel()).bindQueue(q, 'amq.headers', '', { 'x-match': 'bad' }), 'QueueBind',
      'PRECONDITION_FAILED - Invalid x-match field value <<"bad">>; expected all, any, all-with-x, or any-with-x');
  });

  it('unbinding from another connection\'s exclusive queue: ok if there is no such binding, else 405', async () => {
    const owner = await (await connect()).createChannel();
    const q = await queue(owner, 'excl');
    await owner.bindQueue(q, 'amq.direct', 'bound');
    const ch = await channel();
    await ch.unbindQueue(q, 'amq.direct', 'never-bound');
    await channelError(ch.unbindQueue(q, 'amq.direct', 'bound'), 'QueueUnbind', locked(q));
  });
});

describe('binding identity', () => {
  it('is the queue, exchange, key and argument table, types included but key order not', async () => {
    const ch = await channel();
    const q = await queue(ch);
    await ch.bindQueue(q, 'amq.direct', q, { a: 1 }); // a: byte 1
    await ch.unbindQueue(q, 'amq.direct', q, { a: { '!': 'long', value: 1 } }); // another binding: nothing removed
    await publish('amq.direct', q, 'still-bound');
    expect(await drain(ch, q)).toEqual(['still-bound']);
    await ch.unbindQueue(q, 'amq.direct', q, { a: 1 });
    await publish('amq.direct', q, 'unbound');
    expect(await drain(ch, q)).toEqual([]);
    await ch.bindQueue(q, 'amq.direct', q, { a: 1, b: 'x' });
    await ch.bindQueue(q, 'amq.direct', q, { b: 'x', a: 1 }); // the same binding again
    await ch.unbindQueue(q, 'amq.direct', q, { b: 'x', a: 1 });
    await publish('amq.direct', q, 'unbound-again');
    expect(await drain(ch, q)).toEqual([]);
    await ch.close();
  });
});

describe('auto-delete exchanges', () => {
  it('go when the last binding is removed, not before', async () => {
    const ch = await channel();
    const x = uniqueName('ad');
    const q1 = await queue(ch);
    const q2 = await queue(ch);
    await ch.assertExchange(x, 'direct', { durable: false, autoDelete: true });
    await ch.checkExchange(x); // never bound: stays
    await ch.bindQueue(q1, x, 'a');
    await ch.bindQueue(q2, x, 'b');
    await ch.unbindQueue(q1, x, 'a');
    await ch.checkExchange(x);
    await ch.unbindQueue(q2, x, 'b');
    await channelError(ch.checkExchange(x), 'ExchangeDeclare', `NOT_FOUND - no exchange '${x}' in vhost '/'`);
  });

  it('go when the queue of the last binding is deleted', async () => {
    const ch = await channel();
    const x = uniqueName('ad');
    const q = await queue(ch);
    await ch.assertExchange(x, 'fanout', { durable: false, autoDelete: true });
    await ch.bindQueue(q, x, '');
    await ch.deleteQueue(q);
    await channelError(ch.checkExchange(x), 'ExchangeDeclare', `NOT_FOUND - no exchange '${x}' in vhost '/'`);
  });

  it('go when the last exchange-to-exchange binding from them goes, not one to them', async () => {
    const ch = await channel();
    const src = uniqueName('ad-src');
    const dst = uniqueName('ad-dst');
    await ch.assertExchange(src, 'fanout', { durable: false, autoDelete: true });
    await ch.assertExchange(dst, 'fanout', { durable: false, autoDelete: true });
    await ch.bindExchange(dst, src, '');
    await ch.unbindExchange(dst, src, '');
    await ch.checkExchange(dst); // it was only a destination
    await channelError(ch.checkExchange(src), 'ExchangeDeclare', `NOT_FOUND - no exchange '${src}' in vhost '/'`);
    const ch2 = await channel();
    await ch2.assertExchange(src, 'fanout', { durable: false, autoDelete: true });
    await ch2.bindExchange(dst, src, '');
    await ch2.deleteExchange(dst); // deleting the destination removes src's last binding
    await channelError(ch2.checkExchange(src), 'ExchangeDeclare', `NOT_FOUND - no exchange '${src}' in vhost '/'`);
  });
});

describe('exchange-to-exchange bindings', () => {
  async function exchanges(ch: Channel, n: number, type = 'fanout'): Promise<string[]> {
    const xs = Array.from({ length: n }, () => uniqueName('e2e'));
    for (const x of xs) await ch.assertExchange(x, type, { durable: false, autoDelete: false });
    return xs;
  }
  async function cleanup(ch: Channel, xs: string[]): Promise<void> {
    for (const x of xs) await ch.deleteExchange(x);
    await ch.close();
  }

  it('route along a chain, each hop applying its own type', async () => {
    const ch = await channel();
    const a = uniqueName('chain-direct');
    const bx = uniqueName('chain-topic');
    const c = uniqueName('chain-fanout');
    await ch.assertExchange(a, 'direct', { durable: false });
    await ch.assertExchange(bx, 'topic', { durable: false });
    await ch.assertExchange(c, 'fanout', { durable: false });
    const q = await queue(ch);
    await ch.bindExchange(bx, a, 'x.y');
    await ch.bindExchange(c, bx, '*.y');
    await ch.bindQueue(q, c, 'ignored');
    await publish(a, 'x.y', 'through');
    await publish(a, 'x.z', 'stopped-at-a');
    await publish(bx, 'z.y', 'from-b');
    await publish(bx, 'z.y.z', 'stopped-at-b');
    expect(await drain(ch, q)).toEqual(['through', 'from-b']);
    await ch.unbindExchange(c, bx, '*.y');
    await publish(a, 'x.y', 'after-unbind');
    expect(await drain(ch, q)).toEqual([]);
    await cleanup(ch, [a, bx, c]);
  });

  it('fan-in: several exchanges into one, each message once', async () => {
    const ch = await channel();
    const [a1, a2, a3, hub] = await exchanges(ch, 4);
    const q = await queue(ch);
    for (const a of [a1, a2, a3]) await ch.bindExchange(hub!, a!, '');
    await ch.bindQueue(q, hub!, '');
    for (const [i, a] of [a1, a2, a3].entries()) await publish(a!, '', `m${i}`);
    expect(await drain(ch, q)).toEqual(['m0', 'm1', 'm2']);
    await cleanup(ch, [a1!, a2!, a3!, hub!]);
  });

  it('a diamond delivers once to the queue both paths reach', async () => {
    const ch = await channel();
    const [top, left, right] = await exchanges(ch, 3);
    const q = await queue(ch);
    const qLeft = await queue(ch);
    await ch.bindExchange(left!, top!, '');
    await ch.bindExchange(right!, top!, '');
    await ch.bindQueue(q, left!, '');
    await ch.bindQueue(q, right!, '');
    await ch.bindQueue(q, top!, ''); // and directly
    await ch.bindQueue(qLeft, left!, '');
    await publish(top!, '', 'one');
    expect(await drain(ch, q)).toEqual(['one']);
    expect(await drain(ch, qLeft)).toEqual(['one']);
    await cleanup(ch, [top!, left!, right!]);
  });

  it('a two-exchange loop (a->b->a) delivers once to each queue', async () => {
    const ch = await channel();
    const [a, bx] = await exchanges(ch, 2);
    const qa = await queue(ch);
    const qb = await queue(ch);
    await ch.bindExchange(bx!, a!, '');
    await ch.bindExchange(a!, bx!, '');
    await ch.bindQueue(qa, a!, '');
    await ch.bindQueue(qb, bx!, '');
    await publish(a!, '', 'from-a');
    await publish(bx!, '', 'from-b');
    expect(await drain(ch, qa)).toEqual(['from-a', 'from-b']);
    expect(await drain(ch, qb)).toEqual(['from-a', 'from-b']);
    await cleanup(ch, [a!, bx!]);
  });

  it('a three-exchange loop (a->b->c->a) delivers once to each queue, whichever exchange is published to', async () => {
    const ch = await channel();
    const xs = await exchanges(ch, 3, 'topic');
    const qs = [await queue(ch), await queue(ch), await queue(ch)];
    for (let i = 0; i < 3; i++) {
      await ch.bindExchange(xs[(i + 1) % 3]!, xs[i]!, '#');
      await ch.bindQueue(qs[i]!, xs[i]!, 'k.#');
    }
    for (const [i, x] of xs.entries()) await publish(x, 'k.v', `via-${i}`);
    await publish(xs[0]!, 'other', 'no-queue-binding-matches');
    for (const q of qs) expect(await drain(ch, q)).toEqual(['via-0', 'via-1', 'via-2']);
    await cleanup(ch, xs);
  });

  it('a self-loop (a->a) delivers once', async () => {
    const ch = await channel();
    const [a] = await exchanges(ch, 1);
    const q = await queue(ch);
    await ch.bindExchange(a!, a!, '');
    await ch.bindQueue(q, a!, '');
    await publish(a!, '', 'self');
    expect(await drain(ch, q)).toEqual(['self']);
    await cleanup(ch, [a!]);
  });

  it('an internal exchange takes messages through bindings', async () => {
    const ch = await channel();
    const front = uniqueName('front');
    const inner = uniqueName('inner');
    await ch.assertExchange(front, 'fanout', { durable: false });
    await ch.assertExchange(inner, 'fanout', { durable: false, internal: true });
    const q = await queue(ch);
    await ch.bindExchange(inner, front, '');
    await ch.bindQueue(q, inner, '');
    await publish(front, '', 'via-internal');
    expect(await drain(ch, q)).toEqual(['via-internal']);
    await cleanup(ch, [front, inner]);
  });

  it('binding from or to a missing exchange is 404; with both missing the source is named', async () => {
    const ch = await channel();
    const [x] = await exchanges(ch, 1);
    await channelError(ch.bindExchange(x!, 'nope-src', ''), 'ExchangeBind', "NOT_FOUND - no exchange 'nope-src' in vhost '/'");
    await channelError((await channel()).bindExchange('nope-dst', x!, ''), 'ExchangeBind',
      "NOT_FOUND - no exchange 'nope-dst' in vhost '/'");
    await channelError((await channel()).bindExchange('nope-dst', 'nope-src', ''), 'ExchangeBind',
      "NOT_FOUND - no exchange 'nope-src' in vhost '/'");
    await cleanup(await channel(), [x!]);
  });

  it('unbinding missing bindings succeeds', async () => {
    const ch = await channel();
    const [a, bx] = await exchanges(ch, 2);
    await ch.unbindExchange(bx!, a!, 'never');
    await ch.bindExchange(bx!, a!, 'k');
    await ch.unbindExchange(bx!, a!, 'k');
    await ch.unbindExchange(bx!, a!, 'k'); // twice
    await ch.unbindExchange('nope-dst', a!, 'k');
    await ch.unbindExchange(bx!, 'nope-src', 'k');
    await ch.unbindExchange('nope-dst', 'nope-src', 'k');
    await cleanup(ch, [a!, bx!]);
  });
});

describe('binding bookkeeping (Warren internals)', () => {
  it.skipIf(external)('deleting exchanges and queues leaves no binding records behind', async () => {
    const vhost = s.warren!.vhost('/')!;
    const ch = await channel();
    const [xa, xb] = [uniqueName('book-a'), uniqueName('book-b')];
    await ch.assertExchange(xa, 'fanout', { durable: false });
    await ch.assertExchange(xb, 'topic', { durable: false });
    const q = await queue(ch, 'book');
    await ch.bindExchange(xb, xa, '');
    await ch.bindExchange(xa, xb, '#');
    await ch.bindQueue(q, xa, '');
    await ch.bindQueue(q, xb, 'a.*');
    await ch.bindQueue(q, 'amq.direct', q);
    const a = vhost.exchanges.get(xa)!;
    const bx = vhost.exchanges.get(xb)!;
    const queueRecord = vhost.queues.get(q)!;
    expect([a.bindings.length, a.inbound.size, bx.bindings.length, bx.inbound.size, queueRecord.bindings.size]).toEqual([2, 1, 2, 1, 3]);
    await ch.deleteExchange(xa);
    expect(bx.inbound.size).toBe(0);
    expect(bx.bindings.map((x) => x.destination.name)).toEqual([q]);
    expect(queueRecord.bindings.size).toBe(2);
    await ch.deleteQueue(q);
    expect(bx.bindings).toEqual([]);
    expect((bx.router as TopicRouter).nodeCount()).toBe(0); // the trie was pruned
    expect(vhost.exchanges.get('amq.direct')!.bindings.some((x) => x.destination.name === q)).toBe(false);
    await ch.deleteExchange(xb);
    await ch.close();
  });
});

describe('alternate exchanges', () => {
  it('take what an exchange\'s own bindings do not, hop by hop, and satisfy mandatory', async () => {
    const ch = await (await connect()).createConfirmChannel();
    const returned: string[] = [];
    ch.on('return', (m: Message) => returned.push(m.content.toString()));
    const n = (s: string) => uniqueName(`ae-${s}`);
    const [main, ae, ae2, chain, loop1, loop2, dangling] =
      [n('main'), n('ae'), n('ae2'), n('chain'), n('loop1'), n('loop2'), n('dangling')];
    await ch.assertExchange(main, 'direct', { durable: false, alternateExchange: ae });
    await ch.assertExchange(ae, 'fanout', { durable: false, alternateExchange: ae2 });
    await ch.assertExchange(ae2, 'fanout', { durable: false });
    await ch.assertExchange(chain, 'direct', { durable: false });
    await ch.assertExchange(loop1, 'direct', { durable: false, alternateExchange: loop2 });
    await ch.assertExchange(loop2, 'direct', { durable: false, alternateExchange: loop1 });
    await ch.assertExchange(dangling, 'direct', { durable: false, alternateExchange: uniqueName('missing') });
    await ch.bindExchange(main, chain, 'to-main');
    const qMain = await queue(ch);
    const qAe = await queue(ch);
    const qAe2 = await queue(ch);
    await ch.bindQueue(qMain, main, 'k');
    await ch.bindQueue(qAe, ae, '');
    await ch.bindQueue(qAe2, ae2, '');
    const send = (x: string, key: string, body: string) => ch.publish(x, key, Buffer.from(body), { mandatory: true });
    send(main, 'k', 'routed');
    send(main, 'other', 'to-ae');
    send(chain, 'to-main', 'chain-then-main-then-ae'); // main matches nothing for 'to-main': its AE
    send(chain, 'zzz', 'chain-has-no-ae');
    send(loop1, 'zzz', 'ae-loop');
    send(dangling, 'zzz', 'ae-missing');
    await ch.waitForConfirms();
    const got = async (q: string) => {
      const out: string[] = [];
      for (let m = await ch.get(q, { noAck: true }); m !== false; m = await ch.get(q, { noAck: true })) {
        out.push(`${m.content}@${m.fields.exchange === main ? 'main' : m.fields.exchange === chain ? 'chain' : '?'}`);
      }
      return out;
    };
    expect(await got(qMain)).toEqual(['routed@main']);
    expect(await got(qAe)).toEqual(['to-ae@main', 'chain-then-main-then-ae@chain']);
    expect(await got(qAe2)).toEqual([]);
    expect(returned).toEqual(['chain-has-no-ae', 'ae-loop', 'ae-missing']);
    await ch.unbindQueue(qAe, ae, '');
    send(main, 'other', 'ae-of-ae');
    await ch.waitForConfirms();
    expect(await got(qAe2)).toEqual(['ae-of-ae@main']);
    for (const x of [main, ae, ae2, chain, loop1, loop2, dangling]) await ch.deleteExchange(x);
  });

  it('a new exchange with an alternate-exchange argument that is not a longstr is 406', async () => {
    const x = uniqueName('bad-ae');
    await channelError((await channel()).assertExchange(x, 'direct', { durable: false, arguments: { 'alternate-exchange': 5 } }),
      'ExchangeDeclare', `PRECONDITION_FAILED - invalid type 'byte' for arg 'alternate-exchange' in exchange '${x}' in vhost '/'`);
    await channelError(
      (await channel()).assertExchange(x, 'direct', { durable: false, arguments: { 'alternate-exchange': Buffer.from('y') } }),
      'ExchangeDeclare', `PRECONDITION_FAILED - invalid type 'binary' for arg 'alternate-exchange' in exchange '${x}' in vhost '/'`);
  });
});

describe('topic routing', () => {
  // Expected per binding key, with RabbitMQ 3.x word splitting: "" is zero words, any other key
  // is split on every dot keeping empty words ("a." is ["a", ""], "." is ["", ""]).
  const KEYS = ['', 'a', 'b', 'a.b', 'a..b', 'a.x.y.b', '.', 'a.', 'a.b.c', '#', '*'];
  const EXPECTED: Record<string, string[]> = {
    '#': KEYS,
    '#.#': KEYS,
    '*.#': KEYS.filter((k) => k !== ''),
    '': [''],
    '*': ['a', 'b', '#', '*'],
    'a.#.b': ['a.b', 'a..b', 'a.x.y.b'],
    'a.*': ['a.b', 'a.'],
    '*.*': ['a.b', '.', 'a.'],
    'a..b': ['a..b'],
    '#.b': ['b', 'a.b', 'a..b', 'a.x.y.b'],
    'a.#': ['a', 'a.b', 'a..b', 'a.x.y.b', 'a.', 'a.b.c'],
    'a.*.#': ['a.b', 'a..b', 'a.x.y.b', 'a.', 'a.b.c'],
    '#.*.#.b': ['a.b', 'a..b', 'a.x.y.b'],
    '.': ['.'],
  };

  it('matches RabbitMQ for "#", "a.#.b", empty words and friends', async () => {
    const ch = await channel();
    const x = uniqueName('topic');
    await ch.assertExchange(x, 'topic', { durable: false });
    const queues: Record<string, string> = {};
    for (const pattern of Object.keys(EXPECTED)) {
      queues[pattern] = await queue(ch, 'topic');
      await ch.bindQueue(queues[pattern], x, pattern);
    }
    for (const key of KEYS) await publish(x, key, key);
    const got: Record<string, string[]> = {};
    for (const pattern of Object.keys(EXPECTED)) got[pattern] = await drain(ch, queues[pattern]!);
    expect(got).toEqual(EXPECTED);
    await ch.deleteExchange(x);
    await ch.close();
  });

  it('one queue bound with several matching patterns gets the message once', async () => {
    const ch = await channel();
    const x = uniqueName('topic');
    await ch.assertExchange(x, 'topic', { durable: false });
    const q = await queue(ch);
    for (const p of ['#', 'a.*', 'a.b', '*.b', 'a.#.b', '#.#']) await ch.bindQueue(q, x, p);
    await publish(x, 'a.b', 'once');
    expect(await drain(ch, q)).toEqual(['once']);
    await ch.deleteExchange(x);
    await ch.close();
  });
});

describe('headers routing', () => {
  it('x-match all, any, all-with-x, any-with-x and the default (all)', async () => {
    const ch = await channel();
    const x = uniqueName('headers');
    await ch.assertExchange(x, 'headers', { durable: false });
    const bindings: Record<string, Record<string, unknown>> = {
      all: { 'x-match': 'all', color: 'red', size: 1 },
      any: { 'x-match': 'any', color: 'red', size: 1 },
      default: { color: 'red', size: 1 },
      allWithX: { 'x-match': 'all-with-x', color: 'red', 'x-tag': 'v' },
      anyWithX: { 'x-match': 'any-with-x', 'x-tag': 'v', color: 'blue' },
      allIgnoresX: { 'x-match': 'all', color: 'red', 'x-tag': 'v' },
      present: { 'x-match': 'all', flag: null }, // void: the header only needs to be present
      allEmpty: { 'x-match': 'all' }, // nothing to match: everything matches
      anyEmpty: { 'x-match': 'any', 'x-tag': 'v' }, // nothing to match: nothing matches
    };
    const queues: Record<string, string> = {};
    for (const [name, args] of Object.entries(bindings)) {
      queues[name] = await queue(ch, 'hdr');
      await ch.bindQueue(queues[name], x, 'routing-key-ignored', args);
    }
    const messages: [string, Record<string, unknown> | undefined][] = [
      ['red-1', { color: 'red', size: 1 }],
      ['red-1-long', { color: 'red', size: { '!': 'long', value: 1 } }], // 1 == 1 whatever the int width
      ['red-1.0', { color: 'red', size: { '!': 'double', value: 1 } }], // Erlang: 1 == 1.0
      ['red-2', { color: 'red', size: 2 }],
      ['blue', { color: 'blue' }],
      ['red-x', { color: 'red', 'x-tag': 'v' }],
      ['x-only', { 'x-tag': 'v' }],
      ['flag', { flag: 'anything' }],
      ['none', undefined],
      ['size-str', { color: 'green', size: '1' }], // a string is not the number 1
    ];
    for (const [body, headers] of messages) {
      s.pub.publish(x, 'whatever', Buffer.from(body), headers ? { headers } : {});
    }
    await s.pub.waitForConfirms();
    const got: Record<string, string[]> = {};
    for (const name of Object.keys(bindings)) got[name] = await drain(ch, queues[name]!);
    const all = messages.map(([m]) => m);
    expect(got).toEqual({
      all: ['red-1', 'red-1-long', 'red-1.0'],
      any: ['red-1', 'red-1-long', 'red-1.0', 'red-2', 'red-x'],
      default: ['red-1', 'red-1-long', 'red-1.0'],
      allWithX: ['red-x'],
      anyWithX: ['blue', 'red-x', 'x-only'],
      allIgnoresX: ['red-1', 'red-1-long', 'red-1.0', 'red-2', 'red-x'],
      present: ['flag'],
      allEmpty: all,
      anyEmpty: [],
    });
    await ch.deleteExchange(x);
    await ch.close();
  });

  it('an invalid x-match value on queue.bind is 406', async () => {
    const ch = await channel();
    const q = await queue(ch);
    await channelError(ch.bindQueue(q, 'amq.headers', '', { 'x-match': 'some' }), 'QueueBind',
      'PRECONDITION_FAILED - Invalid x-match field value <<"some">>; expected all, any, all-with-x, or any-with-x');
    await channelError((await channel()).bindQueue(q, 'amq.match', '', { 'x-match': 'ALL' }), 'QueueBind',
      'PRECONDITION_FAILED - Invalid x-match field value <<"ALL">>; expected all, any, all-with-x, or any-with-x');
  });

  it('an x-match of another type than longstr is 406', async () => {
    const ch = await channel();
    const q = await queue(ch);
    await channelError(ch.bindQueue(q, 'amq.headers', '', { 'x-match': 5 }), 'QueueBind',
      'PRECONDITION_FAILED - Invalid x-match field type byte (value 5); expected longstr');
    await channelError((await channel()).bindQueue(q, 'amq.headers', '', { 'x-match': true }), 'QueueBind',
      'PRECONDITION_FAILED - Invalid x-match field type bool (value true); expected longstr');
  });

  it('x-match is validated on exchange.bind from a headers exchange, not on other types or unbind', async () => {
    const ch = await channel();
    const q = await queue(ch);
    await ch.bindQueue(q, 'amq.direct', uniqueName('k'), { 'x-match': 'some' }); // not a headers exchange
    await ch.unbindQueue(q, 'amq.headers', '', { 'x-match': 'some' });
    const dst = uniqueName('dst');
    await ch.assertExchange(dst, 'fanout', { durable: false });
    await channelError(ch.bindExchange(dst, 'amq.headers', '', { 'x-match': 'some' }), 'ExchangeBind',
      'PRECONDITION_FAILED - Invalid x-match field value <<"some">>; expected all, any, all-with-x, or any-with-x');
    await (await channel()).deleteExchange(dst);
  });

  it('a missing queue is reported before an invalid x-match', async () => {
    await channelError((await channel()).bindQueue('nope-q', 'amq.headers', '', { 'x-match': 'some' }), 'QueueBind',
      "NOT_FOUND - no queue 'nope-q' in vhost '/'");
  });
});
