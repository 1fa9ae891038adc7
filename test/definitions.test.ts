// Definitions at boot: a RabbitMQ 3.10 export (users with their hashes, vhosts, permissions,
// topic permissions, exchanges, queues, bindings) imported at start, again at every restart
// without touching queued messages, no default user when definitions are given, and bad input
// refused as a whole with every problem named.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../src/broker.js';
import { createLogger } from '../src/log.js';

const dirs: string[] = [];
const brokers: Broker[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'warren-defs-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  for (const b of brokers.splice(0)) await b.stop().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Warnings the broker logged, for the policies check. */
function capture() {
  const warnings: string[] = [];
  const logger = createLogger('error', true);
  const warn = logger.warn.bind(logger);
  logger.warn = ((msg: string, meta?: Record<string, unknown>) => {
    warnings.push(`${msg} ${JSON.stringify(meta ?? {})}`);
    return warn(msg, meta);
  }) as typeof logger.warn;
  return { logger, warnings };
}

async function start(dataDir: string, definitions: string | Record<string, unknown>, logger = createLogger('error', true)) {
  const b = new Broker({ port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, dataDir, definitions, logger });
  await b.start();
  brokers.push(b);
  return b;
}

// As GET /api/definitions on RabbitMQ 3.10.8 printed it (the hash is of 'hunter2 ü', made there),
// plus what a development setup adds.
const EXPORT = {
  rabbit_version: '3.10.8', rabbitmq_version: '3.10.8', product_name: 'RabbitMQ', product_version: '3.10.8',
  users: [
    { name: 'app', password_hash: 'GqSygrLwLeBzFhb2UtZqqDUyWs1EOp5vV7HD7ICAMEc/Xeae', hashing_algorithm: 'rabbit_password_hashing_sha256', tags: ['monitoring'], limits: {} },
    { name: 'svc', password_hash: '', hashing_algorithm: 'rabbit_password_hashing_sha256', tags: [], limits: {} },
  ],
  vhosts: [{ name: 'apps', description: 'the apps', tags: ['dev'] }],
  permissions: [{ user: 'app', vhost: 'apps', configure: '^app\\.', write: '.*', read: '.*' }],
  topic_permissions: [{ user: 'app', vhost: 'apps', exchange: 'amq.topic', write: '^app\\.', read: '.*' }],
  parameters: [], global_parameters: [{ name: 'internal_cluster_id', value: 'rabbitmq-cluster-id-x' }],
  policies: [{ vhost: 'apps', name: 'ttl-all', pattern: '.*', 'apply-to': 'queues', definition: { 'message-ttl': 1000 }, priority: 0 }],
  queues: [{ name: 'app.jobs', vhost: 'apps', durable: true, auto_delete: false, arguments: { 'x-max-length': 10 } }],
  exchanges: [
    { name: 'app.events', vhost: 'apps', type: 'topic', durable: true, auto_delete: false, internal: false, arguments: {} },
    { name: 'amq.direct', vhost: 'apps', type: 'direct', durable: true, auto_delete: false, internal: false, arguments: {} },
  ],
  bindings: [{ source: 'app.events', vhost: 'apps', destination: 'app.jobs', destination_type: 'queue', routing_key: 'job.#', arguments: {} }],
};

const connectApp = (b: Broker) =>
  amqp.connect(`amqp://127.0.0.1:${b.address!.port}/apps`, { credentials: amqp.credentials.plain('app', 'hunter2 ü') });

describe('definitions at boot', () => {
  it('imports an export: the user logs in with its RabbitMQ hash, permissions hold, no guest is made', async () => {
    const { logger, warnings } = capture();
    const file = join(tmp(), 'defs.json');
    writeFileSync(file, JSON.stringify(EXPORT));
    const b = await start(tmp(), file, logger);
    expect(b.users.get('guest')).toBeUndefined();
    expect(b.vhost('/')).toBeUndefined();
    expect(b.registry.vhostMeta('apps')).toEqual({ description: 'the apps', tags: ['dev'] });
    // Policies are imported and apply to the imported queues.
    expect(warnings.some((w) => w.includes('policies'))).toBe(false);
    expect(b.vhost('apps')!.policies.get('policy', 'ttl-all')?.definition).toEqual({ 'message-ttl': 1000 });
    for (const q of b.vhost('apps')!.queues.values()) expect(q.policy?.name).toBe('ttl-all');
    const c = await connectApp(b);
    const ch = await c.createConfirmChannel();
    ch.on('error', () => {}); // the refusal below closes it
    ch.publish('app.events', 'job.1', Buffer.from('j'), { persistent: true });
    await ch.waitForConfirms();
    expect(await ch.checkQueue('app.jobs')).toMatchObject({ messageCount: 1 });
    await expect(ch.assertQueue('other')).rejects.toThrow(/access to queue 'other' in vhost 'apps' refused for user 'app'/);
    await c.close();
    // The user with an empty hash cannot log in.
    await expect(amqp.connect(`amqp://svc:x@127.0.0.1:${b.address!.port}/apps`)).rejects.toThrow(/ACCESS-REFUSED/);
  });

  it('re-imports at restart without touching queued messages', async () => {
    const dir = tmp();
    let b = await start(dir, EXPORT);
    let c = await connectApp(b);
    const ch = await c.createConfirmChannel();
    for (const n of ['1', '2']) ch.publish('app.events', `job.${n}`, Buffer.from(n), { persistent: true });
    await ch.waitForConfirms();
    await c.close();
    b.users.changePassword('app', 'changed'); // the file wins again at the next start, as on RabbitMQ
    await b.stop();
    brokers.length = 0;
    b = await start(dir, EXPORT);
    c = await connectApp(b);
    expect(await (await c.createChannel()).checkQueue('app.jobs')).toMatchObject({ messageCount: 2 });
    expect(b.vhost('apps')!.exchanges.get('app.events')!.bindings).toHaveLength(1);
    await c.close();
  });

  it('refuses bad input as a whole, naming the file and every bad item, and changes nothing', async () => {
    const file = join(tmp(), 'bad.json');
    writeFileSync(file, JSON.stringify({
      ...EXPORT,
      users: [
        ...EXPORT.users,
        { name: 'md', password_hash: 'not base64!', tags: [] },
        { name: 'x', password_hash: '', hashing_algorithm: 'rabbit_password_hashing_sha1' },
      ],
      permissions: [...EXPORT.permissions, { user: 'nobody', vhost: 'apps', configure: '(', write: '', read: '' }],
      queues: [...EXPORT.queues, { name: 'q2', vhost: 'nowhere', durable: true, arguments: { 'x-max-length': 'ten' } }],
      bindings: [{ source: 'app.events', vhost: 'apps', destination: 'missing', destination_type: 'queue', routing_key: '' }],
    }));
    const dir = tmp();
    const b = new Broker({ port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, dataDir: dir, definitions: file, logger: createLogger('error', true) });
    const err = await b.start().then(() => null, (e: Error) => e);
    brokers.push(b);
    expect(err).not.toBeNull();
    const text = err!.message;
    expect(text).toContain('invalid definitions, nothing was imported');
    expect(text).toContain(`${file}: users[2] ('md'): 'password_hash' is not valid base64`);
    expect(text).toContain(`${file}: users[3] ('x'): unknown hashing_algorithm 'rabbit_password_hashing_sha1'`);
    expect(text).toContain(`${file}: permissions[1] (user 'nobody' in vhost 'apps'): 'configure' is invalid regular expression`);
    expect(text).toContain(`${file}: permissions[1] (user 'nobody' in vhost 'apps'): no user 'nobody'`);
    expect(text).toContain(`${file}: queues[1] ('q2') in vhost 'nowhere': no vhost 'nowhere'`);
    expect(text).toMatch(/queues\[1\] .*invalid arg 'x-max-length'/);
    expect(text).toContain(`${file}: bindings[0] (app.events -> missing in vhost 'apps'): no destination queue 'missing'`);
    // Nothing of the good part was applied either (the broker did not start; its store holds nothing).
    const fresh = await start(dir, { users: [], vhosts: [] });
    expect(fresh.users.list()).toEqual([]);
    expect(fresh.vhosts.size).toBe(0);
  });

  it('imports vhost limits (vhost-limits parameters) after the queues they count, ignores other parameters with a warning, refuses bad limits', async () => {
    const { logger, warnings } = capture();
    const parameters = [
      { value: { 'max-queues': 1, 'max-connections': 5 }, vhost: 'apps', component: 'vhost-limits', name: 'limits' },
      { value: { uri: 'amqp://upstream' }, vhost: 'apps', component: 'federation-upstream', name: 'up' },
    ];
    const b = await start(tmp(), { ...EXPORT, parameters }, logger);
    expect(b.vhost('apps')!.limits.value).toEqual([['max-connections', 5], ['max-queues', 1]]);
    expect(b.vhost('apps')!.queues.has('app.jobs')).toBe(true);
    expect(warnings.some((w) => w.includes('runtime parameters other than vhost-limits') && w.includes('federation-upstream/up'))).toBe(true);
    const bad = { value: { 'max-queues': 'one' }, vhost: 'apps', component: 'vhost-limits', name: 'limits' };
    await expect(start(tmp(), { ...EXPORT, parameters: [bad] })).rejects.toThrow(
      "definitions: parameters[0] ('limits') in vhost 'apps': max-queues should be a number, actually was <<\"one\">>");
  });

  it('names the file when it cannot be read or parsed', async () => {
    const file = join(tmp(), 'broken.json');
    writeFileSync(file, '{"users": [');
    await expect(start(tmp(), file)).rejects.toThrow(`definitions file ${file} is not valid JSON`);
    await expect(start(tmp(), join(tmp(), 'absent.json'))).rejects.toThrow(/cannot read definitions file .*absent\.json/);
  });

  it('takes an MD5 hash from an export older than 3.6 that names no algorithm', async () => {
    const b = await start(tmp(), {
      rabbit_version: '3.5.7',
      users: [{ name: 'old', password_hash: '6lJYd2q7PLqFcuXo66XFF9Wm42E=', tags: 'administrator,management' }],
      vhosts: [{ name: '/' }],
      permissions: [{ user: 'old', vhost: '/', configure: '.*', write: '.*', read: '.*' }],
    });
    expect(b.users.get('old')!.tags).toEqual(['administrator', 'management']);
    const c = await amqp.connect(`amqp://127.0.0.1:${b.address!.port}`, { credentials: amqp.credentials.plain('old', 'hunter2 ü') });
    await c.close();
  });
});
