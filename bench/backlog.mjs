#!/usr/bin/env node
// Durability backlog benchmark: `npm run bench:backlog`.
// 1,000,000 persistent 1 KiB messages published with confirms into a durable queue, a clean
// restart (SIGTERM, start again on the same data dir), then one consumer drains the queue.
// Prints the publish rate with confirms, the recovery time (from the broker's log line and
// from process start to listening), the drain rate, peak RSS of each broker run and the size
// of the store. Numbers are printed (and appended to bench/results.md), never asserted.
// BACKLOG_MSGS, BACKLOG_SIZE and BACKLOG_WINDOW (unconfirmed publishes in flight) override.
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Peer } from './amqp-peer.mjs';
import { publishConfirmed, record, startBroker } from './support.mjs';

const MSGS = Number(process.env.BACKLOG_MSGS || 1_000_000);
const SIZE = Number(process.env.BACKLOG_SIZE || 1024);
const WINDOW = Number(process.env.BACKLOG_WINDOW || 1000);
const QUEUE = 'backlog';

async function publishAll(port) {
  const p = new Peer();
  await p.connect(port);
  await p.openChannel(1);
  await p.declareQueue(1, QUEUE, { durable: true });
  await p.confirmSelect(1);
  const rate = await publishConfirmed(p, QUEUE, MSGS, SIZE, true, WINDOW);
  p.close();
  return rate;
}

async function drainAll(port) {
  const p = new Peer();
  await p.connect(port);
  await p.openChannel(1);
  const ok = await p.declareQueue(1, QUEUE, { durable: true });
  await p.qos(1, 1000);
  let got = 0;
  let lastAcked = 0;
  let outOfOrder = 0;
  const t0 = performance.now();
  await new Promise((resolve) => {
    p.onDeliver = (_ch, tag, body) => {
      if (body.readUInt32BE(0) !== got) outOfOrder++;
      got++;
      if (tag - lastAcked >= 500 || got === ok.messageCount) {
        p.ack(1, tag, true);
        lastAcked = tag;
      }
      if (got === ok.messageCount) resolve();
    };
    void p.consume(1, QUEUE, false);
  });
  const secs = (performance.now() - t0) / 1000;
  p.close();
  return { found: ok.messageCount, rate: got / secs, outOfOrder };
}

const dirSize = (d) => readdirSync(d).reduce((n, f) => n + statSync(join(d, f)).size, 0);
const mib = (n) => (n / 1048576).toFixed(0);

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-backlog-'));
  try {
    const first = startBroker(dataDir);
    const { port } = await first.listening;
    const pubRate = await publishAll(port);
    const storeBytes = dirSize(dataDir);
    first.proc.kill('SIGTERM');
    await first.exited;
    const second = startBroker(dataDir);
    const { port: port2, startMs } = await second.listening;
    const rec = /recovered \d+ durable queues with (\d+) messages in ([\d.]+) s/.exec(second.output());
    const drain = await drainAll(port2);
    second.proc.kill('SIGTERM');
    await second.exited;
    const lines = [
      `messages            ${MSGS} x ${SIZE} B persistent, durable queue, confirm window ${WINDOW}`,
      `publish (confirms)  ${pubRate.toFixed(0)} msg/s   broker peak RSS ${first.peak().toFixed(0)} MiB   store ${mib(storeBytes)} MiB`,
      `recovery            ${rec ? `${rec[1]} messages in ${rec[2]} s (broker log)` : 'no recovery line'}; process start to listening ${(startMs / 1000).toFixed(2)} s`,
      `drain               ${drain.rate.toFixed(0)} msg/s (${drain.found} found, ${drain.outOfOrder} out of order)   broker peak RSS ${second.peak().toFixed(0)} MiB`,
    ];
    for (const l of lines) console.log(l);
    record('backlog (bench/backlog.mjs)', lines);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(0);
}

main();
