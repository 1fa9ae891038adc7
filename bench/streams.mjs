// Stream queues, Warren beside RabbitMQ 3.10.8 on the same machine: publish with confirms
// (window 1000) N messages of 16 B and of 1 KiB into a stream, then read the 1 KiB stream from
// `first` with one consumer and then five at once (prefetch 1000, acks in batches of 500), and
// the broker's peak RSS in each phase (VmRSS from /proc). RabbitMQ is started with
// interop/differential/rabbitmq.sh on port 5782 when it is installed; without it, Warren only.
//   npm run bench:streams [-- --n 1000000] [-- --record] [-- --memory 1024]
// --memory MB: the flat-RSS check alone: write MB of 64 KiB messages, read them all from
// `first`, print the RSS growth over the post-write baseline (interop/streams-memory.test.ts
// asserts it in the suite).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Peer } from './amqp-peer.mjs';
import { record, startBroker } from './support.mjs';
import { M } from '../dist/protocol/generated/amqp.js';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const flag = (name, dflt) => { const i = argv.indexOf(name); return i < 0 ? dflt : Number(argv[i + 1]); };
const N = flag('--n', 1_000_000);
const MEMORY_MB = flag('--memory', 0);
const RABBIT_PORT = 5782;
const RABBIT_SH = join(here, '..', 'interop', 'differential', 'rabbitmq.sh');
const S = (value) => ({ type: 'S', value });

/** VmRSS of `pid` in MiB (0 when gone). */
function rssMiB(pid) {
  try { return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024; } catch { return 0; }
}

/** Samples a pid's RSS every 50 ms: peak() since the last reset(). */
function rssWatch(pid) {
  let peak = 0;
  const t = setInterval(() => { peak = Math.max(peak, rssMiB(pid)); }, 50);
  return { peak: () => Math.max(peak, rssMiB(pid)), reset: () => { peak = rssMiB(pid); }, stop: () => clearInterval(t) };
}

async function peer(port) {
  const p = new Peer();
  await p.connect(port);
  await p.openChannel(1);
  return p;
}

async function declareStream(port, q) {
  const p = await peer(port);
  await p.declareQueue(1, q, { durable: true, arguments: { 'x-queue-type': S('stream') } });
  p.close();
}

/** Publishes n messages of `size` bytes with confirms, at most `window` unconfirmed; msg/s. */
async function publish(port, q, n, size, window = 1000) {
  const p = await peer(port);
  await p.confirmSelect(1);
  const body = Buffer.alloc(size, 'b');
  let sent = 0;
  let confirmed = 0;
  const t0 = performance.now();
  await new Promise((resolve) => {
    const pump = () => {
      while (sent < n && sent - confirmed < window) { p.publish(1, '', q, body, true); sent++; if (sent % 100 === 0) break; }
      p.flush();
      if (sent < n && sent - confirmed < window) setImmediate(pump);
    };
    p.onAck = (tag, multiple) => {
      const before = sent - confirmed;
      confirmed = multiple ? tag : confirmed + 1;
      if (confirmed >= n) resolve();
      else if (before >= window && sent - confirmed < window) setImmediate(pump);
    };
    pump();
  });
  const s = (performance.now() - t0) / 1000;
  p.close();
  return n / s;
}

/** `k` consumers at once, each reading n messages from `first`; msg/s of each. */
async function read(port, q, n, k) {
  const runs = [];
  for (let i = 0; i < k; i++) {
    const p = await peer(port);
    await p.qos(1, 1000);
    runs.push({ p, got: 0 });
  }
  const t0 = performance.now();
  const rates = await Promise.all(runs.map((r) => new Promise((resolve) => {
    r.p.onDeliver = (ch, tag) => {
      r.got++;
      if (r.got % 500 === 0 || r.got === n) r.p.ack(ch, tag, true);
      if (r.got === n) resolve(n / ((performance.now() - t0) / 1000));
    };
    void r.p.rpc(1, M.BasicConsume, { queue: q, noAck: false, consumerTag: '', arguments: { 'x-stream-offset': S('first') } }, M.BasicConsumeOk);
  })));
  for (const r of runs) r.p.close();
  return rates;
}

async function suite(name, port, pid) {
  const w = rssWatch(pid);
  const row = { name };
  await declareStream(port, 's16');
  await declareStream(port, 's1k');
  w.reset(); row.pub16 = await publish(port, 's16', N, 16); row.rssPub16 = w.peak();
  w.reset(); row.pub1k = await publish(port, 's1k', N, 1024); row.rssPub1k = w.peak();
  w.reset(); [row.read1] = await read(port, 's1k', N, 1); row.rssRead1 = w.peak();
  w.reset(); row.read5 = await read(port, 's1k', N, 5); row.rssRead5 = w.peak();
  w.stop();
  console.log(`${name} done`);
  return row;
}

/** Write `mb` MB of 64 KiB messages, read them all from first: RSS after writing and peak while reading. */
export async function memoryCheck(port, pid, mb) {
  const n = Math.ceil((mb * 1024 * 1024) / 65536);
  await declareStream(port, 'big');
  await publish(port, 'big', n, 65536, 200);
  await new Promise((r) => setTimeout(r, 500));
  const base = rssMiB(pid);
  const w = rssWatch(pid);
  w.reset();
  const [rate] = await read(port, 'big', n, 1);
  const peak = w.peak();
  w.stop();
  return { n, base, peak, growth: peak - base, rate };
}

function rabbit() {
  if (!existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server')) return null;
  try {
    execFileSync(RABBIT_SH, ['start', String(RABBIT_PORT)], { stdio: 'ignore' });
    const pid = Number(readFileSync(`/tmp/warren-rabbit-${RABBIT_PORT}/pid`, 'utf8').trim());
    return { port: RABBIT_PORT, pid, stop: () => execFileSync(RABBIT_SH, ['stop', String(RABBIT_PORT)], { stdio: 'ignore' }) };
  } catch (e) {
    console.log(`RabbitMQ did not start (${e.message}); Warren only`);
    return null;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'warren-bench-streams-'));
const broker = startBroker(dir);
try {
  const { port } = await broker.listening;
  if (MEMORY_MB > 0) {
    const m = await memoryCheck(port, broker.proc.pid, MEMORY_MB);
    const line = `read ${MEMORY_MB} MB (${m.n} x 64 KiB) from first at ${Math.round(m.rate)} msg/s: RSS ${m.base.toFixed(0)} MiB after writing, peak ${m.peak.toFixed(0)} MiB while reading (+${m.growth.toFixed(0)} MiB)`;
    console.log(line);
    if (argv.includes('--record')) record(`stream memory (${MEMORY_MB} MB)`, [line]);
  } else {
    const rows = [await suite('Warren', port, broker.proc.pid)];
    const r = rabbit();
    if (r !== null) { try { rows.push(await suite('RabbitMQ 3.10.8', r.port, r.pid)); } finally { r.stop(); } }
    const k = (x) => `${Math.round(x).toLocaleString('en-US')}`.padStart(12);
    const mib = (x) => `${x.toFixed(0)} MiB`.padStart(12);
    const lines = [`stream bench, ${N.toLocaleString('en-US')} messages per phase`, `${''.padEnd(34)}${rows.map((x) => x.name.padStart(18)).join('')}`];
    const line = (label, f) => lines.push(`${label.padEnd(34)}${rows.map((x) => f(x).padStart(18)).join('')}`);
    line('publish 16 B, confirms (msg/s)', (x) => k(x.pub16));
    line('  peak RSS', (x) => mib(x.rssPub16));
    line('publish 1 KiB, confirms (msg/s)', (x) => k(x.pub1k));
    line('  peak RSS', (x) => mib(x.rssPub1k));
    line('1 consumer from first (msg/s)', (x) => k(x.read1));
    line('  peak RSS', (x) => mib(x.rssRead1));
    line('5 consumers: each (msg/s, min)', (x) => k(Math.min(...x.read5)));
    line('5 consumers: total (msg/s)', (x) => k(x.read5.reduce((a, b) => a + b, 0)));
    line('  peak RSS', (x) => mib(x.rssRead5));
    console.log(lines.join('\n'));
    if (argv.includes('--record')) record('streams (Warren vs RabbitMQ)', lines);
  }
} finally {
  broker.proc.kill('SIGTERM');
  await broker.exited;
  rmSync(dir, { recursive: true, force: true });
}
