// Durability of commits without blocking the event loop.
//
// SQLite runs with synchronous=NORMAL: a commit writes its WAL frames (into the page cache)
// but does not fsync. This module fsyncs the WAL file itself, on libuv's thread pool, and
// only then runs the commit's afterCommit callbacks (which send publisher confirms). It uses
// fdatasync, as SQLite does on Linux: the frames and the file's size reach the disk, its
// timestamps need not (S3 ~2 % faster than fsync). One fsync is in flight at a time by
// default; commits made meanwhile wait for the next one, so under load each fsync covers many
// commits (group commit, pipelined with the work of the next turns). Overlapping fsyncs of one
// file gain nothing on this machine's disk (the device flushes one at a time) and split a
// confirm window into more, smaller groups: S3 with two in flight ran ~6 % slower, with three
// no faster than two.
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

/** One group fsync: the batches it makes durable, the files it covers, and its progress. */
interface Group {
  batches: Batch[];
  files: SyncFile[];
  /** fsync calls still running. */
  left: number;
  err: Error | null;
}


export class WalSync {
  private fd: number | null = null;
  /** Batches of commits made since the last group fsync started, oldest first. */
  private waiting: Batch[] = [];
  /** Group fsyncs started and not yet reported, oldest first. */
  private inFlight: Group[] = [];
  /** A commit happened that no fsync has covered yet. */
  private dirty = false;
  /** Bumped by syncNow(): an fsync that completes after it was superseded does nothing. */
  private generation = 0;
  private closed = false;
  /** Files written since the last group fsync started. */
  private files: SyncFile[] = [];

  /**
   * `onSynced` runs when a group fsync completes, before the next one starts: the store makes
   * its deferred commit there (and that commit starts the next fsync); false: nothing to commit.
   */
  constructor(
    private readonly walFile: string,
    private readonly onCallbackError: (e: Error) => void,
    private readonly onSynced: () => boolean = () => false,
    /** Group fsyncs that may overlap; more commits wait for the next group. */
    private readonly maxInFlight = 1,
  ) {}

  /** As many fsyncs are in flight as may be: a commit made now would wait for one to end. */
  get syncing(): boolean {
    return this.inFlight.length >= this.maxInFlight;
  }

  /** A commit (or a turn without one) ends: cbs run once it is durable. */
  committed(wrote: boolean, cbs: CommitCallback[], err: Error | null): void {
    if (wrote) this.dirty = true;
    if (cbs.length > 0) this.waiting.push({ cbs, err });
    if (this.inFlight.length < this.maxInFlight) this.start();
    else if (!this.dirty && this.files.length === 0) this.joinLast();
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
    if (this.dirty || this.inFlight.length > 0) {
      this.dirty = false;
      try {
        const fd = this.open();
        if (fd !== null) fs.fdatasyncSync(fd);
      } catch (e) {
        err = e as Error;
      }
    }
    const files = [...this.inFlight.flatMap((g) => g.files), ...this.files];
    for (const f of files) {
      try {
        f.fsyncSync();
      } catch (e) {
        err ??= e as Error;
      }
    }
    this.files = [];
    const batches = [...this.inFlight.flatMap((g) => g.batches), ...this.waiting];
    this.inFlight = [];
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
    if (!this.dirty && this.files.length === 0) return this.joinLast();
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
    const group: Group = { batches: this.waiting, files: this.files, left: (fd !== null ? 1 : 0) + this.files.length, err: null };
    this.files = [];
    this.waiting = [];
    if (group.left === 0) {
      this.run(group.batches, null);
      return;
    }
    this.inFlight.push(group);
    const gen = this.generation;
    // One closure per group fsync (not per commit or message).
    const done = (e: Error | null): void => {
      if (e !== null && group.err === null) group.err = e;
      if (--group.left > 0 || gen !== this.generation) return; // syncNow() ran these callbacks already
      this.finished();
    };
    if (fd !== null) fs.fdatasync(fd, done);
    for (const f of group.files) f.fsync(done);
  }

  /**
   * Nothing new to make durable: the waiting callbacks' commits are covered by an fsync already
   * started, or completed; they go with the last one, in order (or now, if none is in flight).
   */
  private joinLast(): void {
    const last = this.inFlight[this.inFlight.length - 1];
    const batches = this.waiting;
    this.waiting = [];
    if (last !== undefined) last.batches.push(...batches);
    else this.run(batches, null);
  }

  /** Reports every group at the head that is complete, in order; then lets the next start. */
  private finished(): void {
    while (this.inFlight.length > 0 && this.inFlight[0]!.left === 0) {
      const g = this.inFlight.shift()!;
      this.run(g.batches, g.err);
    }
    if (!this.onSynced() && this.inFlight.length < this.maxInFlight) this.start();
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
