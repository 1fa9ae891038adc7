// Configuration from command-line flags and environment variables (flags win).
import { parseArgs } from 'node:util';
import { totalmem } from 'node:os';
import type { LogLevel } from './log.js';
import { parseWatermark } from './memory-monitor.js';

export interface BrokerConfig {
  host: string;
  port: number;
  dataDir: string;
  logLevel: LogLevel;
  /** Advertised in server-properties as `product`; some clients (kombu) branch on "RabbitMQ". */
  product: string;
  /** Limits offered in connection.tune, RabbitMQ's defaults. */
  channelMax: number;
  frameMax: number;
  heartbeat: number;
  /** Largest message body accepted (RabbitMQ 3.x default max_message_size: 128 MiB). */
  maxMessageSize: number;
  handshakeTimeoutMs: number;
  /** Memory in use above which publishers are blocked (bytes; 0 = never). */
  memoryHighWatermark: number;
  /** Users allowed to log in only from loopback, as RabbitMQ's loopback_users. */
  loopbackUsers: string[];
  /** The default users and vhosts, made on a data directory with no users (each user gets `.*` in each vhost). */
  users: { name: string; password: string; tags?: string[] }[];
  vhosts: string[];
  /**
   * A RabbitMQ definitions export imported at every start (a file path, or its parsed JSON);
   * when set, the default users and vhosts are not made, as on RabbitMQ.
   */
  definitions: string | Record<string, unknown> | null;
}

export const DEFAULTS: BrokerConfig = {
  host: '127.0.0.1',
  port: 5672,
  dataDir: './data',
  logLevel: 'info',
  product: 'Warren',
  channelMax: 2047,
  frameMax: 131072,
  heartbeat: 60,
  maxMessageSize: 128 * 1024 * 1024,
  handshakeTimeoutMs: 10_000,
  // RabbitMQ's default vm_memory_high_watermark: 0.4 of the machine's memory.
  memoryHighWatermark: Math.floor(0.4 * totalmem()),
  loopbackUsers: ['guest'],
  users: [{ name: 'guest', password: 'guest', tags: ['administrator'] }],
  vhosts: ['/'],
  definitions: null,
};

const USAGE = `usage: warren [--port N] [--host ADDR] [--data-dir DIR] [--log-level error|warn|info|debug]
              [--product NAME] [--heartbeat SECONDS] [--frame-max BYTES] [--channel-max N]
              [--memory-high-watermark 0.4|512MB] [--definitions FILE]
environment: WARREN_PORT, WARREN_HOST, WARREN_DATA_DIR, WARREN_LOG_LEVEL, WARREN_PRODUCT,
             WARREN_HEARTBEAT, WARREN_FRAME_MAX, WARREN_CHANNEL_MAX, WARREN_MEMORY_HIGH_WATERMARK,
             WARREN_DEFINITIONS`;

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): BrokerConfig | { help: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' }, host: { type: 'string' }, 'data-dir': { type: 'string' },
      'log-level': { type: 'string' }, product: { type: 'string' }, heartbeat: { type: 'string' },
      'frame-max': { type: 'string' }, 'channel-max': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      'memory-high-watermark': { type: 'string' }, definitions: { type: 'string' },
    },
  });
  if (values.help) return { help: USAGE };
  const pick = (flag: string | undefined, name: string): string | undefined => flag ?? env[name];
  const int = (v: string | undefined, fallback: number, what: string): number => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`invalid ${what}: ${v}\n${USAGE}`);
    return n;
  };
  const level = (pick(values['log-level'], 'WARREN_LOG_LEVEL') ?? DEFAULTS.logLevel) as LogLevel;
  if (!['error', 'warn', 'info', 'debug'].includes(level)) throw new Error(`invalid log level: ${level}\n${USAGE}`);
  return {
    ...DEFAULTS,
    host: pick(values.host, 'WARREN_HOST') ?? DEFAULTS.host,
    port: int(pick(values.port, 'WARREN_PORT'), DEFAULTS.port, 'port'),
    dataDir: pick(values['data-dir'], 'WARREN_DATA_DIR') ?? DEFAULTS.dataDir,
    logLevel: level,
    product: pick(values.product, 'WARREN_PRODUCT') ?? DEFAULTS.product,
    heartbeat: int(pick(values.heartbeat, 'WARREN_HEARTBEAT'), DEFAULTS.heartbeat, 'heartbeat'),
    frameMax: int(pick(values['frame-max'], 'WARREN_FRAME_MAX'), DEFAULTS.frameMax, 'frame-max'),
    channelMax: int(pick(values['channel-max'], 'WARREN_CHANNEL_MAX'), DEFAULTS.channelMax, 'channel-max'),
    memoryHighWatermark: watermark(pick(values['memory-high-watermark'], 'WARREN_MEMORY_HIGH_WATERMARK')),
    definitions: pick(values.definitions, 'WARREN_DEFINITIONS') ?? null,
  };
}

function watermark(v: string | undefined): number {
  if (v === undefined) return DEFAULTS.memoryHighWatermark;
  try {
    return parseWatermark(v, totalmem());
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${USAGE}`);
  }
}
