// Policies and operator policies through the management API and amqplib: their endpoints with
// RabbitMQ's shapes, codes and texts, and their effect on existing and new queues and exchanges
// (message-ttl, max-length, dead-letter-exchange, alternate-exchange), precedence against
// x-arguments, operator policy caps, clearing, and the definitions round trip. RabbitMQ applies
// policies asynchronously, so effects are polled for. Runs against Warren and RabbitMQ 3.10.8.
import { afterAll, describe, expect, it } from 'vitest';
import { httpSuite } from '../test/support/http.js';
import { drain, eventually, numbered, sleep, uniqueName } from '../test/support/suite.js';

const s = httpSuite();
const made: string[] = [];
const exchanges: string[] = [];

afterAll(async () => {
  for (const p of made) {
    await s.api('DELETE', `/api/policies/%2F/${p}`);
    await s.api('DELETE', `/api/operator-policies/%2F/${p}`);
  }
  const c = await s.chan(await s.connect());
  for (const x of exchanges) await c.deleteExchange(x).catch(() => {});
});

type Body = { pattern: string; definition: Record<string, unknown>; priority?: number; 'apply-to'?: string };

async function policy(name: string, body: Body, kind = 'policies'): Promise<void> {
  made.push(name);
  const r = await s.api('PUT', `/api/${kind}/%2F/${name}`, body);
  expect([r.status, r.text]).toEqual([expect.any(Number), '']);
  expect([201, 204]).toContain(r.status);
}

const depth = async (q: string) => (await s.ch.checkQueue(q)).messageCount;

async function fanoutTo(prefix: string): Promise<{ x: string; q: string }> {
  const x = uniqueName(prefix);
  exchanges.push(x);
  await s.ch.assertExchange(x, 'fanout', { durable: false });
  const q = await s.queue(`${prefix}-target`);
  await s.ch.bindQueue(q, x, '');
  return { x, q };
}

describe('management API: policies', () => {
  it('creates (201), updates (204), shows, lists and deletes a policy in RabbitMQ\'s shape', async () => {
    const name = uniqueName('pol-crud');
    made.push(name);
    const body = { pattern: `^${name}`, definition: { 'message-ttl': 1000, 'max-length': 5 }, priority: 1, 'apply-to': 'queues' };
    expect((await s.api('PUT', `/api/policies/%2F/${name}`, body)).status).toBe(201);
    expect((await s.api('PUT', `/api/policies/%2F/${name}`, body)).status).toBe(204);
    const shape = { vhost: '/', name, pattern: `^${name}`, 'apply-to': 'queues', definition: { 'max-length': 5, 'message-ttl': 1000 }, priority: 1 };
    const one = await s.api('GET', `/api/policies/%2F/${name}`);
    expect([one.status, one.body]).toEqual([200, shape]);
    expect(Object.keys(one.body.definition)).toEqual(['max-length', 'message-ttl']);
    expect((await s.api('GET', '/api/policies/%2F')).body).toContainEqual(shape);
    expect((await s.api('GET', '/api/policies')).body).toContainEqual(shape);
    const defaults = uniqueName('pol-defaults');
    made.push(defaults);
    expect((await s.api('PUT', `/api/policies/%2F/${defaults}`, { pattern: `^${defaults}$`, definition: { 'max-length': 1 } })).status).toBe(201);
    expect((await s.api('GET', `/api/policies/%2F/${defaults}`)).body).toMatchObject({ 'apply-to': 'all', priority: 0 });
    expect((await s.api('DELETE', `/api/policies/%2F/${defaults}`)).status).toBe(204);
    expect((await s.api('DELETE', `/api/policies/%2F/${name}`)).status).toBe(204);
    const gone = await s.api('DELETE', `/api/policies/%2F/${name}`);
    expect([gone.status, gone.body]).toEqual([404, { error: 'Object Not Found', reason: 'Not Found' }]);
    expect((await s.api('GET', `/api/policies/%2F/${name}`)).status).toBe(404);
    expect((await s.api('GET', '/api/policies/no-such-vhost')).status).toBe(404);
    const noVhost = await s.api('PUT', '/api/policies/no-such-vhost/p', body);
    expect([noVhost.status, noVhost.body]).toEqual([404, { error: 'not_found', reason: 'vhost_not_found' }]);
  });

  it('refuses bad policies with RabbitMQ\'s texts', async () => {
    const put = async (body: unknown, kind = 'policies') => {
      const r = await s.api('PUT', `/api/${kind}/%2F/pol-refused`, body);
      return [r.status, r.body.reason];
    };
    const failed = (t: string) => [400, `Validation failed\n\n${t}\n`];
    expect(await put({ pattern: 'x' })).toEqual([400, '[{key_missing,definition}]']);
    expect(await put({ definition: { 'max-length': 1 } })).toEqual([400, '[{key_missing,pattern}]']);
    expect(await put('nope')).toEqual([400, 'not_json']);
    expect(await put({ pattern: 'x', definition: {} })).toEqual(failed('no policy provided'));
    expect(await put({ pattern: 'x', definition: { foo: 1, bar: 'b', 'max-length': 1 } })).toEqual(
      failed('[{&lt;&lt;"bar"&gt;&gt;,&lt;&lt;"b"&gt;&gt;},{&lt;&lt;"foo"&gt;&gt;,1}] are not recognised policy settings'));
    expect(await put({ pattern: 'x', definition: { 'message-ttl': 'x' } })).toEqual(failed('&lt;&lt;"x"&gt;&gt; is not a valid message TTL'));
    expect(await put({ pattern: 'x', definition: { 'max-length': -1 } })).toEqual(failed('-1 is not a valid maximum length'));
    expect(await put({ pattern: 'x', definition: { expires: 0 } })).toEqual(failed('0 is not a valid queue expiry'));
    expect(await put({ pattern: 'x', definition: { overflow: 'bad' } })).toEqual(failed('&lt;&lt;"bad"&gt;&gt; is not a valid overflow value'));
    expect(await put({ pattern: 'x', definition: { 'dead-letter-exchange': 1 } })).toEqual(failed('1 is not a valid dead letter exchange name'));
    expect(await put({ pattern: 'x', definition: { 'ha-params': 2 } })).toEqual(
      failed('ha-mode must be specified to specify ha-params, ha-sync-mode or ha-promote-on-shutdown'));
    expect(await put({ pattern: 5, definition: { 'max-length': 1 } })).toEqual(failed('pattern should be a binary but was 5'));
    expect(await put({ pattern: 'x', definition: { 'max-length': 1 }, 'apply-to': 'foo' })).toEqual(
      failed("apply-to 'foo' unrecognised; should be 'queues', 'exchanges' or 'all'"));
    expect(await put({ pattern: 'x', definition: { 'max-length': 1 }, priority: '5' })).toEqual(
      failed('priority should be a number, actually was &lt;&lt;"5"&gt;&gt;'));
    const [status, reason] = await put({ pattern: '(', definition: { 'max-length': 1 } });
    expect([status, String(reason).startsWith('Validation failed\n\npattern should be regular expression but is invalid: ')]).toEqual([400, true]);
    // Operator policies take only the keys that merge by the lowest value, and their texts are not escaped.
    expect(await put({ pattern: 'x', definition: { 'dead-letter-exchange': 'd' } }, 'operator-policies')).toEqual(
      [400, 'Validation failed\n\n[{<<"dead-letter-exchange">>,<<"d">>}] are not recognised policy settings\n']);
    expect(await put({ pattern: 'x', definition: { 'max-length': 'a', foo: 1 } }, 'operator-policies')).toEqual(
      [400, 'Validation failed\n\n<<"a">> is not a valid maximum length\n']);
    expect((await s.api('GET', '/api/policies/%2F/pol-refused')).status).toBe(404);
  });

  it('keeps keys Warren does not act on (ha-mode, queue-mode) as given', async () => {
    const name = uniqueName('pol-kept');
    await policy(name, { pattern: `^${name}`, definition: { 'ha-mode': 'all', 'queue-mode': 'lazy', 'max-length': 3 } });
    expect((await s.api('GET', `/api/policies/%2F/${name}`)).body.definition).toEqual({ 'ha-mode': 'all', 'max-length': 3, 'queue-mode': 'lazy' });
  });
});

describe('policies applied to queues', () => {
  it('message-ttl and max-length reach an existing queue at once and a new one on declare', async () => {
    const prefix = uniqueName('pol-ttl');
    const old = await s.queue(prefix);
    await s.send(old, numbered(6));
    await policy(prefix, { pattern: `^${prefix}`, definition: { 'message-ttl': 300, 'max-length': 4 }, 'apply-to': 'queues' });
    // A lower limit drops heads at once; messages already there keep their (lack of) expiry.
    await eventually(async () => (await depth(old)) === 4, 'the existing queue is cut to 4');
    await sleep(500);
    expect(await drain(s.ch, old)).toEqual(['2', '3', '4', '5']);
    const fresh = await s.queue(`${prefix}-new`);
    await s.send(fresh, ['a']);
    await s.send(old, ['b']);
    await eventually(async () => (await depth(fresh)) === 0 && (await depth(old)) === 0, 'new messages expire in both');
    await eventually(async () => (await s.api('GET', `/api/queues/%2F/${fresh}`)).body.policy === prefix, 'the queue shows its policy',
      { timeoutMs: 15_000, intervalMs: 250 });
    expect((await s.api('GET', `/api/queues/%2F/${fresh}`)).body).toMatchObject({
      policy: prefix, operator_policy: null, effective_policy_definition: { 'max-length': 4, 'message-ttl': 300 }, arguments: {},
    });
  });

  it('the lower length limit wins between an x-argument and a policy; x-overflow beats the policy\'s', async () => {
    const prefix = uniqueName('pol-len');
    await policy(prefix, { pattern: `^${prefix}`, definition: { 'max-length': 5, overflow: 'reject-publish' }, 'apply-to': 'queues' });
    const lower = await s.queue(`${prefix}-a`, { 'x-max-length': 3 });
    const higher = await s.queue(`${prefix}-b`, { 'x-max-length': 8 });
    const dropHead = await s.queue(`${prefix}-c`, { 'x-overflow': 'drop-head' });
    await sleep(200);
    for (const q of [lower, higher, dropHead]) {
      for (const b of numbered(10)) s.pub.sendToQueue(q, Buffer.from(b));
      await s.pub.waitForConfirms().catch(() => {}); // reject-publish nacks
    }
    expect(await depth(lower)).toBe(3);
    expect(await depth(higher)).toBe(5);
    expect(await drain(s.ch, higher)).toEqual(numbered(5)); // reject-publish from the policy: the first five stay
    expect(await drain(s.ch, dropHead)).toEqual(numbered(5, 5)); // drop-head from the argument: the last five
  });

  it('an operator policy caps the policy and the x-argument, and clearing it lifts the cap', async () => {
    const prefix = uniqueName('pol-op');
    await policy(prefix, { pattern: `^${prefix}`, definition: { 'max-length': 5 }, 'apply-to': 'queues' });
    const q = await s.queue(prefix, { 'x-max-length': 8 });
    await policy(prefix, { pattern: `^${prefix}`, definition: { 'max-length': 2, 'message-ttl': 60_000 }, 'apply-to': 'queues' }, 'operator-policies');
    await sleep(200);
    await s.send(q, numbered(4));
    await eventually(async () => (await depth(q)) === 2, 'the operator cap applies');
    expect(await drain(s.ch, q)).toEqual(['2', '3']);
    await eventually(async () => (await s.api('GET', `/api/queues/%2F/${q}`)).body.operator_policy === prefix, 'the queue shows it',
      { timeoutMs: 15_000, intervalMs: 250 });
    expect((await s.api('GET', `/api/queues/%2F/${q}`)).body.effective_policy_definition).toEqual({ 'max-length': 2, 'message-ttl': 60_000 });
    // An operator value above the policy's does not raise it.
    await policy(prefix, { pattern: `^${prefix}`, definition: { 'max-length': 7 }, 'apply-to': 'queues' }, 'operator-policies');
    await sleep(200);
    await s.send(q, numbered(7));
    await eventually(async () => (await depth(q)) === 5, 'the policy\'s 5 applies again');
    expect((await s.api('DELETE', `/api/operator-policies/%2F/${prefix}`)).status).toBe(204);
    expect((await s.api('DELETE', `/api/policies/%2F/${prefix}`)).status).toBe(204);
    await sleep(200);
    await s.send(q, numbered(3));
    await eventually(async () => (await depth(q)) === 8, 'only the argument\'s 8 is left');
  });

  it('dead-letter-exchange from a policy, and the x-argument winning over it', async () => {
    const prefix = uniqueName('pol-dlx');
    const a = await fanoutTo(`${prefix}-dlxa`);
    const b = await fanoutTo(`${prefix}-dlxb`);
    const existing = await s.queue(`${prefix}-q1`);
    await policy(prefix, { pattern: `^${prefix}-q`, definition: { 'dead-letter-exchange': b.x, 'message-ttl': 50 }, 'apply-to': 'queues' });
    const own = await s.queue(`${prefix}-q2`, { 'x-dead-letter-exchange': a.x });
    await sleep(200);
    await s.send(existing, ['to-b']);
    await s.send(own, ['to-a']);
    await eventually(async () => (await depth(b.q)) === 1 && (await depth(a.q)) === 1, 'both dead-lettered');
    expect(await drain(s.ch, b.q)).toEqual(['to-b']);
    expect(await drain(s.ch, a.q)).toEqual(['to-a']);
  });

  it('a policy does not change re-declare equivalence: the declared arguments still compare', async () => {
    const prefix = uniqueName('pol-eq');
    await policy(prefix, { pattern: `^${prefix}`, definition: { 'max-length': 5 }, 'apply-to': 'queues' });
    const q = await s.queue(prefix);
    await sleep(200);
    await s.ch.assertQueue(q, { durable: false }); // as declared: fine
    const c = await s.chan();
    await expect(c.assertQueue(q, { durable: false, arguments: { 'x-max-length': 5 } })).rejects.toThrow(/inequivalent arg 'x-max-length'/);
  });
});

describe('policies applied to exchanges', () => {
  it('alternate-exchange from a policy, the argument winning over it', async () => {
    const prefix = uniqueName('pol-ae');
    const a = await fanoutTo(`${prefix}-aea`);
    const b = await fanoutTo(`${prefix}-aeb`);
    const plain = uniqueName(`${prefix}-x1`);
    const own = uniqueName(`${prefix}-x2`);
    exchanges.push(plain, own);
    await s.ch.assertExchange(plain, 'direct', { durable: false });
    await policy(prefix, { pattern: `^${prefix}-x`, definition: { 'alternate-exchange': b.x }, 'apply-to': 'exchanges' });
    await s.ch.assertExchange(own, 'direct', { durable: false, arguments: { 'alternate-exchange': a.x } });
    await eventually(async () => {
      await s.publish(plain, 'nowhere', ['m']);
      return (await depth(b.q)) > 0;
    }, 'the policy\'s alternate exchange takes unroutable messages');
    await s.publish(own, 'nowhere', ['n']);
    await eventually(async () => (await depth(a.q)) === 1, 'the argument\'s alternate exchange wins');
    await eventually(async () => (await s.api('GET', `/api/exchanges/%2F/${plain}`)).body.policy === prefix, 'the exchange shows its policy');
  });
});

describe('policies in definitions', () => {
  it('export and import them (a round trip restores a deleted policy)', async () => {
    const name = uniqueName('pol-defs');
    await policy(name, { pattern: `^${name}`, definition: { 'max-length': 2, 'ha-mode': 'all' }, priority: 3, 'apply-to': 'queues' });
    const shape = { vhost: '/', name, pattern: `^${name}`, 'apply-to': 'queues', definition: { 'ha-mode': 'all', 'max-length': 2 }, priority: 3 };
    const all = (await s.api('GET', '/api/definitions')).body;
    expect(all.policies).toContainEqual(shape);
    const one = (await s.api('GET', '/api/definitions/%2F')).body;
    expect(one.policies).toContainEqual(shape);
    expect((await s.api('DELETE', `/api/policies/%2F/${name}`)).status).toBe(204);
    const back = await s.api('POST', '/api/definitions/%2F', { policies: one.policies.filter((p: { name: string }) => p.name === name) });
    expect(back.status).toBe(204);
    expect((await s.api('GET', `/api/policies/%2F/${name}`)).body).toEqual(shape);
    const q = await s.queue(name);
    await sleep(200);
    await s.send(q, numbered(4));
    await eventually(async () => (await depth(q)) === 2, 'the imported policy applies');
  });
});
