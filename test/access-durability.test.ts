// Users, vhosts and permissions survive a clean restart and a SIGKILL straight after the calls
// that made them returned; a version-1 data directory (before access control) still starts,
// keeps its queues and messages, and gets the default user; the defaults are made only on a
// directory with no users.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../src/broker.js';
import { createLogger } from '../src/log.js';
import { SCHEMA_VERSION } from '../src/store/store.js';
import { built } from './support/process.js';

const dirs: string[] = [];
const brokers: Broker[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'warren-access-'));
  dirs.push(d);
  return d;
};
const start = async (dataDir: string) => {
  const b = new Broker({ port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, dataDir, logger: createLogger('error', true) });
  await b.start();
  brokers.push(b);
  return b;
};
afterEach(async () => {
  for (const b of brokers.splice(0)) await b.stop().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Log in as `user` to `vhost` and publish to amq.topic with `key`: 'ok', or the refusal. */
async function tryPublish(b: Broker, user: string, password: string, vhost: string, key: string): Promise<string> {
  const c = await amqp.connect(`amqp://127.0.0.1:${b.address!.port}/${encodeURIComponent(vhost)}`, { credentials: amqp.credentials.plain(user, password) });
  try {
    const ch = await c.createConfirmChannel();
    const closed = new Promise<string>((r) => ch.on('error', (e: Error) => r(e.message)));
    ch.publish('amq.topic', key, Buffer.from('x'));
    return await Promise.race([ch.waitForConfirms().then(() => 'ok'), closed]);
  } finally {
    await c.close().catch(() => {});
  }
}

function expectSetUp(b: Broker): void {
  expect(b.registry.vhostMeta('kv')).toEqual({ description: 'kept', tags: ['t1'] });
  expect(b.users.get('ku')?.tags).toEqual(['management']);
  expect(b.permissions.get('ku', 'kv')).toEqual({ configure: '^c', write: '.*', read: '^r' });
  expect(b.permissions.listTopic()).toEqual([{ user: 'ku', vhost: 'kv', exchange: 'amq.topic', write: '^w\\.', read: '.*' }]);
  expect(b.users.get('gone')).toBeUndefined();
}

describe('users, vhosts and permissions in the store', () => {
  it('survive a restart; the default user is not made again', async () => {
    const dir = tmp();
    let b = await start(dir);
    b.addVhost('kv', { description: 'kept', tags: ['t1'] });
    b.users.addUser('ku', 'first', ['management']);
    b.users.changePassword('ku', 'kpw');
    b.users.addUser('gone', 'x');
    b.users.deleteUser('gone');
    b.setPermissions('ku', 'kv', { configure: '^c', write: '.*', read: '^r' });
    b.registry.setTopicPermissions('ku', 'kv', { exchange: 'amq.topic', write: '^w\\.', read: '.*' });
    b.users.deleteUser('guest');
    await b.stop();
    brokers.length = 0;

    b = await start(dir);
    expectSetUp(b);
    expect(b.users.get('guest')).toBeUndefined();
    expect(await tryPublish(b, 'ku', 'kpw', 'kv', 'w.1')).toBe('ok');
    expect(await tryPublish(b, 'ku', 'kpw', 'kv', 'x.1')).toMatch(/ACCESS_REFUSED - access to topic 'x.1' in exchange 'amq.topic'/);
    await expect(tryPublish(b, 'ku', 'first', 'kv', 'w.1')).rejects.toThrow(/ACCESS-REFUSED/);
  });

  it('a deleted vhost stays deleted, with its queues and messages', async () => {
    const dir = tmp();
    let b = await start(dir);
    b.addVhost('dv');
    b.setPermissions('guest', 'dv', { configure: '.*', write: '.*', read: '.*' });
    const c = await amqp.connect(`amqp://guest:guest@127.0.0.1:${b.address!.port}/dv`);
    const ch = await c.createConfirmChannel();
    await ch.assertQueue('dq', { durable: true });
    ch.sendToQueue('dq', Buffer.from('m'), { persistent: true });
    await ch.waitForConfirms();
    const closed = new Promise((r) => c.once('close', r));
    b.deleteVhost('dv');
    await closed;
    await b.stop();
    brokers.length = 0;
    b = await start(dir);
    expect(b.vhost('dv')).toBeUndefined();
    b.addVhost('dv');
    expect(b.vhost('dv')!.queues.size).toBe(0);
    expect(b.permissions.get('guest', 'dv')).toBeUndefined();
  });

  it.skipIf(!built)('survive a SIGKILL straight after the calls returned', async () => {
    const dir = tmp();
    const script = `
      const { Broker } = await import(${JSON.stringify(join(__dirname, '..', 'dist', 'broker.js'))});
      const { createLogger } = await import(${JSON.stringify(join(__dirname, '..', 'dist', 'log.js'))});
      const b = new Broker({ port: 0, host: '127.0.0.1', managementPort: 0, prometheusPort: 0, dataDir: ${JSON.stringify(dir)}, logger: createLogger('error', true) });
      await b.start();
      b.addVhost('kv', { description: 'kept', tags: ['t1'] });
      b.users.addUser('ku', 'kpw', ['management']);
      b.setPermissions('ku', 'kv', { configure: '^c', write: '.*', read: '^r' });
      b.registry.setTopicPermissions('ku', 'kv', { exchange: 'amq.topic', write: '^w\\\\.', read: '.*' });
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
      child.on('exit', (code) => reject(new Error(`child exited with ${code}`)));
    });
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    const b = await start(dir);
    expectSetUp(b);
    expect(await tryPublish(b, 'ku', 'kpw', 'kv', 'w.1')).toBe('ok');
  });
});

describe('data directories from before access control (schema version 1)', () => {
  it('start, keep their queues and messages, and get the default user and vhost', async () => {
    const dir = tmp();
    let b = await start(dir);
    const c = await amqp.connect(`amqp://guest:guest@127.0.0.1:${b.address!.port}`);
    const ch = await c.createConfirmChannel();
    await ch.assertQueue('old', { durable: true });
    ch.sendToQueue('old', Buffer.from('from v1'), { persistent: true });
    await ch.waitForConfirms();
    await c.close();
    await b.stop();
    brokers.length = 0;
    // Turn the file back into what version 1 wrote: no access tables, no columns added since, no
    // users or vhosts recorded, no pattern tables (version 3).
    const db = new Database(join(dir, 'warren.db'));
    db.exec(`DROP INDEX messages_retrying; ALTER TABLE messages DROP COLUMN delivery_count; ALTER TABLE messages DROP COLUMN retry_at;
      DROP TABLE held_messages; DROP TABLE dedup_cache; DROP TABLE policies; DROP TABLE vhost_limits;
      DROP TABLE permissions; DROP TABLE topic_permissions; DELETE FROM users; DELETE FROM vhosts;
      ALTER TABLE vhosts DROP COLUMN description; ALTER TABLE vhosts DROP COLUMN tags; ALTER TABLE users DROP COLUMN hashing_algorithm;
      UPDATE meta SET value = 1 WHERE key = 'schema_version'`);
    db.close();

    b = await start(dir);
    expect(b.vhost('/')!.queues.get('old')!.messageCount).toBe(1);
    const c2 = await amqp.connect(`amqp://guest:guest@127.0.0.1:${b.address!.port}`);
    const got = await (await c2.createChannel()).get('old', { noAck: true });
    expect(got && got.content.toString()).toBe('from v1');
    await c2.close();
    await b.stop();
    brokers.length = 0;
    const check = new Database(join(dir, 'warren.db'), { readonly: true });
    expect(check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe(SCHEMA_VERSION);
    expect(check.prepare('SELECT name FROM vhosts').pluck().all()).toEqual(['/']);
    check.close();
  });
});
