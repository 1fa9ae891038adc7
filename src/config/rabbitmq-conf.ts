// rabbitmq.conf (the sysctl-style `key = value` format RabbitMQ reads through cuttlefish) ->
// Settings. Value syntax follows RabbitMQ 3.10's rabbit.schema: `#` starts a comment anywhere
// on a line (also inside a value, as cuttlefish does), a later line for the same key wins.
// Keys Warren does not know are warned about and ignored; a malformed value is a ConfigError
// naming the file, line, key and what was expected.
import { accessSync, constants, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { totalmem } from 'node:os';
import type { LogLevel } from '../log.js';
import { IMPLEMENTED_MECHANISMS } from '../amqp/auth.js';
import { ConfigError, type ListenerSpec, type Settings } from './types.js';

/** Thrown by a value reader; the parser adds file, line, key and the value. */
class Expected extends Error {}

const expect = (what: string): never => { throw new Expected(what); };

function nonNegativeInt(v: string): number {
  return /^\d+$/.test(v) ? Number(v) : expect('a non-negative integer');
}

function positiveInt(v: string): number {
  const n = /^\d+$/.test(v) ? Number(v) : 0;
  return n > 0 ? n : expect('a positive integer');
}

function port(v: string): number {
  const n = /^\d+$/.test(v) ? Number(v) : -1;
  return n >= 0 && n <= 65535 ? n : expect('a port number (0-65535)');
}

function bool(v: string): boolean {
  return v === 'true' ? true : v === 'false' ? false : expect('true or false');
}

function fraction(v: string): number {
  return /^(\d+(\.\d*)?|\.\d+)$/.test(v) ? Number(v) : expect('a number (a fraction of RAM, e.g. 0.4)');
}

function ip(v: string): string {
  return isIP(v) ? v : expect('an IP address');
}

/** cuttlefish's bytesize: an integer, optionally with KB, MB or GB (powers of 1024). */
function bytesize(v: string): number {
  const m = /^(\d+)(KB|MB|GB)?$/.exec(v);
  if (!m) return expect('a size in bytes (e.g. 131072 or 128KB)');
  return Number(m[1]) * { '': 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[m[2] ?? '']!;
}

/**
 * RabbitMQ's information units (rabbit_resource_monitor_misc): k, kiB, M, MiB, G, GiB are
 * powers of 1024; kB, MB, GB powers of 1000.
 */
export function informationUnit(v: string): number {
  const m = /^(\d+)([a-zA-Z]*)$/.exec(v);
  const scale: Record<string, number> = {
    '': 1, k: 1024, kib: 1024, kb: 1e3, m: 1024 ** 2, mib: 1024 ** 2, mb: 1e6, g: 1024 ** 3, gib: 1024 ** 3, gb: 1e9,
  };
  const unit = m ? scale[m[2]!.toLowerCase()] : undefined;
  return unit !== undefined ? Number(m![1]) * unit : expect('a number of bytes, optionally with a unit (e.g. 1024MiB, 2GB)');
}

function readableFile(v: string): string {
  try {
    accessSync(v, constants.R_OK);
  } catch {
    expect('a readable file');
  }
  return v;
}

/** listeners.tcp.NAME: a port (bound to the broker's host) or IP:port (`::1:5672` too). */
function listener(v: string): ListenerSpec {
  if (/^\d+$/.test(v) && Number(v) <= 65535) return { port: Number(v) };
  const at = v.lastIndexOf(':');
  const host = v.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const p = v.slice(at + 1);
  if (at < 0 || !isIP(host) || !/^\d+$/.test(p) || Number(p) > 65535) return expect('a port or IP:port');
  return { host, port: Number(p) };
}

const LOG_LEVELS: Record<string, LogLevel | 'none'> = {
  debug: 'debug', info: 'info', notice: 'info', warning: 'warn', error: 'error',
  critical: 'error', alert: 'error', emergency: 'error', none: 'none',
};

/** The parse of one file: Settings plus the list-valued keys gathered line by line. */
class Collector {
  readonly s: Settings = {};
  tcp: ListenerSpec[] = [];
  tcpNone = false;
  ssl: ListenerSpec[] = [];
  sslNone = false;
  loopback = new Map<string, boolean>();
  loopbackNone = false;
  tags = new Map<string, boolean>();
  mechanisms = new Map<string, string>();
  memory: { absolute?: number; relative?: number } = {};
  disk: { absolute?: number; relative?: number } = {};

  constructor(readonly warn: (msg: string) => void) {}

  settings(): Settings {
    const s = this.s;
    if (this.tcpNone) s.tcpListeners = [];
    else if (this.tcp.length > 0) s.tcpListeners = this.tcp;
    if (this.sslNone) s.tlsListeners = [];
    else if (this.ssl.length > 0) s.tlsListeners = this.ssl;
    if (this.loopbackNone) s.loopbackUsers = [];
    else if (this.loopback.size > 0) s.loopbackUsers = [...this.loopback].filter(([, on]) => on).map(([u]) => u);
    if (this.tags.size > 0) s.defaultUserTags = [...this.tags].filter(([, on]) => on).map(([t]) => t);
    if (this.mechanisms.size > 0) s.authMechanisms = [...this.mechanisms.values()];
    // As rabbit.schema's translations: relative wins when both are set.
    const total = totalmem();
    if (this.memory.relative !== undefined) s.memoryHighWatermark = Math.floor(this.memory.relative * total);
    else if (this.memory.absolute !== undefined) s.memoryHighWatermark = this.memory.absolute;
    if (this.disk.relative !== undefined) s.diskFreeLimit = { relative: this.disk.relative };
    else if (this.disk.absolute !== undefined) s.diskFreeLimit = { absolute: this.disk.absolute };
    return s;
  }
}

type Reader = (c: Collector, v: string, name: string, where: string) => void;

/** Exact keys. */
const KEYS: Record<string, Reader> = {
  'listeners.tcp': (c, v) => { c.tcpNone = v === 'none' || expect('none (or listeners.tcp.NAME = port)'); },
  'listeners.ssl': (c, v) => { c.sslNone = v === 'none' || expect('none (or listeners.ssl.NAME = port)'); },
  'ssl_options.cacertfile': (c, v) => { c.s.tlsCa = readableFile(v); },
  'ssl_options.certfile': (c, v) => { c.s.tlsCert = readableFile(v); },
  'ssl_options.keyfile': (c, v) => { c.s.tlsKey = readableFile(v); },
  'ssl_options.verify': (c, v) => {
    c.s.tlsVerify = v === 'verify_peer' || v === 'verify_none' ? v : expect('verify_peer or verify_none');
  },
  'ssl_options.fail_if_no_peer_cert': (c, v) => { c.s.tlsFailIfNoPeerCert = bool(v); },
  'ssl_cert_login_from': (c, v) => {
    c.s.sslCertLoginFrom = v === 'common_name' || v === 'distinguished_name'
      ? v : expect('common_name or distinguished_name (subject_alternative_name is not supported)');
  },
  'default_user': (c, v) => { c.s.defaultUser = v; },
  'default_pass': (c, v) => { c.s.defaultPass = v; },
  'default_vhost': (c, v) => { c.s.defaultVhost = v; },
  'default_permissions.configure': (c, v) => { c.s.defaultPermissions = { ...c.s.defaultPermissions, configure: v }; },
  'default_permissions.read': (c, v) => { c.s.defaultPermissions = { ...c.s.defaultPermissions, read: v }; },
  'default_permissions.write': (c, v) => { c.s.defaultPermissions = { ...c.s.defaultPermissions, write: v }; },
  'loopback_users': (c, v) => { c.loopbackNone = v === 'none' || expect('none (or loopback_users.USER = true|false)'); },
  'heartbeat': (c, v) => { c.s.heartbeat = nonNegativeInt(v); },
  'frame_max': (c, v) => { c.s.frameMax = bytesize(v); },
  'channel_max': (c, v) => { c.s.channelMax = nonNegativeInt(v); },
  'vm_memory_high_watermark.relative': (c, v) => { c.memory.relative = fraction(v); },
  'vm_memory_high_watermark.absolute': (c, v) => { c.memory.absolute = informationUnit(v); },
  'disk_free_limit.relative': (c, v) => { c.disk.relative = fraction(v); },
  'disk_free_limit.absolute': (c, v) => { c.disk.absolute = informationUnit(v); },
  'consumer_timeout': (c, v) => { c.s.consumerTimeout = positiveInt(v); },
  'connection_max': (c, v) => { c.s.connectionMax = v === 'infinity' ? Infinity : nonNegativeInt(v); },
  'load_definitions': (c, v) => { c.s.definitionsFile = readableFile(v); },
  'management.tcp.port': (c, v) => { c.s.managementPort = port(v); },
  'management.tcp.ip': (c, v) => { c.s.managementHost = ip(v); },
  'prometheus.tcp.port': (c, v) => { c.s.prometheusPort = port(v); },
  'prometheus.tcp.ip': (c, v) => { c.s.prometheusHost = ip(v); },
  'log.console': (c, v) => { c.s.logConsole = bool(v); },
  'log.console.level': (c, v) => {
    const level = LOG_LEVELS[v] ?? expect(`one of ${Object.keys(LOG_LEVELS).join(', ')}`);
    if (level === 'none') c.s.logConsole = false;
    else c.s.logLevel = level;
  },
};

/** Keys with a name of the user's choosing as their last part (`listeners.tcp.default`). */
const PREFIXES: Record<string, Reader> = {
  'listeners.tcp.': (c, v) => { c.tcp.push(listener(v)); },
  'listeners.ssl.': (c, v) => { c.ssl.push(listener(v)); },
  'loopback_users.': (c, v, name) => { c.loopback.set(name, bool(v)); },
  'default_user_tags.': (c, v, name) => { c.tags.set(name, bool(v)); },
  'auth_mechanisms.': (c, v, _name, where) => {
    if ((IMPLEMENTED_MECHANISMS as readonly string[]).includes(v)) c.mechanisms.set(_name, v);
    else c.warn(`${where}: auth mechanism '${v}' is not available in Warren (it has ${IMPLEMENTED_MECHANISMS.join(', ')}); not offered`);
  },
};

function reader(key: string): { read: Reader; name: string } | undefined {
  const exact = KEYS[key];
  if (exact) return { read: exact, name: key };
  for (const [prefix, read] of Object.entries(PREFIXES)) {
    const name = key.slice(prefix.length);
    if (key.startsWith(prefix) && name !== '' && !name.includes('.')) return { read, name };
  }
  return undefined;
}

export function parseRabbitmqConf(text: string, file: string, warn: (msg: string) => void): Settings {
  const c = new Collector(warn);
  text.split(/\r?\n/).forEach((raw, i) => {
    const where = `${file}:${i + 1}`;
    const hash = raw.indexOf('#');
    const line = (hash < 0 ? raw : raw.slice(0, hash)).trim();
    if (line === '') return;
    const m = /^([A-Za-z0-9_.$-]+)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new ConfigError(`${where}: expected 'key = value', got '${line}'`);
    const key = m[1]!;
    const value = m[2]!;
    const r = reader(key);
    if (!r) {
      warn(`${where}: unknown key '${key}' ignored`);
      return;
    }
    try {
      if (value === '') expect('a value');
      r.read(c, value, r.name, where);
    } catch (err) {
      if (err instanceof Expected) throw new ConfigError(`${where}: ${key}: expected ${err.message}, got '${value}'`);
      throw err;
    }
  });
  return c.settings();
}

/** Reads and parses FILE; a missing or unreadable file is a ConfigError. */
export function readRabbitmqConf(file: string, warn: (msg: string) => void): Settings {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  return parseRabbitmqConf(text, file, warn);
}
