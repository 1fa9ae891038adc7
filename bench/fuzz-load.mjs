#!/usr/bin/env node
// Fuzz under load: `npm run soak:fuzz`. One broker (dist/main.js). A well-behaved amqplib
// client publishes persistent messages with confirms into a durable queue and consumes them
// (its own connection for each, as RabbitMQ advises) for as long as the rest runs, while other
// connections send FUZZ_FRAMES (100,000) mutated frames (test/support/wire-fuzz.ts: flipped
// bits and bytes, bad sizes, wrong frame types and channels, truncations, splices; a new
// connection whenever one is closed) and FUZZ_HANDSHAKES (1,000) malformed handshakes.
// At the end the broker must be alive and serving, and the good client must have had every
// message it published confirmed and delivered exactly once, in order, with no error on its
// connections or channels; and the broker must have logged no internal error (an exception it
// did not expect: a bug, not an answer to bad input). Exit 1 otherwise.
//
// Reproducible: FUZZ_SEED replays the fuzzing traffic. Loopback only; stops by itself
// (FUZZ_DEADLINE_S, 900). Prints its figures, and with --record appends them to
// bench/results.md. The last line is `RESULT {json}` for test/soak.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { record, startBroker } from './support.mjs';
import { importTs } from './ts-import.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const FRAMES = Number(process.env.FUZZ_FRAMES || 100_000);
const HANDSHAKES = Number(process.env.FUZZ_HANDSHAKES || 1000);
const SEED = Number(process.env.FUZZ_SEED || Math.floor(Math.random() * 2 ** 31));
const DEADLINE_S = Number(process.env.FUZZ_DEADLINE_S || 900);
const WINDOW = 64; // the good client's unconfirmed publishes in flight
const QUEUE = 'good-client';

const wire = await importTs(join(here, '..', 'test', 'support', 'wire-fuzz.ts'));

/** The well-behaved client. stop() ends publishing and resolves once everything is settled. */
async function goodClient(port) {
  const url = `amqp://guest:guest@127.0.0.1:${port}`;
  const errors = [];
  const watch = (what, emitter) => {
    emitter.on('error', (e) => errors.push(`${what}: ${e.message}`));
    emitter.on('close', () => { if (!stopping) errors.push(`${what} closed`); });
  };
  let stopping = false;
  const pconn = await amqp.connect(url);
  const cconn = await amqp.connect(url);
  watch('publisher connection', pconn);
  watch('consumer connection', cconn);
  const pch = await pconn.createConfirmChannel();
  const cch = await cconn.createChannel();
  watch('publisher channel', pch);
  watch('consumer channel', cch);
  await pch.assertQueue(QUEUE, { durable: true });
  await cch.prefetch(100);

  const seen = new Map(); // seq -> times delivered
  let lastSeq = -1;
  let outOfOrder = 0;
  const latencies = [];
  let onDelivery = () => {};
  await cch.consume(QUEUE, (m) => {
    if (m === null) return errors.push('consumer cancelled by the broker');
    const seq = Number(m.properties.messageId);
    seen.set(seq, (seen.get(seq) ?? 0) + 1);
    if (seq <= lastSeq) outOfOrder++;
    lastSeq = seq;
    latencies.push(Date.now() - m.properties.timestamp);
    cch.ack(m);
    onDelivery();
  });

  let published = 0;
  let confirmed = 0;
  let nacked = 0;
  let wake = null;
  const poke = () => { const w = wake; wake = null; w?.(); };
  const publishing = (async () => {
    while (!stopping) {
      if (published - confirmed - nacked >= WINDOW) {
        await new Promise((r) => { wake = r; });
        continue;
      }
      const seq = published++;
      pch.publish('', QUEUE, Buffer.from(`good ${seq}`), { persistent: true, messageId: String(seq), timestamp: Date.now() }, (err) => {
        if (err) nacked++;
        else confirmed++;
        poke();
      });
      if (seq % 16 === 15) await new Promise((r) => setTimeout(r, 1)); // a steady trickle, not a flood
    }
  })();

  return {
    progress: () => ({ published, confirmed, delivered: seen.size }),
    async stop() {
      stopping = true;
      poke();
      await publishing;
      await pch.waitForConfirms().catch((e) => errors.push(`waitForConfirms: ${e.message}`));
      const until = Date.now() + 30_000;
      while (seen.size < published && Date.now() < until) await new Promise((r) => { onDelivery = r; setTimeout(r, 100); });
      await pconn.close();
      await cconn.close();
      let missing = 0;
      let duplicated = 0;
      for (let s = 0; s < published; s++) {
        const n = seen.get(s) ?? 0;
        if (n === 0) missing++;
        if (n > 1) duplicated++;
      }
      latencies.sort((a, b) => a - b);
      const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
      return { published, confirmed, nacked, delivered: seen.size, missing, duplicated, outOfOrder, errors,
        latency: { p50: pct(0.5), p99: pct(0.99), max: latencies[latencies.length - 1] ?? 0 } };
    },
  };
}

/** A fresh connection does a confirmed round trip: the broker is alive and serving. */
async function serving(port) {
  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
  try {
    const ch = await conn.createConfirmChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    ch.sendToQueue(queue, Buffer.from('after the storm'));
    await ch.waitForConfirms();
    const m = await ch.get(queue, { noAck: true });
    return m !== false && m.content.toString() === 'after the storm';
  } finally {
    await conn.close();
  }
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-fuzz-load-'));
  const broker = startBroker(dataDir);
  process.on('exit', () => broker.proc.kill('SIGKILL'));
  const deadline = setTimeout(() => {
    console.error(`fuzz load: deadline of ${DEADLINE_S} s passed; giving up (seed ${SEED})`);
    process.exit(2);
  }, DEADLINE_S * 1000);
  deadline.unref();
  try {
    const { port } = await broker.listening;
    console.log(`fuzz load: seed ${SEED} (replay with FUZZ_SEED=${SEED}), ${FRAMES} frames, ${HANDSHAKES} handshakes`);
    const good = await goodClient(port);
    const t0 = performance.now();
    const [fz, hs] = await Promise.all([
      wire.fuzz(port, SEED, { frames: FRAMES }, 40),
      wire.handshakes(port, SEED ^ 0x5a5a5a5a, HANDSHAKES, 20),
    ]);
    const fuzzSecs = (performance.now() - t0) / 1000;
    const g = await good.stop();
    const alive = broker.proc.exitCode === null && broker.proc.signalCode === null && (await serving(port));
    // 541 is also Warren's deliberate answer (RabbitMQ's) to content properties that do not
    // decode; a bug is what the broker logs as "internal error" (an exception it did not expect).
    const internal = broker.output().match(/internal error/g)?.length ?? 0;
    if (internal > 0) console.log(broker.output().split('\n').filter((l) => l.includes('internal error')).slice(0, 5).join('\n'));
    const closes = [...fz.replies].filter(([k]) => /^10\.50:/.test(k)).sort((a, b) => b[1] - a[1]);
    const hsOutcomes = [...hs.replies].sort((a, b) => b[1] - a[1]);
    const hsOpen = hsOutcomes.filter(([k]) => k.endsWith('still open')).reduce((n, [, c]) => n + c, 0);

    const lines = [
      `fuzzing             ${fz.frames} mutated frames over ${fz.connections} connections (40 at a time) + ${hs.connections} malformed handshakes (20 at a time), ${fuzzSecs.toFixed(0)} s, seed ${SEED}`,
      `broker              ${alive ? 'alive and serving' : 'NOT SERVING'}; peak RSS ${broker.peak().toFixed(0)} MiB; ${internal} internal errors logged`,
      `connection.close    ${closes.slice(0, 8).map(([k, n]) => `${k.slice(6)} x${n}`).join(', ')}`,
      `handshakes          ${hs.connections - hsOpen} closed by the broker within 1 s, ${hsOpen} still open then (left to the handshake timeout)`,
      `good client         published ${g.published}, confirmed ${g.confirmed}, nacked ${g.nacked}; delivered ${g.delivered}: missing ${g.missing}, duplicated ${g.duplicated}, out of order ${g.outOfOrder}; errors ${g.errors.length}`,
      `good client latency publish to delivery p50 ${g.latency.p50} ms, p99 ${g.latency.p99} ms, max ${g.latency.max} ms`,
    ];
    for (const l of lines) console.log(l);
    for (const e of g.errors.slice(0, 10)) console.log(`  good client error: ${e}`);
    if (process.argv.includes('--record')) record('fuzz under load (bench/fuzz-load.mjs)', lines);
    const ok = alive && internal === 0 && g.errors.length === 0 && g.nacked === 0 && g.confirmed === g.published &&
      g.missing === 0 && g.duplicated === 0 && g.outOfOrder === 0 && g.published > 0;
    console.log(`RESULT ${JSON.stringify({ ok, seed: SEED, frames: fz.frames, fuzzConnections: fz.connections, handshakes: hs.connections,
      alive, internal, good: { ...g, latency: undefined } })}`);
    if (!ok) process.exitCode = 1;
  } catch (e) {
    console.error(`fuzz load failed (seed ${SEED}): ${e.stack ?? e}`);
    console.log(`RESULT ${JSON.stringify({ ok: false, seed: SEED, failed: String(e) })}`);
    process.exitCode = 1;
  } finally {
    clearTimeout(deadline);
    broker.proc.kill('SIGTERM');
    await broker.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main();
