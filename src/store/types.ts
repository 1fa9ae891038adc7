// Records the store reads and writes. Field tables (arguments, message properties) are opaque
// Buffers: the caller encodes and decodes them, so the store never depends on the codec.

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFn = (level: LogLevel, msg: string, meta?: Record<string, unknown>) => void;

export interface StoreOptions {
  /** Called for open/close/recovery events and commit failures; never per message. */
  log?: LogFn;
  /** How long to wait for another process to release the data directory (default 1000 ms). */
  lockWaitMs?: number;
}

export interface ExchangeDef {
  name: string;
  type: string;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  args: Buffer;
}

export interface QueueDef {
  name: string;
  autoDelete: boolean;
  args: Buffer;
}

export interface BindingDef {
  source: string;
  destKind: 'queue' | 'exchange';
  destination: string;
  routingKey: string;
  args: Buffer;
}

export type InVhost<T> = T & { vhost: string };

export interface Definitions {
  exchanges: InVhost<ExchangeDef>[];
  queues: InVhost<QueueDef>[];
  bindings: InVhost<BindingDef>[];
}

export interface UserRecord {
  name: string;
  /** Salt ++ digest, as RabbitMQ keeps it (empty: no password). */
  passwordHash: Buffer;
  /** RabbitMQ's module name, e.g. rabbit_password_hashing_sha256. */
  hashingAlgorithm: string;
  tags: string[];
}

export interface VhostRecord {
  name: string;
  description: string;
  tags: string[];
}

export interface PermissionRow { user: string; vhost: string; configure: string; write: string; read: string }
export interface TopicPermissionRow { user: string; vhost: string; exchange: string; write: string; read: string }

/** Users, vhosts and permissions, as loaded at startup. */
export interface AccessDefinitions {
  users: UserRecord[];
  vhosts: VhostRecord[];
  permissions: PermissionRow[];
  topicPermissions: TopicPermissionRow[];
}

/** A persistent message as one durable queue holds it (fanout: one record per queue). */
export interface MessageRecord {
  /** Per-queue position, strictly increasing in publish order; the queue assigns it. */
  seq: number;
  exchange: string;
  routingKey: string;
  /** Encoded content-header properties (headers, x-death, ...). */
  properties: Buffer;
  body: Buffer;
  /** Original enqueue time in ms since the epoch; TTLs count from it across restarts. */
  enqueuedAt: number;
  /** Absolute expiry time in ms, or null for none. */
  expiresAt: number | null;
  priority: number;
  deathCount?: number;
  /** Failed delivery attempts (x-delivery-count) and when the message is due again (retry). */
  deliveryCount?: number;
  retryAt?: number | null;
}

/** What a queue keeps in memory per message after recovery; bodies stay on disk. */
export interface IndexEntry {
  seq: number;
  /** Body size in bytes (for x-max-length-bytes). */
  size: number;
  expiresAt: number | null;
  priority: number;
  /** The message may have been delivered before the restart (seq <= delivered watermark). */
  redelivered: boolean;
}

export interface StoredMessage {
  exchange: string;
  routingKey: string;
  properties: Buffer;
  body: Buffer;
  enqueuedAt: number;
  deathCount: number;
}

export interface MessageUpdate {
  properties?: Buffer;
  expiresAt?: number | null;
  priority?: number;
  deathCount?: number;
}

export interface StoreStats {
  queues: number;
  messages: number;
}
