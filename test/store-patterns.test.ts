// The store's pattern tables (patterns.ts): the schema 2 -> 3 migration keeps an existing data
// directory's messages, held messages, retry state and dedup caches round-trip a reopen, and go
// with their exchange, message or vhost.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, Store } from '../src/store/store.js';

const made: string[] = [];
const opened: Store[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-patterns-store-'));
  made.push(d);
  return d;
}
function open(dir: string): Store {
  const s = Store.open(dir, { log: () => {} });
  opened.push(s);
  return s;
}
afterEach(() => { for (const s of opened.splice(0)) s.close(); });
afterAll(() => { for (const d of made) fs.rmSync(d, { recursive: true, force: true }); });

const NONE = Buffer.alloc(0);
const rec = (seq: number) => ({
  seq, exchange: 'ex', routingKey: 'rk', properties: Buffer.from([0, 0]), body: Buffer.from(`m${seq}`),
  enqueuedAt: 1, expiresAt: null, priority: 0,
});

/** Turns a current data dir into what Warren with schema version 2 wrote. */
function downgradeToV2(dir: string): void {
  const db = new Database(path.join(dir, 'warren.db'));
  db.exec(`DROP INDEX messages_retrying; ALTER TABLE messages DROP COLUMN delivery_count; ALTER TABLE messages DROP COLUMN retry_at;
    DROP TABLE held_messages; DROP TABLE dedup_cache; DROP TABLE policies; DROP TABLE vhost_limits; UPDATE meta SET value = 2 WHERE key = 'schema_version';`);
  db.close();
}

describe('pattern tables', () => {
  it('migrate a version 2 data directory in place, keeping its messages', () => {
    expect(SCHEMA_VERSION).toBe(5);
    const dir = tmpDir();
    let s = open(dir);
    s.saveQueue('/', { name: 'q', autoDelete: false, args: NONE });
    s.messages.addMessage('/', 'q', rec(1));
    s.close();
    downgradeToV2(dir);
    s = open(dir);
    expect(s.messages.loadIndex('/', 'q').map((e) => e.seq)).toEqual([1]);
    s.messages.setRetry('/', 'q', 1, 2, 1234);
    s.flush();
    const seen: [number, number, number | null][] = [];
    s.messages.forEachRetry('/', 'q', (...r) => seen.push(r));
    expect(seen).toEqual([[1, 2, 1234]]);
  });

  it('keep retry state of pending and committed messages; it goes with the message', () => {
    const dir = tmpDir();
    let s = open(dir);
    s.saveQueue('/', { name: 'q', autoDelete: false, args: NONE });
    s.messages.addMessage('/', 'q', rec(1));
    s.messages.addMessage('/', 'q', rec(2));
    s.messages.setRetry('/', 'q', 1, 1, 5000); // still pending: the record carries it
    s.flush();
    s.messages.setRetry('/', 'q', 2, 3, null); // committed: an update
    s.close();
    s = open(dir);
    const seen: [number, number, number | null][] = [];
    s.messages.forEachRetry('/', 'q', (...r) => seen.push(r));
    expect(seen).toEqual([[1, 1, 5000], [2, 3, null]]);
    s.messages.removeMessage('/', 'q', 1);
    seen.length = 0;
    s.messages.forEachRetry('/', 'q', (...r) => seen.push(r));
    expect(seen.map((r) => r[0])).toEqual([2]);
  });

  it('keep held messages and dedup entries until their exchange or vhost goes', () => {
    const dir = tmpDir();
    let s = open(dir);
    const p = s.patterns;
    p.addHeld('/', 'x', { seq: 1, dueAt: 10, routingKey: 'a', properties: Buffer.from([0, 0]), body: Buffer.from('b1') });
    p.addHeld('/', 'x', { seq: 2, dueAt: 5, routingKey: 'b', properties: Buffer.from([0, 0]), body: Buffer.from('b2') });
    p.addHeld('v', 'y', { seq: 1, dueAt: 5, routingKey: 'b', properties: Buffer.from([0, 0]), body: Buffer.from('b3') });
    p.removeHeld('/', 'x', 1);
    p.putDedup('/', 'x', Buffer.from('k1'), null);
    p.putDedup('/', 'x', Buffer.from('k2'), 99);
    p.removeDedup('/', 'x', Buffer.from('k1'));
    s.close();
    s = open(dir);
    const held: string[] = [];
    s.patterns.forEachHeld('/', 'x', (r) => held.push(`${r.seq}:${r.dueAt}:${r.routingKey}:${r.body.toString()}`));
    expect(held).toEqual(['2:5:b:b2']);
    expect(s.patterns.loadDedup('/', 'x')).toEqual([{ key: Buffer.from('k2'), expiresAt: 99 }]);
    s.deleteExchange('/', 'x');
    s.deleteVhost('v');
    s.flush();
    held.length = 0;
    s.patterns.forEachHeld('/', 'x', (r) => held.push(String(r.seq)));
    s.patterns.forEachHeld('v', 'y', (r) => held.push(String(r.seq)));
    expect(held).toEqual([]);
    expect(s.patterns.loadDedup('/', 'x')).toEqual([]);
  });
});

/** A data dir with a vhost 'v', turned back by `sql` into what an older Warren wrote. */
function olderDir(sql: string): string {
  const dir = tmpDir();
  const s = open(dir);
  s.saveVhost({ name: 'v', description: '', tags: [] });
  s.close();
  const db = new Database(path.join(dir, 'warren.db'));
  db.exec(sql);
  db.close();
  return dir;
}

describe('policy table', () => {
  it('migrates a version 3 data directory to 4, and policies round-trip a reopen and go with their vhost', () => {
    const dir = olderDir("DROP TABLE policies; DROP TABLE vhost_limits; UPDATE meta SET value = 3 WHERE key = 'schema_version';");
    let s = open(dir);
    const row = { kind: 'policy', vhost: 'v', name: 'p', pattern: '^q', applyTo: 'queues', priority: 1.5, definition: { 'ha-mode': 'all', 'max-length': 2 } };
    s.policies.save(row);
    s.policies.save({ ...row, kind: 'operator', vhost: '/' });
    s.close();
    s = open(dir);
    expect(s.policies.load()).toEqual([{ ...row, kind: 'operator', vhost: '/' }, row]);
    s.deleteVhost('v');
    expect(s.policies.load().map((r) => r.vhost)).toEqual(['/']);
  });
});

describe('vhost limits table', () => {
  it('migrates a version 4 data directory to 5; limits keep their order across a reopen, an emptied set stays, and they go with their vhost', () => {
    const dir = olderDir("DROP TABLE vhost_limits; UPDATE meta SET value = 4 WHERE key = 'schema_version';");
    let s = open(dir);
    s.vhostLimits.save('v', [['max-queues', 3], ['max-connections', -1]]);
    s.vhostLimits.save('/', []);
    s.close();
    s = open(dir);
    expect(s.vhostLimits.load()).toEqual([{ vhost: '/', limits: [] }, { vhost: 'v', limits: [['max-queues', 3], ['max-connections', -1]] }]);
    s.vhostLimits.save('/', null);
    s.deleteVhost('v');
    expect(s.vhostLimits.load()).toEqual([]);
    s.close();
  });
});
