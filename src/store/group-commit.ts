// Group commit for the store: every write made during one event-loop turn lands in ONE
// transaction, committed (and fsynced) from a setImmediate or by flush(). Definition writes,
// removes and updates run at once inside a transaction opened lazily by the first write of the
// turn (write()); message adds are held in memory (QueueState) until the turn ends, so an add
// removed in the same turn (delivered and acked at once) never touches SQLite. While the WAL's
// fsync is in flight the transaction stays open across turns (each turn's adds written into it
// at its end) and is committed when it completes. afterCommit() callbacks run once the commit
// holding every write made before them is durable: the WAL is fsynced off the event loop first
// (wal-sync.ts), so a turn's commit does not stall the broker while the disk catches up.
import type Database from 'better-sqlite3';
import type { QueueState } from './queue-state.js';
import type { LogFn } from './types.js';
import { WalSync, type CommitCallback, type SyncFile } from './wal-sync.js';

/** The statements a commit runs (a subset of statements.ts, typed here so declarations can name it). */
export interface CommitStatements {
  begin: Database.Statement;
  commit: Database.Statement;
  rollback: Database.Statement;
  addMessage: Database.Statement;
  removeMessage: Database.Statement;
  removeRange: Database.Statement;
  setDelivered: Database.Statement;
}

export class GroupCommit {
  /** Transactions committed so far (a turn with no net writes commits nothing). */
  commits = 0;
  /** The commit that writes made now will land in: it grows by one at each commit point. */
  commitId = 0;
  private dirty: QueueState[] = [];
  private callbacks: CommitCallback[] = [];
  private inTxn = false;
  private scheduled: NodeJS.Immediate | null = null;
  private isClosed = false;
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
    if (!this.commitWanted || this.isClosed) return false;
    this.commitWanted = false;
    this.commit(false);
    return true;
  };

  constructor(
    private readonly db: Database.Database,
    private readonly st: CommitStatements,
    /** The database file, for messages. */
    private readonly file: string,
    private readonly log: LogFn,
  ) {
    this.wal = new WalSync(`${file}-wal`, (e) => this.log('error', 'afterCommit callback threw', { error: e.message }), this.onSynced);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Writes made and not yet committed (a caller about to read them back with SQL flushes first). */
  get hasWrites(): boolean {
    return this.inTxn || this.dirty.length > 0;
  }

  /** Runs cb once every write made so far is durable (err set if that commit failed). */
  afterCommit(cb: CommitCallback): void {
    if (this.isClosed) throw new Error(`store ${this.file} is closed`);
    this.callbacks.push(cb);
    this.schedule();
  }

  /** Writes are waiting for the turn's commit. */
  get pending(): boolean {
    return this.hasWrites || this.wal.hasFiles;
  }

  /** A file outside SQLite (a stream segment) was written: this turn's commit fsyncs it too. */
  syncWith(f: SyncFile): void {
    if (this.isClosed) return;
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
    if (this.isClosed) return;
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
  write(): void {
    if (this.isClosed) throw new Error(`store ${this.file} is closed`);
    this.begin();
    this.urgent = true;
    this.schedule();
  }

  /** q has adds, removes or a watermark for the turn's commit. */
  markDirty(q: QueueState): void {
    if (!q.dirty) {
      q.dirty = true;
      this.dirty.push(q);
    }
    this.schedule();
  }

  /** Stops committing and fsyncs what was committed; call flush() first to commit the rest. */
  close(): void {
    this.isClosed = true;
    this.wal.close();
  }
}
