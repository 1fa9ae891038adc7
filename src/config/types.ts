// BrokerConfig, its defaults, and Settings: what one source (flags, environment, rabbitmq.conf)
// sets. index.ts lays the sources over each other and resolves the result into a BrokerConfig.
import { totalmem } from 'node:os';
import type { LogLevel } from '../log.js';
import { PAGE_OUT_BYTES, PAGE_OUT_COUNT } from '../core/queue/paging.js';

/** Where a listener binds. */
export interface Endpoint { host: string; port: number }

/** RabbitMQ's ssl_options (the ones Warren honours). */
export interface TlsOptions {
  certFile: string;
  keyFile: string;
  /** CA bundle that client certificates must chain to (and sent to clients as acceptable CAs). */
  caFile?: string;
  /** verify_peer asks for a client certificate and checks it; verify_none (Erlang's default) does not ask. */
  verify: 'verify_peer' | 'verify_none';
  /** With verify_peer: refuse a client that sends no certificate. */
  failIfNoPeerCert: boolean;
}

export type SslCertLoginFrom = 'common_name' | 'distinguished_name';

export interface BrokerConfig {
  /** The AMQP listener when `tcpListeners` is absent; also the address other listeners default to. */
  host: string;
  port: number;
  /** Every AMQP TCP listener (rabbitmq.conf listeners.tcp.*); absent = one on host:port, [] = none. */
  tcpListeners?: Endpoint[];
  /** amqps listeners (listeners.ssl.*, --tls-port); absent = host:5671 when `tls` is set. */
  tlsListeners?: Endpoint[];
  /** Certificates and peer verification; absent = no TLS listener. */
  tls?: TlsOptions;
  dataDir: string;
  logLevel: LogLevel;
  /** log.console = false (or log.console.level = none): nothing is logged. */
  logConsole: boolean;
  /** Advertised in server-properties as `product`; some clients (kombu) branch on "RabbitMQ". */
  product: string;
  /** Limits offered in connection.tune, RabbitMQ's defaults. */
  channelMax: number;
  frameMax: number;
  heartbeat: number;
  /** Largest message body accepted (RabbitMQ 3.x default max_message_size: 128 MiB). */
  maxMessageSize: number;
  handshakeTimeoutMs: number;
  /** connection_max: connections beyond it wait, unread, until one closes (Infinity = no limit). */
  connectionMax: number;
  /** Memory in use above which publishers are blocked (bytes; 0 = never). */
  memoryHighWatermark: number;
  /** disk_free_limit: below this much free space on the data directory's filesystem publishers are blocked (bytes, or a fraction of RAM; 0 = never). */
  diskFreeLimit: { absolute: number } | { relative: number };
  /** consumer_timeout in ms: an ack outstanding longer closes its channel (406); 0 = never. */
  consumerTimeout: number;
  /** How often a channel checks consumer_timeout (RabbitMQ's channel_tick_interval, advanced.config only). */
  channelTickIntervalMs: number;
  /** Ready (or held) messages in one queue or exchange past which new bodies page out of memory. */
  pageOutCount: number;
  /** Bytes of bodies in one queue or exchange past which new ones page out of memory. */
  pageOutBytes: number;
  /** SASL mechanisms offered, in this order (auth_mechanisms.*); EXTERNAL only over TLS. */
  authMechanisms: string[];
  /** Where EXTERNAL takes the user name from in the client certificate. */
  sslCertLoginFrom: SslCertLoginFrom;
  /** Users allowed to log in only from loopback, as RabbitMQ's loopback_users. */
  loopbackUsers: string[];
  /** default_user / default_pass / default_user_tags.*: the user made on first start. */
  defaultUser: { name: string; password: string; tags: string[] };
  /** default_vhost: the vhost made on first start. */
  defaultVhost: string;
  /** default_permissions.*: the default user's permissions in the default vhost (regexes). */
  defaultPermissions: { configure: string; write: string; read: string };
  /**
   * load_definitions / --definitions: a RabbitMQ definitions export imported at every start (a
   * file path, or its parsed JSON from the embedded API); when set, the default users and vhosts
   * are not made, as on RabbitMQ.
   */
  definitions: string | Record<string, unknown> | null;
  /**
   * management.tcp.port / .ip: 0 = off, ANY_FREE_PORT = any free one (tests, embedding);
   * managementHost absent = the broker's host.
   */
  managementPort: number;
  managementHost?: string;
  /** How often the management API samples counters for its rates (RabbitMQ's collect interval). */
  managementSampleIntervalMs: number;
  /** prometheus.tcp.port / .ip (the /metrics listener): 0 = off, ANY_FREE_PORT as above; host absent = the broker's. */
  prometheusPort: number;
  prometheusHost?: string;
  users: { name: string; password: string; tags?: string[] }[];
  vhosts: string[];
}

const GUEST = { name: 'guest', password: 'guest', tags: ['administrator'] };

export const DEFAULTS: BrokerConfig = {
  host: '127.0.0.1',
  port: 5672,
  dataDir: './data',
  logLevel: 'info',
  logConsole: true,
  product: 'Warren',
  channelMax: 2047,
  frameMax: 131072,
  heartbeat: 60,
  maxMessageSize: 128 * 1024 * 1024,
  handshakeTimeoutMs: 10_000,
  connectionMax: Infinity,
  // RabbitMQ's default vm_memory_high_watermark: 0.4 of the machine's memory.
  memoryHighWatermark: Math.floor(0.4 * totalmem()),
  // RabbitMQ's defaults: disk_free_limit.absolute = 50MB, consumer_timeout = 30 minutes.
  diskFreeLimit: { absolute: 50_000_000 },
  consumerTimeout: 1_800_000,
  channelTickIntervalMs: 60_000,
  pageOutCount: PAGE_OUT_COUNT,
  pageOutBytes: PAGE_OUT_BYTES,
  authMechanisms: ['PLAIN', 'AMQPLAIN'],
  sslCertLoginFrom: 'common_name',
  loopbackUsers: ['guest'],
  defaultUser: GUEST,
  defaultVhost: '/',
  defaultPermissions: { configure: '.*', write: '.*', read: '.*' },
  definitions: null,
  managementPort: 15672,
  managementSampleIntervalMs: 5000,
  prometheusPort: 15692,
  users: [GUEST],
  vhosts: ['/'],
};

/** A listener as a source names it: a port alone binds the broker's host. */
export interface ListenerSpec { host?: string; port: number }

/** What one configuration source sets (absent = not set there). */
/** managementPort (and prometheusPort): any free port; 0 there means "off", as on the command line. */
export const ANY_FREE_PORT = -1;

export interface Settings {
  host?: string;
  port?: number;
  /** [] = `listeners.tcp = none`. */
  tcpListeners?: ListenerSpec[];
  tlsPort?: number;
  tlsListeners?: ListenerSpec[];
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tlsVerify?: TlsOptions['verify'];
  tlsFailIfNoPeerCert?: boolean;
  dataDir?: string;
  logLevel?: LogLevel;
  logConsole?: boolean;
  product?: string;
  heartbeat?: number;
  frameMax?: number;
  channelMax?: number;
  memoryHighWatermark?: number;
  diskFreeLimit?: BrokerConfig['diskFreeLimit'];
  consumerTimeout?: number;
  connectionMax?: number;
  authMechanisms?: string[];
  sslCertLoginFrom?: SslCertLoginFrom;
  loopbackUsers?: string[];
  defaultUser?: string;
  defaultPass?: string;
  defaultUserTags?: string[];
  defaultVhost?: string;
  defaultPermissions?: Partial<BrokerConfig['defaultPermissions']>;
  definitionsFile?: string;
  managementPort?: number;
  managementHost?: string;
  prometheusPort?: number;
  prometheusHost?: string;
}

/** A configuration that cannot be used: main.ts prints the message and exits with code 2. */
export class ConfigError extends Error {}
