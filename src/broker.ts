// The broker: owns vhosts, users and the AMQP listener; start() and stop().
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { DEFAULTS, type BrokerConfig } from './config.js';
import { createLogger, type Logger } from './log.js';
import { UserStore } from './core/users.js';
import { VHost } from './core/vhost.js';
import { AmqpServer } from './amqp/server.js';
import { MemoryMonitor, type MemoryUse } from './memory-monitor.js';
import type { BrokerContext, Connection } from './amqp/connection.js';

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
  private readonly server: AmqpServer;
  private readonly memory: MemoryMonitor;
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

  connectionClosed(c: Connection): void {
    this.server.remove(c);
  }

  get connections(): ReadonlySet<Connection> {
    return this.server.connections;
  }

  async start(): Promise<AddressInfo> {
    const started = Date.now();
    this.address = await this.server.listen(this.config.port, this.config.host);
    this.memory.start();
    this.log.info(`Warren ${VERSION} listening for AMQP 0-9-1 on ${this.address.address}:${this.address.port}`, {
      dataDir: this.config.dataDir, startupMs: Date.now() - started,
    });
    return this.address;
  }

  async stop(reason = 'broker shutdown'): Promise<void> {
    this.memory.stop();
    await this.server.close(reason);
    this.log.info('Warren stopped');
  }
}
