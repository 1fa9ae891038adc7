// Warren's embedded store: durable definitions and persistent messages in SQLite (WAL).
//
// Group commit: every write made during one event-loop turn lands in ONE transaction, committed
// (and fsynced) from a setImmediate or by flush(). Definition writes, removes and updates run
// at once inside a transaction opened lazily by the first write of the turn; message adds are
// held in memory until the turn ends, so an add removed in the same turn (delivered and acked
// at once) never touches SQLite. While the WAL's fsync is in flight the transaction stays open
// across turns (each turn's adds written into it at its end) and is committed when it completes. afterCommit() callbacks run once the commit holding
// every write made before them is durable: the WAL is fsynced off the event loop first
// (wal-sync.ts), so a turn's commit does not stall the broker while the disk catches up.
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
import { WalSync, type CommitCallback, type SyncFile } from './wal-sync.js';
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
  /** Transactions committed so far (a turn with no net writes commits nothing). */
  commits = 0;
  /** Message adds cancelled by a remove (or purge/delete) before they were written. */
  cancelledAdds = 0;
  /** The commit that writes made now will land in: it grows by one at each commit point. */
  commitId = 0;
  readonly file: string;
  /** Delayed messages, retry state and deduplication caches (patterns.ts). */
  readonly patterns: PatternStore;
  /** Policies and operator policies (policies.ts). */
  readonly policies: PolicyStore;
  /** Vhost limits (vhost-limits.ts). */
  readonly vhostLimits: VhostLimitStore;

  private readonly st: Statements;
  /** vhost -> queue name -> state; nested maps so the per-message path builds no key strings. */
  private readonly queues = new Map<string, Map<string, QueueState>>();
  private dirty: QueueState[] = [];
  private callbacks: CommitCallback[] = [];
  private inTxn = false;
  private scheduled: NodeJS.Immediate | null = null;
  private closed = false;
  private reclaimTimer: NodeJS.Timeout | null = null;
  private readonly wal: WalSync;
  /** A turn ended with writes while an fsync was in flight: commit when it completes. */
  private commitWanted = false;
  /** A statement other than a message write ran this turn (write()): commit at the turn's end. */
  private urgent = false;
  /** Queues whose pending writes already went into the open transaction (writeDirty). */
  private written: QueueState[] = [];
  /** writeDirty failed: the commit that ends the transaction rolls it back and reports this. */
  private writeError: Error | null = null;
  private readonly onImmediate = (): void => {
    this.scheduled = null;
    // While the WAL's fsync is in flight a commit now could not be made durable any sooner
    // than one made when it completes; waiting lets one transaction hold every turn in between,
    // so each page is written once, not per turn. Only message adds, removes and watermarks
    // wait (nothing is confirmed before the fsync); a statement already run this turn (a
    // definition, a dedup cache entry a transient publish's confirm relies on) commits at the
    // turn's end, so a crashed process keeps it.
    if (this.wal.syncing && !this.urgent) {
      // The turn's adds go into the open transaction now, not at the commit: the time between
      // one fsync's end and the next one's start is on every confirm's path, and the commit
      // made then has only COMMIT and the last turn's writes left to do (S3 ~+4 %). Adds acked
      // before their turn ends are still never written.
      this.writeDirty();
      this.commitWanted = true;
      return;
    }
    this.commit(false);
  };
  /** The in-flight fsync completed: make the deferred commit, which starts the next fsync. */
  private readonly onSynced = (): boolean => {
    if (!this.commitWanted || this.closed) return false;
    this.commitWanted = false;
    this.commit(false);
    return true;
  };

  private constructor(
    readonly dir: string,
    private readonly db: Database.Database,
    private readonly lock: DirLock,
    readonly log: LogFn,
  ) {
    this.file = path.join(dir, DB_FILE);
    this.st = prepareStatements(db);
    this.patterns = new PatternStore(db, () => { this.write(); });
    this.policies = new PolicyStore(db, () => { this.write(); }, () => { this.flush(); });
    this.vhostLimits = new VhostLimitStore(db, () => { this.write(); }, () => { this.flush(); });
    this.wal = new WalSync(`${this.file}-wal`, (e) => this.log('error', 'afterCommit callback threw', { error: e.message }), this.onSynced);
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

  // ---- group commit -------------------------------------------------------------------------

  /** Runs cb once every write made so far is durable (err set if that commit failed). */
  afterCommit(cb: CommitCallback): void {
    if (this.closed) throw new Error(`store ${this.file} is closed`);
    this.callbacks.push(cb);
    this.schedule();
  }

  /** Writes are waiting for the turn's commit. */
  get pending(): boolean {
    return this.inTxn || this.dirty.length > 0 || this.wal.hasFiles;
  }

  /** A file outside SQLite (a stream segment) was written: this turn's commit fsyncs it too. */
  syncWith(f: SyncFile): void {
    if (this.closed) return;
    this.wal.addFile(f);
    this.schedule();
  }

  /** Commits pending writes now, makes them durable, and runs every waiting afterCommit callback. */
  flush(): void {
    this.commit(true);
  }

  /** The turn's commit; sync: fsync here and now instead of on the thread pool. */
  private commit(sync: boolean): void {
    this.commitWanted = false;
    if (this.scheduled !== null) {
      clearImmediate(this.scheduled);
      this.scheduled = null;
    }
    if (this.closed) return;
    this.urgent = false;
    const dirty = this.dirty;
    this.dirty = [];
    for (const q of this.written) if (!q.dirty) dirty.push(q);
    this.written = [];
    let err: Error | null = null;
    let wrote = false;
    try {
      if (this.writeError !== null) throw this.writeError;
      for (const q of dirty) if (!q.deleted) this.writePending(q);
      if (this.inTxn) {
        this.st.commit.run();
        this.inTxn = false;
        this.commits++;
        wrote = true;
      }
    } catch (e) {
      err = e instanceof Error ? e : new Error(String(e));
      this.writeError = null;
      this.inTxn = false;
      if (this.db.inTransaction) this.st.rollback.run();
      this.log('error', 'store commit failed; its writes are lost', { file: this.file, error: err.message });
    }
    for (const q of dirty) {
      q.dirty = false;
      q.clearPending();
      if (err === null) q.delivered = q.deliveredPending;
      else q.deliveredPending = q.delivered;
      q.deliveredWritten = q.delivered;
    }
    this.commitId++;
    const cbs = this.callbacks;
    this.callbacks = [];
    this.wal.committed(wrote, cbs, err);
    if (sync) this.wal.syncNow();
  }

  /**
   * Runs the dirty queues' pending writes inside the open transaction without committing it;
   * their watermarks become committed with the commit that ends it. A failure is left to that
   * commit: it rolls back and reports the error to every callback.
   */
  private writeDirty(): void {
    const dirty = this.dirty;
    this.dirty = [];
    for (let i = 0; i < dirty.length; i++) {
      const q = dirty[i]!;
      q.dirty = false;
      this.written.push(q);
      if (q.deleted) continue;
      try {
        this.writePending(q);
      } catch (e) {
        // Part of the queue's adds may be in the transaction: the commit rolls it all back.
        this.writeError = e instanceof Error ? e : new Error(String(e));
        for (let j = i + 1; j < dirty.length; j++) {
          dirty[j]!.dirty = false;
          this.written.push(dirty[j]!);
        }
        return;
      }
      q.clearPending();
    }
  }

  private writePending(q: QueueState): void {
    const recs = q.pendRec;
    const add = this.st.addMessage;
    for (let i = 0; i < recs.length; i++) {
      const r = recs[i];
      if (r === null || r === undefined) continue;
      this.begin();
      add.run(q.id, r.seq, r.body.length, r.expiresAt, r.priority, r.enqueuedAt, r.deathCount ?? 0,
        r.exchange, r.routingKey, r.properties, r.body, r.deliveryCount ?? 0, r.retryAt ?? null);
    }
    if (q.pendDel.length > 0) {
      this.begin();
      const runs = q.takeRemovedRuns();
      for (let i = 0; i < runs.length; i += 2) {
        if (runs[i] === runs[i + 1]) this.st.removeMessage.run(q.id, runs[i]);
        else this.st.removeRange.run(q.id, runs[i], runs[i + 1]);
      }
    }
    if (q.deliveredPending > q.deliveredWritten) {
      this.begin();
      this.st.setDelivered.run(q.deliveredPending, q.id);
      q.deliveredWritten = q.deliveredPending;
    }
  }

  private schedule(): void {
    if (this.scheduled === null) this.scheduled = setImmediate(this.onImmediate);
  }

  private begin(): void {
    if (!this.inTxn) {
      this.st.begin.run();
      this.inTxn = true;
    }
  }

  /** A write that runs now: inside this turn's transaction, committed at the end of the turn. */
  private write(): Statements {
    if (this.closed) throw new Error(`store ${this.file} is closed`);
    this.begin();
    this.urgent = true;
    this.schedule();
    return this.st;
  }

  private markDirty(q: QueueState): void {
    if (!q.dirty) {
      q.dirty = true;
      this.dirty.push(q);
    }
    this.schedule();
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
    this.markDirty(q);
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
    this.markDirty(q);
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
    if (this.inTxn || this.dirty.length > 0) this.flush();
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
    this.markDirty(q);
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
    if (this.inTxn || this.dirty.length > 0) this.flush();
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
    if (this.inTxn || this.dirty.length > 0) this.flush();
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
      this.closed = true;
      try {
        this.wal.close();
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
