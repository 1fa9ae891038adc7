// Rates as the management API reports them (`publish_details: {rate: 12.5}`): counters are read
// on a timer (RabbitMQ's default collect interval, 5 s) and each rate is the change since the
// previous sample divided by the time between them. Nothing here runs on the message path: the
// counters are plain fields bumped by core and amqp/, and the sampler reads them.
//
// Samples are kept per object (a queue, an exchange, a channel's stats, a connection's stats),
// keyed by identity in a WeakMap, so a deleted object's samples go with it.

/** Something whose numeric fields are sampled. */
export type Sampled = object;

interface Sample {
  at: number;
  values: Record<string, number>;
  rates: Record<string, number>;
}

export class RateSampler {
  private readonly samples = new WeakMap<Sampled, Sample>();
  private timer: NodeJS.Timeout | null = null;

  /** `collect` visits every object to sample with the values to sample for it. */
  constructor(
    readonly intervalMs: number,
    private readonly collect: (visit: (obj: Sampled, values: Record<string, number>) => void) => void,
  ) {}

  start(): void {
    if (this.timer !== null || this.intervalMs <= 0) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Take a sample now (the timer does this; tests may too). */
  sample(now = Date.now()): void {
    this.collect((obj, values) => {
      const prev = this.samples.get(obj);
      const rates: Record<string, number> = {};
      if (prev !== undefined && now > prev.at) {
        const secs = (now - prev.at) / 1000;
        for (const k of Object.keys(values)) {
          const before = prev.values[k];
          rates[k] = before === undefined ? 0 : round((values[k]! - before) / secs);
        }
      }
      this.samples.set(obj, { at: now, values: { ...values }, rates });
    });
  }

  /** The rate of `field` of `obj` per second over the last interval (0 before two samples). */
  rate(obj: Sampled, field: string): number {
    return this.samples.get(obj)?.rates[field] ?? 0;
  }
}

/** RabbitMQ reports rates as floats; a couple of decimals is plenty. */
function round(x: number): number {
  return Math.round(x * 100) / 100;
}
