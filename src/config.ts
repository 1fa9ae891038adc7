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
  users: { name: string; password: string; tags?: string[] }[];
  vhosts: string[];
  /** The management HTTP API's port: 0 = off, ANY_FREE_PORT = any free one (tests, embedding). */
  managementPort: number;
  managementHost: string;
  /** How often the management API samples counters for its rates (RabbitMQ's collect interval). */
  managementSampleIntervalMs: number;
  /** The Prometheus listener's port (/metrics): 0 = off, ANY_FREE_PORT = any free one. */
  prometheusPort: number;
  prometheusHost: string;
}

/** managementPort: listen on any free port (port 0 means "off" there, as on the command line). */
export const ANY_FREE_PORT = -1;

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
  managementPort: 15672,
  managementHost: '127.0.0.1',
  managementSampleIntervalMs: 5000,
  prometheusPort: 15692,
  prometheusHost: '127.0.0.1',
};

const USAGE = `usage: warren [--port N] [--host ADDR] [--data-dir DIR | --ephemeral] [--log-level error|warn|info|debug]
              [--product NAME] [--heartbeat SECONDS] [--frame-max BYTES] [--channel-max N]
              [--memory-high-watermark 0.4|512MB] [--management-port N (0 = off)] [--management-host ADDR]
              [--prometheus-port N (0 = off)] [--prometheus-host ADDR]
       warren ctl await_startup [--host ADDR] [--port N] [--timeout SECONDS]
environment: WARREN_PORT, WARREN_HOST, WARREN_DATA_DIR, WARREN_EPHEMERAL, WARREN_LOG_LEVEL, WARREN_PRODUCT,
             WARREN_HEARTBEAT, WARREN_FRAME_MAX, WARREN_CHANNEL_MAX, WARREN_MEMORY_HIGH_WATERMARK,
             WARREN_MANAGEMENT_PORT, WARREN_MANAGEMENT_HOST, WARREN_PROMETHEUS_PORT, WARREN_PROMETHEUS_HOST`;

/** What the command line configures: the broker, and whether its data dir is a throw-away one. */
export interface CliConfig extends BrokerConfig {
  /** Data in a fresh temporary directory, removed when the process ends (`--ephemeral`). */
  ephemeral: boolean;
}

const pickFrom = (env: NodeJS.ProcessEnv) => (flag: string | undefined, name: string): string | undefined => flag ?? env[name];

function intParser(what: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`invalid ${what}: ${v}\n${USAGE}`);
  return n;
}

/** WARREN_EPHEMERAL=1|true|yes turns it on; 0, false, no or empty leave it off. */
function envFlag(name: string, v: string | undefined): boolean {
  if (v === undefined || /^(|0|false|no)$/i.test(v)) return false;
  if (/^(1|true|yes)$/i.test(v)) return true;
  throw new Error(`invalid ${name}: ${v} (1, true or yes; 0, false or no)\n${USAGE}`);
}

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): CliConfig | { help: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' }, host: { type: 'string' }, 'data-dir': { type: 'string' },
      'log-level': { type: 'string' }, product: { type: 'string' }, heartbeat: { type: 'string' },
      'frame-max': { type: 'string' }, 'channel-max': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      'memory-high-watermark': { type: 'string' }, ephemeral: { type: 'boolean' },
      'management-port': { type: 'string' }, 'management-host': { type: 'string' },
      'prometheus-port': { type: 'string' }, 'prometheus-host': { type: 'string' },
    },
  });
  if (values.help) return { help: USAGE };
  const pick = pickFrom(env);
  const int = (v: string | undefined, fallback: number, what: string): number => intParser(what, v, fallback);
  // Flags win over the environment; between the two env vars, WARREN_EPHEMERAL wins, so a
  // compose file or CI job can make a base configuration with WARREN_DATA_DIR throw-away.
  if (values.ephemeral && values['data-dir'] !== undefined) throw new Error(`--ephemeral and --data-dir exclude each other\n${USAGE}`);
  const ephemeral = values.ephemeral === true || (values['data-dir'] === undefined && envFlag('WARREN_EPHEMERAL', env.WARREN_EPHEMERAL));
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
    managementPort: int(pick(values['management-port'], 'WARREN_MANAGEMENT_PORT'), DEFAULTS.managementPort, 'management-port'),
    managementHost: pick(values['management-host'], 'WARREN_MANAGEMENT_HOST') ?? DEFAULTS.managementHost,
    prometheusPort: int(pick(values['prometheus-port'], 'WARREN_PROMETHEUS_PORT'), DEFAULTS.prometheusPort, 'prometheus-port'),
    prometheusHost: pick(values['prometheus-host'], 'WARREN_PROMETHEUS_HOST') ?? DEFAULTS.prometheusHost,
    ephemeral,
  };
}

export interface AwaitStartupConfig {
  host: string;
  port: number;
  timeoutMs: number;
}

/** `warren ctl await_startup`: where to wait (the same WARREN_HOST/WARREN_PORT as the broker) and how long. */
export function parseCtl(argv: string[], env: NodeJS.ProcessEnv): { command: 'await_startup'; config: AwaitStartupConfig } | { help: string } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { port: { type: 'string' }, host: { type: 'string' }, timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return { help: USAGE };
  if (positionals.length !== 1 || positionals[0] !== 'await_startup') {
    throw new Error(`unknown ctl command: ${positionals.join(' ') || '(none)'} (known: await_startup)\n${USAGE}`);
  }
  const pick = pickFrom(env);
  const timeout = Number(values.timeout ?? 60);
  if (!(timeout >= 0)) throw new Error(`invalid timeout: ${values.timeout}\n${USAGE}`);
  return {
    command: 'await_startup',
    config: {
      host: pick(values.host, 'WARREN_HOST') ?? DEFAULTS.host,
      port: intParser('port', pick(values.port, 'WARREN_PORT'), DEFAULTS.port),
      timeoutMs: timeout * 1000,
    },
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
