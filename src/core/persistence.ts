// What the broker model asks of durable storage, as interfaces, so core/ never imports the
// store: src/persistence/ implements them over src/store/, and a broker without a store (unit
// tests) simply has none.
import type { FieldTable } from '../protocol/field-table.js';
import type { PermissionRecord, TopicPermissionRecord } from './access.js';
import type { Binding, Exchange } from './exchange/exchange.js';
import type { Message } from './message.js';
import type { PolicyKind, PolicyRecord } from './policy.js';
import type { LimitEntries } from './vhost-limits.js';
import type { UserRecord } from './users.js';

/** A durable queue's persistent messages, by the queue's own sequence numbers. */
export interface QueueJournal {
  /** Writes a persistent message (expiresAt 0 = never); durable at the end of this turn's commit. */
  add(seq: number, msg: Message, expiresAt: number): void;
  /** Acked, dropped, dead-lettered away or delivered with no-ack. */
  remove(seq: number): void;
  /** A delivery of seq was made: after a crash it comes back with redelivered set. */
  delivered(seq: number): void;
  /** Reads back a message whose body was left in the store. */
  read(seq: number): Message;
  /**
   * Reads back the stored messages with seq in [from, to], ascending, for the queue to match
   * against its paged-out entries (one query instead of one per message).
   */
  readRange(from: number, to: number, each: (seq: number, msg: Message) => void): void;
  /** Every message of the queue goes (purge with nothing unacked). */
  removeAll(): void;
  /** A message's failed attempts and when it is due again (null: ready now), for retry. */
  setRetry(seq: number, count: number, retryAt: number | null): void;
}

/** The messages a durable exchange holds (x-delayed-message), by the exchange's own seq. */
export interface HeldJournal {
  /** Written in this turn's commit. */
  add(seq: number, dueAt: number, msg: Message): void;
  remove(seq: number): void;
  /** A held message's body and properties back from the store (undefined if it is not there). */
  read(seq: number): Message | undefined;
  /** Startup: every held message, by seq. */
  forEach(fn: (seq: number, dueAt: number, msg: Message) => void): void;
}

/** A deduplication exchange's cache on disk (x-cache-persistence disk), by key. */
export interface DedupJournal {
  /** expiresAt 0 = never. */
  put(key: string, expiresAt: number): void;
  remove(key: string): void;
  /** Startup: every entry, in no particular order. */
  forEach(fn: (key: string, expiresAt: number) => void): void;
}

/** A file a queue writes outside the store, fsynced with the store's commits. */
export interface DurableFile {
  fsync(cb: (err: Error | null) => void): void;
  fsyncSync(): void;
}

/** Where and past which backlog bodies page out of memory (queue/paging.ts, page-file.ts). */
export interface PagingSettings {
  /** The transient page files' directory (emptied at start). */
  readonly dir: string;
  /** Ready (or held) messages past which new ones page out. */
  readonly count: number;
  /** Bytes of bodies in memory past which new ones page out. */
  readonly bytes: number;
}

export interface Persistence {
  /** Paging of long queues and of held messages. */
  readonly paging: PagingSettings;
  /** Writes are waiting for the next commit (tx.commit then commits at once). */
  readonly pending: boolean;
  /** The commit that writes made now will land in (it grows by one per commit). */
  readonly commitId: number;
  /** cb runs once every write made so far is durable on disk (err if that commit failed). */
  afterCommit(cb: (err: Error | null) => void): void;
  /** Commits pending writes now (tx.commit, shutdown). */
  flush(): void;
  /** The data directory, where queues that keep files of their own (streams) put them. */
  readonly dataDir: string;
  /**
   * `f` (a stream's segment) was written: the next commit's group fsync covers it, and its
   * afterCommit callbacks (publisher confirms) wait for that. Once per turn per file.
   */
  syncWith(f: DurableFile): void;
  /** The broker's log, for problems found in files queues keep themselves (a corrupt stream segment). */
  log(level: 'error' | 'warn' | 'info', msg: string, meta: Record<string, unknown>): void;

  saveExchange(vhost: string, x: Exchange): void;
  deleteExchange(vhost: string, name: string): void;
  /** Saves a durable queue's definition; its journal takes the queue's messages. */
  saveQueue(vhost: string, name: string, autoDelete: boolean, args: FieldTable): QueueJournal;
  deleteQueue(vhost: string, name: string): void;
  saveBinding(vhost: string, b: Binding): void;
  deleteBinding(vhost: string, b: Binding): void;
  /** Where a durable exchange keeps the messages it holds; they go when the exchange is deleted. */
  heldMessages(vhost: string, exchange: string): HeldJournal;
  /** Where a durable deduplication exchange with a disk cache keeps it; it goes with the exchange. */
  dedupCache(vhost: string, exchange: string): DedupJournal;
}

/** Policies and operator policies, committed at once as access changes are. */
export interface PolicyPersistence {
  savePolicy(kind: PolicyKind, r: PolicyRecord): void;
  deletePolicy(kind: PolicyKind, vhost: string, name: string): void;
}

/** A vhost's limits, committed at once as access changes are; null: the vhost has none. */
export interface LimitPersistence {
  saveVhostLimits(vhost: string, limits: LimitEntries | null): void;
}

/** A vhost's metadata as stored and exported (definitions' `vhosts` entries). */
export interface VhostMeta {
  description: string;
  tags: string[];
}

/**
 * Users, vhosts and permissions (rabbit_auth_backend_internal's tables and rabbit_vhost's). Each
 * change is committed at once: access changes are rare and must survive a crash straight after.
 */
export interface AccessPersistence extends PolicyPersistence, LimitPersistence {
  saveVhost(name: string, meta: VhostMeta): void;
  /** The vhost and everything in it: exchanges, queues, their messages, bindings, permissions. */
  deleteVhost(name: string): void;
  saveUser(u: UserRecord): void;
  /** The user and its permissions. */
  deleteUser(name: string): void;
  savePermission(p: PermissionRecord): void;
  deletePermission(user: string, vhost: string): void;
  saveTopicPermission(p: TopicPermissionRecord): void;
  deleteTopicPermission(user: string, vhost: string, exchange: string): void;
}
