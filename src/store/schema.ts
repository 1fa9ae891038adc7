// Opening warren.db: pragmas, schema creation, version check, and errors that name the file.
import type Database from 'better-sqlite3';
import { Sqlite } from './sqlite.js';
import { PATTERN_TABLES } from './patterns.js';
import { POLICY_TABLES } from './policies.js';
import { VHOST_LIMIT_TABLES } from './vhost-limits.js';

/** Bump when the tables change, and add a migration from the previous version to migrate(). */
export const SCHEMA_VERSION = 5;
/** 'Warn' in ASCII; marks the file as Warren's for `file(1)` and for our own check. */
const APPLICATION_ID = 0x5761726e;

// Column order matters: small fixed-size columns first and the body last, so reading a row's
// header never touches the body's overflow pages. The covering index lets recovery (loadIndex)
// scan only the index, never the bodies. Queues get an integer id so message rows stay small.
// Version 2: users, vhosts and permissions are kept (version 1 had the first two tables, unused).
const ACCESS_TABLES = `
CREATE TABLE permissions (
  user TEXT NOT NULL, vhost TEXT NOT NULL, configure TEXT NOT NULL, write TEXT NOT NULL, read TEXT NOT NULL,
  PRIMARY KEY (user, vhost)) WITHOUT ROWID;
CREATE TABLE topic_permissions (
  user TEXT NOT NULL, vhost TEXT NOT NULL, exchange TEXT NOT NULL, write TEXT NOT NULL, read TEXT NOT NULL,
  PRIMARY KEY (user, vhost, exchange)) WITHOUT ROWID;
`;

const DDL = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE vhosts (name TEXT PRIMARY KEY, description TEXT NOT NULL DEFAULT '', tags TEXT NOT NULL DEFAULT '[]') WITHOUT ROWID;
CREATE TABLE users (
  name TEXT PRIMARY KEY, password_hash BLOB NOT NULL, tags TEXT NOT NULL,
  hashing_algorithm TEXT NOT NULL DEFAULT 'rabbit_password_hashing_sha256') WITHOUT ROWID;
${ACCESS_TABLES}CREATE TABLE exchanges (
  vhost TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, durable INTEGER NOT NULL,
  auto_delete INTEGER NOT NULL, internal INTEGER NOT NULL, args BLOB NOT NULL,
  PRIMARY KEY (vhost, name)) WITHOUT ROWID;
CREATE TABLE queues (
  id INTEGER PRIMARY KEY AUTOINCREMENT, vhost TEXT NOT NULL, name TEXT NOT NULL,
  auto_delete INTEGER NOT NULL, args BLOB NOT NULL, delivered_upto INTEGER NOT NULL DEFAULT 0,
  UNIQUE (vhost, name));
CREATE TABLE bindings (
  vhost TEXT NOT NULL, source TEXT NOT NULL, dest_kind TEXT NOT NULL, destination TEXT NOT NULL,
  routing_key TEXT NOT NULL, args BLOB NOT NULL,
  PRIMARY KEY (vhost, source, dest_kind, destination, routing_key, args)) WITHOUT ROWID;
CREATE INDEX bindings_by_destination ON bindings (vhost, dest_kind, destination);
CREATE TABLE messages (
  queue_id INTEGER NOT NULL, seq INTEGER NOT NULL, size INTEGER NOT NULL, expires_at INTEGER,
  priority INTEGER NOT NULL, enqueued_at INTEGER NOT NULL, death_count INTEGER NOT NULL,
  exchange TEXT NOT NULL, routing_key TEXT NOT NULL, properties BLOB NOT NULL, body BLOB NOT NULL);
CREATE INDEX messages_by_queue ON messages (queue_id, seq, size, expires_at, priority);
`;

function sqliteCode(e: unknown): string | undefined {
  return e instanceof Sqlite.SqliteError ? e.code : undefined;
}

/** Thrown for errors we have already phrased for the operator; passed through unchanged. */
class OpenError extends Error {}

export interface Opened {
  db: Database.Database;
  created: boolean;
  version: number;
}

export function openDatabase(file: string): Opened {
  // The only contender is another broker holding the exclusive lock. A live one will not let
  // go, but one being torn down (killed just before a supervisor restarts us) drops its locks
  // file by file as its descriptors close: lock.ts waits for the lock database, and this wait
  // (as long as lock.ts's) covers warren.db's lock, released a moment later on a loaded machine.
  let db: Database.Database;
  try {
    db = new Sqlite(file, { timeout: 1000 });
  } catch (e) {
    throw new Error(`cannot open ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    // EXCLUSIVE before WAL: the WAL index then lives in heap memory (no -shm file) and the file
    // lock, once taken below, is held until close; the kernel drops it if the process dies.
    db.pragma('locking_mode = EXCLUSIVE');
    // Lets reclaimSpace() hand the pages of a drained backlog back to the filesystem without a
    // full VACUUM. Only takes effect on a new file, before WAL mode writes its first page; on an
    // existing file it changes nothing.
    db.pragma('auto_vacuum = INCREMENTAL');
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new OpenError(`${file}: could not switch to WAL mode (got ${String(mode)})`);
    // NORMAL: a commit does not fsync; wal-sync.ts fsyncs the WAL off the event loop before
    // any afterCommit callback (a publisher confirm) runs, so a confirmed message still
    // survives power loss. SQLite keeps fsyncing around checkpoints itself.
    db.pragma('synchronous = NORMAL');
    db.pragma('cache_size = -32768'); // 32 MiB page cache, whatever the backlog
    db.pragma('temp_store = MEMORY');
    db.pragma('journal_size_limit = 67108864'); // truncate the WAL back to 64 MiB after checkpoints
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
    let created = false;
    let version: number;
    if (tables.length === 0) {
      db.transaction(() => {
        db.exec(DDL);
        db.exec(PATTERN_TABLES); // version 3's tables (patterns.ts)
        db.exec(POLICY_TABLES); // version 4's (policies.ts)
        db.exec(VHOST_LIMIT_TABLES); // version 5's (vhost-limits.ts)
        db.pragma(`application_id = ${APPLICATION_ID}`);
        db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(SCHEMA_VERSION);
      })();
      created = true;
      version = SCHEMA_VERSION;
    } else {
      if (!tables.includes('meta')) {
        throw new OpenError(`${file} is a SQLite database but not a Warren one (no meta table); move it away or use another --data-dir`);
      }
      const v = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get();
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
        throw new OpenError(`${file} has no valid schema version (found ${String(v)}); the file is damaged or not Warren's`);
      }
      if (v > SCHEMA_VERSION) {
        throw new OpenError(
          `${file} has schema version ${v}, newer than this Warren supports (${SCHEMA_VERSION}); ` +
            `run the newer Warren that wrote it, or move the data directory away`,
        );
      }
      version = migrate(db, v);
    }
    // A write takes SQLite's exclusive lock now rather than at the first publish, so a second
    // broker that got past the lock database (deleted while held, see lock.ts) fails here.
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('opened_by_pid', ?)").run(process.pid);
    return { db, created, version };
  } catch (e) {
    db.close();
    if (e instanceof OpenError) throw new Error(e.message);
    const code = sqliteCode(e);
    const msg = (e as Error).message;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      throw new Error(`${file} is locked by another process (another Warren on this data directory?): ${msg}`, { cause: e });
    }
    if (code === 'SQLITE_NOTADB' || code?.startsWith('SQLITE_CORRUPT')) {
      throw new Error(
        `${file} is not a valid Warren database (${msg}); refusing to start with an empty broker. ` +
          `Restore it from a backup, or move it away to start empty`,
        { cause: e },
      );
    }
    throw new Error(`cannot open ${file}: ${msg}`, { cause: e });
  }
}

/** Upgrades an older schema in place, one version at a time; returns the resulting version. */
function migrate(db: Database.Database, from: number): number {
  // Each step runs inside one transaction with the version it reaches, so a crash midway leaves
  // the file at the old version, to be migrated again.
  let v = from;
  db.transaction(() => {
    if (v === 1) {
      // Version 1 kept no users, vhosts or permissions (config made them at every start). The
      // vhosts that hold definitions are recorded, so they still exist; the broker adds its
      // default user and vhost as on a fresh directory, since there are no users yet.
      db.exec(`ALTER TABLE vhosts ADD COLUMN description TEXT NOT NULL DEFAULT ''`);
      db.exec(`ALTER TABLE vhosts ADD COLUMN tags TEXT NOT NULL DEFAULT '[]'`);
      db.exec(`ALTER TABLE users ADD COLUMN hashing_algorithm TEXT NOT NULL DEFAULT 'rabbit_password_hashing_sha256'`);
      db.exec(ACCESS_TABLES);
      db.exec('INSERT OR IGNORE INTO vhosts (name) SELECT vhost FROM exchanges UNION SELECT vhost FROM queues');
      v = 2;
    }
    if (v === 2) {
      // Version 3: delayed messages, retry state of queue messages, deduplication caches.
      db.exec(PATTERN_TABLES);
      v = 3;
    }
    if (v === 3) {
      // Version 4: policies and operator policies.
      db.exec(POLICY_TABLES);
      v = 4;
    }
    if (v === 4) {
      // Version 5: vhost limits.
      db.exec(VHOST_LIMIT_TABLES);
      v = 5;
    }
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(v);
  })();
  return v;
}
