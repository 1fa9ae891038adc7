#!/usr/bin/env node
// Delayed-message benchmark: `npm run bench:delayed`.
// DELAYED_MSGS (1,000,000) transient 16 B messages published with confirms (DELAYED_WINDOW, 2000,
// unconfirmed at most) as fast as the broker takes them, to an x-delayed-message exchange (x-delayed-type direct), each with an x-delay drawn
// uniformly from DELAYED_SPREAD_MS (60,000) ms plus one second, so their due times spread over
// a minute; one no-ack consumer on the bound queue. Each body carries the due time the
// publisher computed (send time + delay), so lateness = arrival - due (never negative unless
// the broker delivers early). Prints the publish rate, the broker's peak RSS (and RSS holding
// everything), lateness p50 / p99 / max and how many arrived; appends them to results.md.
// Numbers are printed, never asserted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { M } from '../dist/protocol/generated/amqp.js';
import { Peer } from './amqp-peer.mjs';
import { record, startBroker } from './support.mjs';

const MSGS = Number(process.env.DELAYED_MSGS || 1_000_000);
const SPREAD = Number(process.env.DELAYED_SPREAD_MS || 60_000);
const WINDOW = Number(process.env.DELAYED_WINDOW || 2000);
const X = 'bench.delayed';
const Q = 'bench.delayed.q';

// Content-header properties: only `headers` = { x-delay: signedint }, patched per message.
const PROPS = Buffer.from([0x20, 0x00, 0, 0, 0, 13, 7, ...Buffer.from('x-delay'), 0x49, 0, 0, 0, 0]);
const DELAY_AT = PROPS.length - 4;

async function setup(p) {
  await p.openChannel(1);
  await p.rpc(1, M.ExchangeDeclare, {
    exchange: X, type: 'x-delayed-message', passive: false, durable: false, autoDelete: false, internal: false, noWait: false,
    arguments: { 'x-delayed-type': { type: 'S', value: 'direct' } },
  }, M.ExchangeDeclareOk);
  await p.declareQueue(1, Q);
  await p.rpc(1, M.QueueBind, { queue: Q, exchange: X, routingKey: 'k', noWait: false, arguments: {} }, M.QueueBindOk);
}

/**
 * Publish with confirms, at most WINDOW unconfirmed: the publisher's due time (send time +
 * delay) is then never far from the broker's (receipt + delay), so lateness measures delivery,
 * not how far the broker's reading fell behind.
 */
function publishAll(p) {
  const body = Buffer.alloc(16);
  let sent = 0;
  let confirmed = 0;
  return new Promise((resolve) => {
    let waiting = false;
    const pump = () => {
      waiting = false;
      while (sent < MSGS && sent - confirmed < WINDOW) {
        const delay = 1000 + Math.floor(Math.random() * SPREAD);
        PROPS.writeInt32BE(delay, DELAY_AT);
        body.writeDoubleBE(Date.now() + delay, 0);
        body.writeUInt32BE(sent, 8);
        p.publishWith(1, X, 'k', PROPS, body);
        sent++;
      }
      p.flush();
      waiting = true;
    };
    p.onAck = (tag, multiple) => {
      confirmed = multiple ? tag : Math.max(confirmed, tag);
      if (confirmed >= MSGS) return resolve();
      if (waiting && sent - confirmed < WINDOW / 2) setImmediate(pump);
    };
    pump();
  });
}

const pct = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'warren-bench-delayed-'));
  const b = startBroker(dir);
  const { port } = await b.listening;
  const con = new Peer();
  await con.connect(port);
  await setup(con);
  const late = new Float64Array(MSGS);
  let got = 0;
  let done;
  const all = new Promise((r) => { done = r; });
  con.onDeliver = (_ch, _tag, body) => {
    late[got++] = Date.now() - body.readDoubleBE(0);
    if (got === MSGS) done();
  };
  await con.consume(1, Q, true);

  const pub = new Peer();
  await pub.connect(port);
  await pub.openChannel(1);
  await pub.confirmSelect(1);
  const t0 = performance.now();
  await publishAll(pub);
  const pubSecs = (performance.now() - t0) / 1000;
  const holdingRss = b.peak();
  console.log(`published ${MSGS} in ${pubSecs.toFixed(1)} s; waiting for the last due times`);
  const deadline = setTimeout(() => done(), SPREAD + 30_000);
  await all;
  clearTimeout(deadline);
  const seen = late.subarray(0, got).sort();
  const lines = [
    `messages            ${MSGS} x 16 B transient, x-delay uniform in 1 s .. ${(1 + SPREAD / 1000).toFixed(0)} s, confirms (window ${WINDOW}), one no-ack consumer`,
    `publish (confirmed) ${Math.round(MSGS / pubSecs)} msg/s (${pubSecs.toFixed(1)} s)`,
    `broker RSS          peak ${Math.round(b.peak())} MiB (${Math.round(holdingRss)} MiB by the end of publishing)`,
    `delivered           ${got} of ${MSGS}; early ${seen.filter((x) => x < 0).length}`,
    `lateness            p50 ${pct(seen, 0.5).toFixed(0)} ms  p99 ${pct(seen, 0.99).toFixed(0)} ms  max ${seen[seen.length - 1].toFixed(0)} ms`,
  ];
  for (const l of lines) console.log(l);
  record('delayed messages (bench/delayed.mjs)', lines);
  pub.close();
  con.close();
  b.proc.kill('SIGTERM');
  await b.exited;
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => { console.error(e); process.exit(1); });
