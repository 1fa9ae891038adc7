#!/usr/bin/env node
// Warren's everyday benchmarks: `npm run bench [-- S1 S2 ...]`.
// Starts dist/main.js on a free port (fresh per scenario), drives it with worker-thread peers
// built on Warren's own codec, and prints msgs/s published and consumed, latency p50/p99, and
// the broker's peak RSS and CPU. Results are appended to bench/results.md, tagged with the
// commit. Numbers are printed, never asserted. BENCH_SECONDS sets the window (default 5).
import { spawn, execSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { Peer } from './amqp-peer.mjs';
import { codecBench } from './codec.mjs';
import { warrenStartMs } from './start.mjs';
import { freePort, httpBench } from './http.mjs';
import { M } from '../dist/protocol/generated/amqp.js';

const here = dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS || 5);
const BACKLOG = Number(process.env.BENCH_BACKLOG || 300000);
const S6_CONNS = Number(process.env.BENCH_S6_CONNS || 1000);
const LAT_RATE = Number(process.env.BENCH_LAT_RATE || 10000);
/** How often the S1_ui scenario repeats the web UI's overview requests (the UI's default poll; 1000 for ?poll=1000). */
const UI_POLL_MS = Number(process.env.BENCH_UI_POLL_MS || 5000);

const SCENARIOS = {
  S1: { what: '1 -> 1 queue -> 1 consumer, 16 B, autoack', queues: ['s1'], size: 16, noAck: true },
  S1_poll: { what: 'S1 while a client polls GET /api/overview every second', queues: ['s1poll'], size: 16, noAck: true, poll: true },
  S1_ui: { what: `S1 with the web UI open on the overview: its requests (overview + alarms) every ${UI_POLL_MS} ms`, queues: ['s1ui'], size: 16, noAck: true, ui: true },
  S1_lat: { what: `S1 at a fixed ${LAT_RATE} msg/s: latency without queueing`, queues: ['s1lat'], size: 16, noAck: true, rate: LAT_RATE },
  S2: { what: 'S1 with manual ack, prefetch 100, multi-ack every 50', queues: ['s2'], size: 16, noAck: false, prefetch: 100, ackEvery: 50 },
  S2_retry: {
    what: 'S2 with every tenth delivery nacked into a 100 ms broker-side backoff (x-delayed-retry-min 100, constant, limit 5)',
    queues: ['s2r'], size: 16, noAck: false, prefetch: 100, ackEvery: 50, nackEvery: 10,
    args: { 'x-delayed-retry-min': { type: 'l', value: 100 }, 'x-delayed-retry-multiplier': { type: 'l', value: 1 }, 'x-delivery-limit': { type: 'l', value: 5 } },
  },
  S3: { what: 'persistent, durable queue, confirms (window 100), manual ack', queues: ['s3'], size: 16, noAck: false, prefetch: 100, ackEvery: 50, durable: true, persistent: true, confirmWindow: 100 },
  S4: { what: 'fanout to 10 queues, a consumer each', queues: Array.from({ length: 10 }, (_, i) => `s4-${i}`), fanout: true, size: 16, noAck: true },
  S5_1k: { what: 'S1 with 1 KiB bodies', queues: ['s5k'], size: 1024, noAck: true },
  S5_64k: { what: 'S1 with 64 KiB bodies', queues: ['s564k'], size: 65536, noAck: true },
  S6: { what: `${S6_CONNS} consumer connections, a queue each; 1 producer round-robin`, many: true, queues: Array.from({ length: S6_CONNS }, (_, i) => `s6-${i}`), size: 16, noAck: true },
  S7: { what: `${BACKLOG} message backlog, then drain (ack every 500, prefetch 1000)`, backlog: true, queues: ['s7'], size: 16 },
};

/** A fresh broker on a free port, with a fresh data dir (removed when the scenario ends). */
function startBroker(managementPort = 0) {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-bench-'));
  // BENCH_BROKER_NODE_ARGS: flags for the broker's node only, e.g. '--cpu-prof --cpu-prof-dir=/tmp/p'.
  const nodeArgs = (process.env.BENCH_BROKER_NODE_ARGS || '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, join(here, '..', 'dist', 'main.js'), '--port', '0', '--management-port', String(managementPort), '--prometheus-port', '0', '--data-dir', dataDir, '--log-level', 'info'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d) => {
      out += d;
      const m = /listening for AMQP 0-9-1 on [^:]+:(\d+)/.exec(out);
      if (m) resolve({ proc, port: Number(m[1]), dataDir });
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (c) => reject(new Error(`broker exited ${c}: ${out}`)));
  });
}

/** Peak RSS (MiB) and CPU seconds of a process, sampled from /proc. */
function sampler(pid) {
  let peak = 0;
  const rss = () => {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  };
  const cpu = () => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  };
  const t = setInterval(() => { try { peak = Math.max(peak, rss()); } catch { /* gone */ } }, 100);
  return { cpu, stop: () => { clearInterval(t); try { peak = Math.max(peak, rss()); } catch { /* gone */ } return peak; } };
}

function worker(data) {
  const w = new Worker(join(here, 'worker.mjs'), { workerData: data });
  const state = { count: 0, samples: [], done: null, ready: null };
  state.ready = new Promise((r) => w.on('message', (m) => {
    if (m.type === 'count') { state.count = m.count; if (m.samples) state.samples.push(...m.samples); }
    if (m.type === 'ready') r();
    if (m.type === 'done') { state.count = m.count; state.doneResolve?.(); }
  }));
  state.done = new Promise((r) => { state.doneResolve = r; });
  state.stop = () => { w.postMessage('stop'); return new Promise((r) => setTimeout(() => { w.terminate(); r(); }, 400)); };
  return state;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (arr, p) => { if (!arr.length) return NaN; const s = [...arr].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

async function setup(port, sc) {
  const p = new Peer();
  await p.connect(port);
  await p.openChannel(1);
  for (const q of sc.queues) await p.declareQueue(1, q, { durable: sc.durable, arguments: sc.args });
  if (sc.fanout) {
    await p.rpc(1, M.ExchangeDeclare, { exchange: 'bench-fanout', type: 'fanout', arguments: {} }, M.ExchangeDeclareOk);
    for (const q of sc.queues) await p.rpc(1, M.QueueBind, { queue: q, exchange: 'bench-fanout', routingKey: '', arguments: {} }, M.QueueBindOk);
  }
  return p;
}

async function runSteady(port, sc) {
  const admin = await setup(port, sc);
  const consumers = sc.many
    ? [worker({ role: 'consumers', port, queues: sc.queues })]
    : sc.queues.map((queue) => worker({
      role: 'consumer', port, queue, noAck: sc.noAck, prefetch: sc.prefetch ?? 0, ackEvery: sc.ackEvery ?? 1, durable: sc.durable,
      arguments: sc.args, nackEvery: sc.nackEvery,
    }));
  await Promise.all(consumers.map((c) => c.ready));
  const producer = worker({
    role: 'producer', port, size: sc.size, persistent: sc.persistent, confirmWindow: sc.confirmWindow, rate: sc.rate,
    exchange: sc.fanout ? 'bench-fanout' : '', routingKey: sc.fanout ? '' : sc.queues[0], routingKeys: sc.many ? sc.queues : undefined,
  });
  await sleep(1000); // warm-up
  const p0 = producer.count, c0 = consumers.reduce((n, c) => n + c.count, 0);
  for (const c of consumers) c.samples.length = 0;
  const t0 = Date.now();
  await sleep(SECONDS * 1000);
  const secs = (Date.now() - t0) / 1000;
  const pub = (producer.count - p0) / secs;
  const cons = (consumers.reduce((n, c) => n + c.count, 0) - c0) / secs;
  const samples = consumers.flatMap((c) => c.samples);
  await producer.stop();
  await Promise.all(consumers.map((c) => c.stop()));
  admin.close();
  return { pub, cons, p50: pct(samples, 0.5), p99: pct(samples, 0.99) };
}

async function runBacklog(port, sc) {
  const admin = await setup(port, sc);
  const t0 = Date.now();
  const producer = worker({ role: 'producer', port, size: sc.size, exchange: '', routingKey: sc.queues[0], total: BACKLOG });
  await producer.done;
  for (;;) {
    const ok = await admin.rpc(1, M.QueueDeclare, { queue: sc.queues[0], passive: true, arguments: {} }, M.QueueDeclareOk);
    if (ok.messageCount >= BACKLOG) break;
    await sleep(20);
  }
  const publishS = (Date.now() - t0) / 1000;
  await producer.stop();
  const t1 = Date.now();
  const consumer = worker({ role: 'consumer', port, queue: sc.queues[0], noAck: false, prefetch: 1000, ackEvery: 500 });
  while (consumer.count < BACKLOG) await sleep(20);
  const drainS = (Date.now() - t1) / 1000;
  await consumer.stop();
  admin.close();
  return { pub: BACKLOG / publishS, cons: BACKLOG / drainS, p50: NaN, p99: NaN };
}

const fmt = (n, d = 0) => (Number.isNaN(n) ? 'NA' : n.toFixed(d));

async function main() {
  const wanted = process.argv.slice(2).filter((a) => a !== '--');
  const names = wanted.length ? wanted : [...Object.keys(SCENARIOS), 'start', 'codec', 'http'];
  const commit = (() => { try { return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim(); } catch { return 'unknown'; } })();
  const rows = [];
  for (const name of names) {
    if (name === 'codec') { for (const r of codecBench()) console.log(`codec  ${r.what.padEnd(40)} ${fmt(r.opsPerSec)} ops/s`); continue; }
    if (name === 'start') {
      const runs = [];
      for (let i = 0; i < 5; i++) runs.push(await warrenStartMs());
      console.log(`start   process start to first AMQP connection: median ${fmt(runs.sort((a, b) => a - b)[2])} ms (npm run bench:start compares with RabbitMQ)`);
      continue;
    }
    if (name === 'http') { await httpBench(); continue; }
    const sc = SCENARIOS[name];
    if (!sc) { console.log(`unknown scenario ${name}`); continue; }
    const mport = sc.poll || sc.ui ? await freePort() : 0;
    const { proc, port, dataDir } = await startBroker(mport);
    // S1_poll: a dashboard's worth of management traffic during the window.
    const poller = sc.poll ? setInterval(() => {
      fetch(`http://127.0.0.1:${mport}/api/overview`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } })
        .then((r) => r.text(), () => {});
    }, 1000) : null;
    // S1_ui: what ui/pages-overview.js and the alarm banner fetch on each poll (ui/lib.js POLL).
    const uiPoller = sc.ui ? setInterval(() => {
      for (const p of ['/api/overview', '/api/health/checks/alarms']) {
        fetch(`http://127.0.0.1:${mport}${p}`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'x-requested-with': 'XMLHttpRequest' } })
          .then((r) => r.text(), () => {});
      }
    }, UI_POLL_MS) : null;
    const s = sampler(proc.pid);
    const cpu0 = s.cpu();
    const t0 = Date.now();
    let r;
    try {
      r = sc.backlog ? await runBacklog(port, sc) : await runSteady(port, sc);
    } catch (err) {
      console.log(`${name}: failed: ${err.message}`);
      proc.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
      continue;
    }
    if (poller) clearInterval(poller);
    if (uiPoller) clearInterval(uiPoller);
    const cpuPct = ((s.cpu() - cpu0) / ((Date.now() - t0) / 1000)) * 100;
    const rss = s.stop();
    proc.kill('SIGTERM');
    await new Promise((r) => proc.on('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
    const row = { name, ...r, rss, cpuPct };
    rows.push(row);
    console.log(`${name.padEnd(7)} pub ${fmt(r.pub).padStart(8)}/s  cons ${fmt(r.cons).padStart(8)}/s  p50 ${fmt(r.p50, 2)} ms  p99 ${fmt(r.p99, 2)} ms  rss ${fmt(rss)} MiB  cpu ${fmt(cpuPct)}%   ${sc.what}`);
  }
  if (rows.length) {
    const lines = [`\n### ${new Date().toISOString()} commit ${commit} (${SECONDS} s window)\n`,
      '| scenario | pub/s | cons/s | p50 ms | p99 ms | broker RSS MiB | broker CPU % |', '|---|---|---|---|---|---|---|',
      ...rows.map((r) => `| ${r.name} | ${fmt(r.pub)} | ${fmt(r.cons)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.rss)} | ${fmt(r.cpuPct)} |`)];
    appendFileSync(join(here, 'results.md'), lines.join('\n') + '\n');
  }
  process.exit(0);
}

main();
