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
import { MessageJournal } from './messages.js';
import { openDatabase, SCHEMA_VERSION } from './schema.js';
import { prepareStatements, type Statements } from './statements.js';
import { GroupCommit } from './group-commit.js';
import type { CommitCallback, SyncFile } from './wal-sync.js';
import type {
  BindingDef, Definitions, ExchangeDef, InVhost, LogFn,
  AccessDefinitions, PermissionRow, QueueDef, StoreOptions, StoreStats, TopicPermissionRow, UserRecord,
  VhostRecord,
} from './types.js';

export * from './types.js';
export { SCHEMA_VERSION } from './schema.js';

export const DB_FILE = 'warren.db';

export type { CommitCallback } from './wal-sync.js';

export class Store {
  readonly file: string;
  /** Delayed messages, retry state and deduplication caches (patterns.ts). */
  readonly patterns: PatternStore;
  /** Policies and operator policies (policies.ts). */
  readonly policies: PolicyStore;
  /** Vhost limits (vhost-limits.ts). */
  readonly vhostLimits: VhostLimitStore;
  /** Persistent messages of durable queues (messages.ts). */
  readonly messages: MessageJournal;

  private readonly st: Statements;
  /** Transactions, the turn's commit and its fsync (group-commit.ts). */
  private readonly gc: GroupCommit;
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
    this.messages = new MessageJournal(this.st, this.gc, this.patterns, this.file);
    for (const r of this.st.queueStates.all() as { id: number; vhost: string; name: string; delivered: number }[]) {
      this.messages.track(r.vhost, r.name, r.id, r.delivered);
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
    this.messages.forgetVhost(name);
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
    this.messages.track(vhost, q.name, row.id, row.delivered);
  }

  /** Deletes the queue, its messages and every binding to it. */
  deleteQueue(vhost: string, name: string): void {
    const st = this.write();
    const q = this.messages.forget(vhost, name);
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

  // ---- maintenance --------------------------------------------------------------------------

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
