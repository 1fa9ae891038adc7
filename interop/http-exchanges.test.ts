// The management API's exchange and binding endpoints: declare, list and delete exchanges,
// publish through one, and bindings in all four URL forms. Runs against Warren and, in
// differential mode, RabbitMQ's management plugin.
import { describe, expect, it } from 'vitest';
import { httpSuite } from '../test/support/http.js';
import { eventually, getOne, uniqueName } from '../test/support/suite.js';

const s = httpSuite();
const xpath = (x: string) => `/api/exchanges/%2F/${encodeURIComponent(x)}`;
const created: string[] = [];

async function exchange(prefix: string, body: object = { type: 'direct' }): Promise<string> {
  const x = uniqueName(prefix);
  expect((await s.api('PUT', xpath(x), body)).status).toBe(201);
  created.push(x);
  return x;
}

describe('management API: exchanges', () => {
  it('lists the predeclared exchanges, the default one as ""', async () => {
    const names = ((await s.api('GET', '/api/exchanges/%2F')).body as { name: string }[]).map((x) => x.name);
    expect(names).toEqual(expect.arrayContaining(['', 'amq.direct', 'amq.fanout', 'amq.headers', 'amq.match', 'amq.topic']));
    const dflt = (await s.api('GET', '/api/exchanges/%2F/amq.default')).body;
    expect(dflt).toMatchObject({ name: '', type: 'direct', durable: true, auto_delete: false, internal: false, vhost: '/' });
  });

  it('declares (201, 204 again), shows and deletes an exchange; AMQP sees it', async () => {
    const x = await exchange('hx', { type: 'topic', durable: false, arguments: { 'alternate-exchange': 'ae' } });
    expect((await s.api('PUT', xpath(x), { type: 'topic', durable: false, arguments: { 'alternate-exchange': 'ae' } })).status).toBe(204);
    await s.ch.checkExchange(x);
    expect((await s.api('GET', xpath(x))).body).toMatchObject({
      name: x, type: 'topic', durable: false, auto_delete: false, internal: false, arguments: { 'alternate-exchange': 'ae' }, vhost: '/',
    });
    const inequivalent = await s.api('PUT', xpath(x), { type: 'direct', durable: false });
    expect([inequivalent.status, inequivalent.body]).toEqual([400, {
      error: 'bad_request', reason: `inequivalent arg 'type' for exchange '${x}' in vhost '/': received 'direct' but current is 'topic'`,
    }]);
    expect((await s.api('DELETE', xpath(x))).status).toBe(204);
    expect((await s.api('GET', xpath(x))).status).toBe(404);
    expect((await s.api('DELETE', xpath(x))).status).toBe(404);
  });

  it('refuses an unknown type, a reserved name, deleting amq.*, and an exchange in use', async () => {
    const unknown = await s.api('PUT', xpath(uniqueName('hx-t')), { type: 'nope' });
    expect([unknown.status, unknown.body]).toEqual([400, { error: 'bad_request', reason: "unknown exchange type 'nope'" }]);
    expect((await s.api('PUT', xpath('amq.mine'), { type: 'direct' })).body).toEqual({ error: 'not_authorised', reason: 'Access refused.' });
    expect((await s.api('DELETE', xpath('amq.direct'))).body).toEqual({ error: 'not_authorised', reason: 'Access refused.' });
    const x = await exchange('hx-used');
    const q = await s.queue('hx-used-q');
    await s.ch.bindQueue(q, x, 'k');
    const inUse = await s.api('DELETE', `${xpath(x)}?if-unused=true`);
    expect([inUse.status, inUse.body]).toEqual([400, { error: 'bad_request', reason: `exchange '${x}' in vhost '/' in use` }]);
  });

  it('publishes through an exchange: routed true or false, the message arrives with its properties', async () => {
    const x = await exchange('hx-pub');
    const q = await s.queue('hx-pub-q');
    await s.ch.bindQueue(q, x, 'rk');
    const routed = await s.api('POST', `${xpath(x)}/publish`, {
      properties: { delivery_mode: 2, headers: { a: 'b' }, content_type: 'application/json' },
      routing_key: 'rk', payload: '{"n":1}', payload_encoding: 'string',
    });
    expect([routed.status, routed.body]).toEqual([200, { routed: true }]);
    const m = await getOne(s.ch, q);
    expect(m.content.toString()).toBe('{"n":1}');
    expect(m.properties).toMatchObject({ deliveryMode: 2, contentType: 'application/json', headers: { a: 'b' } });
    expect(m.fields).toMatchObject({ exchange: x, routingKey: 'rk' });
    const unrouted = await s.api('POST', `${xpath(x)}/publish`, { properties: {}, routing_key: 'nowhere', payload: 'AAE=', payload_encoding: 'base64' });
    expect(unrouted.body).toEqual({ routed: false });
    const missing = await s.api('POST', `${xpath(x)}/publish`, { routing_key: 'rk' });
    expect([missing.status, missing.body]).toEqual([400, {
      error: 'bad_request', reason: '[{key_missing,properties},\n {key_missing,payload},\n {key_missing,payload_encoding}]',
    }]);
  });

  it('counts publish_in and publish_out', async () => {
    const x = await exchange('hx-stats', { type: 'fanout' });
    for (const p of ['a', 'b']) await s.ch.bindQueue(await s.queue(`hx-stats-${p}`), x, '');
    await s.publish(x, '', ['1', '2', '3']);
    await eventually(async () => {
      const st = (await s.api('GET', xpath(x))).body.message_stats;
      return st?.publish_in === 3 && st?.publish_out === 6;
    }, 'publish_in 3, publish_out 6', { timeoutMs: 15_000, intervalMs: 250 });
  });
});

describe('management API: bindings', () => {
  it('creates a binding (201 + Location), lists it in every form, and deletes it by its properties key', async () => {
    const x = await exchange('hb', { type: 'topic' });
    const q = await s.queue('hb-q');
    const between = `/api/bindings/%2F/e/${encodeURIComponent(x)}/q/${encodeURIComponent(q)}`;
    const made = await s.api('POST', between, { routing_key: 'a.#', arguments: {} });
    expect(made.status).toBe(201);
    expect(made.headers.get('location')).toBe(`${encodeURIComponent(q)}/a.%2523`);
    const list = (await s.api('GET', between)).body;
    expect(list).toEqual([{ source: x, vhost: '/', destination: q, destination_type: 'queue', routing_key: 'a.#', arguments: {}, properties_key: 'a.%23' }]);
    const all = (await s.api('GET', '/api/bindings/%2F')).body as { source: string; destination: string }[];
    expect(all).toEqual(expect.arrayContaining([
      expect.objectContaining({ source: x, destination: q }), expect.objectContaining({ source: '', destination: q, routing_key: q }),
    ]));
    expect((await s.api('GET', `/api/exchanges/%2F/${encodeURIComponent(x)}/bindings/source`)).body).toHaveLength(1);
    const one = await s.api('GET', `${between}/${encodeURIComponent(list[0].properties_key)}`);
    expect(one.body).toEqual(list[0]);
    // Routed through it over AMQP, then gone after DELETE.
    await s.publish(x, 'a.b', ['m']);
    expect((await getOne(s.ch, q)).content.toString()).toBe('m');
    expect((await s.api('DELETE', `${between}/${encodeURIComponent(list[0].properties_key)}`)).status).toBe(204);
    expect((await s.api('GET', between)).body).toEqual([]);
    expect((await s.api('DELETE', `${between}/${encodeURIComponent(list[0].properties_key)}`)).status).toBe(404);
  });

  it('binds exchange to exchange', async () => {
    const src = await exchange('hb-src', { type: 'fanout' });
    const dst = await exchange('hb-dst', { type: 'fanout' });
    const q = await s.queue('hb-e2e-q');
    await s.ch.bindQueue(q, dst, '');
    const path = `/api/bindings/%2F/e/${encodeURIComponent(src)}/e/${encodeURIComponent(dst)}`;
    expect((await s.api('POST', path, { routing_key: 'k' })).status).toBe(201);
    expect((await s.api('GET', path)).body).toEqual([expect.objectContaining({ source: src, destination: dst, destination_type: 'exchange', routing_key: 'k' })]);
    expect((await s.api('GET', `/api/exchanges/%2F/${encodeURIComponent(dst)}/bindings/destination`)).body).toHaveLength(1);
    await s.publish(src, 'k', ['through']);
    expect((await getOne(s.ch, q)).content.toString()).toBe('through');
  });

  it('with arguments, the properties key carries a hash that names the binding', async () => {
    const x = await exchange('hb-args', { type: 'headers' });
    const q = await s.queue('hb-args-q');
    const between = `/api/bindings/%2F/e/${encodeURIComponent(x)}/q/${encodeURIComponent(q)}`;
    await s.api('POST', between, { routing_key: '', arguments: { 'x-match': 'any', k: 1 } });
    const [b] = (await s.api('GET', between)).body;
    expect(b.arguments).toEqual({ 'x-match': 'any', k: 1 });
    expect(b.properties_key).toMatch(/^~[A-Za-z0-9_-]+$/);
    expect((await s.api('DELETE', `${between}/${encodeURIComponent(b.properties_key)}`)).status).toBe(204);
  });

  it('refuses bindings to what does not exist, and bad x-match', async () => {
    const x = await exchange('hb-bad', { type: 'headers' });
    const q = await s.queue('hb-bad-q');
    expect((await s.api('POST', `/api/bindings/%2F/e/${encodeURIComponent(x)}/q/nope-${uniqueName('q')}`, {})).status).toBe(404);
    const bad = await s.api('POST', `/api/bindings/%2F/e/${encodeURIComponent(x)}/q/${encodeURIComponent(q)}`, { arguments: { 'x-match': 'one' } });
    expect([bad.status, bad.body]).toEqual([400, {
      error: 'bad_request', reason: 'Invalid x-match field value <<"one">>; expected all, any, all-with-x, or any-with-x',
    }]);
  });
});

describe('management API: cleanup', () => {
  it('removes the exchanges this suite made', async () => {
    for (const x of created) await s.api('DELETE', xpath(x));
  });
});
