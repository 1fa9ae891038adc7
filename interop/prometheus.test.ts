// The Prometheus listener as a scraper meets it: both endpoints parsed by a real parser, figures
// that follow amqplib traffic, Warren's consumer-lag families, and every rabbitmq_* family
// checked against RabbitMQ 3.10.8's rabbitmq_prometheus (same name, type, HELP, and labels
// among RabbitMQ's): against the shapes recorded in interop/differential/rabbitmq-prometheus.json,
// and in differential mode against the live node
//   WARREN_EXTERNAL_URL=amqp://guest:guest@127.0.0.1:5741 WARREN_EXTERNAL_PROMETHEUS=http://127.0.0.1:15841
// (WARREN_RECORD_PROMETHEUS=1 then rewrites the recorded shapes from the live node).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { Broker } from '../src/broker.js';
import type { Actor } from '../src/core/actor.js';
import { ANY_FREE_PORT } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { externalPrometheus, scrape, shapes, value, type Scrape, type Shape } from '../test/support/prometheus.js';
import { eventually, external, interopSuite, sleep, uniqueName } from '../test/support/suite.js';

const s = interopSuite({ broker: { prometheusPort: ANY_FREE_PORT, managementPort: ANY_FREE_PORT } });
if (external && externalPrometheus === undefined) throw new Error('differential mode needs WARREN_EXTERNAL_PROMETHEUS for the Prometheus suite');
const base = () => (external ? externalPrometheus! : `http://127.0.0.1:${s.warren!.prometheusPort}`);
const perObject = () => scrape(base(), '/metrics/per-object');
const aggregated = () => scrape(base(), '/metrics');
const RECORDED = new URL('./differential/rabbitmq-prometheus.json', import.meta.url);

/** RabbitMQ's statistics reach its Prometheus endpoint on the 5 s collect interval; Warren's are live. */
const slow = { timeoutMs: 15_000, intervalMs: 250 };

describe('prometheus: endpoints and format', () => {
  it('serves /metrics and /metrics/per-object in the text format, gzipped when asked, and 404 elsewhere', async () => {
    const agg = await aggregated();
    const per = await perObject();
    for (const name of ['rabbitmq_queues', 'rabbitmq_connections', 'rabbitmq_channels', 'rabbitmq_consumers', 'rabbitmq_build_info', 'rabbitmq_identity_info']) {
      expect(agg.get(name), name).toBeDefined();
      expect(per.get(name), name).toBeDefined();
    }
    expect(agg.get('rabbitmq_queues')!.type).toBe('gauge');
    expect(agg.get('rabbitmq_connections_opened_total')!.type).toBe('counter');
    expect(agg.get('rabbitmq_build_info')!.samples[0]!.labels.rabbitmq_version).toBe('3.10.8');
    // Aggregated: queue, channel and connection families are one unlabelled sum each.
    for (const f of agg.values()) {
      if (/^rabbitmq_(queue|channel|connection)_/.test(f.name)) expect(f.samples.map((m) => m.labels), f.name).toEqual(f.samples.length ? [{}] : []);
    }
    const zipped = await fetch(`${base()}/metrics`, { headers: { 'accept-encoding': 'gzip' } });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(await zipped.text()).toContain('# TYPE rabbitmq_queues gauge');
    const missing = await fetch(`${base()}/nothing`);
    expect([missing.status, await missing.json()]).toEqual([404, { error: 'Object Not Found', reason: 'Not Found' }]);
  });
});

describe('prometheus: figures follow the traffic', () => {
  it('queue depth, consumers, published, delivered and acked counts', async () => {
    const q = await s.queue('prom-depth');
    const ql = { vhost: '/', queue: q };
    await s.send(q, ['a', 'b', 'c']);
    await eventually(async () => {
      const m = await perObject();
      return value(m, 'rabbitmq_queue_messages_ready', ql) === 3 && value(m, 'rabbitmq_queue_messages', ql) === 3
        && value(m, 'rabbitmq_queue_messages_published_total', { queue: q }) === 3;
    }, 'per-object shows 3 ready and 3 published', slow);
    const c = await s.chan();
    await c.prefetch(1);
    const got: amqp.ConsumeMessage[] = [];
    await c.consume(q, (m) => { if (m) got.push(m); });
    await eventually(async () => {
      const m = await perObject();
      return value(m, 'rabbitmq_queue_messages_ready', ql) === 2 && value(m, 'rabbitmq_queue_messages_unacked', ql) === 1
        && value(m, 'rabbitmq_queue_consumers', ql) === 1 && value(m, 'rabbitmq_channel_messages_delivered_ack_total', ql) === 1;
    }, 'one delivered, unacked', slow);
    c.ack(got[0]!);
    await eventually(async () => {
      const m = await perObject();
      return value(m, 'rabbitmq_channel_messages_acked_total', ql) === 1 && value(m, 'rabbitmq_channel_messages_delivered_ack_total', ql) === 2;
    }, 'the ack counted and the next one delivered', slow);
    const agg = await aggregated();
    expect(value(agg, 'rabbitmq_queues')).toBeGreaterThanOrEqual(1);
    expect(value(agg, 'rabbitmq_consumers')).toBeGreaterThanOrEqual(1);
    expect(value(agg, 'rabbitmq_queue_messages_unacked')).toBeGreaterThanOrEqual(1);
    expect(value(agg, 'rabbitmq_connection_incoming_bytes_total')).toBeGreaterThan(0);
  });

  it('channel and global publish counters, returns and drops, connections opened and closed', async () => {
    const before = await aggregated();
    const received = value(before, 'rabbitmq_global_messages_received_total', { protocol: 'amqp091' })!;
    const returned = value(before, 'rabbitmq_global_messages_unroutable_returned_total', { protocol: 'amqp091' })!;
    const dropped = value(before, 'rabbitmq_global_messages_unroutable_dropped_total', { protocol: 'amqp091' })!;
    const opened = value(before, 'rabbitmq_connections_opened_total')!;
    const closed = value(before, 'rabbitmq_connections_closed_total')!;
    const key = uniqueName('nowhere');
    await s.publish('amq.direct', key, ['r1', 'r2'], { mandatory: true });
    await s.publish('amq.direct', key, ['d1']);
    const conn = await amqp.connect(s.url);
    await conn.close();
    await eventually(async () => {
      const m = await aggregated();
      return value(m, 'rabbitmq_global_messages_received_total', { protocol: 'amqp091' })! >= received + 3
        && value(m, 'rabbitmq_global_messages_unroutable_returned_total', { protocol: 'amqp091' })! >= returned + 2
        && value(m, 'rabbitmq_global_messages_unroutable_dropped_total', { protocol: 'amqp091' })! >= dropped + 1
        && value(m, 'rabbitmq_connections_opened_total')! >= opened + 1 && value(m, 'rabbitmq_connections_closed_total')! >= closed + 1
        && value(m, 'rabbitmq_channel_messages_unroutable_returned_total')! >= 2;
    }, 'the publishes, returns, drops and the connection are counted', slow);
  });
});

describe('prometheus: consumer lag (Warren only)', () => {
  it.skipIf(external)('the age of the oldest ready message grows while it waits, and drops when it is taken', async () => {
    const q = await s.queue('prom-lag');
    const ql = { vhost: '/', queue: q };
    await s.send(q, ['waiting']);
    const a1 = value(await aggregated(), 'warren_queue_oldest_message_age_seconds', ql)!;
    expect(a1).toBeGreaterThanOrEqual(0);
    expect(a1).toBeLessThan(1.5);
    await sleep(1500);
    const m2 = await aggregated();
    const a2 = value(m2, 'warren_queue_oldest_message_age_seconds', ql)!;
    // A lower bound that is at most one checkpoint interval (1 s) short.
    expect(a2).toBeGreaterThanOrEqual(a1 + 0.5);
    expect(a2).toBeLessThanOrEqual(1.5 + 1.5);
    expect(value(m2, 'warren_queue_messages_ready', ql)).toBe(1);
    expect(value(m2, 'warren_queue_messages_unacked', ql)).toBe(0);
    const c = await s.chan();
    const m = await c.get(q, { noAck: false });
    expect(m).not.toBe(false);
    const m3 = await perObject();
    expect(value(m3, 'warren_queue_oldest_message_age_seconds', ql)).toBe(0);
    expect(value(m3, 'warren_queue_messages_ready', ql)).toBe(0);
    expect(value(m3, 'warren_queue_messages_unacked', ql)).toBe(1);
    // Requeued, it is the oldest ready message again, and as old as before.
    c.nack(m as amqp.GetMessage, false, true);
    await eventually(async () => value(await perObject(), 'warren_queue_messages_ready', ql) === 1, 'requeued');
    expect(value(await perObject(), 'warren_queue_oldest_message_age_seconds', ql)).toBeGreaterThanOrEqual(a2);
  });

  it.skipIf(external)('a priority queue reports its oldest message, not its highest-priority one', async () => {
    const q = await s.queue('prom-prio', { 'x-max-priority': 5 });
    await s.send(q, ['low'], { priority: 0 });
    await sleep(1200);
    await s.send(q, ['high'], { priority: 5 });
    const age = value(await aggregated(), 'warren_queue_oldest_message_age_seconds', { vhost: '/', queue: q })!;
    expect(age).toBeGreaterThanOrEqual(0.2);
  });

  it.skipIf(external)('stays linear with 10,000 queues', async () => {
    const v = s.warren!.vhosts.get('/')!;
    const names = Array.from({ length: 10_000 }, (_, i) => `prom-many-${i}`);
    const actor: Actor = { user: { name: 'guest', tags: ['administrator'] }, vhost: '/', connection: 'test' };
    for (const n of names) v.declareQueue(n, { passive: false, durable: false, exclusive: false, autoDelete: false, args: {} }, actor);
    try {
      const t0 = performance.now();
      const per = await perObject();
      const ms = performance.now() - t0;
      expect(per.get('rabbitmq_queue_messages_ready')!.samples.length).toBeGreaterThanOrEqual(10_000);
      expect(ms).toBeLessThan(3000);
    } finally {
      for (const n of names) v.deleteQueue(n, false, false, actor);
    }
  });

  it.skipIf(external)('the overview lists the listener and the protocol health check knows it', async () => {
    const w = s.warren!;
    const auth = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };
    const api = `http://127.0.0.1:${w.managementPort}/api`;
    const o = (await (await fetch(`${api}/overview`, { headers: auth })).json()) as { listeners: unknown[] };
    expect(o.listeners).toEqual(expect.arrayContaining([expect.objectContaining({ protocol: 'http/prometheus', port: w.prometheusPort })]));
    const h = await fetch(`${api}/health/checks/protocol-listener/http%2Fprometheus`, { headers: auth });
    expect([h.status, await h.json()]).toEqual([200, { status: 'ok', protocol: 'http/prometheus' }]);
  });
});

/** Traffic that gives every per-object family a row: a queue with ready and unacked messages, a consumer, a get, a return. */
async function traffic(url: string): Promise<{ q: string; close: () => Promise<void> }> {
  const c = await amqp.connect(url);
  const pub = await c.createConfirmChannel();
  const q = uniqueName('prom-shape');
  await pub.assertQueue(q, { durable: false, autoDelete: false });
  for (let i = 0; i < 4; i++) pub.sendToQueue(q, Buffer.from(`m${i}`));
  pub.publish('amq.direct', uniqueName('nowhere'), Buffer.from('r'), { mandatory: true });
  await pub.waitForConfirms();
  const con = await c.createChannel();
  await con.prefetch(1);
  await con.consume(q, () => {});
  await con.get(q, { noAck: true });
  return { q, close: async () => { await pub.deleteQueue(q); await c.close(); } };
}

async function bothShapes(url: string, ready: (per: Scrape) => boolean): Promise<Record<string, Shape>> {
  let per: Scrape | undefined;
  await eventually(async () => ready((per = await scrape(url, '/metrics/per-object'))), 'per-object rows for the traffic', slow);
  return shapes(await scrape(url, '/metrics'), per!);
}

describe('prometheus: the same families as RabbitMQ 3.10.8', () => {
  it('every rabbitmq_* family Warren serves exists on RabbitMQ with the same type, HELP, and labels among its own', async () => {
    // Warren: the suite's broker, or in differential mode one started here next to the RabbitMQ.
    let own: { url: string; prom: string; stop: () => Promise<void> };
    if (!external) {
      own = { url: s.url, prom: base(), stop: async () => {} };
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'warren-test-'));
      const w = new Broker({ port: 0, managementPort: 0, prometheusPort: ANY_FREE_PORT, dataDir: dir, logger: createLogger('error', true) });
      const a = await w.start();
      own = { url: `amqp://guest:guest@127.0.0.1:${a.port}`, prom: `http://127.0.0.1:${w.prometheusPort}`, stop: async () => { await w.stop(); rmSync(dir, { recursive: true, force: true }); } };
    }
    const hasRows = (q: string) => (per: Scrape) => value(per, 'rabbitmq_channel_messages_delivered_ack_total', { queue: q }) !== undefined
      && value(per, 'rabbitmq_queue_messages_unacked', { queue: q }) === 1;
    const wt = await traffic(own.url);
    let warren: Record<string, Shape>;
    try {
      warren = await bothShapes(own.prom, hasRows(wt.q));
    } finally {
      await wt.close();
      await own.stop();
    }
    let rabbit: Record<string, Shape>;
    if (external) {
      const rt = await traffic(s.url);
      try {
        rabbit = await bothShapes(externalPrometheus!, hasRows(rt.q));
      } finally {
        await rt.close();
      }
      if (process.env.WARREN_RECORD_PROMETHEUS) {
        const lines = Object.entries(rabbit).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
        writeFileSync(RECORDED, `{\n${lines.join(',\n')}\n}\n`);
      }
    } else {
      rabbit = JSON.parse(readFileSync(RECORDED, 'utf8'));
    }
    const served = Object.keys(warren).filter((n) => !n.startsWith('warren_'));
    expect(served.length).toBeGreaterThan(40);
    for (const name of served) {
      const r = rabbit[name];
      expect(r, `${name} on RabbitMQ`).toBeDefined();
      expect([name, warren[name]!.type, warren[name]!.help]).toEqual([name, r!.type, r!.help]);
      for (const l of warren[name]!.labels) expect(r!.labels, `${name} label ${l}`).toContain(l);
    }
  }, 60_000);
});
