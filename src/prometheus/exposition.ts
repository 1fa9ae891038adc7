// Prometheus's text exposition format (version 0.0.4), the one format rabbitmq_prometheus
// serves by default: per family a `# TYPE` and a `# HELP` line (in RabbitMQ's order), then one
// line per sample, `name{label="value",...} value`. Written here rather than through a client
// library: Warren's figures are read on demand from plain fields, so there are no registered
// metric objects to keep, and the whole format is the escaping below.

export type MetricType = 'counter' | 'gauge' | 'untyped';

/** A label set already rendered as `a="x",b="y"` (no braces): built once, reused per family. */
export type Labels = string;

/** Label values escape backslash, double quote and newline. */
export function escapeLabelValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

/** `{k: v, ...}` -> `k="v",...`, in the given key order. */
export function labels(pairs: Record<string, string>): Labels {
  let out = '';
  for (const k in pairs) out += `${out === '' ? '' : ','}${k}="${escapeLabelValue(pairs[k]!)}"`;
  return out;
}

/** Sample values: integers as they are, NaN and the infinities as Prometheus spells them. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** HELP text escapes backslash and newline. */
function escapeHelp(h: string): string {
  return h.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Accumulates one scrape's text; families must not be interleaved. */
export class Exposition {
  /** One string grown by += (V8 keeps it as a rope until read: cheaper than join()). */
  private buf = '';

  /** Start a family; its samples follow. */
  family(name: string, type: MetricType, help: string): this {
    this.buf += `# TYPE ${name} ${type}\n# HELP ${name} ${escapeHelp(help)}\n`;
    return this;
  }

  sample(name: string, l: Labels, value: number): this {
    this.buf += l === '' ? `${name} ${formatValue(value)}\n` : `${name}{${l}} ${formatValue(value)}\n`;
    return this;
  }

  /** A family with one unlabelled sample. */
  single(name: string, type: MetricType, help: string, value: number, l: Labels = ''): this {
    return this.family(name, type, help).sample(name, l, value);
  }

  text(): string {
    return this.buf;
  }
}
