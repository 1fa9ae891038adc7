#!/usr/bin/env node
// Transient backlog benchmark (part of `npm run bench:backlog`): how much memory a long queue of
// transient messages costs once paging moves bodies to the page file (src/core/page-file.ts).
// For each case (default 1,000,000 x 16 B, 10,000,000 x 16 B, 1,000,000 x 1 KiB), a fresh
// broker; N transient messages published with confirms into one non-durable queue; broker RSS
// measured once they are all queued (settled: after a GC pause of 2 s) and at its peak; then
// one consumer drains the queue, checking count and order. RSS growth per extra million is the
// slope between the 1M and 10M cases of the same size. Printed and appended to results.md,
// never asserted. BACKLOG_CASES="1000000x16,10000000x16" overrides.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Peer } from './amqp-peer.mjs';
import { publishConfirmed, record, startBroker } from './support.mjs';

const CASES = (process.env.BACKLOG_CASES || '1000000x16,10000000x16,1000000x1024')
  .split(',').map((c) => c.split('x').map(Number));
const WINDOW = 2000;
const QUEUE = 'transient-backlog';

const rssOf = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const dirBytes = (d) => { try { return readdirSync(d).reduce((n, f) => n + statSync(join(d, f)).size, 0); } catch { return 0; } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function drainAll(port, n) {
  const p = new Peer();
  await p.connect(port);
  await p.openChannel(1);
  await p.qos(1, 2000);
  let got = 0;
  let lastAcked = 0;
  let outOfOrder = 0;
  const t0 = performance.now();
  await new Promise((resolve) => {
    p.onDeliver = (_ch, tag, body) => {
      if (body.readUInt32BE(0) !== got) outOfOrder++;
      got++;
      if (tag - lastAcked >= 1000 || got === n) {
        p.ack(1, tag, true);
        lastAcked = tag;
      }
      if (got === n) resolve();
    };
    void p.consume(1, QUEUE, false);
  });
  const rate = got / ((performance.now() - t0) / 1000);
  p.close();
  return { got, rate, outOfOrder };
}

async function runCase(n, size) {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-tbacklog-'));
  const b = startBroker(dataDir);
  try {
    const { port } = await b.listening;
    const idle = rssOf(b.proc.pid);
    const p = new Peer();
    await p.connect(port);
    await p.openChannel(1);
    await p.declareQueue(1, QUEUE, { durable: false });
    await p.confirmSelect(1);
    const pubRate = await publishConfirmed(p, QUEUE, n, size, false, WINDOW);
    const peakWhilePublishing = b.peak();
    await sleep(2000);
    const settled = rssOf(b.proc.pid);
    const pageBytes = dirBytes(join(dataDir, 'msg_store_transient'));
    p.close();
    const drain = await drainAll(port, n);
    const afterDrain = rssOf(b.proc.pid);
    return { n, size, idle, pubRate, peak: Math.max(peakWhilePublishing, b.peak()), settled, pageBytes, drain, afterDrain };
  } finally {
    b.proc.kill('SIGTERM');
    await b.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const mib = (x) => x.toFixed(0);
const lines = [];
const results = [];
for (const [n, size] of CASES) {
  const r = await runCase(n, size);
  results.push(r);
  const line = `${String(n).padStart(9)} x ${String(size).padStart(4)} B   publish ${mib(r.pubRate).padStart(7)} msg/s   RSS idle ${mib(r.idle)} MiB, ` +
    `queued ${mib(r.settled)} MiB (peak ${mib(r.peak)})   page files ${mib(r.pageBytes / 1048576)} MiB   ` +
    `drain ${mib(r.drain.rate)} msg/s (${r.drain.got} got, ${r.drain.outOfOrder} out of order), RSS after ${mib(r.afterDrain)} MiB`;
  console.log(line);
  lines.push(line);
}
for (const size of new Set(results.map((r) => r.size))) {
  const same = results.filter((r) => r.size === size).sort((a, b) => a.n - b.n);
  if (same.length < 2) continue;
  const [lo, hi] = [same[0], same.at(-1)];
  const perMillion = (hi.settled - lo.settled) / ((hi.n - lo.n) / 1e6);
  const line = `${size} B: RSS growth per extra million queued ${perMillion.toFixed(1)} MiB (${lo.n} -> ${hi.n})`;
  console.log(line);
  lines.push(line);
}
record('transient backlog (bench/backlog-transient.mjs)', lines);
process.exit(0);
