// The management API's users, vhosts and permissions, as setup scripts use them: create, read,
// change and delete, with RabbitMQ's codes and reasons, and the effect checked over AMQP (a user
// made over HTTP logs in; permissions set over HTTP are enforced). Runs against Warren and, in
// differential mode, RabbitMQ's management plugin.
import amqp from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { httpSuite, vh } from '../test/support/http.js';
import { uniqueName } from '../test/support/suite.js';

const s = httpSuite();
const made = { users: [] as string[], vhosts: [] as string[] };

afterAll(async () => {
  for (const u of made.users) await s.api('DELETE', `/api/users/${encodeURIComponent(u)}`);
  for (const v of made.vhosts) await s.api('DELETE', `/api/vhosts/${vh(v)}`);
});

const amqpUrl = (user: string, pass: string, vhost = '/') => {
  const u = new URL(s.url);
  return `amqp://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@${u.host}/${encodeURIComponent(vhost)}`;
};

describe('management API: users', () => {
  it('creates a user (201), changes it (204), shows it with its hash, deletes it', async () => {
    const name = uniqueName('hu');
    made.users.push(name);
    expect((await s.api('PUT', `/api/users/${name}`, { password: 'pw1', tags: 'monitoring,management' })).status).toBe(201);
    const u = (await s.api('GET', `/api/users/${name}`)).body;
    expect(u).toMatchObject({ name, hashing_algorithm: 'rabbit_password_hashing_sha256', tags: ['monitoring', 'management'], limits: {} });
    expect(Buffer.from(u.password_hash, 'base64')).toHaveLength(36);
    expect((await s.api('PUT', `/api/users/${name}`, { password: 'pw2', tags: ['management'] })).status).toBe(204);
    expect((await s.api('GET', `/api/users/${name}`)).body.tags).toEqual(['management']);
    expect(((await s.api('GET', '/api/users')).body as { name: string }[]).map((x) => x.name)).toContain(name);
    expect(((await s.api('GET', '/api/users/without-permissions')).body as { name: string }[]).map((x) => x.name)).toContain(name);
    expect((await s.api('DELETE', `/api/users/${name}`)).status).toBe(204);
    expect((await s.api('DELETE', `/api/users/${name}`)).body).toEqual({ error: 'Object Not Found', reason: 'Not Found' });
  });

  it('refuses a user without tags, and bulk-deletes until an unknown name', async () => {
    expect((await s.api('PUT', `/api/users/${uniqueName('hu-notags')}`, { password: 'x' })).body).toEqual({ error: 'bad_request', reason: 'tags_not_present' });
    const [a, b] = [uniqueName('hu-bulk'), uniqueName('hu-bulk')];
    for (const n of [a, b]) await s.api('PUT', `/api/users/${n}`, { password: 'x', tags: '' });
    const r = await s.api('POST', '/api/users/bulk-delete', { users: [a, 'no-such-user-zz', b] });
    expect([r.status, r.body]).toEqual([400, { error: 'bad_request', reason: ['no_such_user', 'no-such-user-zz'] }]);
    expect((await s.api('GET', `/api/users/${a}`)).status).toBe(404);
    expect((await s.api('POST', '/api/users/bulk-delete', { users: [b] })).status).toBe(204);
  });

  it('is for administrators only', async () => {
    const name = uniqueName('hu-mgmt');
    made.users.push(name);
    await s.api('PUT', `/api/users/${name}`, { password: 'p', tags: 'management' });
    const r = await s.api('GET', '/api/users', undefined, { user: name, pass: 'p' });
    expect([r.status, r.body]).toEqual([401, { error: 'not_authorised', reason: 'Not administrator user' }]);
  });
});

describe('management API: vhosts and permissions', () => {
  it('creates a vhost (the creator gets full permissions), grants a user, who then logs in over AMQP', async () => {
    const v = uniqueName('hv');
    const user = uniqueName('hv-user');
    made.vhosts.push(v);
    made.users.push(user);
    expect((await s.api('PUT', `/api/vhosts/${vh(v)}`, { description: 'for tests', tags: 'a,b' })).status).toBe(201);
    expect((await s.api('PUT', `/api/vhosts/${vh(v)}`, { description: 'changed' })).status).toBe(204);
    expect((await s.api('GET', `/api/vhosts/${vh(v)}`)).body).toMatchObject({ name: v, description: 'changed', tags: [] });
    expect((await s.api('GET', `/api/vhosts/${vh(v)}/permissions`)).body).toEqual([
      { vhost: v, user: 'guest', configure: '.*', write: '.*', read: '.*' },
    ]);
    await s.api('PUT', `/api/users/${user}`, { password: 'secret', tags: '' });
    // No permissions yet: connection.open is refused.
    await expect(amqp.connect(amqpUrl(user, "secret", v))).rejects.toThrow(/Expected ConnectionOpenOk; got <ConnectionClose channel:0>/);
    expect((await s.api('PUT', `/api/permissions/${vh(v)}/${user}`, { configure: '^own-', write: '.*', read: '.*' })).status).toBe(201);
    expect((await s.api('GET', `/api/permissions/${vh(v)}/${user}`)).body).toEqual({ user, vhost: v, configure: '^own-', write: '.*', read: '.*' });
    expect((await s.api('GET', `/api/users/${user}/permissions`)).body).toEqual([{ user, vhost: v, configure: '^own-', write: '.*', read: '.*' }]);
    const c = await amqp.connect(amqpUrl(user, 'secret', v));
    c.on('error', () => {});
    const ch = await c.createChannel();
    await ch.assertQueue('own-q');
    const refused = new Promise<Error>((r) => ch.once('error', r));
    ch.assertQueue('other-q').catch(() => {});
    expect(String(await refused)).toMatch(/403 \(ACCESS-REFUSED\) with message "ACCESS_REFUSED - access to queue 'other-q' in vhost '.*' refused for user '.*'"/);
    await c.close().catch(() => {});
    expect((await s.api('DELETE', `/api/permissions/${vh(v)}/${user}`)).status).toBe(204);
    expect((await s.api('DELETE', `/api/permissions/${vh(v)}/${user}`)).status).toBe(404);
    expect((await s.api('DELETE', `/api/vhosts/${vh(v)}`)).status).toBe(204);
    expect((await s.api('DELETE', `/api/vhosts/${vh(v)}`)).status).toBe(404);
  });

  it('refuses permissions for a missing vhost or user, and without all three patterns', async () => {
    const user = uniqueName('hp-user');
    made.users.push(user);
    await s.api('PUT', `/api/users/${user}`, { password: 'x', tags: '' });
    expect((await s.api('PUT', `/api/permissions/${vh(uniqueName('nov'))}/${user}`, { configure: '.*', write: '.*', read: '.*' })).body)
      .toEqual({ error: 'bad_request', reason: 'vhost_or_user_not_found' });
    expect((await s.api('PUT', `/api/permissions/%2F/${uniqueName('nouser')}`, { configure: '.*', write: '.*', read: '.*' })).body)
      .toEqual({ error: 'bad_request', reason: 'vhost_or_user_not_found' });
    expect((await s.api('PUT', `/api/permissions/%2F/${user}`, { configure: '.*' })).body)
      .toEqual({ error: 'bad_request', reason: '[{key_missing,write},{key_missing,read}]' });
  });

  it('sets, lists and clears topic permissions', async () => {
    const user = uniqueName('ht-user');
    made.users.push(user);
    await s.api('PUT', `/api/users/${user}`, { password: 'x', tags: '' });
    expect((await s.api('PUT', `/api/topic-permissions/%2F/${user}`, { exchange: 'amq.topic', write: '^a', read: '.*' })).status).toBe(201);
    expect((await s.api('GET', `/api/topic-permissions/%2F/${user}`)).body).toEqual([{ user, vhost: '/', exchange: 'amq.topic', write: '^a', read: '.*' }]);
    expect(((await s.api('GET', '/api/topic-permissions')).body as { user: string }[]).some((p) => p.user === user)).toBe(true);
    expect((await s.api('DELETE', `/api/topic-permissions/%2F/${user}`)).status).toBe(204);
    expect((await s.api('GET', `/api/topic-permissions/%2F/${user}`)).status).toBe(404);
  });
});
