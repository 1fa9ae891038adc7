// Scraping a Prometheus endpoint in tests: GET it, check the content type, and parse the text
// with a real parser (parse-prometheus-text-format, which throws on malformed input). In
// differential mode WARREN_EXTERNAL_PROMETHEUS=http://127.0.0.1:15811 names the RabbitMQ
// prometheus listener that goes with WARREN_EXTERNAL_URL.
import parse from 'parse-prometheus-text-format';

export const externalPrometheus = process.env.WARREN_EXTERNAL_PROMETHEUS;

export interface Family {
  name: string;
  help: string;
  /** Lower case, as in `# TYPE`: counter, gauge, untyped, ... */
  type: string;
  samples: { labels: Record<string, string>; value: number }[];
}

export type Scrape = Map<string, Family>;

export async function scrape(base: string, path = '/metrics'): Promise<Scrape> {
  const res = await fetch(base.replace(/\/$/, '') + path);
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('text/plain; version=0.0.4')) throw new Error(`GET ${path}: content-type ${type}`);
  const out: Scrape = new Map();
  for (const f of parse(await res.text())) {
    out.set(f.name, {
      name: f.name, help: f.help, type: f.type.toLowerCase(),
      samples: f.metrics.map((m) => ({ labels: m.labels ?? {}, value: Number(m.value) })),
    });
  }
  return out;
}

/** The value of the family's sample whose labels include `labels` (undefined if none). */
export function value(s: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  const f = s.get(name);
  const m = f?.samples.find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return m?.value;
}

/** What a family looks like, for comparing brokers: type, HELP and the label names its samples use. */
export interface Shape { type: string; help: string; labels: string[] }

export function shapes(...scrapes: Scrape[]): Record<string, Shape> {
  const out: Record<string, Shape> = {};
  for (const s of scrapes) {
    for (const f of s.values()) {
      const labels = new Set(out[f.name]?.labels ?? []);
      for (const m of f.samples) for (const k of Object.keys(m.labels)) labels.add(k);
      out[f.name] = { type: f.type, help: f.help, labels: [...labels].sort() };
    }
  }
  return out;
}
