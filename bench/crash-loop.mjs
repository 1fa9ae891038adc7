#!/usr/bin/env node
// Crash loop: `npm run soak:crash`. CRASH_KILLS (50) times: a broker on one data directory
// takes confirmed persistent load (an amqplib confirm channel publishing persistent messages,
// each with a unique message id, into a durable queue, while a consumer acks on every other
// run so a backlog builds up and drains), is SIGKILLed at a random moment of that load, and is
// started again at once, without waiting for the killed process to be gone (the data-directory
// lock must let it in as soon as the kernel has released the old one). After the last kill the
// queue is drained and every confirmed message must be either acked by the consumer before a
// crash or still in the queue: lost must be 0 (exit 1 otherwise, or if a restart failed).
//
// CRASH_MIN_MS / CRASH_MAX_MS bound the moment of the kill after the run's first confirm
// (100 / 1500). Loopback only; it stops by itself (a deadline of 15 s per kill). Prints its
// figures, and with --record appends them to bench/results.md. The last line is `RESULT {json}`
// for test/soak.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { record, startBroker } from './support.mjs';

const KILLS = Number(process.env.CRASH_KILLS || 50);
const MIN_MS = Number(process.env.CRASH_MIN_MS || 100);
const MAX_MS = Number(process.env.CRASH_MAX_MS || 1500);
const WINDOW = 256; // unconfirmed publishes in flight
const QUEUE = 'crash-loop';
const PAD = Buffer.alloc(200, 0x2e);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const bodyOf = (id) => Buffer.concat([Buffer.from(`${id}|`), PAD]);

const confirmed = new Set();
/** Ids whose ack the consumer sent: gone legitimately (or back, if the ack died with the broker). */
const acked = new Set();
const f = { published: 0, nacked: 0, deliveries: 0, redelivered: 0, corrupt: 0, lockWaits: 0, restartMs: [], recoveredPerStart: [] };

function checkBody(m) {
  const id = m.properties.messageId;
  if (!m.content.equals(bodyOf(id))) f.corrupt++;
  return id;
}

/** An amqplib connection to the broker for which the kill is expected: its errors are swallowed. */
async function connect(port, onClose) {
  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
  conn.on('error', () => {});
  conn.on('close', onClose);
  return conn;
}

/**
 * Publishes (and on odd runs, consumes) until the broker goes away; resolves then. The consumer
 * has its own connection: a publisher into a congested queue is not read (flow control), and
 * neither would its acks be.
 */
async function load(port, run, firstConfirm) {
  let closed = false;
  let wake = null;
  const poke = () => { const w = wake; wake = null; w?.(); };
  const conn = await connect(port, () => { closed = true; poke(); });
  const ch = await conn.createConfirmChannel();
  ch.on('error', () => {});
  await ch.assertQueue(QUEUE, { durable: true });
  if (run % 2 === 1) {
    let gone = false;
    const cconn = await connect(port, () => { gone = true; });
    const cch = await cconn.createChannel();
    cch.on('error', () => {});
    await cch.prefetch(200);
    await cch.consume(QUEUE, (m) => {
      if (m === null || gone) return;
      f.deliveries++;
      if (m.fields.redelivered) f.redelivered++;
      const id = checkBody(m);
      cch.ack(m);
      acked.add(id);
    });
  }
  let inflight = 0;
  for (let n = 0; !closed; n++) {
    if (inflight >= WINDOW) {
      await new Promise((r) => { wake = r; });
      n--;
      continue;
    }
    const id = `${run}.${n}`;
    inflight++;
    f.published++;
    try {
      ch.publish('', QUEUE, bodyOf(id), { persistent: true, messageId: id }, (err) => {
        inflight--;
        if (err) f.nacked++; // a nack, or amqplib failing what was in flight when the socket died
        else {
          confirmed.add(id);
          firstConfirm();
        }
        poke();
      });
    } catch {
      break; // the channel is already closed
    }
    if (n % 64 === 63) await new Promise((r) => setImmediate(r)); // let confirms and the socket run
  }
}

/** After the last restart: everything still in the queue. */
async function drain(port) {
  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
  const ch = await conn.createChannel();
  const { messageCount } = await ch.checkQueue(QUEUE);
  const present = new Set();
  await ch.prefetch(1000);
  await new Promise((resolve) => {
    if (messageCount === 0) resolve();
    let got = 0;
    void ch.consume(QUEUE, (m) => {
      if (m === null) return;
      present.add(checkBody(m));
      ch.ack(m);
      if (++got === messageCount) resolve();
    });
  });
  await conn.close();
  return { present, messageCount };
}

async function started(b) {
  const { port, startMs } = await b.listening;
  f.restartMs.push(startMs);
  const rec = /recovered \d+ durable queues? with (\d+) messages/.exec(b.output());
  if (rec) f.recoveredPerStart.push(Number(rec[1]));
  return port;
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-crash-loop-'));
  let broker = startBroker(dataDir);
  const live = new Set([broker]);
  process.on('exit', () => { for (const b of live) b.proc.kill('SIGKILL'); });
  const deadline = setTimeout(() => {
    console.error(`crash loop: deadline of ${KILLS * 15 + 60} s passed; giving up`);
    process.exit(2);
  }, (KILLS * 15 + 60) * 1000);
  deadline.unref();
  const t0 = performance.now();
  let failed = null;
  try {
    for (let run = 0; run < KILLS; run++) {
      const port = await started(broker);
      let confirmedOnce;
      const gotConfirm = new Promise((r) => { confirmedOnce = r; });
      const loading = load(port, run, () => confirmedOnce());
      await Promise.race([gotConfirm, loading]);
      await sleep(MIN_MS + Math.random() * (MAX_MS - MIN_MS));
      const old = broker;
      old.proc.kill('SIGKILL');
      broker = startBroker(dataDir); // at once: the old one may not be gone yet
      live.add(broker);
      await loading.catch(() => {});
      await old.exited;
      live.delete(old);
      if (/waiting for the holder to exit/.test(broker.output())) f.lockWaits++;
    }
    const port = await started(broker);
    if (/waiting for the holder to exit/.test(broker.output())) f.lockWaits++;
    const { present, messageCount } = await drain(port);
    broker.proc.kill('SIGTERM');
    const { code } = await broker.exited;
    live.delete(broker);
    if (code !== 0) failed = `broker exited ${code} on SIGTERM`;

    const lost = [...confirmed].filter((id) => !acked.has(id) && !present.has(id));
    const unconfirmedKept = [...present].filter((id) => !confirmed.has(id)).length;
    const secs = (performance.now() - t0) / 1000;
    const ms = [...f.restartMs].sort((a, b) => a - b);
    const res = {
      kills: KILLS, published: f.published, confirmed: confirmed.size, nacked: f.nacked,
      ackedByConsumer: acked.size, recovered: messageCount, unconfirmedKept, lost: lost.length, corrupt: f.corrupt,
      redelivered: f.redelivered, lockWaits: f.lockWaits, failed,
    };
    const lines = [
      `kills               ${KILLS} SIGKILLs, ${MIN_MS}-${MAX_MS} ms into confirmed persistent load, immediate restart on one data dir; ${secs.toFixed(0)} s`,
      `published           ${f.published} persistent (confirm window ${WINDOW}); confirmed ${confirmed.size}; failed/nacked ${f.nacked}`,
      `consumed            ${acked.size} acked by the consumer (every other run), ${f.redelivered} of ${f.deliveries} deliveries redelivered`,
      `recovered           ${messageCount} in the queue after the last restart (${unconfirmedKept} of them unconfirmed when the broker died)`,
      `lost                ${lost.length} confirmed messages neither acked nor recovered; ${f.corrupt} corrupt bodies`,
      `restarts            ${ms.length} starts, spawn to listening median ${ms[ms.length >> 1].toFixed(0)} ms, max ${ms[ms.length - 1].toFixed(0)} ms; ` +
        `${f.lockWaits} waited for the killed broker's lock; messages recovered per start max ${Math.max(0, ...f.recoveredPerStart)}`,
    ];
    for (const l of lines) console.log(l);
    if (lost.length > 0) console.log(`lost ids (first 20): ${lost.slice(0, 20).join(' ')}`);
    if (process.argv.includes('--record')) record('crash loop (bench/crash-loop.mjs)', lines);
    console.log(`RESULT ${JSON.stringify(res)}`);
    if (lost.length > 0 || f.corrupt > 0 || failed !== null) process.exitCode = 1;
  } catch (e) {
    console.error(`crash loop failed: ${e.message}`);
    console.log(`RESULT ${JSON.stringify({ failed: e.message })}`);
    process.exitCode = 1;
  } finally {
    clearTimeout(deadline);
    for (const b of live) b.proc.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main();
