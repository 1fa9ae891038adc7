// Command-line flags and their WARREN_* environment twins -> Settings. A bad value is a
// ConfigError naming the setting, followed by the usage text.
import { parseArgs } from 'node:util';
import { totalmem } from 'node:os';
import type { LogLevel } from '../log.js';
import { parseWatermark } from '../memory-monitor.js';
import { informationUnit } from './rabbitmq-conf.js';
import { ConfigError, type Settings } from './types.js';

export const USAGE = `usage: warren [--port N] [--host ADDR] [--data-dir DIR | --ephemeral] [--log-level error|warn|info|debug]
              [--product NAME] [--heartbeat SECONDS] [--frame-max BYTES] [--channel-max N]
              [--memory-high-watermark 0.4|512MB] [--disk-free-limit 50MB|mem_relative:1.5]
              [--consumer-timeout MS (0 = none)] [--connection-max N|infinity] [--config rabbitmq.conf]
              [--management-port N (0 = off)] [--management-host ADDR] [--definitions FILE]
              [--prometheus-port N (0 = off)] [--prometheus-host ADDR]
              [--tls-port N] [--tls-cert FILE] [--tls-key FILE] [--tls-ca FILE]
              [--tls-verify verify_peer|verify_none] [--tls-fail-if-no-peer-cert true|false]
       warren ctl await_startup [--host ADDR] [--port N] [--timeout SECONDS]
       warren ctl <command> [--management-port N] [...]   (status, list_queues, ...: warren ctl help)
environment: WARREN_PORT, WARREN_HOST, WARREN_DATA_DIR, WARREN_EPHEMERAL, WARREN_LOG_LEVEL, WARREN_PRODUCT,
             WARREN_HEARTBEAT, WARREN_FRAME_MAX, WARREN_CHANNEL_MAX, WARREN_MEMORY_HIGH_WATERMARK, WARREN_CONSUMER_TIMEOUT,
             WARREN_DISK_FREE_LIMIT, WARREN_CONNECTION_MAX,
             WARREN_MANAGEMENT_PORT, WARREN_MANAGEMENT_HOST, WARREN_DEFINITIONS, WARREN_PROMETHEUS_PORT, WARREN_PROMETHEUS_HOST,
             WARREN_CONFIG, WARREN_TLS_PORT, WARREN_TLS_CERT, WARREN_TLS_KEY, WARREN_TLS_CA,
             RABBITMQ_CONFIG_FILE, RABBITMQ_DEFAULT_USER, RABBITMQ_DEFAULT_PASS, RABBITMQ_DEFAULT_VHOST`;

/** Each flag, the WARREN_* variable standing in for it, and how its value is read. */
const FLAGS = {
  port: ['WARREN_PORT', 'port'],
  host: ['WARREN_HOST', 'host'],
  'data-dir': ['WARREN_DATA_DIR', 'dataDir'],
  'log-level': ['WARREN_LOG_LEVEL', 'logLevel'],
  product: ['WARREN_PRODUCT', 'product'],
  heartbeat: ['WARREN_HEARTBEAT', 'heartbeat'],
  'frame-max': ['WARREN_FRAME_MAX', 'frameMax'],
  'channel-max': ['WARREN_CHANNEL_MAX', 'channelMax'],
  'memory-high-watermark': ['WARREN_MEMORY_HIGH_WATERMARK', 'memoryHighWatermark'],
  definitions: ['WARREN_DEFINITIONS', 'definitionsFile'],
  'consumer-timeout': ['WARREN_CONSUMER_TIMEOUT', 'consumerTimeout'],
  'disk-free-limit': ['WARREN_DISK_FREE_LIMIT', 'diskFreeLimit'],
  'connection-max': ['WARREN_CONNECTION_MAX', 'connectionMax'],
  'management-port': ['WARREN_MANAGEMENT_PORT', 'managementPort'],
  'management-host': ['WARREN_MANAGEMENT_HOST', 'managementHost'],
  'prometheus-port': ['WARREN_PROMETHEUS_PORT', 'prometheusPort'],
  'prometheus-host': ['WARREN_PROMETHEUS_HOST', 'prometheusHost'],
  'tls-port': ['WARREN_TLS_PORT', 'tlsPort'],
  'tls-cert': ['WARREN_TLS_CERT', 'tlsCert'],
  'tls-key': ['WARREN_TLS_KEY', 'tlsKey'],
  'tls-ca': ['WARREN_TLS_CA', 'tlsCa'],
  'tls-verify': ['WARREN_TLS_VERIFY', 'tlsVerify'],
  'tls-fail-if-no-peer-cert': ['WARREN_TLS_FAIL_IF_NO_PEER_CERT', 'tlsFailIfNoPeerCert'],
} as const satisfies Record<string, readonly [string, keyof Settings]>;

type Flag = keyof typeof FLAGS;

const bad = (what: string, v: string): never => { throw new ConfigError(`invalid ${what}: ${v}\n${USAGE}`); };

function int(what: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 0) bad(what, v);
  return n;
}

function port(what: string, v: string): number {
  const n = int(what, v);
  return n > 65535 ? bad(what, v) : n;
}

/** One flag's (or variable's) text -> its Settings value. */
function read(flag: Flag, v: string): Settings[keyof Settings] {
  switch (flag) {
    case 'port': case 'tls-port': case 'management-port': case 'prometheus-port': return port(flag, v);
    case 'heartbeat': case 'frame-max': case 'channel-max': case 'consumer-timeout': return int(flag, v);
    case 'log-level':
      return ['error', 'warn', 'info', 'debug'].includes(v) ? (v as LogLevel) : bad('log level', v);
    case 'memory-high-watermark':
      try {
        return parseWatermark(v, totalmem());
      } catch (err) {
        return bad('memory high watermark', `${v} (${(err as Error).message})`);
      }
    case 'disk-free-limit': {
      const rel = /^mem_relative:(\d+(?:\.\d*)?|\.\d+)$/.exec(v);
      if (rel) return { relative: Number(rel[1]) };
      try {
        return { absolute: informationUnit(v) };
      } catch {
        return bad('disk free limit (bytes with a unit, e.g. 50MB, or mem_relative:1.5)', v);
      }
    }
    case 'connection-max': return v === 'infinity' ? Infinity : int(flag, v);
    case 'tls-verify': return v === 'verify_peer' || v === 'verify_none' ? v : bad(flag, v);
    case 'tls-fail-if-no-peer-cert': return v === 'true' ? true : v === 'false' ? false : bad(flag, v);
    default: return v;
  }
}

export interface FlagResult {
  flags: Settings;
  /** WARREN_* variables that stand in for flags. */
  env: Settings;
  /** --config FILE. */
  configFile?: string;
  /** --ephemeral, or WARREN_EPHEMERAL without --data-dir (see ephemeralOf). */
  ephemeral: boolean;
}

/** WARREN_EPHEMERAL=1|true|yes turns it on; 0, false, no or empty leave it off. */
function envFlag(name: string, v: string | undefined): boolean {
  if (v === undefined || /^(|0|false|no)$/i.test(v)) return false;
  if (/^(1|true|yes)$/i.test(v)) return true;
  throw new ConfigError(`invalid ${name}: ${v} (1, true or yes; 0, false or no)\n${USAGE}`);
}

export function parseFlags(argv: string[], env: NodeJS.ProcessEnv): FlagResult | { help: string } {
  const options = Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv, options: { ...options, config: { type: 'string' }, ephemeral: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) return { help: USAGE };
  const flags: Settings = {};
  const fromEnv: Settings = {};
  for (const [flag, [variable, key]] of Object.entries(FLAGS) as [Flag, readonly [string, keyof Settings]][]) {
    const f = values[flag];
    if (typeof f === 'string') (flags as Record<string, unknown>)[key] = read(flag, f);
    const e = env[variable];
    if (e !== undefined && e !== '') (fromEnv as Record<string, unknown>)[key] = read(flag, e);
  }
  // Flags win over the environment; between the two env vars, WARREN_EPHEMERAL wins, so a
  // compose file or CI job can make a base configuration with WARREN_DATA_DIR throw-away.
  if (values.ephemeral === true && typeof values['data-dir'] === 'string') throw new ConfigError(`--ephemeral and --data-dir exclude each other\n${USAGE}`);
  const ephemeral = values.ephemeral === true || (values['data-dir'] === undefined && envFlag('WARREN_EPHEMERAL', env.WARREN_EPHEMERAL));
  return { flags, env: fromEnv, configFile: typeof values.config === 'string' ? values.config : undefined, ephemeral };
}
