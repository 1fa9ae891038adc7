// Fuzzing the wire: hundreds of connections, each sending a valid-looking AMQP 0-9-1 session
// (handshake, channel.open, declares, publish + header + body, consume, ack, ...) with random
// mutations: flipped bits and bytes, truncated, duplicated, dropped and reordered frames, frames
// spliced from other sessions, random sizes, channel numbers and frame types, garbage, random
// write boundaries. Warren may answer however the protocol says, but it must not throw out of
// a socket handler (that would end the process), must not hang, must let go of every
// connection, and must then still serve an ordinary client.
//
// The run is reproducible: the seed is printed; WARREN_FUZZ_SEED=N replays it, and
// WARREN_FUZZ_CONNECTIONS=N changes the number of connections.
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { external, startBroker, type TestBroker } from './support/broker.js';
import { fuzz, newStats } from './support/wire-fuzz.js';

const SEED = Number(process.env.WARREN_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CONNECTIONS = Number(process.env.WARREN_FUZZ_CONNECTIONS ?? 1200);
const CONCURRENCY = 40;

// ------------------------------------------------------------------------------- the test
let b: TestBroker;
const uncaught: unknown[] = [];
const onUncaught = (err: unknown) => uncaught.push(err);
const stats = newStats();
let fuzzMs = 0;

describe.skipIf(external)(`wire fuzzing (seed ${SEED})`, () => {
  beforeAll(async () => {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
    b = await startBroker({ handshakeTimeoutMs: 2000 });
  });
  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    await b?.stop();
  });

  it(`${CONNECTIONS} connections of mutated frames leave the broker alive and serving`, async () => {
    console.log(`fuzz seed ${SEED} (replay with WARREN_FUZZ_SEED=${SEED})`);
    const started = Date.now();
    await fuzz(b.port, SEED, { connections: CONNECTIONS }, CONCURRENCY, stats);
    fuzzMs = Date.now() - started;
    console.log(`fuzz: ${stats.connections} connections, ${stats.frames} frames sent, ${stats.bytesIn} bytes back, ${fuzzMs} ms`);
    console.log(`fuzz: replies (class.method[:close code] x count): ${[...stats.replies].sort().map(([k, n]) => `${k} x${n}`).join(', ')}`);

    expect(uncaught, `seed ${SEED}: no exception escaped`).toEqual([]);
    expect(stats.connections).toBe(CONNECTIONS);

    // Let queue timers (message TTL, x-expires) fire while exceptions are still being watched.
    await new Promise((r) => setTimeout(r, 1200));
    expect(uncaught, `seed ${SEED}: no exception escaped`).toEqual([]);

    // Every fuzzing socket is gone: Warren must let go of all of them (nothing hangs).
    const deadline = Date.now() + 5000;
    while (b.broker!.connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(b.broker!.connections.size, `seed ${SEED}: connections left open`).toBe(0);

    // And an ordinary client is served as usual.
    const conn = await amqp.connect(b.url);
    try {
      const ch = await conn.createConfirmChannel();
      const { queue } = await ch.assertQueue('', { exclusive: true });
      ch.sendToQueue(queue, Buffer.from('after the storm'), { contentType: 'text/plain', headers: { n: 1 } });
      await ch.waitForConfirms();
      const got = await ch.get(queue, { noAck: true });
      expect(got && got.content.toString()).toBe('after the storm');
      expect(got && got.properties.headers).toEqual({ n: 1 });
    } finally {
      await conn.close();
    }
    expect(uncaught, `seed ${SEED}: no exception escaped`).toEqual([]);
  }, 60_000);
});
