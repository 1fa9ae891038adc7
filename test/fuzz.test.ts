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
import net from 'node:net';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { external, startBroker, type TestBroker } from './support/broker.js';
import { seededRng, type Rng } from './support/prng.js';

const SEED = Number(process.env.WARREN_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CONNECTIONS = Number(process.env.WARREN_FUZZ_CONNECTIONS ?? 1200);
const CONCURRENCY = 40;

// ------------------------------------------------------------------------------- encoding
const u8 = (n: number) => Buffer.from([n & 0xff]);
const u16 = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16BE(n & 0xffff); return b; };
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
const u64 = (n: number | bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };
const cat = (...parts: Buffer[]) => Buffer.concat(parts);
const shortstr = (s: string) => { const b = Buffer.from(s); return cat(u8(b.length), b); };
const longstr = (s: string | Buffer) => { const b = Buffer.isBuffer(s) ? s : Buffer.from(s); return cat(u32(b.length), b); };
const bits = (...flags: boolean[]) => u8(flags.reduce((acc, f, i) => acc | (f ? 1 << i : 0), 0));
type Value = boolean | number | string | bigint | Buffer | null | Value[] | { [k: string]: Value };
function fieldValue(v: Value): Buffer {
  if (v === null) return Buffer.from('V');
  if (typeof v === 'boolean') return cat(Buffer.from('t'), u8(v ? 1 : 0));
  if (typeof v === 'bigint') return cat(Buffer.from('l'), u64(BigInt.asUintN(64, v)));
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) { const b = Buffer.alloc(8); b.writeDoubleBE(v); return cat(Buffer.from('d'), b); }
    const b = Buffer.alloc(4); b.writeInt32BE(v | 0); return cat(Buffer.from('I'), b);
  }
  if (typeof v === 'string') return cat(Buffer.from('S'), longstr(v));
  if (Buffer.isBuffer(v)) return cat(Buffer.from('x'), longstr(v));
  if (Array.isArray(v)) { const body = cat(...v.map(fieldValue)); return cat(Buffer.from('A'), u32(body.length), body); }
  return cat(Buffer.from('F'), table(v));
}
function table(obj: { [k: string]: Value } = {}): Buffer {
  const body = cat(...Object.entries(obj).map(([k, v]) => cat(shortstr(k), fieldValue(v))));
  return cat(u32(body.length), body);
}
const frame = (type: number, ch: number, payload: Buffer) => cat(u8(type), u16(ch), u32(payload.length), payload, u8(0xce));
const method = (ch: number, cls: number, mth: number, args: Buffer = Buffer.alloc(0)) => frame(1, ch, cat(u16(cls), u16(mth), args));
const PROTOCOL_HEADER = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');

/** Basic properties, any subset, encoded with their flags. */
function properties(rng: Rng): Buffer {
  const fields: [number, () => Buffer][] = [
    [0x8000, () => shortstr(rng.pick(['text/plain', 'application/json', '']))],
    [0x4000, () => shortstr('gzip')],
    [0x2000, () => table(rng.pick<{ [k: string]: Value }>([
      { 'x-match': 'any', a: 1 }, { a: 'x', b: true, n: null }, { nested: { deep: [1, 'two', 3.5] } },
      { 'x-delay': 5, big: 2n ** 40n, bin: Buffer.from([0, 1, 2]) }, {},
    ]))],
    [0x1000, () => u8(rng.pick([1, 2, 0, 255]))],
    [0x0800, () => u8(rng.int(12))],
    [0x0400, () => shortstr('corr-1')],
    [0x0200, () => shortstr(rng.pick(['amq.rabbitmq.reply-to', 'reply-q', '']))],
    [0x0100, () => shortstr(rng.pick(['100', '0', '-5', 'soon', '99999999999999999999', '']))],
    [0x0080, () => shortstr('msg-1')],
    [0x0040, () => u64(Date.now())],
    [0x0020, () => shortstr('type')],
    [0x0010, () => shortstr(rng.pick(['guest', 'someone-else']))],
    [0x0008, () => shortstr('app')],
    [0x0004, () => shortstr('cluster')],
  ];
  let flags = 0;
  const parts: Buffer[] = [];
  for (const [flag, enc] of fields) {
    if (rng.chance(0.3)) { flags |= flag; parts.push(enc()); }
  }
  return cat(u16(flags), ...parts);
}

// ------------------------------------------------------------------------------- sessions
/** A plausible client session, as a list of frames (after the protocol header). */
function session(rng: Rng): Buffer[] {
  const frames: Buffer[] = [];
  const props = { product: 'fuzz', capabilities: { authentication_failure_close: rng.chance(0.5), consumer_cancel_notify: true } };
  frames.push(method(0, 10, 11, cat(table(props), shortstr('PLAIN'), longstr('\0guest\0guest'), shortstr('en_US'))));
  frames.push(method(0, 10, 31, cat(u16(rng.pick([0, 10, 2047, 2047, 2047])), u32(rng.pick([4096, 131072])), u16(rng.pick([0, 0, 0, 1, 60])))));
  frames.push(method(0, 10, 40, cat(shortstr('/'), shortstr(''), u8(0))));
  const channels = rng.pick([[1], [1], [1, 2], [1, 2, 3]]);
  for (const ch of channels) frames.push(method(ch, 20, 10, shortstr('')));
  // Mostly shared names (so connections meet in the same queues), sometimes long non-ASCII ones
  // (whose error texts need cutting to fit a short string).
  const q = rng.chance(0.9) ? `fz-${rng.int(8)}` : `fz-${'\u00e9'.repeat(rng.int(127))}`;
  const x = `fzx-${rng.int(4)}`;
  const steps = 6 + rng.int(12);
  for (let i = 0; i < steps; i++) {
    const ch = rng.pick(channels);
    // Mostly the queue first, so that publishes and consumers meet (across connections too).
    switch (i === 0 && rng.chance(0.7) ? 0 : rng.int(20)) {
      case 0: frames.push(method(ch, 50, 10, cat(u16(0), shortstr(rng.chance(0.2) ? '' : q), bits(false, false, rng.chance(0.2), rng.chance(0.5), false),
        table(rng.pick<{ [k: string]: Value }>([{}, { 'x-message-ttl': 50 }, { 'x-max-length': 2 }, { 'x-expires': 1000 }, { 'x-max-priority': 5 },
          { 'x-dead-letter-exchange': x, 'x-message-ttl': 10 }, { 'x-queue-type': 'classic' }, { 'x-overflow': 'reject-publish', 'x-max-length': 1 }]))))); break;
      case 1: frames.push(method(ch, 40, 10, cat(u16(0), shortstr(x), shortstr(rng.pick(['direct', 'fanout', 'topic', 'headers'])),
        bits(false, false, rng.chance(0.3), false, false), table()))); break;
      case 2: frames.push(method(ch, 50, 20, cat(u16(0), shortstr(q), shortstr(x), shortstr(rng.pick(['rk', '#', '*.a', ''])), bits(false),
        table(rng.pick<{ [k: string]: Value }>([{}, { 'x-match': 'all', a: 1 }, { 'x-match': 'any', a: 'x', b: true }])))));
        break;
      case 3: case 4: case 5: {
        // publish + header + body, the body sometimes split over several frames
        const bodyBytes = rng.bytes(rng.pick([0, 1, 5, 100, 5000]));
        const [exchange, rk] = rng.chance(0.6) ? ['', q] : [rng.pick([x, 'amq.direct', 'amq.topic', 'amq.headers', 'nope']), rng.pick([q, 'rk', 'a.b', ''])];
        frames.push(method(ch, 60, 40, cat(u16(0), shortstr(exchange), shortstr(rk), bits(rng.chance(0.3), false))));
        frames.push(frame(2, ch, cat(u16(60), u16(0), u64(bodyBytes.length), properties(rng))));
        for (let off = 0; off < bodyBytes.length;) {
          const n = Math.min(bodyBytes.length - off, 1 + rng.int(3000));
          frames.push(frame(3, ch, bodyBytes.subarray(off, off + n)));
          off += n;
        }
        break;
      }
      case 6: frames.push(method(ch, 60, 20, cat(u16(0), shortstr(q), shortstr(rng.chance(0.5) ? '' : `ct-${rng.int(3)}`),
        bits(false, rng.chance(0.5), rng.chance(0.2), false), table(rng.chance(0.2) ? { 'x-priority': 3 } : {})))); break;
      case 7: frames.push(method(ch, 60, 80, cat(u64(rng.int(5)), bits(rng.chance(0.3))))); break; // ack
      case 8: frames.push(method(ch, 60, 120, cat(u64(rng.int(5)), bits(rng.chance(0.3), rng.chance(0.5))))); break; // nack
      case 9: frames.push(method(ch, 60, 90, cat(u64(rng.int(5)), bits(rng.chance(0.5))))); break; // reject
      case 10: frames.push(method(ch, 60, 70, cat(u16(0), shortstr(q), bits(rng.chance(0.5))))); break; // get
      case 11: frames.push(method(ch, 60, 10, cat(u32(0), u16(rng.int(5)), bits(rng.chance(0.3))))); break; // qos
      case 12: frames.push(rng.chance(0.5) ? method(ch, 85, 10, bits(false)) : method(ch, 90, rng.pick([10, 20, 30]))); break; // confirm / tx
      case 13: frames.push(method(ch, 60, 30, cat(shortstr(`ct-${rng.int(3)}`), bits(false)))); break; // cancel
      case 14: frames.push(frame(8, 0, Buffer.alloc(0))); break;
      case 15: frames.push(method(ch, 50, rng.pick([30, 40]), cat(u16(0), shortstr(q), bits(false, false, false)))); break; // purge / delete
      case 16: frames.push(method(ch, 20, 20, bits(rng.chance(0.8)))); break; // channel.flow
      case 17: frames.push(method(ch, 60, rng.pick([100, 110]), bits(rng.chance(0.8)))); break; // recover(-async)
      case 18: frames.push(method(ch, 40, rng.pick([30, 40]), cat(u16(0), shortstr(x), shortstr('amq.fanout'), shortstr('rk'), bits(false), table()))); break; // exchange.(un)bind
      case 19: frames.push(method(0, 10, 70, cat(longstr('secret'), shortstr('why')))); break; // update-secret
    }
  }
  if (rng.chance(0.3)) frames.push(method(rng.pick(channels), 20, 40, cat(u16(200), shortstr('bye'), u16(0), u16(0))));
  if (rng.chance(0.3)) frames.push(method(rng.pick(channels), 20, 41));
  if (rng.chance(0.3)) frames.push(method(0, 10, 50, cat(u16(200), shortstr('bye'), u16(0), u16(0))));
  return frames;
}

/** A mutated copy of a frame sequence; `pool` supplies frames from other sessions. */
function mutate(rng: Rng, frames: Buffer[], pool: readonly Buffer[], rate: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < frames.length; i++) {
    // The handshake is mutated less, so that most sessions get to the interesting states.
    const p = i < 3 ? rate / 6 : rate;
    let f = frames[i];
    if (!rng.chance(p)) { out.push(f); continue; }
    f = Buffer.from(f);
    // (frames already cut short by an earlier mutation only get the byte-level ones)
    switch (f.length < 8 ? rng.pick([1, 3, 4, 8, 10]) : rng.int(12)) {
      case 0: { const at = rng.int(f.length); f[at] ^= 1 << rng.int(8); break; } // flip a bit
      case 1: for (let k = f.length > 0 ? 1 + rng.int(4) : 0; k > 0; k--) f[rng.int(f.length)] = rng.int(256); break; // random bytes
      case 2: f = f.subarray(0, rng.int(f.length)); break; // truncate
      case 3: out.push(f); break; // duplicate
      case 4: f = Buffer.from(rng.pick(pool)); break; // splice a frame from another session
      case 5: // a random or nearly right size
        f.writeUInt32BE(rng.pick([0, 1, 3, f.length - 8 + 1, Math.max(0, f.length - 9), rng.int(300000), 0xffffffff]) >>> 0, 3);
        break;
      case 6: f.writeUInt16BE(rng.pick([0, 1, 2, 3, 2047, 2048, rng.int(65536)]), 1); break; // channel
      case 7: f[0] = rng.pick([0, 1, 2, 3, 4, 8, 9, 65, 206, rng.int(256)]); break; // frame type
      case 8: out.push(rng.bytes(1 + rng.int(40))); break; // garbage before it
      case 9: if (i + 1 < frames.length) { out.push(frames[i + 1]); i++; } break; // swap with the next
      case 10: continue; // drop it
      case 11: // change a byte inside the arguments (past class/method ids), where decoders look
        if (f.length > 12) f[11 + rng.int(f.length - 12)] = rng.pick([0, 0xff, 0x7f, 0x80, rng.int(256)]);
        break;
    }
    out.push(f);
  }
  return out;
}

// ------------------------------------------------------------------------------- the client
interface Stats {
  connections: number;
  frames: number;
  bytesIn: number;
  /** What came back, for a view of how deep the fuzzing got: method ids and close codes. */
  replies: Map<string, number>;
}

/** Count the server's methods (and close reply codes) in what a connection received. */
function tally(stats: Stats, data: Buffer): void {
  const count = (k: string) => stats.replies.set(k, (stats.replies.get(k) ?? 0) + 1);
  let pos = data.subarray(0, 4).toString('latin1') === 'AMQP' ? 8 : 0;
  while (pos + 7 <= data.length) {
    const type = data[pos], size = data.readUInt32BE(pos + 3);
    if (pos + 8 + size > data.length) break;
    if (type === 1 && size >= 4) {
      const id = `${data.readUInt16BE(pos + 7)}.${data.readUInt16BE(pos + 9)}`;
      if ((id === '10.50' || id === '20.40') && size >= 6) count(`${id}:${data.readUInt16BE(pos + 11)}`);
      else count(id);
    } else count(`frame-${type}`);
    pos += 8 + size;
  }
}

/** One fuzzing connection: write the (mutated) session in random pieces, read and discard. */
function fuzzConnection(port: number, rng: Rng, pool: readonly Buffer[], stats: Stats): Promise<void> {
  const header = rng.chance(0.97) ? PROTOCOL_HEADER : Buffer.from(PROTOCOL_HEADER.map((c) => (rng.chance(0.3) ? rng.int(256) : c)));
  const frames = mutate(rng, session(rng), pool, rng.pick([0.05, 0.15, 0.3, 0.6]));
  stats.frames += frames.length;
  const data = cat(header, ...frames);
  const answerClose = rng.chance(0.5); // answer the server's connection.close with close-ok
  // How long to stay after writing: 0 (the server may never read it all), a while, or until
  // the server closes (bounded by the 3 s timer).
  const linger = rng.pick([0, 50, 200, 200, 500, Infinity]);
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      tally(stats, cat(...received));
      resolve();
    };
    const timer = setTimeout(finish, 3000);
    sock.on('error', finish);
    sock.on('close', finish);
    const received: Buffer[] = [];
    sock.on('data', (d) => {
      stats.bytesIn += d.length;
      received.push(d);
      // connection.close from the server (in any position in the chunk): maybe answer close-ok
      if (answerClose && d.includes(Buffer.from([0x00, 0x0a, 0x00, 0x32]))) sock.write(method(0, 10, 51));
    });
    sock.on('connect', async () => {
      stats.connections++;
      // Write in random pieces, sometimes pausing, so frames straddle socket reads.
      for (let off = 0; off < data.length && !done;) {
        const n = rng.chance(0.3) ? 1 + rng.int(16) : 1 + rng.int(4096);
        sock.write(data.subarray(off, off + n));
        off += n;
        if (rng.chance(0.05)) await new Promise((r) => setTimeout(r, rng.int(20)));
      }
      if (linger !== Infinity) setTimeout(finish, linger);
    });
  });
}

// ------------------------------------------------------------------------------- the test
let b: TestBroker;
const uncaught: unknown[] = [];
const onUncaught = (err: unknown) => uncaught.push(err);
const stats: Stats = { connections: 0, frames: 0, bytesIn: 0, replies: new Map() };
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
    const rng = seededRng(SEED);
    // Frames to splice in, from other sessions (made up front: the order in which concurrent
    // connections run must not change what they send).
    const pool = Array.from({ length: 50 }, () => session(rng)).flat();
    const started = Date.now();
    let next = 0;
    // Each connection draws from its own generator, seeded from the main one, for the same reason.
    const seeds = Array.from({ length: CONNECTIONS }, () => rng.int(2 ** 31));
    const worker = async () => {
      while (next < CONNECTIONS) {
        const i = next++;
        await fuzzConnection(b.port, seededRng(seeds[i]), pool, stats);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
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
