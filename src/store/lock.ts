// The data-directory lock: one broker per data directory, decided by the kernel.
//
// The lock is SQLite's own POSIX (fcntl) lock on a small empty database, `warren.lock.db`: the
// holder opens it in locking_mode=EXCLUSIVE and keeps a `BEGIN EXCLUSIVE` transaction open
// until release. The kernel drops that lock when the holder's descriptors close, so a broker
// that was SIGKILLed, or died any other way, never blocks the next start: no pid is trusted,
// whatever process now has the dead broker's pid. Within one process, SQLite's unix VFS tracks
// locks per inode across connections, so a second Store on the same directory is refused too.
//
// `warren.lock` holds the holder's pid as text, written only after the lock is taken. It
// serves the refusal message and nothing else (and keeps Warrens from before this lock, which
// read that file, from starting on a held directory).
// Second line (in store.ts): warren.db's own locking_mode=EXCLUSIVE, should someone delete the
// lock database while it is held (a new file is a new inode, so its lock would not conflict).
//
// Never open or read warren.lock.db with fs in this process: closing any descriptor on a file
// drops every POSIX lock this process holds on it. And never delete it: a contender may have it
// open already, and would then lock an orphaned inode while a third process locks a new file.
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { Sqlite } from './sqlite.js';

/** The holder's pid, for messages only. */
export const LOCK_FILE = 'warren.lock';
/** The database whose SQLite lock decides who holds the directory. */
export const LOCK_DB = 'warren.lock.db';
/**
 * How long a start waits for a holder in another process to let go: a broker killed a moment
 * ago keeps its lock until the kernel has torn it down (freeing a large heap comes first), and
 * a supervisor restarting it at once should not fail for that.
 */
export const DEFAULT_LOCK_WAIT_MS = 1000;

/** Data directories this process holds: a second open here cannot wait for itself. */
const heldHere = new Set<string>();

export interface DirLock {
  /** The lock database. */
  readonly file: string;
  release(): void;
}

export interface LockOptions {
  /** How long to wait for another process's lock (default DEFAULT_LOCK_WAIT_MS). */
  waitMs?: number;
  log?: (msg: string, meta?: Record<string, unknown>) => void;
}

function readPid(file: string): number | null {
  try {
    const n = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

function isBusy(e: unknown): boolean {
  return e instanceof Sqlite.SqliteError && (e.code === 'SQLITE_BUSY' || e.code === 'SQLITE_LOCKED');
}

/** Opens the lock database and takes its exclusive lock, or throws (SQLITE_BUSY when held). */
function lockDatabase(file: string, waitMs: number): Database.Database {
  const db = new Sqlite(file, { timeout: waitMs });
  try {
    // Rollback-journal mode (the default; a new file gets it): WAL would keep a -shm file and
    // share the lock. Nothing is ever written, so no journal file appears either.
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

export function acquireLock(dir: string, opts: LockOptions = {}): DirLock {
  const key = fs.realpathSync(dir);
  const file = path.join(dir, LOCK_DB);
  const pidFile = path.join(dir, LOCK_FILE);
  const here = heldHere.has(key);
  let db: Database.Database;
  try {
    try {
      db = lockDatabase(file, 0);
    } catch (e) {
      const waitMs = opts.waitMs ?? DEFAULT_LOCK_WAIT_MS;
      if (!isBusy(e) || here || waitMs <= 0) throw e;
      opts.log?.('data directory is locked; waiting for the holder to exit', { dir, pid: readPid(pidFile), waitMs });
      db = lockDatabase(file, waitMs);
    }
  } catch (e) {
    if (isBusy(e)) {
      // The pid only names the holder; the kernel lock already decided. Our own pid in the
      // file while this process does not hold the directory is a dead predecessor's.
      const pid = here ? process.pid : readPid(pidFile);
      const who = here ? 'this process' : 'another process';
      const shown = pid === null || (!here && pid === process.pid) ? 'unknown' : String(pid);
      throw new Error(
        `data directory ${dir} is in use by ${who} (pid ${shown}, lock file ${file}); ` +
          'stop that broker or use another --data-dir',
        { cause: e },
      );
    }
    const msg = (e as Error).message;
    if (e instanceof Sqlite.SqliteError && (e.code === 'SQLITE_NOTADB' || e.code.startsWith('SQLITE_CORRUPT'))) {
      throw new Error(`${file} is not Warren's lock database (${msg}); move it away (no broker is using it)`, { cause: e });
    }
    throw new Error(`cannot lock data directory ${dir} (${file}): ${msg}`, { cause: e });
  }

  try {
    const stale = readPid(pidFile);
    if (stale !== null) opts.log?.('previous broker on this data directory did not shut down cleanly', { dir, stalePid: stale });
    // Written whole and renamed into place, so a contender never reads half a pid.
    const tmp = `${pidFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${process.pid}\n`);
    fs.renameSync(tmp, pidFile);
  } catch (e) {
    db.close();
    throw e;
  }
  heldHere.add(key);
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      heldHere.delete(key);
      // While we still hold the lock no one else writes the pid file, so it is ours to remove.
      try {
        fs.rmSync(pidFile, { force: true });
      } finally {
        db.close(); // ends the transaction and drops the kernel lock
      }
    },
  };
}
