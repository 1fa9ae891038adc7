// The management API's queue endpoints as scripts and test suites use them: declare, read,
// purge, get and delete queues, with RabbitMQ's status codes and texts. Runs against Warren
// and, in differential mode, RabbitMQ's management plugin.
import { describe, expect, it } from 'vitest';
import { httpSuite, vh } from '../test/support/http.js';
import { eventually, uniqueName } from '../test/support/suite.js';

const s = httpSuite();

const path = (q: string) => `/api/queues/%2F/${encodeURIComponent(q)}`;

/** A queue declared over HTTP, deleted after the suite. */
async function declared(prefix: string, body: object = {}): Promise<string> {
  const q = uniqueName(prefix);
  expect((await s.api('PUT', path(q), body)).status).toBe(201);
  s.removeAfter(q);
  return q;
}

describe('management API: queues', () => {
  it('declares a queue (201, then 204 when it exists) that AMQP clients then see', async () => {
    const q = uniqueName('hq');
    s.removeAfter(q);
    expect((await s.api('PUT', path(q), { durable: true, arguments: { 'x-message-ttl': 60000 } })).status).toBe(201);
    expect((await s.api('PUT', path(q), { durable: true, arguments: { 'x-message-ttl': 60000 } })).status).toBe(204);
    const ok = await s.ch.checkQueue(q);
    expect(ok.queue).toBe(q);
    expect((await s.api('GET', path(q))).body).toMatchObject({
      name: q, vhost: '/', durable: true, auto_delete: false, exclusive: false, arguments: { 'x-message-ttl': 60000 }, type: 'classic',
    });
    // RabbitMQ adds the depth fields with its first statistics event (up to 5 s later).
    await eventually(async () => (await s.api('GET', path(q))).body.messages !== undefined, 'the depth fields appear', { timeoutMs: 15_000, intervalMs: 250 });
    expect((await s.api('GET', path(q))).body).toMatchObject({
      messages: 0, messages_ready: 0, messages_unacknowledged: 0, consumers: 0, state: 'running',
    });
  });

  it('refuses what queue.declare refuses, with RabbitMQ\'s texts', async () => {
    const q = await declared('hq-eq', { durable: true });
    const inequivalent = await s.api('PUT', path(q), { durable: false });
    expect([inequivalent.status, inequivalent.body]).toEqual([400, {
      error: 'bad_request', reason: `inequivalent arg 'durable' for queue '${q}' in vhost '/': received 'false' but current is 'true'`,
    }]);
    const badArg = uniqueName('hq-arg');
    const bad = await s.api('PUT', path(badArg), { arguments: { 'x-max-length': 'a' } });
    expect([bad.status, bad.body]).toEqual([400, {
      error: 'bad_request', reason: `invalid arg 'x-max-length' for queue '${badArg}' in vhost '/': "expected integer, got longstr"`,
    }]);
    const reserved = await s.api('PUT', path('amq.reserved'), {});
    expect([reserved.status, reserved.body]).toEqual([401, { error: 'not_authorised', reason: 'Access refused.' }]);
    const noVhost = await s.api('PUT', `/api/queues/${vh(uniqueName('nov'))}/q`, {});
    expect([noVhost.status, noVhost.body]).toEqual([404, { error: 'not_found', reason: 'vhost_not_found' }]);
  });

  it('shows depth and counters as messages move', async () => {
    const q = await declared('hq-depth');
    await s.send(q, ['a', 'b', 'c']);
    const m = await s.ch.get(q);
    expect(m).not.toBe(false);
    await eventually(async () => {
      const v = (await s.api('GET', path(q))).body;
      return v.messages === 3 && v.messages_ready === 2 && v.messages_unacknowledged === 1 && v.message_stats?.publish === 3;
    }, 'the queue shows 2 ready, 1 unacked, 3 published', { timeoutMs: 15_000, intervalMs: 250 });
    s.ch.ack(m as never);
  });

  it('lists queues, paginated and filtered as RabbitMQ does', async () => {
    const prefix = uniqueName('hq-list');
    for (const n of ['a', 'b', 'c']) await declared(`${prefix}-${n}`);
    const all = (await s.api('GET', '/api/queues')).body as { name: string }[];
    expect(all.filter((q) => q.name.startsWith(prefix))).toHaveLength(3);
    const page = (await s.api('GET', `/api/queues?page=1&page_size=2&name=${prefix}&sort=name&columns=name,durable`)).body;
    expect(page).toMatchObject({ filtered_count: 3, item_count: 2, page: 1, page_count: 2, page_size: 2 });
    expect(Object.keys(page.items[0]).sort()).toEqual(['durable', 'name']);
    expect(page.items.map((q: { name: string }) => q.name)).toEqual([`${prefix}-a`, `${prefix}-b`].map((n) => expect.stringContaining(n)));
    const reversed = (await s.api('GET', `/api/queues/%2F?page=1&name=${prefix}&sort=name&sort_reverse=true&columns=name`)).body;
    expect(reversed.items.map((q: { name: string }) => q.name)[0]).toContain(`${prefix}-c`);
    // Without `page`, RabbitMQ 3.10 ignores `name`: the whole list comes back.
    const unfiltered = (await s.api('GET', `/api/queues?name=${prefix}`)).body as { name: string }[];
    expect(unfiltered.length).toBe(all.length);
    const regex = (await s.api('GET', `/api/queues?page=1&name=${encodeURIComponent(`${prefix}-[ab]`)}&use_regex=true`)).body;
    expect(regex.filtered_count).toBe(2);
    const invalid = await s.api('GET', '/api/queues?page=0');
    expect([invalid.status, invalid.body]).toEqual([400, {
      error: 'invalid_pagination_parameters', reason: 'Invalid pagination parameters: page number 0, page size undefined',
    }]);
    const tooBig = await s.api('GET', '/api/queues?page=1&page_size=1000');
    expect(tooBig.body.reason).toBe('Invalid pagination parameters: page number 1, page size 1000');
  });

  it('gets messages in every ack mode, with properties and payload encodings', async () => {
    const q = await declared('hq-get');
    s.pub.sendToQueue(q, Buffer.from('text body'), { contentType: 'text/plain', headers: { h: 1 }, messageId: 'm1' });
    s.pub.sendToQueue(q, Buffer.from([0xff, 0x00, 0x01]));
    await s.pub.waitForConfirms();
    const missing = await s.api('POST', `${path(q)}/get`, { count: 5 });
    expect([missing.status, missing.body]).toEqual([400, { error: 'bad_request', reason: '[{key_missing,ackmode},{key_missing,encoding}]' }]);
    const peek = await s.api('POST', `${path(q)}/get`, { count: 5, ackmode: 'ack_requeue_true', encoding: 'auto' });
    expect(peek.status).toBe(200);
    expect(peek.body).toEqual([
      {
        payload_bytes: 9, redelivered: false, exchange: '', routing_key: q, message_count: 1,
        properties: { content_type: 'text/plain', headers: { h: 1 }, message_id: 'm1' }, payload: 'text body', payload_encoding: 'string',
      },
      {
        payload_bytes: 3, redelivered: false, exchange: '', routing_key: q, message_count: 0,
        properties: { headers: {} }, payload: '/wAB', payload_encoding: 'base64',
      },
    ]);
    // Requeued: still there, now redelivered.
    const again = await s.api('POST', `${path(q)}/get`, { count: 1, ackmode: 'ack_requeue_false', encoding: 'base64', truncate: 4 });
    expect(again.body).toEqual([expect.objectContaining({ redelivered: true, payload: Buffer.from('text').toString('base64'), payload_encoding: 'base64', payload_bytes: 9 })]);
    const last = await s.api('POST', `${path(q)}/get`, { count: 10, ackmode: 'reject_requeue_false', encoding: 'auto' });
    expect(last.body).toHaveLength(1);
    // A message without any property shows them as [] (an empty Erlang list), not {}.
    const bare = await s.api('POST', '/api/exchanges/%2F/amq.default/publish', { properties: {}, routing_key: q, payload: 'p', payload_encoding: 'string' });
    expect(bare.body).toEqual({ routed: true });
    const got = await s.api('POST', `${path(q)}/get`, { count: 1, ackmode: 'ack_requeue_false', encoding: 'auto' });
    expect(got.body).toEqual([expect.objectContaining({ properties: [], payload: 'p' })]);
    expect((await s.api('POST', `${path(q)}/get`, { count: 1, ackmode: 'ack_requeue_false', encoding: 'auto' })).body).toEqual([]);
  });

  it('purges (DELETE contents) and deletes, with if-empty / if-unused and 404 for a missing queue', async () => {
    const q = await declared('hq-del');
    await s.send(q, ['x', 'y']);
    const notEmpty = await s.api('DELETE', `${path(q)}?if-empty=true`);
    expect([notEmpty.status, notEmpty.body]).toEqual([400, { error: 'bad_request', reason: `queue '${q}' in vhost '/' not empty` }]);
    expect((await s.api('DELETE', `${path(q)}/contents`)).status).toBe(204);
    expect((await s.ch.checkQueue(q)).messageCount).toBe(0);
    const c = await s.chan();
    await c.consume(q, () => {});
    const inUse = await s.api('DELETE', `${path(q)}?if-unused=true`);
    expect([inUse.status, inUse.body]).toEqual([400, { error: 'bad_request', reason: `queue '${q}' in vhost '/' in use` }]);
    await c.close();
    expect((await s.api('DELETE', path(q))).status).toBe(204);
    const gone = await s.api('DELETE', path(q));
    expect([gone.status, gone.body]).toEqual([404, { error: 'Object Not Found', reason: 'Not Found' }]);
    expect((await s.api('GET', path(q))).status).toBe(404);
  });

  it('lists a queue\'s bindings, the default exchange\'s first', async () => {
    const q = await declared('hq-bind');
    await s.ch.bindQueue(q, 'amq.topic', 'a.#');
    const r = (await s.api('GET', `${path(q)}/bindings`)).body;
    expect(r).toEqual([
      { source: '', vhost: '/', destination: q, destination_type: 'queue', routing_key: q, arguments: {}, properties_key: q },
      { source: 'amq.topic', vhost: '/', destination: q, destination_type: 'queue', routing_key: 'a.#', arguments: {}, properties_key: 'a.%23' },
    ]);
  });
});
