// The settings of consumer_timeout, disk_free_limit and connection_max from flags, WARREN_*
// variables and rabbitmq.conf; the disk monitor's RabbitMQ interval and the alarms' reason text.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, parseConfig, type BrokerConfig } from '../src/config.js';
import { checkInterval, diskFreeLimitBytes, DiskMonitor } from '../src/disk-monitor.js';
import { ResourceAlarms } from '../src/resource-alarms.js';

const dir = mkdtempSync(join(tmpdir(), 'warren-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cfg = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseConfig(argv, env) as BrokerConfig;

describe('settings', () => {
  it('defaults are RabbitMQ 3.10\'s', () => {
    expect(DEFAULTS).toMatchObject({ consumerTimeout: 1_800_000, channelTickIntervalMs: 60_000, diskFreeLimit: { absolute: 50_000_000 }, connectionMax: Infinity });
  });

  it('flags and WARREN_* variables', () => {
    expect(cfg(['--consumer-timeout', '5000', '--disk-free-limit', '1GB', '--connection-max', '100'])).toMatchObject({
      consumerTimeout: 5000, diskFreeLimit: { absolute: 1e9 }, connectionMax: 100,
    });
    expect(cfg([], { WARREN_CONSUMER_TIMEOUT: '0', WARREN_DISK_FREE_LIMIT: 'mem_relative:1.5', WARREN_CONNECTION_MAX: 'infinity' })).toMatchObject({
      consumerTimeout: 0, diskFreeLimit: { relative: 1.5 }, connectionMax: Infinity,
    });
    expect(() => cfg(['--disk-free-limit', 'lots'])).toThrow(ConfigError);
    expect(() => cfg(['--connection-max', '-1'])).toThrow(ConfigError);
  });

  it('rabbitmq.conf: connection_max', () => {
    const f = join(dir, 'r.conf');
    writeFileSync(f, 'connection_max = 7\nconsumer_timeout = 60000\n');
    expect(cfg(['--config', f])).toMatchObject({ connectionMax: 7, consumerTimeout: 60000 });
    writeFileSync(f, 'connection_max = infinity\n');
    expect(cfg(['--config', f]).connectionMax).toBe(Infinity);
  });
});

describe('disk monitor', () => {
  it('polls at rabbit_disk_monitor\'s interval: 2 ms per 250 kB of headroom, 100 ms..10 s, 10 s when alarmed', () => {
    expect(checkInterval(false, 60e6, 50e6)).toBe(100);
    expect(checkInterval(false, 50e6 + 250e6, 50e6)).toBe(2000);
    expect(checkInterval(false, 10e12, 50e6)).toBe(10_000);
    expect(checkInterval(true, 0, 50e6)).toBe(10_000);
    expect(diskFreeLimitBytes({ relative: 1 }, totalmem())).toBe(totalmem());
  });

  it('sets and clears the alarm on readings', () => {
    const seen: boolean[] = [];
    const m = new DiskMonitor(dir, 1000, (a) => seen.push(a));
    m.update(5000);
    m.update(999);
    m.update(10);
    m.update(1000);
    expect(seen).toEqual([true, false]);
  });
});

describe('resource alarms', () => {
  it('block reason as rabbit_reader; unblock only when the last clears', () => {
    let cleared = 0;
    const a = new ResourceAlarms(() => cleared++);
    a.set('disk', true);
    expect(a.reason).toBe('low on disk');
    a.set('memory', true);
    expect(a.reason).toBe('low on memory & disk');
    a.set('disk', false);
    expect([a.any, cleared, a.reason]).toEqual([true, 0, 'low on memory']);
    a.set('memory', false);
    a.set('memory', false);
    expect([a.any, cleared]).toEqual([false, 1]);
  });
});
