// The memory high-watermark alarm, RabbitMQ's vm_memory_high_watermark: above the limit,
// connections that publish are blocked (connection.blocked to clients that asked for it) and
// not read until memory falls below it again.
//
// "Memory in use" is V8's heap plus memory outside it (message bodies live in ArrayBuffers):
// unlike RSS it falls as soon as drained messages are collected, so the alarm clears promptly.
// One timer for the whole broker; it costs nothing per message.

export interface MemoryUse { used: number; rss: number }

export function memoryInUse(): MemoryUse {
  const m = process.memoryUsage();
  return { used: m.heapUsed + m.external, rss: m.rss };
}

/**
 * Bytes read from clients after which memory is checked again, between timer ticks: at least
 * this, and otherwise a quarter of the headroom left at the last check (reading n bytes cannot
 * add much more than n bytes), so a broker far below its watermark does not measure itself
 * hundreds of times a second under a 64 KiB-message load.
 */
const CHECK_EVERY_BYTES = 8 * 1024 * 1024;

export class MemoryMonitor {
  alarm = false;
  private timer: NodeJS.Timeout | null = null;
  private readSinceCheck = 0;
  private checkAfterBytes = CHECK_EVERY_BYTES;

  constructor(
    readonly limitBytes: number,
    private readonly onChange: (alarm: boolean, use: MemoryUse) => void,
    private readonly intervalMs = 250,
    private readonly measure: () => MemoryUse = memoryInUse,
  ) {}

  start(): void {
    if (this.limitBytes <= 0 || this.timer) return;
    this.timer = setInterval(() => this.check(), this.intervalMs);
    this.timer.unref();
  }

  /** Clients sent n bytes: a fast publisher must not outrun the timer by hundreds of MiB. */
  noteRead(n: number): void {
    this.readSinceCheck += n;
    if (this.readSinceCheck > this.checkAfterBytes && this.timer) this.check();
  }

  check(): void {
    this.readSinceCheck = 0;
    const use = this.measure();
    this.checkAfterBytes = Math.max(CHECK_EVERY_BYTES, (this.limitBytes - use.used) / 4);
    const alarm = use.used > this.limitBytes;
    if (alarm === this.alarm) return;
    this.alarm = alarm;
    this.onChange(alarm, use);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** `0.4` (a fraction of total memory, as RabbitMQ's default) or an absolute size: `512MB`, `2GB`. */
export function parseWatermark(value: string, totalMemory: number): number {
  const m = /^(\d+(?:\.\d+)?)\s*(kb|mb|gb|kib|mib|gib|b)?$/i.exec(value.trim());
  if (!m) throw new Error(`invalid memory high watermark: ${value}`);
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  if (unit === '') {
    if (n > 0 && n < 1) return Math.floor(n * totalMemory);
    return Math.floor(n);
  }
  const scale: Record<string, number> = {
    b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3,
  };
  return Math.floor(n * scale[unit]!);
}
