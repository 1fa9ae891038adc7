// The embedded API, what `import { startBroker } from 'warren'` gives: a broker inside the
// calling process (a test suite, typically), on a free port, with a throw-away data directory,
// silent unless asked to log, and a handle that stops it and releases everything.
//
// Each call makes its own Broker: vhosts, users, queues, the store, the direct reply-to
// registry and the memory monitor all hang off that instance, so brokers in one process share
// nothing but the process (see README "Embedding" for what that means for the memory alarm).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, VERSION } from './broker.js';
import { ANY_FREE_PORT, DEFAULTS, type BrokerConfig } from './config.js';
import { createLineLogger, forwardingLogger, type LoggerLike } from './line-log.js';
import type { Logger, LogLevel } from './log.js';

export { Broker, VERSION };
export type { BrokerConfig, LoggerLike, LogLevel };

export interface StartBrokerOptions extends Partial<Omit<BrokerConfig, 'logLevel' | 'dataDir'>> {
  /** Default 0: any free port (read it from the handle). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** A data directory kept after stop (durable queues survive a restart on it). Default: ephemeral. */
  dataDir?: string;
  /**
   * Data in a fresh temporary directory removed by stop() (or at process exit): the default
   * when no dataDir is given. `ephemeral: true` together with a dataDir is an error;
   * `ephemeral: false` without one uses ./data, as the CLI does.
   */
  ephemeral?: boolean;
  /**
   * Default 'silent': a test run should not be interleaved with broker chatter. 'info' or
   * 'debug' write Warren's usual lines to stderr. Ignored when `logger` is given.
   */
  logLevel?: LogLevel | 'silent';
  /** Hand logs to this (console, a winston or pino logger: anything with error/warn/info/debug). */
  logger?: LoggerLike;
  /**
   * The management HTTP API: true listens on any free port (see managementUrl), a number on
   * that port; off by default, so parallel test workers never fight over 15672.
   */
  management?: boolean | number;
}

export interface WarrenHandle extends AsyncDisposable {
  /** `amqp://user:password@host:port` for the first configured user (guest:guest by default). */
  readonly url: string;
  readonly port: number;
  /** The address listened on (as the OS reports it). */
  readonly host: string;
  /** http://user:pass@host:port of the management API, or null when it is off. */
  readonly managementUrl: string | null;
  /** Where the store lives; for an ephemeral broker, removed by stop(). */
  readonly dataDir: string;
  readonly ephemeral: boolean;
  /** The broker itself, for tests that look inside. */
  readonly broker: Broker;
  /**
   * Closes every client (320 CONNECTION_FORCED), commits and closes the store, and resolves
   * once the port is closed, the data directory unlocked and, if ephemeral, removed.
   * Calling it again returns the same promise.
   */
  stop(): Promise<void>;
}

// Ephemeral directories still in use, removed at process exit if their broker was never
// stopped (a test file that forgets stop(), a crash). Process-wide on purpose: one 'exit'
// listener for any number of brokers rather than one each (and a MaxListeners warning).
const liveEphemeral = new Set<string>();
let exitHookInstalled = false;

/** A fresh throw-away data directory (also used by the CLI's --ephemeral). */
export function makeEphemeralDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'warren-ephemeral-'));
  liveEphemeral.add(dir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const d of liveEphemeral) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

export function removeEphemeralDir(dir: string): void {
  liveEphemeral.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** The startup line an ephemeral broker logs, so nobody mistakes it for a persistent one. */
export function logEphemeral(log: Logger, dir: string): void {
  log.info('ephemeral mode: data in a temporary directory removed when the broker stops; durable queues and persistent messages last only as long as this process', { dataDir: dir });
}

function resolveLogger(options: StartBrokerOptions): Logger {
  if (options.logger !== undefined) return forwardingLogger(options.logger);
  return createLineLogger(options.logLevel ?? 'silent');
}

function urlHost(address: string): string {
  // A wildcard listener is reached over loopback; IPv6 literals need brackets in a URL.
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '[::1]';
  return address.includes(':') ? `[${address}]` : address;
}

export async function startBroker(options: StartBrokerOptions = {}): Promise<WarrenHandle> {
  const { logger: _logger, logLevel: _level, ephemeral: ephemeralOption, management, dataDir: givenDir, ...config } = options;
  if (ephemeralOption === true && givenDir !== undefined) throw new Error('ephemeral: true and dataDir exclude each other');
  // Without a dataDir the broker is ephemeral unless told otherwise (then ./data, as the CLI).
  const ephemeral = ephemeralOption ?? givenDir === undefined;
  const log = resolveLogger(options);
  const dataDir = ephemeral ? makeEphemeralDir() : givenDir ?? DEFAULTS.dataDir;
  if (ephemeral) logEphemeral(log, dataDir);
  const managementPort = management === true ? ANY_FREE_PORT : typeof management === 'number' ? management : 0;
  const broker = new Broker({ ...config, port: config.port ?? 0, host: config.host ?? DEFAULTS.host, dataDir, logger: log, managementPort });
  let address;
  try {
    address = await broker.start();
  } catch (err) {
    if (ephemeral) removeEphemeralDir(dataDir);
    throw err;
  }
  const user = broker.config.users[0];
  const auth = user === undefined ? '' : `${encodeURIComponent(user.name)}:${encodeURIComponent(user.password)}@`;
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= broker.stop().finally(() => {
      if (ephemeral) removeEphemeralDir(dataDir);
    }));
  return {
    url: `amqp://${auth}${urlHost(address.address)}:${address.port}`,
    port: address.port,
    host: address.address,
    managementUrl: broker.managementAddress === null ? null
      : `http://${auth}${urlHost(broker.managementAddress.address)}:${broker.managementAddress.port}`,
    dataDir,
    ephemeral,
    broker,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
