// Warren's embedded store: durable definitions and persistent messages in SQLite (WAL).
//
// Every write made during one event-loop turn lands in one transaction (group-commit.ts);
// message adds wait in memory (queue-state.ts) until the turn ends, so an add removed in the
// same turn never touches SQLite; afterCommit() callbacks (publisher confirms) run once the
// commit holding every write made before them is fsynced (wal-sync.ts).
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { acquireLock, type DirLock } from './lock.js';
import { PatternStore } from './patterns.js';
import { PolicyStore } from './policies.js';
import { VhostLimitStore } from './vhost-limits.js';
import { QueueState } from './queue-state.js';
import { openDatabase, SCHEMA_VERSION } from './schema.js';
import { prepareStatements, type Statements } from './statements.js';
import { GroupCommit } from './group-commit.js';
import type { CommitCallback, SyncFile } from './wal-sync.js';
import type {
  BindingDef, Definitions, ExchangeDef, IndexEntry, InVhost, LogFn, MessageRecord, MessageUpdate,
  AccessDefinitions, PermissionRow, QueueDef, StoredMessage, StoreOptions, StoreStats, TopicPermissionRow, UserRecord,
  VhostRecord,
} from './types.js';

export * from './types.js';
export { SCHEMA_VERSION } from './schema.js';

export const DB_FILE = 'warren.db';

export type { CommitCallback } from './wal-sync.js';

export class Store {
  /** Message adds cancelled by a remove (or purge/delete) before they were written. */
  cancelledAdds = 0;
  readonly file: string;
  /** Delayed messages, retry state and deduplication caches (patterns.ts). */
  readonly patterns: PatternStore;
  /** Policies and operator policies (policies.ts). */
  readonly policies: PolicyStore;
  /** Vhost limits (vhost-limits.ts). */
  readonly vhostLimits: VhostLimitStore;

  private readonly st: Statements;
  /** Transactions, the turn's commit and its fsync (group-commit.ts). */
  private readonly gc: GroupCommit;
  /** vhost -> queue name -> state; nested maps so the per-message path builds no key strings. */
  private readonly queues = new Map<string, Map<string, QueueState>>();
  private reclaimTimer: NodeJS.Timeout | null = null;

  private constructor(
    readonly dir: string,
    private readonly db: Database.Database,
    private readonly lock: DirLock,
    readonly log: LogFn,
  ) {
    this.file = path.join(dir, DB_FILE);
    this.st = prepareStatements(db);
    this.gc = new GroupCommit(db, this.st, this.file, log);
    this.patterns = new PatternStore(db, () => { this.write(); });
    this.policies = new PolicyStore(db, () => { this.write(); }, () => { this.flush(); });
    this.vhostLimits = new VhostLimitStore(db, () => { this.write(); }, () => { this.flush(); });
    for (const r of this.st.queueStates.all() as { id: number; vhost: string; name: string; delivered: number }[]) {
      this.vhostQueues(r.vhost).set(r.name, new QueueState(r.id, r.delivered));
    }
  }

  /**
   * Opens (creating if needed) the store in dataDir. Throws an Error naming the directory and
   * pid if another broker holds it, naming the file if it is corrupt, not Warren's, or from a
   * newer schema.
   */
  static open(dataDir: string, opts: StoreOptions = {}): Store {
    // Without a logger, problems (a failed commit, a throwing callback) still reach stderr.
    const log: LogFn = opts.log ?? ((level, msg, meta) => {
      if (level === 'error' || level === 'warn') console.error(`warren store ${level}: ${msg}`, meta ?? '');
    });
    fs.mkdirSync(dataDir, { recursive: true });
    const lock = acquireLock(dataDir, { waitMs: opts.lockWaitMs, log: (msg, meta) => log('warn', msg, meta) });
    try {
      const file = path.join(dataDir, DB_FILE);
      const { db, created, version } = openDatabase(file);
      const store = new Store(dataDir, db, lock, log);
      log('info', created ? 'store created' : 'store opened', { file, schemaVersion: version });
      return store;
    } catch (e) {
      lock.release();
      throw e;
    }
  }

  // ---- group commit (group-commit.ts) ------------------------------------------------------

  /** Transactions committed so far (a turn with no net writes commits nothing). */
  get commits(): number {
    return this.gc.commits;
  }

  /** The commit that writes made now will land in: it grows by one at each commit point. */
  get commitId(): number {
    return this.gc.commitId;
  }

  /** Runs cb once every write made so far is durable (err set if that commit failed). */
  afterCommit(cb: CommitCallback): void {
    this.gc.afterCommit(cb);
  }

  /** Writes are waiting for the turn's commit. */
  get pending(): boolean {
    return this.gc.pending;
  }

  /** A file outside SQLite (a stream segment) was written: this turn's commit fsyncs it too. */
  syncWith(f: SyncFile): void {
    this.gc.syncWith(f);
  }

  /** Commits pending writes now, makes them durable, and runs every waiting afterCommit callback. */
  flush(): void {
    this.gc.flush();
  }

  /** A statement that runs now, inside the turn's transaction. */
  private write(): Statements {
    this.gc.write();
    return this.st;
  }

  private get closed(): boolean {
    return this.gc.closed;
  }

  private vhostQueues(vhost: string): Map<string, QueueState> {
    let m = this.queues.get(vhost);
    if (m === undefined) this.queues.set(vhost, (m = new Map()));
    return m;
  }

  private queue(vhost: string, name: string): QueueState | undefined {
    return this.queues.get(vhost)?.get(name);
  }

  private forget(vhost: string, name: string): QueueState | undefined {
    const q = this.queue(vhost, name);
    if (q !== undefined) {
      q.deleted = true;
      this.cancelledAdds += q.clearPending();
      this.queues.get(vhost)!.delete(name);
    }
    return q;
  }

  // ---- definitions --------------------------------------------------------------------------

  // Users, vhosts and permissions are few and change rarely; each change is committed at once
  // (flush), so it survives a crash straight after the call returns.

  saveVhost(v: VhostRecord): void {
    this.write().saveVhost.run(v.name, v.description, JSON.stringify(v.tags));
    this.flush();
  }

  /** Deletes the vhost and everything in it (exchanges, queues, their messages, bindings, permissions). */
  deleteVhost(name: string): void {
    const st = this.write();
    for (const q of [...(this.queues.get(name)?.keys() ?? [])]) this.forget(name, q);
    this.queues.delete(name);
    st.deleteVhostMessages.run(name);
    st.deleteVhostBindings.run(name);
    st.deleteVhostQueues.run(name);
    st.deleteVhostExchanges.run(name);
    st.deleteVhostPermissions.run(name);
    st.deleteVhostTopicPermissions.run(name);
    st.deleteVhost.run(name);
    this.patterns.vhostDeleted(name);
    this.policies.vhostDeleted(name);
    this.vhostLimits.vhostDeleted(name);
    this.flush();
  }

  saveUser(u: UserRecord): void {
    this.write().saveUser.run(u.name, u.passwordHash, JSON.stringify(u.tags), u.hashingAlgorithm);
    this.flush();
  }

  /** Deletes the user and its permissions. */
  deleteUser(name: string): void {
    const st = this.write();
    st.deleteUser.run(name);
    st.deleteUserPermissions.run(name);
    st.deleteUserTopicPermissions.run(name);
    this.flush();
  }

  savePermission(p: PermissionRow): void {
    this.write().savePermission.run(p.user, p.vhost, p.configure, p.write, p.read);
    this.flush();
  }

  deletePermission(user: string, vhost: string): void {
    this.write().deletePermission.run(user, vhost);
    this.flush();
  }

  saveTopicPermission(p: TopicPermissionRow): void {
    this.write().saveTopicPermission.run(p.user, p.vhost, p.exchange, p.write, p.read);
    this.flush();
  }

  deleteTopicPermission(user: string, vhost: string, exchange: string): void {
    this.write().deleteTopicPermission.run(user, vhost, exchange);
    this.flush();
  }

  loadAccess(): AccessDefinitions {
    type V = Omit<VhostRecord, 'tags'> & { tags: string };
    type U = Omit<UserRecord, 'tags'> & { tags: string };
    return {
      vhosts: (this.st.loadVhosts.all() as V[]).map((v) => ({ ...v, tags: JSON.parse(v.tags) as string[] })),
      users: (this.st.loadUsers.all() as U[]).map((u) => ({ ...u, tags: JSON.parse(u.tags) as string[] })),
      permissions: this.st.loadPermissions.all() as PermissionRow[],
      topicPermissions: this.st.loadTopicPermissions.all() as TopicPermissionRow[],
    };
  }

  saveExchange(vhost: string, x: ExchangeDef): void {
    this.write().saveExchange.run(vhost, x.name, x.type, x.durable ? 1 : 0, x.autoDelete ? 1 : 0, x.internal ? 1 : 0, x.args);
  }

  /** Deletes the exchange and every binding from or to it. */
  deleteExchange(vhost: string, name: string): void {
    const st = this.write();
    st.deleteExchange.run(vhost, name);
    st.deleteExchangeBindings.run(vhost, name, name);
    this.patterns.exchangeDeleted(vhost, name);
  }

  /** Saves (or updates) a durable queue; its messages and watermark survive a re-save. */
  saveQueue(vhost: string, q: QueueDef): void {
    const row = this.write().saveQueue.get(vhost, q.name, q.autoDelete ? 1 : 0, q.args) as { id: number; delivered: number };
    const qs = this.vhostQueues(vhost);
    if (!qs.has(q.name)) qs.set(q.name, new QueueState(row.id, row.delivered));
  }

  /** Deletes the queue, its messages and every binding to it. */
  deleteQueue(vhost: string, name: string): void {
    const st = this.write();
    const q = this.forget(vhost, name);
    if (q !== undefined) st.purgeQueue.run(q.id);
    st.deleteQueueBindings.run(vhost, name);
    st.deleteQueue.run(vhost, name);
  }

  saveBinding(vhost: string, b: BindingDef): void {
    this.write().saveBinding.run(vhost, b.source, b.destKind, b.destination, b.routingKey, b.args);
  }

  deleteBinding(vhost: string, b: BindingDef): void {
    this.write().deleteBinding.run(vhost, b.source, b.destKind, b.destination, b.routingKey, b.args);
  }

  loadDefinitions(): Definitions {
    type X = Omit<InVhost<ExchangeDef>, 'durable' | 'autoDelete' | 'internal'> & { durable: number; autoDelete: number; internal: number };
    type Q = Omit<InVhost<QueueDef>, 'autoDelete'> & { autoDelete: number };
    const exchanges = (this.st.loadExchanges.all() as X[]).map((x) => ({
      ...x, durable: x.durable !== 0, autoDelete: x.autoDelete !== 0, internal: x.internal !== 0,
    }));
    const queues = (this.st.loadQueues.all() as Q[]).map((q) => ({ ...q, autoDelete: q.autoDelete !== 0 }));
    const bindings = this.st.loadBindings.all() as InVhost<BindingDef>[];
    return { exchanges, queues, bindings };
  }

  // ---- messages -----------------------------------------------------------------------------

  private requireQueue(vhost: string, name: string): QueueState {
    const q = this.queue(vhost, name);
    if (q === undefined) throw new Error(`store: queue '${name}' in vhost '${vhost}' was not saved with saveQueue`);
    return q;
  }

  /**
   * Adds a persistent message to a saved durable queue. The record is kept by reference until
   * the commit: do not mutate it (or its Buffers) afterwards.
   */
  addMessage(vhost: string, queue: string, rec: MessageRecord): void {
    if (this.closed) throw new Error(`store ${this.file} is closed`);
    const q = this.requireQueue(vhost, queue);
    q.push(rec);
    this.gc.markDirty(q);
  }

  /** Removes a message (ack, expiry, dead-lettering away, length-limit drop). */
  removeMessage(vhost: string, queue: string, seq: number): void {
    const q = this.queue(vhost, queue);
    if (q === undefined) return; // queue deleted already: its messages went with it
    const i = q.find(seq);
    if (i >= 0) {
      q.pendRec[i] = null;
      this.cancelledAdds++;
      return;
    }
    q.pendDel.push(seq);
    this.gc.markDirty(q);
  }

  updateMessage(vhost: string, queue: string, seq: number, u: MessageUpdate): void {
    const q = this.queue(vhost, queue);
    if (q === undefined) return;
    const i = q.find(seq);
    if (i >= 0) {
      const r = q.pendRec[i]!;
      q.pendRec[i] = {
        ...r,
        properties: u.properties ?? r.properties,
        expiresAt: u.expiresAt !== undefined ? u.expiresAt : r.expiresAt,
        priority: u.priority ?? r.priority,
        deathCount: u.deathCount ?? r.deathCount,
      };
      return;
    }
    const st = this.write();
    if (u.properties !== undefined) st.setProperties.run(u.properties, q.id, seq);
    if (u.expiresAt !== undefined) st.setExpiresAt.run(u.expiresAt, q.id, seq);
    if (u.priority !== undefined) st.setPriority.run(u.priority, q.id, seq);
    if (u.deathCount !== undefined) st.setDeathCount.run(u.deathCount, q.id, seq);
  }

  /** A message's failed attempts and when it is due again (null: ready now); see patterns.ts. */
  setRetry(vhost: string, queue: string, seq: number, count: number, retryAt: number | null): void {
    const q = this.queue(vhost, queue);
    if (q === undefined) return;
    const i = q.find(seq);
    if (i >= 0) q.pendRec[i] = { ...q.pendRec[i]!, deliveryCount: count, retryAt };
    else this.patterns.setRetry(q.id, seq, count, retryAt);
  }

  /** Recovery: the queue's messages with failed attempts (commits pending writes first). */
  forEachRetry(vhost: string, queue: string, fn: (seq: number, count: number, retryAt: number | null) => void): void {
    const q = this.queue(vhost, queue);
    if (q === undefined) return;
    if (this.gc.hasWrites) this.flush();
    this.patterns.forEachRetry(q.id, fn);
  }

  /** Drops every message of the queue (queue.purge); the queue itself stays. */
  purgeQueue(vhost: string, queue: string): void {
    const q = this.queue(vhost, queue);
    if (q === undefined) return;
    this.cancelledAdds += q.clearPending();
    this.write().purgeQueue.run(q.id);
  }

  /**
   * Raises the queue's delivered watermark: after a crash, messages with seq <= it come back
   * with redelivered=true. Written once per queue per commit, however many deliveries.
   */
  markDelivered(vhost: string, queue: string, seqUpTo: number): void {
    if (this.closed) throw new Error(`store ${this.file} is closed`);
    const q = this.queue(vhost, queue);
    if (q === undefined || seqUpTo <= q.deliveredPending) return;
    q.deliveredPending = seqUpTo;
    this.gc.markDirty(q);
  }

  /** The message's stored content, read when it is about to be delivered. */
  readMessage(vhost: string, queue: string, seq: number): StoredMessage | undefined {
    const q = this.queue(vhost, queue);
    if (q === undefined) return undefined;
    const i = q.find(seq);
    if (i >= 0) {
      return stored(q.pendRec[i]!);
    }
    return this.st.readMessage.get(q.id, seq) as StoredMessage | undefined;
  }

  /**
   * The stored messages with from <= seq <= to, ascending (one query: a queue reading back a
   * run of paged-out bodies). Includes adds not yet committed.
   */
  readRange(vhost: string, queue: string, from: number, to: number, fn: (seq: number, m: StoredMessage) => void): void {
    const q = this.queue(vhost, queue);
    if (q === undefined) return;
    const rows = this.st.readRange.all(q.id, from, to) as (StoredMessage & { seq: number })[];
    const ps = q.pendSeq;
    const n = ps.length;
    let pending = false;
    // Usually nothing pending is in range: pendSeq ascending makes that two comparisons.
    if (n > 0 && !(q.pendSorted && (ps[0]! > to || ps[n - 1]! < from))) {
      for (let i = 0; i < n; i++) {
        const r = q.pendRec[i];
        if (r === null || r === undefined || ps[i]! < from || ps[i]! > to) continue;
        pending = true;
        rows.push({ ...stored(r), seq: r.seq });
      }
    }
    if (pending) rows.sort((a, b) => a.seq - b.seq);
    for (const r of rows) fn(r.seq, r);
  }

  /**
   * Recovery: calls fn for every stored message of the queue in seq order, without reading
   * bodies or building objects. fn must not call back into the store. Commits pending writes
   * first, so call it at startup, before the queue takes traffic.
   */
  forEachIndexEntry(
    vhost: string,
    queue: string,
    fn: (seq: number, size: number, expiresAt: number | null, priority: number, redelivered: boolean) => void,
  ): void {
    const q = this.queue(vhost, queue);
    if (q === undefined) return;
    if (this.gc.hasWrites) this.flush();
    const wm = q.delivered;
    for (const row of this.st.index.iterate(q.id) as IterableIterator<[number, number, number | null, number]>) {
      fn(row[0], row[1], row[2], row[3], row[0] <= wm);
    }
  }

  loadIndex(vhost: string, queue: string): IndexEntry[] {
    const out: IndexEntry[] = [];
    this.forEachIndexEntry(vhost, queue, (seq, size, expiresAt, priority, redelivered) => {
      out.push({ seq, size, expiresAt, priority, redelivered });
    });
    return out;
  }

  /**
   * The highest seq the queue has used or marked delivered; a recovered queue must number new
   * messages above it, or they would come back wrongly flagged redelivered after a crash.
   */
  lastSeq(vhost: string, queue: string): number {
    const q = this.queue(vhost, queue);
    if (q === undefined) return 0;
    const stored = (this.st.maxSeq.get(q.id) as number | null) ?? 0;
    return Math.max(stored, q.deliveredPending, q.maxPendingSeq());
  }

  /** SQLite's quick_check: an empty list when the file is sound, else the problems found. */
  integrityCheck(): string[] {
    const rows = this.db.pragma('quick_check', { simple: false }) as { quick_check: string }[];
    return rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
  }

  /** Counts for the startup log (a full index scan of messages: call it once, at startup). */
  stats(): StoreStats {
    if (this.gc.hasWrites) this.flush();
    return { queues: this.st.countQueues.get() as number, messages: this.st.countMessages.get() as number };
  }

  /**
   * Returns up to maxPages free pages (left by acked messages) to the filesystem, as part of
   * the current group commit; returns how many were free before. Free pages are reused by new
   * messages anyway, so call it now and then (e.g. from an idle timer), not per message.
   */
  reclaimSpace(maxPages = 4096): number {
    const free = this.freePages();
    if (free > 0) {
      this.write();
      this.db.pragma(`incremental_vacuum(${Math.max(1, Math.floor(maxPages))})`);
    }
    return free;
  }

  /** Pages of the file no message or definition uses (left by acked messages). */
  freePages(): number {
    return this.db.pragma('freelist_count', { simple: true }) as number;
  }

  /**
   * From now on, every intervalMs, hands up to pagesPerStep free pages back to the filesystem
   * when more than minFree are free: after a large backlog drains the file shrinks a bounded
   * step at a time (a few milliseconds each), never in one long pause.
   */
  startReclaiming(intervalMs = 10_000, pagesPerStep = 2048, minFree = 4096): void {
    if (this.reclaimTimer !== null) return;
    this.reclaimTimer = setInterval(() => {
      if (this.closed) return;
      try {
        if (this.freePages() > minFree) this.reclaimSpace(pagesPerStep);
      } catch (e) {
        this.log('warn', 'reclaiming free space failed', { file: this.file, error: (e as Error).message });
      }
    }, intervalMs);
    this.reclaimTimer.unref();
  }

  /** Commits pending writes (running their callbacks), closes the file, releases the lock. */
  close(): void {
    if (this.closed) return;
    if (this.reclaimTimer !== null) clearInterval(this.reclaimTimer);
    this.reclaimTimer = null;
    try {
      this.flush();
    } finally {
      try {
        this.gc.close();
        this.db.close();
      } finally {
        this.lock.release();
        this.log('info', 'store closed', { file: this.file, schemaVersion: SCHEMA_VERSION });
      }
    }
  }
}

function stored(r: MessageRecord): StoredMessage {
  return { exchange: r.exchange, routingKey: r.routingKey, properties: r.properties, body: r.body, enqueuedAt: r.enqueuedAt, deathCount: r.deathCount ?? 0 };
}
