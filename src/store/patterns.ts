// The store's tables for the messaging patterns (schema version 3): messages a delayed exchange
// holds until their due time, the retry state (failed attempts, due time) of queue messages
// backing off, and deduplication caches kept on disk. Writes join the turn's group commit, like
// every other store write; reads happen at startup only.
import type Database from 'better-sqlite3';

/**
 * The migration from version 2 (and part of a new file's tables). Retry state sits in the message row, so it goes with the
 * message; a partial index lets recovery find the few retrying messages without a scan.
 */
export const PATTERN_TABLES = `
ALTER TABLE messages ADD COLUMN delivery_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN retry_at INTEGER;
CREATE INDEX messages_retrying ON messages (queue_id, seq, delivery_count, retry_at) WHERE delivery_count > 0;
CREATE TABLE held_messages (
  id INTEGER PRIMARY KEY, vhost TEXT NOT NULL, exchange TEXT NOT NULL, seq INTEGER NOT NULL,
  due_at INTEGER NOT NULL, routing_key TEXT NOT NULL, properties BLOB NOT NULL, body BLOB NOT NULL);
CREATE UNIQUE INDEX held_by_exchange ON held_messages (vhost, exchange, seq);
CREATE TABLE dedup_cache (
  vhost TEXT NOT NULL, exchange TEXT NOT NULL, key BLOB NOT NULL, expires_at INTEGER,
  PRIMARY KEY (vhost, exchange, key)) WITHOUT ROWID;
`;

/** A message an exchange holds: routed (as published to that exchange) at dueAt. */
export interface HeldRecord {
  seq: number;
  dueAt: number;
  routingKey: string;
  properties: Buffer;
  body: Buffer;
}

function prepare(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    addHeld: p('INSERT OR REPLACE INTO held_messages (vhost, exchange, seq, due_at, routing_key, properties, body) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    removeHeld: p('DELETE FROM held_messages WHERE vhost = ? AND exchange = ? AND seq = ?'),
    readHeld: p('SELECT seq, due_at AS dueAt, routing_key AS routingKey, properties, body FROM held_messages WHERE vhost = ? AND exchange = ? AND seq = ?'),
    loadHeld: p('SELECT seq, due_at AS dueAt, routing_key AS routingKey, properties, body FROM held_messages WHERE vhost = ? AND exchange = ? ORDER BY seq'),
    deleteExchangeHeld: p('DELETE FROM held_messages WHERE vhost = ? AND exchange = ?'),
    deleteVhostHeld: p('DELETE FROM held_messages WHERE vhost = ?'),
    retries: p('SELECT seq, delivery_count, retry_at FROM messages WHERE queue_id = ? AND delivery_count > 0 ORDER BY seq').raw(true),
    setRetry: p('UPDATE messages SET delivery_count = ?, retry_at = ? WHERE queue_id = ? AND seq = ?'),
    putDedup: p('INSERT OR REPLACE INTO dedup_cache (vhost, exchange, key, expires_at) VALUES (?, ?, ?, ?)'),
    removeDedup: p('DELETE FROM dedup_cache WHERE vhost = ? AND exchange = ? AND key = ?'),
    loadDedup: p('SELECT key, expires_at AS expiresAt FROM dedup_cache WHERE vhost = ? AND exchange = ?'),
    deleteExchangeDedup: p('DELETE FROM dedup_cache WHERE vhost = ? AND exchange = ?'),
    deleteVhostDedup: p('DELETE FROM dedup_cache WHERE vhost = ?'),
  };
}

export class PatternStore {
  private readonly st: ReturnType<typeof prepare>;

  /** `write` opens (or joins) the turn's transaction before each write. */
  constructor(db: Database.Database, private readonly write: () => void) {
    this.st = prepare(db);
  }

  addHeld(vhost: string, exchange: string, r: HeldRecord): void {
    this.write();
    this.st.addHeld.run(vhost, exchange, r.seq, r.dueAt, r.routingKey, r.properties, r.body);
  }

  removeHeld(vhost: string, exchange: string, seq: number): void {
    this.write();
    this.st.removeHeld.run(vhost, exchange, seq);
  }

  /** One held message (its add is visible before the commit: same connection, same transaction). */
  readHeld(vhost: string, exchange: string, seq: number): HeldRecord | undefined {
    return this.st.readHeld.get(vhost, exchange, seq) as HeldRecord | undefined;
  }

  /** Startup: every message the exchange holds, by seq. */
  forEachHeld(vhost: string, exchange: string, fn: (r: HeldRecord) => void): void {
    for (const r of this.st.loadHeld.iterate(vhost, exchange) as IterableIterator<HeldRecord>) fn(r);
  }

  /** A queue message's failed attempts and when it is next due (retryAt null: ready now). */
  setRetry(queueId: number, seq: number, count: number, retryAt: number | null): void {
    this.write();
    this.st.setRetry.run(count, retryAt, queueId, seq);
  }

  /** Startup: the queue's messages with failed attempts, by seq. */
  forEachRetry(queueId: number, fn: (seq: number, count: number, retryAt: number | null) => void): void {
    for (const row of this.st.retries.iterate(queueId) as IterableIterator<[number, number, number | null]>) fn(row[0], row[1], row[2]);
  }

  putDedup(vhost: string, exchange: string, key: Buffer, expiresAt: number | null): void {
    this.write();
    this.st.putDedup.run(vhost, exchange, key, expiresAt);
  }

  removeDedup(vhost: string, exchange: string, key: Buffer): void {
    this.write();
    this.st.removeDedup.run(vhost, exchange, key);
  }

  loadDedup(vhost: string, exchange: string): { key: Buffer; expiresAt: number | null }[] {
    return this.st.loadDedup.all(vhost, exchange) as { key: Buffer; expiresAt: number | null }[];
  }

  /** The exchange was deleted: what it held goes with it (called inside the store's write). */
  exchangeDeleted(vhost: string, exchange: string): void {
    this.st.deleteExchangeHeld.run(vhost, exchange);
    this.st.deleteExchangeDedup.run(vhost, exchange);
  }

  vhostDeleted(vhost: string): void {
    this.st.deleteVhostHeld.run(vhost);
    this.st.deleteVhostDedup.run(vhost);
  }
}
