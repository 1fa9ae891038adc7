// Vhost limits through the management API, with rabbitmq_management 3.10.8's shapes, codes and
// texts: /api/vhost-limits (one limit at a time, administrator), the whole `vhost-limits`
// runtime parameter under /api/parameters (policymaker), who may see and change them, and the
// definitions export and import, where they travel as a vhost-limits parameter. Runs against
// Warren and, in differential mode, against RabbitMQ.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL, accessAdmin } from '../test/support/access.js';
import { httpSuite, vh } from '../test/support/http.js';
import { uniqueName } from '../test/support/suite.js';

const s = httpSuite();
const admin = accessAdmin(() => s.warren, () => s.port);
const V = uniqueName('hlim');
const V2 = uniqueName('hlim2');
const lim = (name: string, v = V) => `/api/vhost-limits/${vh(v)}/${name}`;
const param = (v = V) => `/api/parameters/vhost-limits/${vh(v)}/limits`;
const bad = (reason: string) => ({ error: 'bad_request', reason });

beforeAll(async () => {
  await admin.addVhost(V);
  await admin.addVhost(V2);
});
afterAll(() => admin.cleanup());

describe('/api/vhost-limits', () => {
  it('sets limits one at a time (204, the last set first), lists them per vhost and for all, clears them (204)', async () => {
    expect((await s.api('GET', `/api/vhost-limits/${vh(V)}`)).body).toEqual([]);
    for (const [name, value] of [['max-connections', 10], ['max-queues', 5], ['max-connections', 11]] as const) {
      const r = await s.api('PUT', lim(name), { value });
      expect([r.status, r.text]).toEqual([204, '']);
    }
    const one = await s.api('GET', `/api/vhost-limits/${vh(V)}`);
    expect([one.status, one.body]).toEqual([200, [{ vhost: V, value: { 'max-connections': 11, 'max-queues': 5 } }]]);
    expect(Object.keys(one.body[0].value)).toEqual(['max-connections', 'max-queues']);
    expect((await s.api('GET', '/api/vhost-limits')).body).toContainEqual({ vhost: V, value: { 'max-connections': 11, 'max-queues': 5 } });
    expect((await s.api('GET', lim('max-queues'))).status).toBe(405);
    for (const name of ['max-queues', 'max-queues', 'bogus', 'max-connections']) expect((await s.api('DELETE', lim(name))).status).toBe(204);
    // The parameter stays, empty: the vhost's list leaves it out, the list of all shows [].
    expect((await s.api('GET', `/api/vhost-limits/${vh(V)}`)).body).toEqual([]);
    expect((await s.api('GET', '/api/vhost-limits')).body).toContainEqual({ vhost: V, value: [] });
    expect((await s.api('GET', param())).body).toEqual({ value: [], vhost: V, component: 'vhost-limits', name: 'limits' });
    expect((await s.api('DELETE', param())).status).toBe(204);
    expect((await s.api('GET', '/api/vhost-limits')).body.filter((l: { vhost: string }) => l.vhost === V)).toEqual([]);
  });

  it('refuses what RabbitMQ refuses, with its texts', async () => {
    const cases: [unknown, number, unknown][] = [
      [{ value: 'x' }, 400, bad('Validation failed\n\nmax-queues should be a number, actually was <<"x">>\n')],
      [{ value: 1.5 }, 400, bad('Validation failed\n\nmax-queues should be a number, actually was 1.5\n')],
      [{ value: '5' }, 400, bad('Validation failed\n\nmax-queues should be a number, actually was <<"5">>\n')],
      [{}, 400, bad('[{key_missing,value}]')],
      ['not json', 400, bad('not_json')],
    ];
    for (const [body, status, reply] of cases) {
      const r = await s.api('PUT', lim('max-queues'), body);
      expect([r.status, r.body], JSON.stringify(body)).toEqual([status, reply]);
    }
    expect((await s.api('PUT', lim('bogus'), { value: 3 })).body).toEqual(bad('Validation failed\n\nUnrecognised terms [{<<"bogus">>,3}] in limits\n'));
    const none = uniqueName('hlim-none');
    expect(await s.api('PUT', lim('max-queues', none), { value: 3 })).toMatchObject({ status: 404, body: { error: 'not_found', reason: 'vhost_not_found' } });
    expect(await s.api('GET', `/api/vhost-limits/${vh(none)}`)).toMatchObject({ status: 404, body: { error: 'Object Not Found', reason: 'Not Found' } });
    expect((await s.api('GET', `/api/vhost-limits/${vh(V)}`)).body).toEqual([]);
  });
});

describe('/api/parameters/vhost-limits', () => {
  it('sets the limits whole (201, then 204, sorted), escapes its refusals for HTML, deletes them (404 when none)', async () => {
    expect((await s.api('GET', param(V2))).status).toBe(404);
    expect((await s.api('DELETE', param(V2))).status).toBe(404);
    const body = { value: { 'max-queues': 6, 'max-connections': 10 } };
    expect((await s.api('PUT', param(V2), body)).status).toBe(201);
    expect((await s.api('PUT', param(V2), body)).status).toBe(204);
    const p = { value: { 'max-connections': 10, 'max-queues': 6 }, vhost: V2, component: 'vhost-limits', name: 'limits' };
    const got = await s.api('GET', param(V2));
    expect(got.body).toEqual(p);
    expect(Object.keys(got.body.value)).toEqual(['max-connections', 'max-queues']);
    expect((await s.api('GET', `/api/parameters/vhost-limits/${vh(V2)}`)).body).toEqual([p]);
    expect((await s.api('GET', '/api/parameters/vhost-limits')).body).toContainEqual(p);
    expect((await s.api('GET', '/api/parameters')).body).toContainEqual(p);
    expect((await s.api('GET', '/api/vhost-limits/' + vh(V2))).body).toEqual([{ vhost: V2, value: { 'max-connections': 10, 'max-queues': 6 } }]);
    const refused = await s.api('PUT', param(V2), { value: { 'max-queues': '<x>', b: 1 } });
    expect([refused.status, refused.body]).toEqual([400, bad('Validation failed\n\nUnrecognised terms [{&lt;&lt;"b"&gt;&gt;,1}] in limits\nmax-queues should be a number, actually was &lt;&lt;"&lt;x&gt;"&gt;&gt;\n')]);
    expect((await s.api('PUT', `/api/parameters/no-such-component/${vh(V2)}/x`, { value: {} })).body).toEqual(bad('Validation failed\n\ncomponent no-such-component not found\n'));
    expect((await s.api('GET', param(V2))).body).toEqual(p);
    expect((await s.api('DELETE', param(V2))).status).toBe(204);
    expect((await s.api('DELETE', param(V2))).status).toBe(404);
    expect((await s.api('GET', `/api/vhost-limits/${vh(V2)}`)).body).toEqual([]);
  });
});

describe('who may see and set limits', () => {
  it('administrators set /api/vhost-limits, policymakers /api/parameters, each only in vhosts they may see', async () => {
    const pm = uniqueName('hlim-pm');
    const mg = uniqueName('hlim-mg');
    await admin.addUser(pm, 'pw', ['policymaker']);
    await admin.addUser(mg, 'pw', ['management']);
    expect((await s.api('PUT', lim('max-queues'), { value: 100 })).status).toBe(204);
    const as = (user: string) => ({ user, pass: 'pw' });
    const refusedVhost = { error: 'not_authorised', reason: 'User not authorised to access virtual host' };
    const refusedObject = { error: 'not_authorised', reason: 'User not authorised to access object' };
    expect(await s.api('GET', `/api/vhost-limits/${vh(V)}`, undefined, as(mg))).toMatchObject({ status: 401, body: refusedVhost });
    expect((await s.api('GET', '/api/vhost-limits', undefined, as(mg))).body).toEqual([]);
    expect(await s.api('GET', param(), undefined, as(pm))).toMatchObject({ status: 401, body: refusedObject });
    await admin.setPermissions(mg, V, ALL);
    await admin.setPermissions(pm, V, ALL);
    expect((await s.api('GET', '/api/vhost-limits', undefined, as(mg))).body).toEqual([{ vhost: V, value: { 'max-queues': 100 } }]);
    expect(await s.api('PUT', lim('max-queues'), { value: 1 }, as(pm))).toMatchObject({ status: 401, body: { error: 'not_authorised', reason: 'Not administrator user' } });
    expect(await s.api('GET', param(), undefined, as(mg))).toMatchObject({ status: 401, body: refusedObject });
    expect((await s.api('PUT', param(), { value: { 'max-queues': 50 } }, as(pm))).status).toBe(204);
    expect((await s.api('GET', `/api/vhost-limits/${vh(V)}`, undefined, as(mg))).body).toEqual([{ vhost: V, value: { 'max-queues': 50 } }]);
    expect((await s.api('DELETE', param())).status).toBe(204);
  });
});

describe('definitions', () => {
  it('export a vhost\'s limits as a vhost-limits parameter (also per vhost) and import them back', async () => {
    expect((await s.api('PUT', lim('max-connections', V2), { value: 7 })).status).toBe(204);
    expect((await s.api('PUT', lim('max-queues', V2), { value: 3 })).status).toBe(204);
    const entry = { value: { 'max-queues': 3, 'max-connections': 7 }, vhost: V2, component: 'vhost-limits', name: 'limits' };
    const all = (await s.api('GET', '/api/definitions')).body;
    expect(all.parameters).toContainEqual(entry);
    expect((await s.api('GET', `/api/definitions/${vh(V2)}`)).body.parameters).toEqual([entry]);
    expect((await s.api('DELETE', param(V2))).status).toBe(204);
    const imported = await s.api('POST', '/api/definitions', { parameters: [{ ...entry, value: { 'max-queues': 4 } }] });
    expect(imported.status).toBe(204);
    expect((await s.api('GET', `/api/vhost-limits/${vh(V2)}`)).body).toEqual([{ vhost: V2, value: { 'max-queues': 4 } }]);
    expect((await s.api('DELETE', param(V2))).status).toBe(204);
  });
});
