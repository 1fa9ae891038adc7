// The broker: owns vhosts, users and the AMQP listener; start() and stop().
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { DEFAULTS, type BrokerConfig } from './config.js';
import { createLogger, type Logger } from './log.js';
import { UserStore } from './core/users.js';
import { VHost } from './core/vhost.js';
import { AmqpServer } from './amqp/server.js';
import { ReplyRegistry } from './amqp/direct-reply-to.js';
import { MemoryMonitor, type MemoryUse } from './memory-monitor.js';
import type { Connection } from './amqp/connection.js';
import type { BrokerContext } from './amqp/context.js';
import { Store } from './store/store.js';
import { StorePersistence } from './persistence/store-persistence.js';
import { recover } from './persistence/recovery.js';

export const VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

export interface BrokerOptions extends Partial<BrokerConfig> {
  logger?: Logger;
}

export class Broker implements BrokerContext {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly users: UserStore;
  readonly version = VERSION;
  readonly vhosts = new Map<string, VHost>();
  readonly replies = new ReplyRegistry();
  private readonly server: AmqpServer;
  private readonly memory: MemoryMonitor;
  private store: Store | null = null;
  address: AddressInfo | null = null;

  constructor(options: BrokerOptions = {}) {
    const { logger, ...config } = options;
    this.config = { ...DEFAULTS, ...config };
    this.log = logger ?? createLogger(this.config.logLevel);
    this.users = new UserStore(new Set(this.config.loopbackUsers));
    for (const u of this.config.users) this.users.add(u.name, u.password, u.tags);
    for (const v of this.config.vhosts) this.vhosts.set(v, new VHost(v));
    this.server = new AmqpServer(this);
    this.memory = new MemoryMonitor(this.config.memoryHighWatermark, (alarm, use) => this.onMemoryAlarm(alarm, use));
  }

  get maxMessageSize(): number {
    return this.config.maxMessageSize;
  }

  get memoryAlarm(): boolean {
    return this.memory.alarm;
  }

  bytesRead(n: number): void {
    this.memory.noteRead(n);
  }

  private onMemoryAlarm(alarm: boolean, use: MemoryUse): void {
    const mb = (n: number) => Math.round(n / 1048576);
    const meta = { usedMiB: mb(use.used), rssMiB: mb(use.rss), watermarkMiB: mb(this.config.memoryHighWatermark) };
    if (alarm) {
      this.log.warn('memory alarm set: blocking publishers', meta);
      return;
    }
    this.log.info('memory alarm cleared: unblocking publishers', meta);
    for (const c of this.server.connections) c.unblockAfterAlarm();
  }

  vhost(name: string): VHost | undefined {
    return this.vhosts.get(name);
  }

  connectionClosed(c: object): void {
    this.server.remove(c as Connection);
  }

  get connections(): ReadonlySet<Connection> {
    return this.server.connections;
  }

  /**
   * Opens the store and restores what it holds, then listens. A locked, corrupt or too-new
   * data directory throws (naming the file) before anything listens.
   */
  async start(): Promise<AddressInfo> {
    const started = Date.now();
    this.openStore();
    try {
      this.address = await this.server.listen(this.config.port, this.config.host);
    } catch (err) {
      this.closeStore();
      throw new Error(`cannot listen on ${this.config.host}:${this.config.port}: ${(err as Error).message}`);
    }
    this.memory.start();
    this.log.info(`Warren ${VERSION} listening for AMQP 0-9-1 on ${this.address.address}:${this.address.port}`, {
      dataDir: this.config.dataDir, startupMs: Date.now() - started,
    });
    return this.address;
  }

  private openStore(): void {
    const store = (this.store = Store.open(this.config.dataDir, { log: (level, msg, meta) => this.log.log(level, msg, meta) }));
    store.startReclaiming();
    const persistence = new StorePersistence(store);
    const r = recover(persistence, (name) => this.vhostForRecovery(name), (msg, meta) => this.log.warn(msg, meta));
    for (const v of this.vhosts.values()) v.persistence = persistence;
    this.log.info(`recovered ${r.queues} durable queues with ${r.messages} messages in ${(r.ms / 1000).toFixed(3)} s`, {
      file: store.file, exchanges: r.exchanges, queues: r.queues, bindings: r.bindings, messages: r.messages, held: r.held, ms: r.ms,
    });
  }

  /** A vhost the store has definitions for: configured, or (saved by an earlier run) made now. */
  private vhostForRecovery(name: string): VHost {
    let v = this.vhosts.get(name);
    if (v === undefined) {
      this.log.warn('the store has definitions for a vhost that is not configured; creating it', { vhost: name });
      this.vhosts.set(name, (v = new VHost(name)));
    }
    return v;
  }

  private closeStore(): void {
    const store = this.store;
    this.store = null;
    // Queue timers (TTL, x-expires) would otherwise write to a closed store.
    for (const v of this.vhosts.values()) {
      v.persistence = null;
      for (const q of v.queues.values()) q.close();
      for (const x of v.exchanges.values()) x.hold?.close();
    }
    store?.close();
  }

  /** SIGTERM path: the current group commit lands first, then clients go, then the store closes. */
  async stop(reason = 'broker shutdown'): Promise<void> {
    this.memory.stop();
    this.store?.flush();
    await this.server.close(reason);
    this.closeStore();
    this.log.info('Warren stopped');
  }
}
