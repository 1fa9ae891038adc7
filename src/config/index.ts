// The configuration: rabbitmq.conf (--config FILE, WARREN_CONFIG or RABBITMQ_CONFIG_FILE), then
// the environment (WARREN_*, RABBITMQ_DEFAULT_*), then flags, each overriding the one before,
// resolved into one BrokerConfig. Anything unusable is a ConfigError (exit code 2).
import { existsSync } from 'node:fs';
import { rabbitmqConfigFile, rabbitmqEnv } from './env.js';
import { parseFlags } from './flags.js';
import { readRabbitmqConf } from './rabbitmq-conf.js';
import { ConfigError, DEFAULTS, type BrokerConfig, type Endpoint, type ListenerSpec, type Settings, type TlsOptions } from './types.js';

export * from './types.js';
export { USAGE } from './flags.js';
export { parseCtl, type AwaitStartupConfig } from './ctl.js';
export { parseRabbitmqConf, informationUnit } from './rabbitmq-conf.js';

/** The default amqps port, as RabbitMQ's. */
export const TLS_PORT = 5671;

/**
 * argv and environment -> BrokerConfig, or the usage text for --help. `warn` hears about
 * things that do not stop startup (unknown rabbitmq.conf keys, a RABBITMQ_CONFIG_FILE that
 * does not exist).
 */
export function parseConfig(
  argv: string[], env: NodeJS.ProcessEnv, warn: (msg: string) => void = () => {},
): CliConfig | { help: string } {
  const parsed = parseFlags(argv, env);
  if ('help' in parsed) return parsed;
  let file: Settings = {};
  const explicit = parsed.configFile ?? env.WARREN_CONFIG;
  if (explicit !== undefined && explicit !== '') file = readRabbitmqConf(explicit, warn);
  else {
    const fromRabbit = rabbitmqConfigFile(env);
    // RabbitMQ starts without the file its RABBITMQ_CONFIG_FILE names when it is absent.
    if (fromRabbit !== undefined && !existsSync(fromRabbit)) warn(`RABBITMQ_CONFIG_FILE: ${fromRabbit} does not exist; starting without it`);
    else if (fromRabbit !== undefined) file = readRabbitmqConf(fromRabbit, warn);
  }
  return { ...resolve(layer(file, rabbitmqEnv(env), parsed.env, parsed.flags)), ephemeral: parsed.ephemeral };
}

/** What the command line configures: the broker, and whether its data dir is a throw-away one. */
export interface CliConfig extends BrokerConfig {
  /** Data in a fresh temporary directory, removed when the process ends (`--ephemeral`). */
  ephemeral: boolean;
}

/** Later sources win, key by key. */
function layer(...sources: Settings[]): Settings {
  const out: Record<string, unknown> = {};
  for (const s of sources) {
    for (const [k, v] of Object.entries(s)) {
      if (v === undefined) continue;
      // default_permissions.* may come one key at a time.
      out[k] = k === 'defaultPermissions' ? { ...(out[k] as object), ...v } : v;
    }
  }
  return out as Settings;
}

/** Settings -> BrokerConfig: defaults filled in, listeners and TLS options put together. */
export function resolve(s: Settings): BrokerConfig {
  const host = s.host ?? DEFAULTS.host;
  const at = (l: ListenerSpec): Endpoint => ({ host: l.host ?? host, port: l.port });
  // A port from a flag or variable replaces the file's listeners.
  const tcp = s.port !== undefined ? [{ port: s.port }] : s.tcpListeners;
  const tcpListeners = tcp?.map(at);
  const tls = tlsOptions(s);
  let tlsListeners = (s.tlsPort !== undefined ? [{ port: s.tlsPort }] : s.tlsListeners)?.map(at);
  if (tls && tlsListeners === undefined) tlsListeners = [{ host, port: TLS_PORT }];
  if (!tls && tlsListeners !== undefined && tlsListeners.length > 0) {
    throw new ConfigError('a TLS listener (listeners.ssl.* or --tls-port) needs a certificate and key (ssl_options.certfile and ssl_options.keyfile, or --tls-cert and --tls-key)');
  }
  const defaultUser = {
    name: s.defaultUser ?? DEFAULTS.defaultUser.name,
    password: s.defaultPass ?? DEFAULTS.defaultUser.password,
    tags: s.defaultUserTags ?? DEFAULTS.defaultUser.tags,
  };
  const defaultVhost = s.defaultVhost ?? DEFAULTS.defaultVhost;
  const first = tcpListeners?.[0];
  return {
    ...DEFAULTS,
    host: first?.host ?? host,
    port: first?.port ?? DEFAULTS.port,
    ...(tcpListeners !== undefined && { tcpListeners }),
    ...(tlsListeners !== undefined && { tlsListeners }),
    ...(tls && { tls }),
    ...direct(s),
    defaultUser,
    defaultVhost,
    defaultPermissions: { ...DEFAULTS.defaultPermissions, ...s.defaultPermissions },
    definitions: s.definitionsFile ?? DEFAULTS.definitions,
    // Until users and vhosts live in the store, the defaults are the whole table.
    users: [defaultUser],
    vhosts: [defaultVhost],
  };
}

/** Settings that are BrokerConfig fields as they are. */
const DIRECT = [
  'dataDir', 'logLevel', 'logConsole', 'product', 'heartbeat', 'frameMax', 'channelMax', 'memoryHighWatermark',
  'diskFreeLimit', 'consumerTimeout', 'connectionMax', 'authMechanisms', 'sslCertLoginFrom', 'loopbackUsers',
  'managementPort', 'managementHost', 'prometheusPort', 'prometheusHost',
] as const satisfies readonly (keyof Settings & keyof BrokerConfig)[];

function direct(s: Settings): Partial<BrokerConfig> {
  const out: Record<string, unknown> = {};
  for (const k of DIRECT) if (s[k] !== undefined) out[k] = s[k];
  return out as Partial<BrokerConfig>;
}

function tlsOptions(s: Settings): TlsOptions | undefined {
  if (s.tlsCert === undefined && s.tlsKey === undefined) return undefined;
  if (s.tlsCert === undefined || s.tlsKey === undefined) {
    throw new ConfigError('TLS needs both a certificate and its key (ssl_options.certfile and ssl_options.keyfile, or --tls-cert and --tls-key)');
  }
  const verify = s.tlsVerify ?? 'verify_none';
  const failIfNoPeerCert = s.tlsFailIfNoPeerCert ?? false;
  // Erlang's ssl refuses this pair ({options, incompatible, ...}), so RabbitMQ's listener does not start.
  if (verify === 'verify_none' && failIfNoPeerCert) {
    throw new ConfigError('ssl_options.fail_if_no_peer_cert = true needs ssl_options.verify = verify_peer (RabbitMQ refuses verify_none with it)');
  }
  return { certFile: s.tlsCert, keyFile: s.tlsKey, ...(s.tlsCa !== undefined && { caFile: s.tlsCa }), verify, failIfNoPeerCert };
}
