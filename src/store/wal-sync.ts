// Durability of commits without blocking the event loop.
//
// SQLite runs with synchronous=NORMAL: a commit writes its WAL frames (into the page cache)
// but does not fsync. This module fsyncs the WAL file itself, on libuv's thread pool, and
// only then runs the commit's afterCommit callbacks (which send publisher confirms). One fsync
// is in flight at a time; commits made meanwhile wait for the next one, so under load each
// fsync covers many commits (group commit, pipelined with the work of the next turns).
// A crashed process loses nothing that was committed (the page cache survives it); a power
// loss loses nothing whose callbacks ran. SQLite still fsyncs on its own around checkpoints.
import fs from 'node:fs';

export type CommitCallback = (err: Error | null) => void;

/**
 * A file outside SQLite whose writes commits must also cover (a stream's segment): fsynced
 * beside the WAL, in the same group, before the commit's callbacks run.
 */
export interface SyncFile {
  fsync(cb: (err: Error | null) => void): void;
  fsyncSync(): void;
}

interface Batch {
  cbs: CommitCallback[];
  /** The commit failed: its callbacks get this error (after earlier batches, in order). */
  err: Error | null;
}

export class WalSync {
  private fd: number | null = null;
  /** Batches of commits made since the in-flight fsync started, oldest first. */
  private waiting: Batch[] = [];
  /** Batches the in-flight fsync covers, or null when none is in flight. */
  private inFlight: Batch[] | null = null;
  /** A commit happened that no fsync has covered yet. */
  private dirty = false;
  /** Bumped by syncNow(): an fsync that completes after it was superseded does nothing. */
  private generation = 0;
  private closed = false;
  /** Files written since the last fsync started, and the ones the in-flight fsync covers. */
  private files: SyncFile[] = [];
  private inFlightFiles: SyncFile[] = [];

  constructor(private readonly walFile: string, private readonly onCallbackError: (e: Error) => void) {}

  /** A commit (or a turn without one) ends: cbs run once it is durable. */
  committed(wrote: boolean, cbs: CommitCallback[], err: Error | null): void {
    if (wrote) this.dirty = true;
    if (cbs.length > 0) this.waiting.push({ cbs, err });
    if (this.inFlight === null) this.start();
  }

  /** `f` was written: the next group fsync covers it (the caller adds it once per turn). */
  addFile(f: SyncFile): void {
    this.files.push(f);
  }

  get hasFiles(): boolean {
    return this.files.length > 0;
  }

  /** fsync now, synchronously, and run every waiting callback (tx.commit, shutdown). */
  syncNow(): void {
    this.generation++;
    let err: Error | null = null;
    if (this.dirty || this.inFlight !== null) {
      this.dirty = false;
      try {
        const fd = this.open();
        if (fd !== null) fs.fsyncSync(fd);
      } catch (e) {
        err = e as Error;
      }
    }
    for (const f of [...this.inFlightFiles, ...this.files]) {
      try {
        f.fsyncSync();
      } catch (e) {
        err ??= e as Error;
      }
    }
    this.files = [];
    this.inFlightFiles = [];
    const batches = [...(this.inFlight ?? []), ...this.waiting];
    this.inFlight = null;
    this.waiting = [];
    this.run(batches, err);
  }

  close(): void {
    this.syncNow();
    this.closed = true;
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  private start(): void {
    if (this.closed || (!this.dirty && this.files.length === 0 && this.waiting.length === 0)) return;
    if (!this.dirty && this.files.length === 0) {
      // Nothing new to make durable: earlier commits were covered by a completed fsync.
      const batches = this.waiting;
      this.waiting = [];
      this.run(batches, null);
      return;
    }
    let fd: number | null = null;
    if (this.dirty) {
      try {
        fd = this.open();
      } catch (e) {
        const batches = this.waiting;
        this.waiting = [];
        this.run(batches, e as Error);
        return;
      }
    }
    this.dirty = false;
    const files = (this.inFlightFiles = this.files);
    this.files = [];
    const batches = (this.inFlight = this.waiting);
    this.waiting = [];
    let left = (fd !== null ? 1 : 0) + files.length;
    if (left === 0) {
      this.inFlight = null;
      this.run(batches, null);
      return;
    }
    const gen = this.generation;
    let first: Error | null = null;
    // One closure per group fsync (not per commit or message).
    const done = (e: Error | null): void => {
      if (e !== null && first === null) first = e;
      if (--left > 0 || gen !== this.generation) return; // syncNow() ran these callbacks already
      this.inFlight = null;
      this.inFlightFiles = [];
      this.run(batches, first);
      this.start();
    };
    if (fd !== null) fs.fsync(fd, done);
    for (const f of files) f.fsync(done);
  }

  /** The WAL's descriptor, opened on first use; null while SQLite has not created it. */
  private open(): number | null {
    if (this.fd !== null) return this.fd;
    try {
      this.fd = fs.openSync(this.walFile, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    return this.fd;
  }

  private run(batches: Batch[], syncErr: Error | null): void {
    for (const b of batches) {
      const err = b.err ?? syncErr;
      for (const cb of b.cbs) {
        try {
          cb(err);
        } catch (e) {
          this.onCallbackError(e as Error);
        }
      }
    }
  }
}
