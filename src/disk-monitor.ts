// The free disk space alarm, RabbitMQ's disk_free_limit (rabbit_disk_monitor): free space on the
// data directory's filesystem (what an unprivileged writer may use, df's "Available") below the
// limit sets the disk alarm; publishers are then blocked (resource-alarms.ts) until it is back.
//
// Polled with fs.statfs, never per message, at RabbitMQ's adaptive interval: the further free
// space is above the limit the less often (2 ms per 250 kB of headroom, between 100 ms and
// 10 s), and every 10 s while the alarm is set.
import { statfs, type StatsFs } from 'node:fs';
import { totalmem } from 'node:os';
import type { BrokerConfig } from './config.js';

export const MIN_INTERVAL_MS = 100;
export const MAX_INTERVAL_MS = 10_000;

/** disk_free_limit in bytes: absolute, or relative to the machine's memory (mem_relative). */
export function diskFreeLimitBytes(limit: BrokerConfig['diskFreeLimit'], total = totalmem()): number {
  return 'relative' in limit ? Math.round(limit.relative * total) : limit.absolute;
}

/** RabbitMQ's rabbit_disk_monitor:interval/1. */
export function checkInterval(alarm: boolean, free: number, limit: number, min = MIN_INTERVAL_MS, max = MAX_INTERVAL_MS): number {
  if (alarm) return max;
  return Math.trunc(Math.max(min, Math.min(max, (2 * (free - limit)) / 250_000)));
}

type StatFs = (dir: string, cb: (err: NodeJS.ErrnoException | null, s: StatsFs) => void) => void;

export class DiskMonitor {
  alarm = false;
  /** Free bytes at the last check (-1 before the first). */
  free = -1;
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    readonly dir: string,
    readonly limitBytes: number,
    private readonly onChange: (alarm: boolean, free: number) => void,
    private readonly onError: (err: Error) => void = () => {},
    private readonly maxIntervalMs = MAX_INTERVAL_MS,
    private readonly stat: StatFs = statfs,
  ) {}

  /** Checks now and then keeps checking; a limit of 0 never alarms, so nothing is polled. */
  start(): void {
    if (this.limitBytes <= 0 || this.running) return;
    this.running = true;
    this.check();
  }

  private readonly onStat = (err: NodeJS.ErrnoException | null, s: StatsFs): void => {
    if (!this.running) return;
    if (err) {
      // RabbitMQ keeps its last reading when df fails; so do we, and try again later.
      this.onError(err);
    } else {
      this.update(s.bavail * s.bsize);
    }
    this.timer = setTimeout(this.check, checkInterval(this.alarm, this.free, this.limitBytes, MIN_INTERVAL_MS, this.maxIntervalMs));
    this.timer.unref();
  };

  readonly check = (): void => {
    this.timer = null;
    this.stat(this.dir, this.onStat);
  };

  /** A reading of free space: sets or clears the alarm. */
  update(free: number): void {
    this.free = free;
    const alarm = free < this.limitBytes;
    if (alarm === this.alarm) return;
    this.alarm = alarm;
    this.onChange(alarm, free);
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
