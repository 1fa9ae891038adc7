// The broker: owns the registry (vhosts, users, permissions), the AMQP listener, the management
// listener and the store; start() and stop().
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { ANY_FREE_PORT, DEFAULTS, type BrokerConfig } from './config.js';
import type { Logger } from './log.js';
import { createLineLogger } from './line-log.js';
import type { Permissions, PermissionSet } from './core/access.js';
import type { VhostMeta } from './core/persistence.js';
import { resetPageDir } from './core/page-file.js';
import { Registry } from './core/registry.js';
import type { Users } from './core/users.js';
import type { VHost } from './core/vhost.js';
import { AmqpServer } from './amqp/server.js';
import { ReplyRegistry } from './amqp/direct-reply-to.js';
import { MemoryMonitor, type MemoryUse } from './memory-monitor.js';
import { DiskMonitor, diskFreeLimitBytes } from './disk-monitor.js';
import { ResourceAlarms } from './resource-alarms.js';
import type { Connection } from './amqp/connection.js';
import type { BrokerContext } from './amqp/context.js';
import { Store } from './store/store.js';
import { StorePersistence } from './persistence/store-persistence.js';
import { recover } from './persistence/recovery.js';
import { recoverAccess, recoverPolicies, recoverVhostLimits, StoreAccess } from './persistence/access-store.js';
import { RateSampler, collectRates, createManagementServer, type ManagementContext } from './http/index.js';
import type { ManagementServer } from './http/server.js';
import { PrometheusServer } from './prometheus/server.js';

export const VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

export interface BrokerOptions extends Partial<BrokerConfig> {
  logger?: Logger;
}

export class Broker implements BrokerContext, ManagementContext {
  readonly config: BrokerConfig;
  readonly log: Logger;
  /** Vhosts, users and permissions. */
  readonly registry: Registry;
  readonly version = VERSION;
  readonly replies = new ReplyRegistry();
  private readonly server: AmqpServer;
  private readonly memory: MemoryMonitor;
  private readonly disk: DiskMonitor;
  /** Memory and disk alarms in effect: publishing connections are blocked while any is. */
  readonly alarms = new ResourceAlarms(() => this.unblockAll());
  private store: Store | null = null;
  private management: ManagementServer | null = null;
  private prometheus: PrometheusServer | null = null;
  /** The Prometheus listener's address, when it listens. */
  prometheusAddress: AddressInfo | null = null;
  /** Connections gone since start (rabbitmq_connections_closed_total). */
  connectionsClosed = 0;
  /** The first AMQP listener's address (TCP, or amqps when there is no TCP listener). */
  address: AddressInfo | null = null;
  /** The first amqps listener's address. */
  tlsAddress: AddressInfo | null = null;
  /** The management API's address, when it listens. */
  managementAddress: AddressInfo | null = null;
  readonly nodeName = `warren@${hostname()}`;
  readonly startedAt = Date.now();
  readonly rates: RateSampler;
  readonly totalsKey = {};

  constructor(options: BrokerOptions = {}) {
    const { logger, ...config } = options;
    this.config = { ...DEFAULTS, ...config };
    this.log = logger ?? createLineLogger(this.config.logConsole === false ? 'silent' : this.config.logLevel);
    this.registry = new Registry(new Set(this.config.loopbackUsers));
    // As RabbitMQ (rabbit_connection_tracking_handler): deleting a vhost or a user closes its connections.
    this.registry.onVhostDeleted = (name) => this.closeConnections((a) => a.vhost === name, `vhost '${name}' is deleted`);
    this.registry.onUserDeleted = (name) => this.closeConnections((a) => a.user.name === name, `user '${name}' is deleted`);
    // Until start() opens the store (which then decides), the defaults exist in memory, so a
    // broker that is never started (a connection over an in-memory Duplex in tests) has them.
    this.addDefaults();
    this.server = new AmqpServer(this);
    this.memory = new MemoryMonitor(this.config.memoryHighWatermark, (alarm, use) => this.onMemoryAlarm(alarm, use));
    this.disk = new DiskMonitor(this.config.dataDir, diskFreeLimitBytes(this.config.diskFreeLimit), (alarm, free) => this.onDiskAlarm(alarm, free),
      (err) => this.log.warn('cannot read free disk space', { dataDir: this.config.dataDir, error: err.message }));
    this.rates = new RateSampler(this.config.managementSampleIntervalMs, (visit) => collectRates(this, visit));
  }

  get amqpPort(): number {
    return this.address?.port ?? 0;
  }

  get managementPort(): number {
    return this.managementAddress?.port ?? 0;
  }

  get prometheusPort(): number {
    return this.prometheusAddress?.port ?? 0;
  }

  get maxMessageSize(): number {
    return this.config.maxMessageSize;
  }

  get memoryAlarm(): boolean {
    return this.alarms.has('memory');
  }

  get diskAlarm(): boolean {
    return this.alarms.has('disk');
  }

  bytesRead(n: number): void {
    this.memory.noteRead(n);
  }

  private onMemoryAlarm(alarm: boolean, use: MemoryUse): void {
    const mb = (n: number) => Math.round(n / 1048576);
    const meta = { usedMiB: mb(use.used), rssMiB: mb(use.rss), watermarkMiB: mb(this.config.memoryHighWatermark) };
    if (alarm) this.log.warn('memory alarm set: blocking publishers', meta);
    else this.log.info('memory alarm cleared', meta);
    this.alarms.set('memory', alarm);
  }

  private onDiskAlarm(alarm: boolean, free: number): void {
    const meta = { freeBytes: free, limitBytes: this.disk.limitBytes, dataDir: this.config.dataDir };
    if (alarm) this.log.warn('disk alarm set (free disk space below disk_free_limit): blocking publishers', meta);
    else this.log.info('disk alarm cleared', meta);
    this.alarms.set('disk', alarm);
  }

  /** The last alarm cleared. */
  private unblockAll(): void {
    this.log.info('no resource alarm in effect: unblocking publishers');
    for (const c of this.server.connections) c.unblockAfterAlarm();
  }

  get vhosts(): ReadonlyMap<string, VHost> { return this.registry.vhosts; }
  get users(): Users { return this.registry.users; }
  get permissions(): Permissions { return this.registry.permissions; }

  vhost(name: string): VHost | undefined {
    return this.registry.vhost(name);
  }

  /** rabbitmqctl add_vhost (an existing vhost keeps its contents; its metadata is replaced). */
  addVhost(name: string, meta: Partial<VhostMeta> = {}): VHost {
    return this.registry.addVhost(name, meta);
  }

  /** rabbitmqctl delete_vhost: closes its connections (320), removes everything in it. */
  deleteVhost(name: string): void {
    this.registry.deleteVhost(name);
  }

  setPermissions(user: string, vhost: string, p: PermissionSet): void {
    this.registry.setPermissions(user, vhost, p);
  }

  private closeConnections(which: (a: Connection['actor']) => boolean, reason: string): void {
    for (const c of this.server.connections) {
      if (c.state === 'running' && which(c.actor)) c.forceClose(reason);
    }
  }

  connectionClosed(c: object): void {
    if (this.server.connections.has(c as Connection)) this.connectionsClosed++;
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
    // The importer is loaded only when there is something to import (it is otherwise the
    // management API's, loaded with its routes): one module fewer in an idle broker.
    const load = this.config.definitions === null ? null : (await import('./definitions.js')).importDefinitions;
    this.openStore(load);
    const { tcpListeners = [{ host: this.config.host, port: this.config.port }], tlsListeners = [], tls } = this.config;
    const tcp: AddressInfo[] = [];
    const amqps: AddressInfo[] = [];
    let at = '';
    try {
      for (const l of tcpListeners) {
        at = `on ${l.host}:${l.port}`;
        tcp.push(await this.server.listen(l.port, l.host));
      }
      for (const l of tls ? tlsListeners : []) {
        at = `for amqps on ${l.host}:${l.port}`;
        amqps.push(await this.server.listenTls(l.port, l.host, tls!));
      }
    } catch (err) {
      await this.server.close('startup failed');
      this.closeStore();
      throw new Error(`cannot listen ${at}: ${(err as Error).message}`);
    }
    this.address = tcp[0] ?? amqps[0] ?? null;
    this.tlsAddress = amqps[0] ?? null;
    this.memory.start();
    this.disk.start();
    await this.startManagement();
    await this.startPrometheus();
    const meta = {
      dataDir: this.config.dataDir, startupMs: Date.now() - started,
      management: this.managementAddress ? `http://${this.managementAddress.address}:${this.managementAddress.port}` : 'off',
    };
    for (const a of tcp) this.log.info(`Warren ${VERSION} listening for AMQP 0-9-1 on ${a.address}:${a.port}`, meta);
    for (const a of amqps) this.log.info(`Warren ${VERSION} listening for AMQP 0-9-1 over TLS (amqps) on ${a.address}:${a.port}`, meta);
    if (!this.address) this.log.warn('no AMQP listeners configured (listeners.tcp = none and no TLS)');
    return this.address ?? { address: '', family: '', port: 0 };
  }

  private async startManagement(): Promise<void> {
    const { managementPort } = this.config;
    const managementHost = this.config.managementHost ?? this.config.host;
    if (managementPort === 0) return;
    const server = createManagementServer(this);
    const port = managementPort === ANY_FREE_PORT ? 0 : managementPort;
    try {
      this.managementAddress = await server.listen(port, managementHost);
    } catch (err) {
      await this.server.close('broker shutdown');
      this.closeStore();
      throw new Error(`cannot listen for the management API on ${managementHost}:${port}: ${(err as Error).message}`);
    }
    this.management = server;
    this.rates.start();
    this.log.info(`management API listening on http://${this.managementAddress.address}:${this.managementAddress.port}`);
  }

  private async startPrometheus(): Promise<void> {
    const { prometheusPort } = this.config;
    const prometheusHost = this.config.prometheusHost ?? this.config.host;
    if (prometheusPort === 0) return;
    const server = new PrometheusServer(this);
    const port = prometheusPort === ANY_FREE_PORT ? 0 : prometheusPort;
    try {
      this.prometheusAddress = await server.listen(port, prometheusHost);
    } catch (err) {
      await this.stop();
      throw new Error(`cannot listen for Prometheus on ${prometheusHost}:${port}: ${(err as Error).message}`);
    }
    this.prometheus = server;
    this.log.info(`Prometheus metrics on http://${this.prometheusAddress.address}:${this.prometheusAddress.port}/metrics`);
  }

  private openStore(importDefinitions: typeof import('./definitions.js').importDefinitions | null): void {
    const store = (this.store = Store.open(this.config.dataDir, { log: (level, msg, meta) => this.log.log(level, msg, meta) }));
    store.startReclaiming();
    // Transient bodies paged out of memory: never kept across a restart.
    const pageDir = join(this.config.dataDir, 'msg_store_transient');
    resetPageDir(pageDir);
    const persistence = new StorePersistence(store, { dir: pageDir, count: this.config.pageOutCount, bytes: this.config.pageOutBytes });
    const warn = (msg: string, meta: Record<string, unknown>) => this.log.warn(msg, meta);
    let r: ReturnType<typeof recover>;
    try {
      this.registry.reset();
      const access = recoverAccess(store, this.registry, warn);
      recoverPolicies(store, this.registry, warn);
      recoverVhostLimits(store, this.registry, warn);
      r = recover(persistence, (name) => this.vhostForRecovery(name), warn);
      this.registry.attach(new StoreAccess(store), persistence);
      // As rabbit: definitions to load replace the default user and vhost.
      if (importDefinitions !== null && this.config.definitions !== null) importDefinitions(this.registry, this.config.definitions, this.log);
      else if (access.users === 0 && access.permissions === 0) this.addDefaults();
    } catch (err) {
      this.closeStore(); // bad definitions: the data directory is released, not held by a broker that never started
      throw err;
    }
    this.log.info(`recovered ${r.queues} durable queues with ${r.messages} messages in ${(r.ms / 1000).toFixed(3)} s`, {
      file: store.file, exchanges: r.exchanges, queues: r.queues, bindings: r.bindings, messages: r.messages, held: r.held, ms: r.ms,
    });
  }

  /** A vhost the store has definitions for; one missing from its vhosts table is made now. */
  private vhostForRecovery(name: string): VHost {
    let v = this.registry.vhost(name);
    if (v === undefined) {
      this.log.warn('the store has definitions for a vhost it does not list; creating it', { vhost: name });
      v = this.registry.restoreVhost(name, { description: '', tags: [] });
    }
    return v;
  }

  /**
   * rabbit:insert_default_data on a data directory with no users and no permissions (and no
   * definitions to load): the configured vhosts, and the configured users (guest by default)
   * with every permission in each of them.
   */
  private addDefaults(): void {
    for (const name of this.config.vhosts) this.registry.addVhost(name, { description: name === '/' ? 'Default virtual host' : '' });
    for (const u of this.config.users) {
      if (!this.registry.users.has(u.name)) this.registry.users.addUser(u.name, u.password, u.tags ?? []);
      for (const v of this.config.vhosts) this.registry.setPermissions(u.name, v, { ...this.config.defaultPermissions });
    }
    if (this.store !== null) this.log.info('created the default vhosts and users', { vhosts: this.config.vhosts, users: this.config.users.map((u) => u.name) });
  }

  private closeStore(): void {
    const store = this.store;
    this.store = null;
    // Queue timers (TTL, x-expires) would otherwise write to a closed store.
    this.registry.attach(null, null);
    for (const v of this.vhosts.values()) {
      for (const q of v.queues.values()) q.close();
      for (const x of v.exchanges.values()) x.hold?.close();
    }
    store?.close();
  }

  /** SIGTERM path: the current group commit lands first, then clients go, then the store closes. */
  async stop(reason = 'broker shutdown'): Promise<void> {
    this.memory.stop();
    this.disk.stop();
    this.rates.stop();
    await this.management?.close();
    this.management = null;
    await this.prometheus?.close();
    this.prometheus = null;
    this.store?.flush();
    await this.server.close(reason);
    this.closeStore();
    this.log.info('Warren stopped');
  }
}
