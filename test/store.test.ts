// The embedded store: definitions, messages, group commit, watermark, lock, and open errors.
import { describe, it, expect, afterEach, afterAll, beforeAll, vi } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Store, SCHEMA_VERSION, type MessageRecord } from '../src/store/store.js';
import { buildStoreForChildren } from './support/store-child.js';

const NONE = Buffer.alloc(0);
const opened: Store[] = [];
const children: ChildProcess[] = [];

const made: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-store-'));
  made.push(d);
  return d;
}

function open(dir: string): Store {
  const s = Store.open(dir);
  opened.push(s);
  return s;
}

afterEach(() => {
  for (const s of opened.splice(0)) s.close();
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** The store in `dir` (a fresh one by default) with queue `q` saved. */
function openWithQ(dir = tmpDir()): Store {
  const s = open(dir);
  s.saveQueue('/', { name: 'q', autoDelete: false, args: NONE });
  return s;
}

function msg(seq: number, body = `m${seq}`): MessageRecord {
  return {
    seq, exchange: 'ex', routingKey: 'rk', properties: Buffer.from([seq & 0xff]), body: Buffer.from(body),
    enqueuedAt: 1_700_000_000_000 + seq, expiresAt: seq % 2 ? null : 1_800_000_000_000, priority: seq % 3,
  };
}

const turn = () => new Promise<void>((r) => setImmediate(r));
/** Holds the WAL's fsyncs (fdatasync: SQLite's own choice on Linux) until `held` ones are called, as a slow disk would. */
function holdFsyncs() {
  const held: (() => void)[] = [];
  const real = fs.fdatasync;
  const spy = vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, cb: (e: Error | null) => void) => {
    held.push(() => real(fd, cb));
  }) as typeof fs.fdatasync);
  return { held, spy };
}
/** Resolves once every afterCommit callback registered before it has run (they run in order). */
const durable = (s: Store) => new Promise<void>((r) => s.afterCommit(() => r()));

describe('definitions', () => {
  it('round-trip across a reopen, with delete cascades', () => {
    const dir = tmpDir();
    let s = open(dir);
    s.saveVhost({ name: '/', description: 'Default virtual host', tags: [] });
    s.saveVhost({ name: 'v2', description: '', tags: ['a', 'b'] });
    s.saveUser({ name: 'guest', passwordHash: Buffer.from('hash'), hashingAlgorithm: 'rabbit_password_hashing_sha256', tags: ['administrator'] });
    s.savePermission({ user: 'guest', vhost: 'v2', configure: '.*', write: '', read: '^r' });
    s.saveTopicPermission({ user: 'guest', vhost: 'v2', exchange: 'amq.topic', write: 'w', read: 'r' });
    s.saveExchange('/', { name: 'x', type: 'topic', durable: true, autoDelete: false, internal: true, args: Buffer.from('a') });
    s.saveExchange('v2', { name: 'y', type: 'fanout', durable: true, autoDelete: true, internal: false, args: NONE });
    s.saveQueue('/', { name: 'q1', autoDelete: false, args: Buffer.from([1, 2, 3]) });
    s.saveQueue('/', { name: 'q2', autoDelete: true, args: NONE });
    s.saveBinding('/', { source: 'x', destKind: 'queue', destination: 'q1', routingKey: 'a.#', args: NONE });
    s.saveBinding('/', { source: 'x', destKind: 'queue', destination: 'q1', routingKey: 'a.#', args: Buffer.from('k') });
    s.saveBinding('/', { source: 'x', destKind: 'queue', destination: 'q2', routingKey: 'b', args: NONE });
    s.saveBinding('/', { source: 'amq.direct', destKind: 'exchange', destination: 'x', routingKey: 'c', args: NONE });
    s.saveBinding('v2', { source: 'y', destKind: 'queue', destination: 'q1', routingKey: '', args: NONE });
    s.close();

    s = open(dir);
    expect(s.loadAccess()).toEqual({
      vhosts: [{ name: '/', description: 'Default virtual host', tags: [] }, { name: 'v2', description: '', tags: ['a', 'b'] }],
      users: [{ name: 'guest', passwordHash: Buffer.from('hash'), hashingAlgorithm: 'rabbit_password_hashing_sha256', tags: ['administrator'] }],
      permissions: [{ user: 'guest', vhost: 'v2', configure: '.*', write: '', read: '^r' }],
      topicPermissions: [{ user: 'guest', vhost: 'v2', exchange: 'amq.topic', write: 'w', read: 'r' }],
    });
    const d = s.loadDefinitions();
    expect(d.exchanges).toEqual([
      { vhost: '/', name: 'x', type: 'topic', durable: true, autoDelete: false, internal: true, args: Buffer.from('a') },
      { vhost: 'v2', name: 'y', type: 'fanout', durable: true, autoDelete: true, internal: false, args: NONE },
    ]);
    expect(d.queues).toEqual([
      { vhost: '/', name: 'q1', autoDelete: false, args: Buffer.from([1, 2, 3]) },
      { vhost: '/', name: 'q2', autoDelete: true, args: NONE },
    ]);
    expect(d.bindings).toHaveLength(5);

    s.deleteBinding('/', { source: 'x', destKind: 'queue', destination: 'q1', routingKey: 'a.#', args: Buffer.from('k') });
    s.deleteQueue('/', 'q2'); // takes x -> q2 with it
    s.deleteExchange('/', 'x'); // takes x -> q1 and amq.direct -> x with it
    s.deleteUser('guest');
    s.close();

    s = open(dir);
    const e = s.loadDefinitions();
    expect(e.exchanges.map((x) => x.name)).toEqual(['y']);
    expect(e.queues.map((q) => q.name)).toEqual(['q1']);
    expect(e.bindings).toEqual([{ vhost: 'v2', source: 'y', destKind: 'queue', destination: 'q1', routingKey: '', args: NONE }]);
    // The user's permissions went with it.
    expect(s.loadAccess()).toMatchObject({ users: [], permissions: [], topicPermissions: [] });
    s.deleteVhost('v2');
    s.flush();
    expect(s.loadDefinitions().exchanges).toEqual([]);
    expect(s.loadAccess().vhosts.map((v) => v.name)).toEqual(['/']);
  });

  it('re-saving a queue keeps its messages; deleting it drops them', () => {
    const dir = tmpDir();
    let s = openWithQ(dir);
    s.messages.addMessage('/', 'q', msg(1));
    s.flush();
    s.saveQueue('/', { name: 'q', autoDelete: false, args: Buffer.from('new') });
    s.close();
    s = open(dir);
    expect(s.messages.loadIndex('/', 'q').map((e) => e.seq)).toEqual([1]);
    s.deleteQueue('/', 'q');
    s.saveQueue('/', { name: 'q', autoDelete: false, args: NONE });
    s.close();
    s = open(dir);
    expect(s.messages.loadIndex('/', 'q')).toEqual([]);
    expect(s.stats()).toEqual({ queues: 1, messages: 0 });
  });
});

describe('messages', () => {
  it('add, remove, loadIndex and readMessage survive a reopen', () => {
    const dir = tmpDir();
    let s = openWithQ(dir);
    s.saveQueue('/', { name: 'other', autoDelete: false, args: NONE });
    for (let i = 1; i <= 10; i++) s.messages.addMessage('/', 'q', msg(i, 'x'.repeat(i)));
    s.messages.addMessage('/', 'other', msg(1, 'fanout copy'));
    s.flush();
    s.messages.removeMessage('/', 'q', 3);
    s.messages.removeMessage('/', 'q', 4);
    s.messages.updateMessage('/', 'q', 5, { properties: Buffer.from('x-death'), deathCount: 2, expiresAt: null });
    s.close();

    s = open(dir);
    expect(s.stats()).toEqual({ queues: 2, messages: 9 });
    const idx = s.messages.loadIndex('/', 'q');
    expect(idx.map((e) => e.seq)).toEqual([1, 2, 5, 6, 7, 8, 9, 10]);
    expect(idx[3]).toEqual({ seq: 6, size: 6, expiresAt: 1_800_000_000_000, priority: 0, redelivered: false });
    expect(idx[2]!.expiresAt).toBeNull();
    expect(s.messages.readMessage('/', 'q', 7)).toEqual({
      exchange: 'ex', routingKey: 'rk', properties: Buffer.from([7]), body: Buffer.from('xxxxxxx'), enqueuedAt: 1_700_000_000_007, deathCount: 0,
    });
    expect(s.messages.readMessage('/', 'q', 5)).toMatchObject({ properties: Buffer.from('x-death'), deathCount: 2 });
    expect(s.messages.readMessage('/', 'q', 3)).toBeUndefined();
    expect(s.messages.readMessage('/', 'other', 1)!.body.toString()).toBe('fanout copy');
    expect(s.messages.lastSeq('/', 'q')).toBe(10);
    s.messages.purgeQueue('/', 'q');
    s.flush();
    expect(s.messages.loadIndex('/', 'q')).toEqual([]);
    expect(s.messages.loadIndex('/', 'other')).toHaveLength(1);
  });

  /** Leaves queue `q` in `s` empty after a backlog of `n` 1 KiB messages was committed and acked: free pages. */
  function drainedBacklog(s: Store, n: number): void {
    s.saveQueue('/', { name: 'q', autoDelete: false, args: NONE });
    for (let i = 1; i <= n; i++) s.messages.addMessage('/', 'q', msg(i, 'b'.repeat(1024)));
    s.flush();
    for (let i = 1; i <= n; i++) s.messages.removeMessage('/', 'q', i);
    s.flush();
  }

  it('reclaimSpace() gives the pages of acked messages back', () => {
    const dir = tmpDir();
    const s = open(dir);
    drainedBacklog(s, 2000);
    expect(s.reclaimSpace()).toBeGreaterThan(400);
    s.flush();
    expect(s.reclaimSpace()).toBe(0);
    s.close();
    expect(fs.statSync(path.join(dir, 'warren.db')).size).toBeLessThan(200_000);
  });

  it('startReclaiming() shrinks the file a step at a time once a backlog is gone', async () => {
    const dir = tmpDir();
    const s = open(dir);
    drainedBacklog(s, 3000);
    expect(s.freePages()).toBeGreaterThan(700);
    s.startReclaiming(5, 100, 10);
    for (let i = 0; i < 200 && s.freePages() > 10; i++) await new Promise((r) => setTimeout(r, 5));
    expect(s.freePages()).toBeLessThanOrEqual(10);
    await durable(s);
    s.close();
    expect(fs.statSync(path.join(dir, 'warren.db')).size).toBeLessThan(300_000);
  });

  it('a message not yet committed can be read back and updated', () => {
    const s = openWithQ();
    s.messages.addMessage('/', 'q', msg(1, 'fresh'));
    expect(s.messages.readMessage('/', 'q', 1)!.body.toString()).toBe('fresh');
    s.messages.updateMessage('/', 'q', 1, { priority: 9 });
    expect(s.messages.loadIndex('/', 'q')).toMatchObject([{ seq: 1, priority: 9 }]);
  });

  it('refuses a message for a queue that was never saved', () => {
    const s = open(tmpDir());
    expect(() => s.messages.addMessage('/', 'nope', msg(1))).toThrow(/nope/);
  });
});

describe('group commit', () => {
  it('puts every write of one turn into one transaction', async () => {
    const s = openWithQ();
    await turn();
    const before = s.commits;
    for (let i = 1; i <= 1000; i++) s.messages.addMessage('/', 'q', msg(i));
    s.messages.markDelivered('/', 'q', 500);
    s.messages.removeMessage('/', 'q', 2000); // a remove that runs at once joins the same transaction
    let done = false;
    s.afterCommit(() => (done = true));
    expect(done).toBe(false);
    await durable(s);
    expect(done).toBe(true);
    expect(s.commits).toBe(before + 1);
    expect(s.stats().messages).toBe(1000);
  });

  it('deletes removes of committed messages in runs, never a live message between them', () => {
    const dir = tmpDir();
    let s = openWithQ(dir);
    for (let i = 1; i <= 30; i++) s.messages.addMessage('/', 'q', msg(i));
    s.flush();
    // Out of order, with gaps: runs 2-5, 7, 9-12, 20-21 and 30; 6, 8 and 13-19 stay.
    for (const seq of [9, 10, 2, 3, 4, 5, 7, 11, 12, 21, 20, 30]) s.messages.removeMessage('/', 'q', seq);
    s.close();
    s = open(dir);
    expect(s.messages.loadIndex('/', 'q').map((e) => e.seq)).toEqual([1, 6, 8, 13, 14, 15, 16, 17, 18, 19, 22, 23, 24, 25, 26, 27, 28, 29]);
    s.close();
  });

  it('one fsync in flight; meanwhile message writes of later turns wait for one commit', async () => {
    const s = openWithQ();
    const { held, spy } = holdFsyncs();
    try {
      for (let i = 1; i <= 10; i++) s.messages.addMessage('/', 'q', msg(i));
      const first = durable(s);
      await turn();
      expect(held).toHaveLength(1); // 1-10 committed, their fsync in flight
      const before = s.commits;
      for (let t = 0; t < 4; t++) {
        for (let i = 11 + t * 10; i <= 20 + t * 10; i++) s.messages.addMessage('/', 'q', msg(i));
        s.messages.removeMessage('/', 'q', t + 1);
        s.messages.removeMessage('/', 'q', 20 + t * 10); // an add of this very commit: cancelled, never written
        await turn();
      }
      // All four turns wait for the fsync in flight.
      expect(held).toHaveLength(1);
      expect(s.commits).toBe(before);
      held.shift()!();
      await first;
      await turn();
      expect(s.commits).toBe(before + 1); // the four waiting turns in one commit
      expect(held).toHaveLength(1); // and its fsync
      while (held.length > 0) held.shift()!();
      await durable(s);
      expect(s.messages.cancelledAdds).toBe(4);
      expect(s.stats().messages).toBe(42);
    } finally {
      spy.mockRestore();
      while (held.length > 0) held.shift()!();
    }
  });

  it('while the fsync is in flight, a waiting turn\'s adds go into the open transaction: later removes delete them, the commit keeps the rest', async () => {
    const dir = tmpDir();
    const s = openWithQ(dir);
    const { held, spy } = holdFsyncs();
    try {
      s.messages.addMessage('/', 'q', msg(1));
      await turn();
      expect(held).toHaveLength(1);
      const before = s.commits;
      for (let i = 2; i <= 6; i++) s.messages.addMessage('/', 'q', msg(i));
      await turn(); // written into the transaction, not committed
      expect(s.commits).toBe(before);
      expect(s.messages.readMessage('/', 'q', 4)?.body.toString()).toBe('m4'); // read back from SQLite
      const cancelled = s.messages.cancelledAdds;
      s.messages.removeMessage('/', 'q', 3); // already written: a delete, not a cancelled add
      s.messages.removeMessage('/', 'q', 4);
      expect(s.messages.cancelledAdds).toBe(cancelled);
      s.messages.addMessage('/', 'q', msg(7));
      const done = durable(s);
      await turn();
      held.shift()!();
      await new Promise((r) => setTimeout(r, 20));
      expect(s.commits).toBe(before + 1); // both waiting turns in one commit
      while (held.length > 0) held.shift()!();
      await done;
    } finally {
      spy.mockRestore();
      while (held.length > 0) held.shift()!();
    }
    s.close();
    const again = open(dir);
    expect(again.messages.loadIndex('/', 'q').map((e) => e.seq)).toEqual([1, 2, 5, 6, 7]);
  });

  it('cancels an add removed in the same turn: no write, no commit', async () => {
    const s = openWithQ();
    await turn();
    const before = s.commits;
    for (let i = 1; i <= 100; i++) s.messages.addMessage('/', 'q', msg(i));
    for (let i = 1; i <= 100; i++) s.messages.removeMessage('/', 'q', i);
    const fired: string[] = [];
    s.afterCommit((err) => fired.push(err === null ? 'ok' : err.message));
    await durable(s);
    expect(fired).toEqual(['ok']);
    expect(s.commits).toBe(before);
    expect(s.messages.cancelledAdds).toBe(100);
    expect(s.stats().messages).toBe(0);
  });

  it('runs afterCommit callbacks in order, each after the commit holding earlier writes', async () => {
    const s = openWithQ();
    const order: string[] = [];
    s.afterCommit(() => order.push(`a:${s.commits}`));
    s.messages.addMessage('/', 'q', msg(1));
    s.afterCommit(() => {
      order.push(`b:${s.commits}`);
      // Written from a callback: goes to the next commit, and so does this callback.
      s.messages.addMessage('/', 'q', msg(2));
      s.afterCommit(() => order.push(`d:${s.commits}`));
    });
    s.afterCommit(() => order.push(`c:${s.commits}`));
    const c0 = s.commits;
    await durable(s);
    expect(order).toEqual([`a:${c0 + 1}`, `b:${c0 + 1}`, `c:${c0 + 1}`]);
    await durable(s);
    expect(order[3]).toBe(`d:${c0 + 2}`);
    // Nothing pending: still called back, asynchronously, without a transaction.
    let late = false;
    s.afterCommit(() => (late = true));
    expect(late).toBe(false);
    await durable(s);
    expect(late).toBe(true);
    expect(s.commits).toBe(c0 + 2);
  });

  it('flush() commits at once', () => {
    const s = openWithQ();
    s.messages.addMessage('/', 'q', msg(1));
    let done = false;
    s.afterCommit(() => (done = true));
    s.flush();
    expect(done).toBe(true);
  });

  it('close() commits pending writes and runs their callbacks', () => {
    const dir = tmpDir();
    const s = Store.open(dir);
    s.saveQueue('/', { name: 'q', autoDelete: false, args: NONE });
    s.messages.addMessage('/', 'q', msg(1));
    let done = false;
    s.afterCommit(() => (done = true));
    s.close();
    expect(done).toBe(true);
    expect(() => s.saveVhost({ name: '/', description: '', tags: [] })).toThrow(/closed/);
    expect(open(dir).messages.loadIndex('/', 'q').map((e) => e.seq)).toEqual([1]);
  });
});

describe('delivered watermark', () => {
  it('flags messages at or below it redelivered after a reopen', async () => {
    const dir = tmpDir();
    let s = openWithQ(dir);
    s.saveQueue('/', { name: 'untouched', autoDelete: false, args: NONE });
    for (let i = 1; i <= 6; i++) s.messages.addMessage('/', 'q', msg(i));
    s.messages.addMessage('/', 'untouched', msg(1));
    s.messages.markDelivered('/', 'q', 2);
    s.messages.markDelivered('/', 'q', 4);
    s.messages.markDelivered('/', 'q', 3); // never lowers it
    await turn();
    s.messages.removeMessage('/', 'q', 1);
    s.close();
    s = open(dir);
    expect(s.messages.loadIndex('/', 'q').map((e) => [e.seq, e.redelivered])).toEqual([
      [2, true], [3, true], [4, true], [5, false], [6, false],
    ]);
    expect(s.messages.loadIndex('/', 'untouched')[0]!.redelivered).toBe(false);
    s.messages.removeMessage('/', 'q', 5);
    s.messages.removeMessage('/', 'q', 6);
    s.messages.markDelivered('/', 'q', 9); // delivered, then acked: the queue is empty but seq 9 was used
    s.close();
    s = open(dir);
    expect(s.messages.lastSeq('/', 'q')).toBe(9);
  });
  it('a watermark written early while an fsync is in flight is not written again by the commit that ends the transaction', async () => {
    const dir = tmpDir();
    let s = openWithQ(dir);
    for (let i = 1; i <= 3; i++) s.messages.addMessage('/', 'q', msg(i));
    const { held, spy } = holdFsyncs();
    const st = (s as unknown as { st: { setDelivered: { run: (...a: unknown[]) => unknown } } }).st;
    const updates = vi.spyOn(st.setDelivered, 'run');
    try {
      await turn();
      expect(held).toHaveLength(1); // 1-3 committed, their fsync in flight
      const before = s.commits;
      s.messages.markDelivered('/', 'q', 2);
      await turn(); // written into the open transaction
      expect(updates).toHaveBeenCalledTimes(1);
      const done = durable(s);
      held.shift()!();
      await vi.waitFor(() => expect(held).toHaveLength(1)); // the deferred commit started the next fsync
      expect(s.commits).toBe(before + 1);
      expect(updates).toHaveBeenCalledTimes(1); // the commit had nothing left to update
      while (held.length > 0) held.shift()!();
      await done;
      spy.mockRestore();
      s.messages.markDelivered('/', 'q', 3); // an ordinary turn still writes its watermark
      await durable(s);
      expect(updates).toHaveBeenCalledTimes(2);
    } finally {
      updates.mockRestore();
      spy.mockRestore();
      while (held.length > 0) held.shift()!();
    }
    s.close();
    s = open(dir);
    expect(s.messages.loadIndex('/', 'q').map((e) => [e.seq, e.redelivered])).toEqual([[1, true], [2, true], [3, true]]);
  });
});

describe('lock', () => {
  let childStore = '';
  beforeAll(() => {
    childStore = buildStoreForChildren(tmpDir());
  });

  /**
   * A child process holding dir's lock. With `dieOn`, it SIGKILLs itself 300 ms after that file
   * appears, so a test can start a blocking open() first and have the holder die during it,
   * however slow the machine.
   */
  async function holder(dir: string, dieOn?: string): Promise<ChildProcess> {
    const script = path.join(childStore, 'hold.mjs');
    fs.writeFileSync(script, `import { existsSync } from 'node:fs';
import { Store } from './store/store.js';
globalThis.held = Store.open(process.argv[2]); process.stdout.write('ready\\n'); // kept reachable: GC would close its handles
const t = setInterval(() => {
  if (process.argv[3] && existsSync(process.argv[3])) { clearInterval(t); setTimeout(() => process.kill(process.pid, 'SIGKILL'), 300); }
}, 5);`);
    const child = spawn(process.execPath, [script, dir, ...(dieOn === undefined ? [] : [dieOn])], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`holder exited ${code}`)));
    });
    return child;
  }

  async function kill(child: ChildProcess): Promise<void> {
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** A child process that tries to open dir and reports what happened. */
  function tryOpenInChild(dir: string): string {
    const script = path.join(childStore, 'try.mjs');
    fs.writeFileSync(script, `import { Store } from './store/store.js';
try { Store.open(process.argv[2], { lockWaitMs: 0 }).close(); console.log('opened'); } catch (e) { console.log(e.message); }`);
    return spawnSync(process.execPath, [script, dir], { encoding: 'utf8' }).stdout.trim();
  }

  it('refuses a second open in the same process, naming the directory and pid', () => {
    const dir = tmpDir();
    open(dir);
    expect(() => Store.open(dir)).toThrow(new RegExp(`${dir}.*in use by this process \\(pid ${process.pid}`));
    // The refused connection was closed; that must not have dropped the first one's POSIX lock
    // (closing any descriptor on a file drops all of a process's locks on it).
    expect(tryOpenInChild(dir)).toMatch(/in use by another process/);
  });

  it('refuses a second open in the same process through SQLite\'s lock alone (per-inode tracking)', async () => {
    const dir = tmpDir();
    open(dir);
    // A second module instance has its own record of held directories, as a second copy of
    // Warren loaded in one process would: only the kernel/SQLite lock can refuse it.
    vi.resetModules();
    const fresh = await import('../src/store/lock.js');
    expect(() => fresh.acquireLock(dir, { waitMs: 0 })).toThrow(/is in use by another process \(pid unknown, lock file .*warren\.lock\.db\)/);
  });

  it('refuses a second broker process, naming the directory and its pid; takes over once it died', async () => {
    const dir = tmpDir();
    const child = await holder(dir);
    expect(() => Store.open(dir, { lockWaitMs: 0 })).toThrow(
      `data directory ${dir} is in use by another process (pid ${child.pid}, lock file ${path.join(dir, 'warren.lock.db')})`,
    );
    await kill(child); // SIGKILL: warren.lock stays behind, naming a dead pid; the kernel lock is gone
    expect(fs.readFileSync(path.join(dir, 'warren.lock'), 'utf8').trim()).toBe(String(child.pid));
    const s = open(dir);
    expect(fs.readFileSync(path.join(dir, 'warren.lock'), 'utf8').trim()).toBe(String(process.pid));
    s.close();
    expect(fs.existsSync(path.join(dir, 'warren.lock'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'warren.lock.db'))).toBe(true); // never deleted: see lock.ts
  });

  it('waits a moment for a holder that is on its way out', async () => {
    const dir = tmpDir();
    const trigger = path.join(dir, 'die-now');
    await holder(dir, trigger); // it kills itself 300 ms after the trigger: this thread is blocked in the wait by then
    fs.writeFileSync(trigger, '');
    const t0 = Date.now();
    open(dir).close();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
  });

  it('falls back on warren.db\'s own lock when the lock database is deleted while held', async () => {
    const dir = tmpDir();
    await holder(dir);
    fs.rmSync(path.join(dir, 'warren.lock.db'));
    expect(() => Store.open(dir)).toThrow(/warren\.db is locked by another process/);
  });

  it('takes over a stale lock file whose pid is dead', () => {
    const dir = tmpDir();
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    fs.writeFileSync(path.join(dir, 'warren.lock'), `${dead}\n`);
    open(dir);
    expect(fs.readFileSync(path.join(dir, 'warren.lock'), 'utf8').trim()).toBe(String(process.pid));
  });

  it('ignores a stale lock file naming a live unrelated process (pid 1, the parent, itself)', () => {
    for (const pid of [1, process.ppid, process.pid]) {
      const dir = tmpDir();
      fs.writeFileSync(path.join(dir, 'warren.lock'), `${pid}\n`);
      open(dir).close();
    }
  });

  it('names a lock database that is not one instead of taking it over', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'warren.lock.db'), 'not sqlite, not empty either\n');
    expect(() => Store.open(dir)).toThrow(`${path.join(dir, 'warren.lock.db')} is not Warren's lock database`);
  });
});

describe('open errors', () => {
  it('a newer schema version names the file and both versions', () => {
    const dir = tmpDir();
    Store.open(dir).close();
    const file = path.join(dir, 'warren.db');
    const db = new Database(file);
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(SCHEMA_VERSION + 1);
    db.close();
    expect(() => Store.open(dir)).toThrow(
      `${file} has schema version ${SCHEMA_VERSION + 1}, newer than this Warren supports (${SCHEMA_VERSION})`,
    );
    expect(fs.existsSync(path.join(dir, 'warren.lock'))).toBe(false); // lock released on failure
    // Not 'in use': the kernel lock went with the failed open.
    expect(() => Store.open(dir, { lockWaitMs: 0 })).toThrow(/newer than this Warren supports/);
  });

  it('a garbage warren.db is an error naming it, not an empty broker', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'warren.db');
    fs.writeFileSync(file, Buffer.alloc(8192, 'garbage!'));
    expect(() => Store.open(dir)).toThrow(`${file} is not a valid Warren database`);
    expect(fs.readFileSync(file).subarray(0, 8).toString()).toBe('garbage!'); // left untouched
  });

  it('a SQLite file that is not Warren\'s is an error naming it', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'warren.db');
    const db = new Database(file);
    db.exec('CREATE TABLE t (x)');
    db.close();
    expect(() => Store.open(dir)).toThrow(`${file} is a SQLite database but not a Warren one`);
  });
});
