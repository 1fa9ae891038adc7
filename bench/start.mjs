#!/usr/bin/env node
// Start-time benchmark: `npm run bench:start`. Side by side:
//   warren      process spawn to the first AMQP connection it accepts (TCP connect + a full
//               handshake with amqplib, Nagle off), dist/main.js on a fresh data dir
//   bare node   process spawn to the first TCP connection a `net.createServer().listen()`
//               accepts: the floor for any Node.js server on this machine
//   rabbitmq    as warren, when Debian's rabbitmq-server is installed
//               (interop/differential/rabbitmq.sh on a private port)
//   embedded    startBroker() of a second broker in this process (the first one warmed the
//               modules up), to resolved and to the first AMQP connection
//   idle RSS    of a Warren process started as `warren` starts by default (management API and
//               Prometheus listening, default log level; only the ports and a fresh data dir are
//               given), and of bare Node processes, each START_SETTLE_MS (default 1000) after it
//               is ready: Warren after its first AMQP connection, the bare listener after its
//               first TCP connection, the bare process after it printed that it runs. Split into
//               file-backed pages (the node binary, better-sqlite3's addon: code) and anonymous
//               memory (the V8 heap, malloc), the two halves of /proc/PID/status's VmRSS.
// Medians of START_RUNS runs (default 7; 3 for RabbitMQ), appended to bench/results.md with
// the commit. Numbers are printed, never asserted. Ports: START_PORT (default 5770) for Warren
// and the bare listeners, START_PORT + 1 for RabbitMQ, +10000 and +10100 of each for the
// management and Prometheus listeners.
import { execFileSync, execSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import amqp from 'amqplib';

const here = dirname(fileURLToPath(import.meta.url));
const MAIN = join(here, '..', 'dist', 'main.js');
const RUNS = Number(process.env.START_RUNS || 7);
const PORT = Number(process.env.START_PORT || 5770);
const SETTLE_MS = Number(process.env.START_SETTLE_MS || 1000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs) => `median ${median(xs).toFixed(0).padStart(5)} ms  (runs: ${xs.map((x) => x.toFixed(0)).join(', ')})`;

/** Polls until `attempt` succeeds; returns ms since t0. */
async function firstSuccess(attempt, what, t0, timeoutMs = 120_000) {
  for (;;) {
    try {
      await attempt();
      return performance.now() - t0;
    } catch {
      if (performance.now() - t0 > timeoutMs) throw new Error(`no ${what} after ${timeoutMs} ms`);
      await sleep(1);
    }
  }
}

// noDelay: amqplib's default leaves Nagle on, and its handshake then waits ~40 ms for a delayed
// ACK from any broker (start-ok's and open's small writes); that would measure the client.
const amqpConnect = (url) => async () => {
  const c = await amqp.connect(url, { noDelay: true });
  await c.close();
};
const tcpConnect = (port) => () =>
  new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(); });
    s.on('error', reject);
  });

/**
 * Spawn, wait for `ready`, kill; ms from spawn to ready. Polls with bare TCP connects first,
 * then tries `ready`: polling with amqplib itself costs enough CPU to slow the child down on a
 * 2-core machine, and a broker accepts TCP only once it listens, after recovery.
 */
async function spawnedStart(args, ready, port) {
  const t0 = performance.now();
  const proc = spawn(process.execPath, args, { stdio: 'ignore' });
  try {
    await firstSuccess(tcpConnect(port), `TCP on ${port}`, t0);
    return await firstSuccess(ready, args.join(' '), t0);
  } finally {
    proc.kill('SIGKILL');
    await new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r() : proc.on('exit', r)));
  }
}

const BARE_LISTENER = (port) => `require('node:net').createServer((s) => s.destroy()).listen(${port}, '127.0.0.1')`;

/** One Warren start (fresh data dir): ms from spawn to the first accepted AMQP connection. */
export async function warrenStartMs() {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-start-'));
  try {
    return await spawnedStart([MAIN, '--port', String(PORT), '--management-port', String(PORT + 10000), '--prometheus-port', String(PORT + 10100), '--data-dir', dataDir, '--log-level', 'warn'], amqpConnect(`amqp://guest:guest@127.0.0.1:${PORT}`), PORT);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
const bareStartMs = () => spawnedStart(['-e', BARE_LISTENER(PORT)], tcpConnect(PORT), PORT);

async function rabbitOnce() {
  const script = join(here, '..', 'interop', 'differential', 'rabbitmq.sh');
  const t0 = performance.now();
  const start = spawn('bash', [script, 'start', String(PORT + 1)], { stdio: 'ignore' });
  try {
    await firstSuccess(tcpConnect(PORT + 1), 'RabbitMQ TCP', t0);
    return await firstSuccess(amqpConnect(`amqp://guest:guest@127.0.0.1:${PORT + 1}`), 'RabbitMQ connection', t0);
  } finally {
    await new Promise((r) => (start.exitCode !== null ? r() : start.on('exit', r)));
    execFileSync('bash', [script, 'stop', String(PORT + 1)], { stdio: 'ignore' });
  }
}

/** startBroker() in this process: the first call pays for loading modules, later ones do not. */
async function embedded() {
  const { startBroker } = await import(pathToFileURL(join(here, '..', 'dist', 'index.js')).href);
  let t0 = performance.now();
  const first = await startBroker();
  const firstMs = performance.now() - t0;
  await first.stop();
  const resolved = [];
  const connected = [];
  for (let i = 0; i < RUNS; i++) {
    t0 = performance.now();
    const b = await startBroker();
    resolved.push(performance.now() - t0);
    await amqpConnect(b.url)();
    connected.push(performance.now() - t0);
    await b.stop();
  }
  return { firstMs, resolved, connected };
}

/** VmRSS and its file-backed and anonymous parts (Linux /proc), MiB. */
function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)[1]);
  return { total: kib('VmRSS') / 1024, file: kib('RssFile') / 1024, anon: kib('RssAnon') / 1024 };
}

/** RSS of a process SETTLE_MS after `waitReady(proc)` resolves. */
async function idleRss(args, waitReady) {
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await waitReady(proc);
    await sleep(SETTLE_MS);
    return rssOf(proc.pid);
  } finally {
    proc.kill('SIGKILL');
    await new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r() : proc.on('exit', r)));
  }
}

const polled = (attempt) => () => firstSuccess(attempt, 'readiness', performance.now());
const firstOutput = (proc) => new Promise((resolve) => proc.stdout.once('data', resolve));
const mib = (r) => `${r.total.toFixed(1)} MiB (file ${r.file.toFixed(1)}, anon ${r.anon.toFixed(1)})`;

async function main() {
  const lines = [];
  const w = [];
  const bare = [];
  // Interleaved, so a slow phase of the machine hits both alike.
  for (let i = 0; i < RUNS; i++) {
    bare.push(await bareStartMs());
    w.push(await warrenStartMs());
  }
  lines.push(`warren     spawn to first AMQP connection    ${fmt(w)}`);
  lines.push(`bare node  spawn to first TCP connection     ${fmt(bare)}`);
  lines.push(`ratio      warren / bare node = ${(median(w) / median(bare)).toFixed(2)} (goal: under 2)`);
  if (existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server')) {
    const r = [];
    for (let i = 0; i < Math.min(RUNS, 3); i++) r.push(await rabbitOnce());
    lines.push(`rabbitmq   spawn to first AMQP connection    ${fmt(r)}`);
    lines.push(`ratio      warren / rabbitmq = ${(median(w) / median(r)).toFixed(3)}`);
  } else {
    lines.push('rabbitmq   skipped: rabbitmq-server is not installed (apt-get install -y rabbitmq-server)');
  }
  if (existsSync(join(here, '..', 'dist', 'index.js'))) {
    const e = await embedded();
    lines.push(`embedded   first startBroker() in a process (modules loaded by it): ${e.firstMs.toFixed(1)} ms`);
    lines.push(`embedded   later startBroker() to resolved   median ${median(e.resolved).toFixed(1)} ms  (runs: ${e.resolved.map((x) => x.toFixed(1)).join(', ')}) (goal: under 20)`);
    lines.push(`embedded   later startBroker() to first AMQP connection  median ${median(e.connected).toFixed(1)} ms`);
  } else {
    lines.push('embedded   skipped: this build has no dist/index.js (startBroker)');
  }
  if (existsSync('/proc/self/status')) {
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-start-'));
    const warrenReady = amqpConnect(`amqp://guest:guest@127.0.0.1:${PORT}`);
    const wr = await idleRss([MAIN, '--port', String(PORT), '--management-port', String(PORT + 10000), '--prometheus-port', String(PORT + 10100), '--data-dir', dataDir], polled(warrenReady));
    rmSync(dataDir, { recursive: true, force: true });
    const br = await idleRss(['-e', BARE_LISTENER(PORT)], polled(tcpConnect(PORT)));
    // fs.writeSync, not console.log: process.stdout over a pipe loads the stream modules, +2 MiB.
    const idle = await idleRss(['-e', "require('fs').writeSync(1, 'running\\n'); setInterval(() => {}, 1000)"], firstOutput);
    lines.push(`idle RSS   ${SETTLE_MS} ms after ready: warren ${mib(wr)}, after one AMQP connection; bare node TCP listener ${mib(br)}; bare node ${mib(idle)}`);
    lines.push(`idle RSS   warren is +${(wr.total - idle.total).toFixed(1)} MiB over bare node (goal: within 15): file-backed +${(wr.file - idle.file).toFixed(1)}, anonymous +${(wr.anon - idle.anon).toFixed(1)}`);
  }
  for (const l of lines) console.log(l);
  const commit = (() => { try { return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim(); } catch { return 'unknown'; } })();
  appendFileSync(join(here, 'results.md'), `\n### ${new Date().toISOString()} commit ${commit}: start time (bench/start.mjs)\n\n\`\`\`\n${lines.join('\n')}\n\`\`\`\n`);
  process.exit(0);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) main();
