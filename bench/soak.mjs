#!/usr/bin/env node
// Churn soak: `npm run soak:churn`. One broker (dist/main.js) for SOAK_MINUTES (60) under
// connection and channel churn: SOAK_CONNECTS_PER_MIN (1,000) short-lived connections, each
// opening channels, declaring a queue of its own, consuming from it and from a shared queue
// (consumers coming and going), publishing and receiving a few messages, cancelling, deleting
// its queue and closing; meanwhile a long-lived publisher keeps a durable shared queue fed.
//
// Every SOAK_REPORT_S (60) seconds it prints the broker's RSS (from /proc) and its event-loop
// delay, measured from outside: a probe connection, in a worker thread of its own so the churn
// clients' work does not delay it, does a round trip (queue.declare passive) every 100 ms; on
// loopback the round trip is the broker's event-loop delay plus ~0.1 ms, so its p50/p99/max per
// interval is the delay the broker's clients saw.
// At the end RSS must be flat after warm-up (the last interval's RSS at most the larger of
// 32 MiB and 25% above the RSS once the first quarter of the run is over) and no client may
// have seen an error; exit 1 otherwise. Loopback only; stops by itself. With --record the
// figures are appended to bench/results.md. The last line is `RESULT {json}` (test/soak.test.ts).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import amqp from 'amqplib';
import { record, startBroker } from './support.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS || 0) || Number(process.env.SOAK_MINUTES || 60) * 60;
const REPORT_S = Number(process.env.SOAK_REPORT_S || 60);
const PER_MIN = Number(process.env.SOAK_CONNECTS_PER_MIN || 1000);
const SHARED = 'soak-shared';

if (!isMainThread) {
  // The probe: one round trip every 100 ms; the latencies since the last 'report' on request.
  const c = await amqp.connect(workerData.url);
  const ch = await c.createChannel();
  let lat = [];
  let stop = false;
  parentPort.on('message', async (m) => {
    if (m === 'report') { parentPort.postMessage(lat); lat = []; return; }
    stop = true;
  });
  while (!stop) {
    const t = performance.now();
    await ch.checkQueue(SHARED);
    lat.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 100));
  }
  await c.close();
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'warren-soak-'));
const broker = startBroker(dir);
const { port } = await broker.listening;
const url = `amqp://guest:guest@127.0.0.1:${port}`;
const rssMiB = () => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${broker.proc.pid}/status`, 'utf8'))[1]) / 1024;
  } catch { return 0; }
};

const errors = [];
const note = (what) => (e) => { if (errors.length < 20) errors.push(`${what}: ${e?.message ?? e}`); };
let stopping = false;

// The long-lived side: a durable shared queue kept fed with persistent messages.
const feedConn = await amqp.connect(url);
feedConn.on('error', note('feeder connection'));
const feed = await feedConn.createConfirmChannel();
feed.on('error', note('feeder channel'));
await feed.assertQueue(SHARED, { durable: true, arguments: { 'x-max-length': 10_000 } });
const feeder = (async () => {
  while (!stopping) {
    for (let i = 0; i < 50; i++) feed.sendToQueue(SHARED, Buffer.alloc(256, i), { persistent: true });
    await feed.waitForConfirms();
    await new Promise((r) => setTimeout(r, 100));
  }
})().catch(note('feeder'));

const probe = new Worker(new URL(import.meta.url), { workerData: { url } });
probe.on('error', note('probe'));
const probeExited = new Promise((r) => probe.on('exit', r));
const latencies = () => new Promise((r) => { probe.once('message', r); probe.postMessage('report'); });

// One churning client's life.
let connects = 0;
let churnMessages = 0;
async function life(n) {
  const c = await amqp.connect(url);
  connects++;
  c.on('error', note('churn connection'));
  const ch = await c.createChannel();
  ch.on('error', note('churn channel'));
  const { queue } = await ch.assertQueue(`soak-churn-${n}`, { durable: false });
  // A consumer of its own queue: a few messages in and out.
  let got = 0;
  const all = new Promise((resolve) => {
    void ch.consume(queue, (m) => { if (m) { ch.ack(m); if (++got === 5) resolve(); } });
  });
  for (let i = 0; i < 5; i++) ch.sendToQueue(queue, Buffer.from(`m${i}`));
  await all;
  churnMessages += got;
  // A consumer on the shared queue comes and goes on a second channel.
  const ch2 = await c.createChannel();
  ch2.on('error', note('churn channel 2'));
  await ch2.prefetch(5);
  const { consumerTag } = await ch2.consume(SHARED, (m) => { if (m) ch2.ack(m); });
  await new Promise((r) => setTimeout(r, 20 + (n % 5) * 20));
  await ch2.cancel(consumerTag);
  await ch2.close();
  await ch.deleteQueue(queue);
  await ch.close();
  await c.close();
}

// Connections started at PER_MIN a minute, a bounded number in flight.
const started0 = performance.now();
const endAt = started0 + SECONDS * 1000;
let launched = 0;
let inFlight = 0;
const churner = (async () => {
  while (performance.now() < endAt) {
    const due = Math.floor(((performance.now() - started0) / 60_000) * PER_MIN);
    while (launched < due && inFlight < 50) {
      inFlight++;
      life(launched++).catch(note('churn')).finally(() => { inFlight--; });
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 20));
})();

const pct = (xs, p) => (xs.length === 0 ? 0 : xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]);
const rows = [];
const header = 'minute  connects  RSS MiB  loop p50 ms  p99 ms  max ms';
console.log(header);
let lastConnects = 0;
const reporter = setInterval(async () => {
  const xs = (await latencies()).sort((a, b) => a - b);
  const row = {
    minute: Number(((performance.now() - started0) / 60_000).toFixed(2)), connects: connects - lastConnects, rss: Number(rssMiB().toFixed(1)),
    p50: Number(pct(xs, 0.5).toFixed(2)), p99: Number(pct(xs, 0.99).toFixed(2)), max: Number((xs[xs.length - 1] ?? 0).toFixed(2)),
  };
  lastConnects = connects;
  rows.push(row);
  console.log(`${String(row.minute).padStart(6)}  ${String(row.connects).padStart(8)}  ${row.rss.toFixed(1).padStart(7)}  ${row.p50.toFixed(2).padStart(11)}  ${row.p99.toFixed(2).padStart(6)}  ${row.max.toFixed(2).padStart(6)}`);
}, REPORT_S * 1000);

await churner;
clearInterval(reporter);
stopping = true;
probe.postMessage('stop');
await Promise.all([feeder, probeExited]);
await feedConn.close().catch(note('feeder close'));
const alive = broker.proc.exitCode === null;
broker.proc.kill('SIGTERM');
await broker.exited;
rmSync(dir, { recursive: true, force: true });

const warm = rows[Math.min(rows.length - 1, Math.floor(rows.length / 4))]?.rss ?? 0;
const last = rows[rows.length - 1]?.rss ?? 0;
const flat = rows.length > 0 && last <= Math.max(warm + 32, warm * 1.25);
const result = {
  seconds: SECONDS, connects, churnMessages, alive, warmRssMiB: warm, lastRssMiB: last, peakRssMiB: Number(broker.peak().toFixed(1)),
  worstP99Ms: Math.max(0, ...rows.map((r) => r.p99)), worstMaxMs: Math.max(0, ...rows.map((r) => r.max)), flat, errors,
  ok: alive && flat && errors.length === 0,
};
if (process.argv.includes('--record')) {
  record(`churn soak (${(SECONDS / 60).toFixed(0)} min, ${PER_MIN} connects/min)`, [
    header, ...rows.map((r) => `${r.minute}  ${r.connects}  ${r.rss}  ${r.p50}  ${r.p99}  ${r.max}`),
    `connects ${connects}, RSS after warm-up ${warm} MiB, at the end ${last} MiB, peak ${result.peakRssMiB} MiB, flat: ${flat}, errors: ${errors.length}`,
  ]);
}
console.log(`RESULT ${JSON.stringify(result)}`);
process.exit(result.ok ? 0 : 1);
