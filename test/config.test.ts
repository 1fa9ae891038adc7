// Configuration: every rabbitmq.conf key Warren reads, RabbitMQ's value syntax, precedence
// (flags > environment > file), warnings for unknown keys, errors naming file, line and key.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, informationUnit, parseConfig, parseRabbitmqConf, type BrokerConfig } from '../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'warren-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** Writes a rabbitmq.conf and returns its path. */
function conf(text: string, name = `rabbitmq-${n++}.conf`): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Placeholder files for keys that must name a readable file. */
const touch = <T extends string[]>(...names: T) => names.map((name) => conf('x', name)) as { [K in keyof T]: string };

function load(text: string, argv: string[] = [], env: NodeJS.ProcessEnv = {}): { config: BrokerConfig; warnings: string[] } {
  const warnings: string[] = [];
  const config = parseConfig(['--config', conf(text), ...argv], env, (w) => warnings.push(w));
  if ('help' in config) throw new Error('help');
  return { config, warnings };
}

/** The ConfigError message for a file holding `text`. */
function failure(text: string): string {
  const file = conf(text, 'rabbitmq.conf');
  try {
    parseConfig(['--config', file], {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message.replace(file, 'rabbitmq.conf');
  }
  throw new Error('no error');
}

describe('rabbitmq.conf keys', () => {
  it('reads every supported key', () => {
    const [ca, cert, key, defs] = touch('ca.pem', 'cert.pem', 'key.pem', 'defs.json');
    const { config, warnings } = load(`
# a comment line
listeners.tcp.default = 5673
listeners.tcp.local = 127.0.0.2:5674
listeners.ssl.default = 5675
ssl_options.cacertfile = ${ca}
ssl_options.certfile = ${cert}
ssl_options.keyfile = ${key}
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
default_user = admin
default_pass = s3cret   # trailing comment
default_vhost = dev
default_user_tags.administrator = true
default_user_tags.monitoring = true
default_user_tags.management = false
default_permissions.configure = ^dev-.*
default_permissions.read = .*
default_permissions.write = ^$
loopback_users.guest = false
loopback_users.admin = true
auth_mechanisms.1 = PLAIN
auth_mechanisms.2 = EXTERNAL
ssl_cert_login_from = distinguished_name
heartbeat = 30
frame_max = 64KB
channel_max = 128
vm_memory_high_watermark.absolute = 1024MiB
disk_free_limit.absolute = 2GB
consumer_timeout = 900000
load_definitions = ${defs}
management.tcp.port = 15000
management.tcp.ip = 127.0.0.1
prometheus.tcp.port = 15001
log.console = true
log.console.level = warning
`);
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      host: '127.0.0.1', port: 5673,
      tcpListeners: [{ host: '127.0.0.1', port: 5673 }, { host: '127.0.0.2', port: 5674 }],
      tlsListeners: [{ host: '127.0.0.1', port: 5675 }],
      tls: { caFile: ca, certFile: cert, keyFile: key, verify: 'verify_peer', failIfNoPeerCert: true },
      defaultUser: { name: 'admin', password: 's3cret', tags: ['administrator', 'monitoring'] },
      defaultVhost: 'dev',
      defaultPermissions: { configure: '^dev-.*', read: '.*', write: '^$' },
      loopbackUsers: ['admin'],
      authMechanisms: ['PLAIN', 'EXTERNAL'],
      sslCertLoginFrom: 'distinguished_name',
      heartbeat: 30, frameMax: 65536, channelMax: 128,
      memoryHighWatermark: 1024 * 1024 * 1024,
      diskFreeLimit: { absolute: 2e9 },
      consumerTimeout: 900000,
      definitions: defs,
      managementPort: 15000, managementHost: '127.0.0.1', prometheusPort: 15001,
      logConsole: true, logLevel: 'warn',
      users: [{ name: 'admin', password: 's3cret', tags: ['administrator', 'monitoring'] }],
      vhosts: ['dev'],
    });
  });

  it('keeps RabbitMQ\'s defaults for what the file does not set', () => {
    const { config } = load('');
    expect(config).toEqual({ ...DEFAULTS, ephemeral: false });
    expect(config.tls).toBeUndefined();
  });

  it('reads the other spellings: none, relative limits, IPv6 listeners, log.console = false, level none', () => {
    expect(load('listeners.tcp = none\n').config.tcpListeners).toEqual([]);
    expect(load('listeners.tcp.v6 = ::1:5672\nlisteners.tcp.b = [::1]:5673').config.tcpListeners)
      .toEqual([{ host: '::1', port: 5672 }, { host: '::1', port: 5673 }]);
    expect(load('loopback_users = none\nloopback_users.guest = true').config.loopbackUsers).toEqual([]);
    expect(load('loopback_users.guest = false').config.loopbackUsers).toEqual([]);
    const rel = load('vm_memory_high_watermark.relative = 0.5\nvm_memory_high_watermark.absolute = 1GB\ndisk_free_limit.relative = 1.5').config;
    expect(rel.memoryHighWatermark).toBe(Math.floor(0.5 * totalmem())); // relative wins, as rabbit.schema
    expect(rel.diskFreeLimit).toEqual({ relative: 1.5 });
    expect(load('log.console = false').config.logConsole).toBe(false);
    expect(load('log.console.level = none').config.logConsole).toBe(false);
    expect(load('log.console.level = critical').config.logLevel).toBe('error');
    expect(load('heartbeat = 10\nheartbeat = 20').config.heartbeat).toBe(20); // the later line wins
  });

  it('reads RabbitMQ\'s information units: k, kiB, M, MiB, G, GiB are 1024-based, kB, MB, GB 1000-based', () => {
    expect(informationUnit('1000')).toBe(1000);
    expect(informationUnit('2k')).toBe(2048);
    expect(informationUnit('2KiB')).toBe(2048);
    expect(informationUnit('2kB')).toBe(2000);
    expect(informationUnit('3M')).toBe(3 * 1024 ** 2);
    expect(informationUnit('3MB')).toBe(3e6);
    expect(informationUnit('1G')).toBe(1024 ** 3);
    expect(informationUnit('1GB')).toBe(1e9);
  });

  it('cuts a value at #, as cuttlefish does (RabbitMQ 3.10 reads "default_pass = pa#ss" as "pa")', () => {
    expect(load('default_pass = pa#ss').config.defaultUser.password).toBe('pa');
  });

  it('warns about keys it does not know, naming file, line and key, and goes on', () => {
    const warnings: string[] = [];
    const file = conf('heartbeat = 5\ncluster_formation.peer_discovery_backend = classic_config\nauth_mechanisms.1 = RABBIT-CR-DEMO\n');
    const config = parseConfig(['--config', file], {}, (w) => warnings.push(w)) as BrokerConfig;
    expect(config.heartbeat).toBe(5);
    expect(warnings).toEqual([
      `${file}:2: unknown key 'cluster_formation.peer_discovery_backend' ignored`,
      `${file}:3: auth mechanism 'RABBIT-CR-DEMO' is not available in Warren (it has PLAIN, AMQPLAIN, EXTERNAL); not offered`,
    ]);
  });
});

describe('malformed values', () => {
  it.each([
    ['\n\nheartbeat = abc', "rabbitmq.conf:3: heartbeat: expected a non-negative integer, got 'abc'"],
    ['channel_max = -1', "rabbitmq.conf:1: channel_max: expected a non-negative integer, got '-1'"],
    ['frame_max = 12 KB', "rabbitmq.conf:1: frame_max: expected a size in bytes (e.g. 131072 or 128KB), got '12 KB'"],
    ['consumer_timeout = 0', "rabbitmq.conf:1: consumer_timeout: expected a positive integer, got '0'"],
    ['listeners.tcp.default = localhost:5672', "rabbitmq.conf:1: listeners.tcp.default: expected a port or IP:port, got 'localhost:5672'"],
    ['listeners.ssl.default = 70000', "rabbitmq.conf:1: listeners.ssl.default: expected a port or IP:port, got '70000'"],
    ['listeners.tcp = off', "rabbitmq.conf:1: listeners.tcp: expected none (or listeners.tcp.NAME = port), got 'off'"],
    ['ssl_options.verify = yes', "rabbitmq.conf:1: ssl_options.verify: expected verify_peer or verify_none, got 'yes'"],
    ['ssl_options.fail_if_no_peer_cert = 1', "rabbitmq.conf:1: ssl_options.fail_if_no_peer_cert: expected true or false, got '1'"],
    ['ssl_options.certfile = /nonexistent/cert.pem', "rabbitmq.conf:1: ssl_options.certfile: expected a readable file, got '/nonexistent/cert.pem'"],
    ['load_definitions = /nonexistent/defs.json', "rabbitmq.conf:1: load_definitions: expected a readable file, got '/nonexistent/defs.json'"],
    ['ssl_cert_login_from = subject_alternative_name', "rabbitmq.conf:1: ssl_cert_login_from: expected common_name or distinguished_name (subject_alternative_name is not supported), got 'subject_alternative_name'"],
    ['loopback_users.guest = no', "rabbitmq.conf:1: loopback_users.guest: expected true or false, got 'no'"],
    ['default_user_tags.administrator = yes', "rabbitmq.conf:1: default_user_tags.administrator: expected true or false, got 'yes'"],
    ['vm_memory_high_watermark.relative = high', "rabbitmq.conf:1: vm_memory_high_watermark.relative: expected a number (a fraction of RAM, e.g. 0.4), got 'high'"],
    ['vm_memory_high_watermark.absolute = 1.5GB', "rabbitmq.conf:1: vm_memory_high_watermark.absolute: expected a number of bytes, optionally with a unit (e.g. 1024MiB, 2GB), got '1.5GB'"],
    ['disk_free_limit.absolute = 50XB', "rabbitmq.conf:1: disk_free_limit.absolute: expected a number of bytes, optionally with a unit (e.g. 1024MiB, 2GB), got '50XB'"],
    ['management.tcp.port = http', "rabbitmq.conf:1: management.tcp.port: expected a port number (0-65535), got 'http'"],
    ['management.tcp.ip = localhost', "rabbitmq.conf:1: management.tcp.ip: expected an IP address, got 'localhost'"],
    ['log.console.level = loud', "rabbitmq.conf:1: log.console.level: expected one of debug, info, notice, warning, error, critical, alert, emergency, none, got 'loud'"],
    ['default_user =', "rabbitmq.conf:1: default_user: expected a value, got ''"],
    ['heartbeat 60', "rabbitmq.conf:1: expected 'key = value', got 'heartbeat 60'"],
  ])('%s', (text, message) => {
    expect(failure(text)).toBe(message);
  });

  it('refuses TLS settings that cannot work together', () => {
    const [cert, key] = touch('c.pem', 'k.pem');
    expect(failure(`ssl_options.certfile = ${cert}`)).toMatch(/TLS needs both a certificate and its key/);
    expect(failure('listeners.ssl.default = 5671')).toMatch(/a TLS listener .* needs a certificate and key/);
    expect(failure(`ssl_options.certfile = ${cert}\nssl_options.keyfile = ${key}\nssl_options.fail_if_no_peer_cert = true`))
      .toMatch(/fail_if_no_peer_cert = true needs ssl_options.verify = verify_peer/);
  });

  it('names a config file it cannot read', () => {
    expect(() => parseConfig(['--config', join(dir, 'missing.conf')], {})).toThrow(/cannot read config file .*missing\.conf/);
  });
});

describe('sources and precedence', () => {
  const [cert, key, ca] = touch('s.pem', 's.key', 'ca.pem');
  const file = `heartbeat = 10\nchannel_max = 10\nframe_max = 8192\ndefault_user = file-user\ndefault_pass = file-pass\ndefault_vhost = file-vhost\nlisteners.tcp.default = 5800\n`;

  it('flags win over environment, environment over the file', () => {
    const env = { WARREN_HEARTBEAT: '20', WARREN_CHANNEL_MAX: '20', RABBITMQ_DEFAULT_USER: 'env-user', RABBITMQ_DEFAULT_VHOST: 'env-vhost' };
    const { config } = load(file, ['--heartbeat', '30'], env);
    expect(config.heartbeat).toBe(30);
    expect(config.channelMax).toBe(20);
    expect(config.frameMax).toBe(8192);
    expect(config.defaultUser).toMatchObject({ name: 'env-user', password: 'file-pass' });
    expect(config.defaultVhost).toBe('env-vhost');
    expect(config.port).toBe(5800);
  });

  it('RABBITMQ_DEFAULT_USER, _PASS and _VHOST (the docker image\'s) set the default user and vhost', () => {
    const config = parseConfig([], { RABBITMQ_DEFAULT_USER: 'app', RABBITMQ_DEFAULT_PASS: 'pw', RABBITMQ_DEFAULT_VHOST: 'v1' }) as BrokerConfig;
    expect(config.defaultUser).toEqual({ name: 'app', password: 'pw', tags: ['administrator'] });
    expect(config.users).toEqual([config.defaultUser]);
    expect(config.vhosts).toEqual(['v1']);
  });

  it('--port (or WARREN_PORT) replaces the file\'s listeners; --host applies to listeners given as a port', () => {
    expect(load(file, ['--port', '0']).config).toMatchObject({ port: 0, tcpListeners: [{ host: '127.0.0.1', port: 0 }] });
    expect(load('listeners.tcp = none', [], { WARREN_PORT: '5900' }).config.tcpListeners).toEqual([{ host: '127.0.0.1', port: 5900 }]);
    expect(load(file, ['--host', '0.0.0.0']).config.tcpListeners).toEqual([{ host: '0.0.0.0', port: 5800 }]);
  });

  it('TLS from flags: port 5671 by default, --tls-port, flags over the file\'s ssl_options', () => {
    const tlsFlags = ['--tls-cert', cert, '--tls-key', key, '--tls-ca', ca];
    expect(parseConfig(tlsFlags, {})).toMatchObject({
      tlsListeners: [{ host: '127.0.0.1', port: 5671 }],
      tls: { certFile: cert, keyFile: key, caFile: ca, verify: 'verify_none', failIfNoPeerCert: false },
    });
    const { config } = load(`ssl_options.verify = verify_peer\nssl_options.certfile = ${ca}\nssl_options.keyfile = ${ca}\nlisteners.ssl.x = 6000`,
      [...tlsFlags, '--tls-port', '0', '--tls-fail-if-no-peer-cert', 'true']);
    expect(config.tls).toEqual({ certFile: cert, keyFile: key, caFile: ca, verify: 'verify_peer', failIfNoPeerCert: true });
    expect(config.tlsListeners).toEqual([{ host: '127.0.0.1', port: 0 }]);
  });

  it('finds the file through WARREN_CONFIG, or RABBITMQ_CONFIG_FILE with or without .conf', () => {
    const f = conf('heartbeat = 7', 'from-env.conf');
    expect((parseConfig([], { WARREN_CONFIG: f }) as BrokerConfig).heartbeat).toBe(7);
    expect((parseConfig([], { RABBITMQ_CONFIG_FILE: f }) as BrokerConfig).heartbeat).toBe(7);
    expect((parseConfig([], { RABBITMQ_CONFIG_FILE: f.replace(/\.conf$/, '') }) as BrokerConfig).heartbeat).toBe(7);
    const warnings: string[] = [];
    expect(parseConfig([], { RABBITMQ_CONFIG_FILE: join(dir, 'absent') }, (w) => warnings.push(w))).toEqual({ ...DEFAULTS, ephemeral: false });
    expect(warnings).toEqual([`RABBITMQ_CONFIG_FILE: ${join(dir, 'absent.conf')} does not exist; starting without it`]);
    expect(() => parseConfig([], { RABBITMQ_CONFIG_FILE: '/etc/rabbitmq/advanced.config' })).toThrow(/classic Erlang-term format/);
  });

  it('refuses bad flag values with the usage text', () => {
    expect(() => parseConfig(['--tls-verify', 'maybe'], {})).toThrow(/invalid tls-verify: maybe\nusage: warren/);
    expect(() => parseConfig(['--tls-port', '99999'], {})).toThrow(/invalid tls-port: 99999/);
    expect(() => parseConfig(['--no-such-flag'], {})).toThrow(/Unknown option '--no-such-flag'[\s\S]*usage: warren/);
  });

  it('parses the rabbitmq.conf text alone too', () => {
    expect(parseRabbitmqConf('heartbeat = 3', 'x.conf', () => {})).toEqual({ heartbeat: 3 });
  });
});
