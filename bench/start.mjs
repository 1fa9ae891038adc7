#!/usr/bin/env node
// Start-time benchmark: `npm run bench:start`.
// Process start to the first AMQP connection the broker accepts (TCP connect + a full
// handshake with amqplib), for Warren (dist/main.js, fresh data dir) and, when Debian's
// rabbitmq-server is installed, RabbitMQ (interop/differential/rabbitmq.sh on a private
// port). Prints the median of START_RUNS runs (default 5 for Warren, 3 for RabbitMQ) and
// appends them to bench/results.md. Numbers are printed, never asserted.
import { execFileSync, execSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import amqp from 'amqplib';

const here = dirname(fileURLToPath(import.meta.url));
const RUNS = Number(process.env.START_RUNS || 5);
const PORT = Number(process.env.START_PORT || 5781);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Polls until an AMQP handshake succeeds; returns ms since t0. */
async function firstConnection(url, t0, timeoutMs = 120_000) {
  for (;;) {
    try {
      const c = await amqp.connect(url);
      const ms = performance.now() - t0;
      await c.close();
      return ms;
    } catch {
      if (performance.now() - t0 > timeoutMs) throw new Error(`no AMQP connection on ${url} after ${timeoutMs} ms`);
      await sleep(2);
    }
  }
}

/** One Warren start: ms from spawn to the first accepted AMQP connection. */
export async function warrenStartMs() {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-start-'));
  const t0 = performance.now();
  const proc = spawn(process.execPath, [join(here, '..', 'dist', 'main.js'), '--port', String(PORT), '--data-dir', dataDir, '--log-level', 'warn'], { stdio: 'ignore' });
  try {
    return await firstConnection(`amqp://guest:guest@127.0.0.1:${PORT}`, t0);
  } finally {
    proc.kill('SIGKILL');
    await new Promise((r) => proc.on('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function rabbitOnce() {
  const script = join(here, '..', 'interop', 'differential', 'rabbitmq.sh');
  const t0 = performance.now();
  const start = spawn('bash', [script, 'start', String(PORT + 1)], { stdio: 'ignore' });
  try {
    return await firstConnection(`amqp://guest:guest@127.0.0.1:${PORT + 1}`, t0);
  } finally {
    await new Promise((r) => (start.exitCode !== null ? r() : start.on('exit', r)));
    execFileSync('bash', [script, 'stop', String(PORT + 1)], { stdio: 'ignore' });
  }
}

async function main() {
  const lines = [];
  const w = [];
  for (let i = 0; i < RUNS; i++) w.push(await warrenStartMs());
  lines.push(`warren    start to first AMQP connection: median ${median(w).toFixed(0)} ms (runs: ${w.map((x) => x.toFixed(0)).join(', ')})`);
  if (existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server')) {
    const r = [];
    for (let i = 0; i < Math.min(RUNS, 3); i++) r.push(await rabbitOnce());
    lines.push(`rabbitmq  start to first AMQP connection: median ${median(r).toFixed(0)} ms (runs: ${r.map((x) => x.toFixed(0)).join(', ')})`);
    lines.push(`ratio     warren / rabbitmq = ${(median(w) / median(r)).toFixed(3)}`);
  } else {
    lines.push('rabbitmq  skipped: rabbitmq-server is not installed (apt-get install -y rabbitmq-server)');
  }
  for (const l of lines) console.log(l);
  const commit = (() => { try { return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim(); } catch { return 'unknown'; } })();
  appendFileSync(join(here, 'results.md'), `\n### ${new Date().toISOString()} commit ${commit}: start time (bench/start.mjs)\n\n\`\`\`\n${lines.join('\n')}\n\`\`\`\n`);
  process.exit(0);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) main();
