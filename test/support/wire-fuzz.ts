// Mutated AMQP 0-9-1 traffic for fuzzing Warren over loopback: a seeded PRNG, encoders,
// plausible client sessions, frame mutations, malformed handshakes, and drivers that keep a
// number of such connections going against a port. Used by test/fuzz.test.ts and, through
// bench/ts-import.mjs, by bench/fuzz-load.mjs (so it imports nothing but node builtins).
//
// Everything is reproducible from a seed: every random choice comes from prng(seed), and the
// drivers hand each connection its own generator, seeded in the order connections start, so
// how concurrent connections interleave never changes what they send.
import net from 'node:net';

// ------------------------------------------------------------------------------- PRNG
/** mulberry32: small, fast, good enough to drive mutations, and reproducible from a seed. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n); // 0 .. n-1
  return {
    next,
    int,
    chance: (p: number): boolean => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]!,
    bytes: (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256))),
  };
}
export type Rng = ReturnType<typeof prng>;

// ------------------------------------------------------------------------------- encoding
export const u8 = (n: number) => Buffer.from([n & 0xff]);
export const u16 = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16BE(n & 0xffff); return b; };
export const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
export const u64 = (n: number | bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };
export const cat = (...parts: Buffer[]) => Buffer.concat(parts);
export const shortstr = (s: string) => { const b = Buffer.from(s); return cat(u8(b.length), b); };
export const longstr = (s: string | Buffer) => { const b = Buffer.isBuffer(s) ? s : Buffer.from(s); return cat(u32(b.length), b); };
export const bits = (...flags: boolean[]) => u8(flags.reduce((acc, f, i) => acc | (f ? 1 << i : 0), 0));
export type Value = boolean | number | string | bigint | Buffer | null | Value[] | { [k: string]: Value };
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
export function table(obj: { [k: string]: Value } = {}): Buffer {
  const body = cat(...Object.entries(obj).map(([k, v]) => cat(shortstr(k), fieldValue(v))));
  return cat(u32(body.length), body);
}
export const frame = (type: number, ch: number, payload: Buffer) => cat(u8(type), u16(ch), u32(payload.length), payload, u8(0xce));
export const method = (ch: number, cls: number, mth: number, args: Buffer = Buffer.alloc(0)) => frame(1, ch, cat(u16(cls), u16(mth), args));
export const PROTOCOL_HEADER = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');

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
export function session(rng: Rng): Buffer[] {
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
export function mutate(rng: Rng, frames: Buffer[], pool: readonly Buffer[], rate: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < frames.length; i++) {
    // The handshake is mutated less, so that most sessions get to the interesting states.
    const p = i < 3 ? rate / 6 : rate;
    let f = frames[i]!;
    if (!rng.chance(p)) { out.push(f); continue; }
    f = Buffer.from(f);
    // (frames already cut short by an earlier mutation only get the byte-level ones)
    switch (f.length < 8 ? rng.pick([1, 3, 4, 8, 10]) : rng.int(12)) {
      case 0: { const at = rng.int(f.length); f[at]! ^= 1 << rng.int(8); break; } // flip a bit
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
      case 9: if (i + 1 < frames.length) { out.push(frames[i + 1]!); i++; } break; // swap with the next
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
export interface Stats {
  connections: number;
  frames: number;
  bytesIn: number;
  /** What came back, for a view of how deep the fuzzing got: method ids and close codes. */
  replies: Map<string, number>;
}

/** Count the server's methods (and close reply codes) in what a connection received. */
export function tally(stats: Stats, data: Buffer): void {
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
export function fuzzConnection(port: number, rng: Rng, pool: readonly Buffer[], stats: Stats): Promise<void> {
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

/** Counters for a fresh run. */
export const newStats = (): Stats => ({ connections: 0, frames: 0, bytesIn: 0, replies: new Map() });

export interface FuzzLimit {
  /** Stop starting connections after this many ... */
  connections?: number;
  /** ... or once this many frames were sent (the connection that crosses it still runs). */
  frames?: number;
}

/**
 * Keeps `concurrency` fuzzing connections going (a new one as soon as one is closed) until the
 * limit is reached, and waits for the last of them. Frames to splice in come from 50 sessions
 * made up front, then each connection gets a generator seeded from the main one.
 */
export async function fuzz(port: number, seed: number, limit: FuzzLimit, concurrency = 40, stats = newStats()): Promise<Stats> {
  const rng = prng(seed);
  const pool = Array.from({ length: 50 }, () => session(rng)).flat();
  let started = 0;
  const more = () => started < (limit.connections ?? Infinity) && stats.frames < (limit.frames ?? Infinity);
  const worker = async () => {
    while (more()) {
      started++;
      await fuzzConnection(port, prng(rng.int(2 ** 31)), pool, stats);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return stats;
}

// ------------------------------------------------------------------------------- handshakes
/**
 * One malformed opening of a connection, as bytes: a wrong protocol header (another version,
 * another protocol, garbage, cut short), or the right header followed by a handshake that goes
 * wrong (bad mechanism, credentials or response, broken tables, the wrong frame type or channel,
 * tune values out of range, an unknown vhost, methods out of order, an absurd frame size), or
 * one that simply stops. `kind` names it, for the tally.
 */
export function malformedHandshake(rng: Rng): { kind: string; bytes: Buffer } {
  const props = table({ product: 'fuzz-handshake', capabilities: { authentication_failure_close: true } });
  const startOk = (mech = 'PLAIN', resp: string | Buffer = '\0guest\0guest', p = props, locale = 'en_US') =>
    method(0, 10, 11, cat(p, shortstr(mech), longstr(resp), shortstr(locale)));
  const tuneOk = (chMax = 0, frameMax = 131072, hb = 0) => method(0, 10, 31, cat(u16(chMax), u32(frameMax), u16(hb)));
  const open = (vhost = '/') => method(0, 10, 40, cat(shortstr(vhost), shortstr(''), u8(0)));
  const good = [startOk(), tuneOk(), open()];
  const H = PROTOCOL_HEADER;
  const kinds: [string, () => Buffer][] = [
    ['header: another version', () => Buffer.from(rng.pick(['AMQP\x00\x00\x09\x00', 'AMQP\x01\x01\x00\x09', 'AMQP\x00\x00\x08\x00', 'AMQP\x00\x01\x00\x00', 'AMQP\x03\x01\x00\x00']), 'latin1')],
    ['header: another protocol', () => Buffer.from(rng.pick(['GET / HTTP/1.1\r\nHost: x\r\n\r\n', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 'SSH-2.0-fuzz\r\n', 'PING\r\n']), 'latin1')],
    ['header: garbage', () => rng.bytes(1 + rng.int(64))],
    ['header: cut short', () => H.subarray(0, rng.int(8))],
    ['header: bytes flipped', () => Buffer.from(H.map((c) => (rng.chance(0.4) ? rng.int(256) : c)))],
    ['header: then frames straight away', () => cat(Buffer.from('AMQP\x00\x00\x09\x00', 'latin1'), ...good)],
    ['start-ok: unknown mechanism', () => cat(H, startOk(rng.pick(['EXTERNAL', 'CRAM-MD5', '', 'plain', 'PLAIN AMQPLAIN'])))],
    ['start-ok: wrong credentials', () => cat(H, startOk('PLAIN', rng.pick(['\0guest\0wrong', '\0nobody\0guest', '\0\0', 'guest', '\0guest'])), ...good.slice(1))],
    ['start-ok: AMQPLAIN with a broken table', () => cat(H, startOk('AMQPLAIN', cat(shortstr('LOGIN'), u8(0x53), u32(999), Buffer.from('guest'))))],
    ['start-ok: broken client-properties', () => cat(H, startOk('PLAIN', '\0guest\0guest', cat(u32(rng.pick([0xffffffff, 1000, 3])), rng.bytes(rng.int(20)))))],
    ['start-ok: cut short', () => { const f = startOk(); return cat(H, f.subarray(0, 8 + rng.int(f.length - 8))); }],
    ['start-ok: wrong frame type or channel', () => { const f = Buffer.from(startOk()); if (rng.chance(0.5)) f[0] = rng.pick([2, 3, 8, 0, 4, 77]); else f.writeUInt16BE(1 + rng.int(5), 1); return cat(H, f); }],
    ['start-ok: absurd frame size', () => { const f = Buffer.from(startOk()); f.writeUInt32BE(rng.pick([0, 0xffffffff, 0x7fffffff, 300000]) >>> 0, 3); return cat(H, f); }],
    ['start-ok: no frame end', () => { const f = Buffer.from(startOk()); f[f.length - 1] = rng.pick([0, 0xcd, 0xff]); return cat(H, f); }],
    ['tune-ok: out of range', () => cat(H, startOk(), rng.pick([tuneOk(0, 100), tuneOk(0, 1), tuneOk(65535, 131072), tuneOk(0, 0xffffffff), tuneOk(0, 131072, 1)]), open())],
    ['open: unknown vhost', () => cat(H, startOk(), tuneOk(), open(rng.pick(['nope', '', '/x', '\u00e9'.repeat(100)])))],
    ['out of order', () => cat(H, ...rng.pick([[tuneOk()], [open()], [tuneOk(), startOk()], [startOk(), open()], [startOk(), tuneOk(), tuneOk()],
      [method(0, 20, 10, shortstr(''))], [method(1, 20, 10, shortstr(''))], [startOk(), method(0, 10, 50, cat(u16(200), shortstr('bye'), u16(0), u16(0)))]]))],
    ['heartbeats instead of a handshake', () => cat(H, frame(8, 0, Buffer.alloc(0)), frame(8, 0, Buffer.alloc(0)))],
    ['stops halfway', () => cat(H, ...good.slice(0, rng.int(3)))],
  ];
  const [kind, make] = rng.pick(kinds);
  return { kind, bytes: make() };
}

/**
 * One malformed handshake: written in random pieces, then wait up to `lingerMs` for the server
 * to close (a handshake that just stops would otherwise be held for the handshake timeout).
 * Counts the kind and what came back in `stats.replies` as `kind -> closed|open`.
 */
export function handshakeConnection(port: number, rng: Rng, stats: Stats, lingerMs = 1000): Promise<void> {
  const { kind, bytes } = malformedHandshake(rng);
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let done = false;
    const finish = (how: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const key = `${kind} -> ${how}`;
      stats.replies.set(key, (stats.replies.get(key) ?? 0) + 1);
      resolve();
    };
    const timer = setTimeout(() => finish('still open'), lingerMs);
    sock.on('error', () => finish('closed'));
    sock.on('close', () => finish('closed'));
    sock.on('data', (d) => { stats.bytesIn += d.length; });
    sock.on('connect', () => {
      stats.connections++;
      for (let off = 0; off < bytes.length;) {
        const n = 1 + rng.int(rng.chance(0.5) ? 8 : 512);
        sock.write(bytes.subarray(off, off + n));
        off += n;
      }
    });
  });
}

/** `count` malformed handshakes, `concurrency` at a time. */
export async function handshakes(port: number, seed: number, count: number, concurrency = 20, stats = newStats(), lingerMs = 1000): Promise<Stats> {
  const rng = prng(seed);
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      await handshakeConnection(port, prng(rng.int(2 ** 31)), stats, lingerMs);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return stats;
}
