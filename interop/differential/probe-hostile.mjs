#!/usr/bin/env node
// probe-hostile.mjs: send bad / hostile AMQP 0-9-1 input to a broker and record exactly what it
// sends back. Node builtins only, so it can run against RabbitMQ and against Warren alike.
//
//   node probe-hostile.mjs [PORT=5701] [CASE-FILTER...]   > out.jsonl
//
// or, as a module (the test suite runs it against an in-process Warren):
//
//   import { CASES, runCases, freshClientCheck } from './probe-hostile.mjs';
//   const results = await runCases({ port, filter, waitMs: 1000, concurrency: 16 });
//
// One JSON line per case: {case, frames:[...], socketClosed, msToClose, ...}. Each case uses its
// own TCP connection to 127.0.0.1:PORT. Times (`t`, `msToClose`) are milliseconds since the
// hostile input was written (the "mark"). The client behaves like a polite real client in one
// respect only: it answers a server connection.close with connection.close-ok and a server
// channel.close with channel.close-ok (listed in `clientSent`), unless the case says otherwise.
// After the wait, if the socket is still open, `aliveAfter` says whether a channel.open on a
// fresh channel number still gets channel.open-ok. A CASE-FILTER is a substring of case names.
import net from 'node:net';
import { AsyncLocalStorage } from 'node:async_hooks';
import { pathToFileURL } from 'node:url';

const HOST = '127.0.0.1';
const DEFAULT_PORT = 5701;
// How long to wait for the server to close the socket (RabbitMQ: ~3 s after some errors).
const DEFAULT_WAIT_MS = Number(process.env.PROBE_WAIT_MS || 4500);

// The settings of the current run (port, waits), carried to every Probe a case creates, so that
// runCases() can run cases concurrently. Outside runCases() the CLI defaults apply.
//   host, port      where to connect
//   waitMs          how long finish() waits for the server to close the socket
//   replyTimeoutMs  how long a step waits for an expected reply (returns as soon as it comes)
const runContext = new AsyncLocalStorage();
const defaultContext = () => ({ host: HOST, port: DEFAULT_PORT, waitMs: DEFAULT_WAIT_MS, replyTimeoutMs: DEFAULT_WAIT_MS });
const context = () => runContext.getStore() ?? defaultContext();

// ------------------------------------------------------------------------------- encoding
const u8 = (n) => Buffer.from([n & 0xff]);
const u16 = (n) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
const u64 = (n) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };
const cat = (...parts) => Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
const shortstr = (s) => { const b = Buffer.from(s); return cat(u8(b.length), b); };
const longstr = (s) => { const b = Buffer.isBuffer(s) ? s : Buffer.from(s); return cat(u32(b.length), b); };
const bits = (...flags) => u8(flags.reduce((acc, f, i) => acc | (f ? 1 << i : 0), 0));

function table(obj = {}) {
  const parts = [];
  for (const [k, v] of Object.entries(obj)) {
    parts.push(shortstr(k));
    if (typeof v === 'boolean') parts.push(Buffer.from('t'), u8(v ? 1 : 0));
    else if (typeof v === 'number') { const b = Buffer.alloc(4); b.writeInt32BE(v); parts.push(Buffer.from('I'), b); }
    else if (typeof v === 'string') parts.push(Buffer.from('S'), longstr(v));
    else parts.push(Buffer.from('F'), table(v));
  }
  const body = cat(...parts);
  return cat(u32(body.length), body);
}

const FRAME_END = 0xce;
const frame = (type, ch, payload, end = FRAME_END) => cat(u8(type), u16(ch), u32(payload.length), payload, u8(end));
const methodPayload = (cls, mth, args = Buffer.alloc(0)) => cat(u16(cls), u16(mth), args);
const method = (ch, cls, mth, args) => frame(1, ch, methodPayload(cls, mth, args));
const header = (ch, bodySize, cls = 60) => frame(2, ch, cat(u16(cls), u16(0), u64(bodySize), u16(0)));
const body = (ch, data) => frame(3, ch, Buffer.from(data));
const heartbeat = (ch = 0) => frame(8, ch, Buffer.alloc(0));

const PROTOCOL_HEADER = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');
const CLIENT_PROPERTIES = {
  product: 'probe-hostile',
  capabilities: { authentication_failure_close: true, consumer_cancel_notify: true, 'connection.blocked': true },
};

// Argument encoders for the methods the probes send: M.x(...) returns the method's argument bytes.
const M = {
  startOk: ({ mechanism = 'PLAIN', user = 'guest', pass = 'guest', props = CLIENT_PROPERTIES } = {}) =>
    cat(table(props), shortstr(mechanism), longstr(`\0${user}\0${pass}`), shortstr('en_US')),
  tuneOk: (channelMax, frameMax, hb) => cat(u16(channelMax), u32(frameMax), u16(hb)),
  connOpen: (vhost = '/') => cat(shortstr(vhost), shortstr(''), u8(0)),
  close: (code = 200, text = 'bye', cls = 0, mth = 0) => cat(u16(code), shortstr(text), u16(cls), u16(mth)),
  channelOpen: () => shortstr(''),
  exchangeDeclare: (name, type, { passive, durable, autoDelete, internal, noWait } = {}) =>
    cat(u16(0), shortstr(name), shortstr(type), bits(passive, durable, autoDelete, internal, noWait), table()),
  queueDeclare: (name, { passive, durable, exclusive, autoDelete, noWait } = {}) =>
    cat(u16(0), shortstr(name), bits(passive, durable, exclusive, autoDelete, noWait), table()),
  basicQos: (size, count, global = false) => cat(u32(size), u16(count), bits(global)),
  basicPublish: (exchange, rk, { mandatory, immediate } = {}) => cat(u16(0), shortstr(exchange), shortstr(rk), bits(mandatory, immediate)),
  basicRecover: (requeue) => bits(requeue),
  basicGet: (queue, noAck = true) => cat(u16(0), shortstr(queue), bits(noAck)),
};
// [class, method] ids
const ID = {
  start: [10, 10], startOk: [10, 11], tune: [10, 30], tuneOk: [10, 31], open: [10, 40], openOk: [10, 41],
  close: [10, 50], closeOk: [10, 51],
  chOpen: [20, 10], chOpenOk: [20, 11], chClose: [20, 40], chCloseOk: [20, 41],
  exDeclare: [40, 10], qDeclare: [50, 10], qos: [60, 10], publish: [60, 40], get: [60, 70], recover: [60, 110],
};
const send = (ch, id, args) => method(ch, id[0], id[1], args);

// ------------------------------------------------------------------------------- decoding
const METHOD_NAMES = {
  '10.10': 'connection.start', '10.11': 'connection.start-ok', '10.20': 'connection.secure', '10.21': 'connection.secure-ok',
  '10.30': 'connection.tune', '10.31': 'connection.tune-ok', '10.40': 'connection.open', '10.41': 'connection.open-ok',
  '10.50': 'connection.close', '10.51': 'connection.close-ok', '10.60': 'connection.blocked', '10.61': 'connection.unblocked',
  '10.70': 'connection.update-secret', '10.71': 'connection.update-secret-ok',
  '20.10': 'channel.open', '20.11': 'channel.open-ok', '20.20': 'channel.flow', '20.21': 'channel.flow-ok',
  '20.40': 'channel.close', '20.41': 'channel.close-ok',
  '40.10': 'exchange.declare', '40.11': 'exchange.declare-ok', '50.10': 'queue.declare', '50.11': 'queue.declare-ok',
  '60.10': 'basic.qos', '60.11': 'basic.qos-ok', '60.30': 'basic.cancel', '60.40': 'basic.publish', '60.50': 'basic.return',
  '60.60': 'basic.deliver', '60.70': 'basic.get', '60.71': 'basic.get-ok', '60.72': 'basic.get-empty', '60.80': 'basic.ack', '60.110': 'basic.recover', '60.111': 'basic.recover-ok', '60.120': 'basic.nack',
};

class Reader {
  constructor(buf) { this.b = buf; this.o = 0; }
  u8() { return this.b.readUInt8((this.o += 1) - 1); }
  u16() { return this.b.readUInt16BE((this.o += 2) - 2); }
  u32() { return this.b.readUInt32BE((this.o += 4) - 4); }
  u64() { return Number(this.b.readBigUInt64BE((this.o += 8) - 8)); }
  shortstr() { const n = this.u8(); return this.b.toString('utf8', this.o, (this.o += n)); }
  longstr() { const n = this.u32(); return this.b.toString('utf8', this.o, (this.o += n)); }
  skipTable() { const n = this.u32(); this.o += n; }
}

function decodeMethod(out, payload) {
  const r = new Reader(payload);
  const cls = r.u16(), mth = r.u16();
  Object.assign(out, { cls, mth, name: METHOD_NAMES[`${cls}.${mth}`] ?? 'unknown' });
  try {
    switch (out.name) {
      case 'connection.start':
        out.version = `${r.u8()}-${r.u8()}`; r.skipTable(); out.mechanisms = r.longstr(); out.locales = r.longstr(); break;
      case 'connection.tune': out.channelMax = r.u16(); out.frameMax = r.u32(); out.heartbeat = r.u16(); break;
      case 'connection.close': case 'channel.close':
        out.replyCode = r.u16(); out.replyText = r.shortstr(); out.classId = r.u16(); out.methodId = r.u16(); break;
      case 'basic.return':
        out.replyCode = r.u16(); out.replyText = r.shortstr(); out.exchange = r.shortstr(); out.routingKey = r.shortstr(); break;
      case 'connection.blocked': out.reason = r.shortstr(); break;
      case 'basic.cancel': out.consumerTag = r.shortstr(); break;
      case 'queue.declare-ok': out.queue = r.shortstr(); out.messageCount = r.u32(); out.consumerCount = r.u32(); break;
      default: if (payload.length > 4) out.argsHex = payload.subarray(4, 68).toString('hex');
    }
  } catch (e) { out.decodeError = String(e.message); }
  return out;
}

function decodeFrame(type, ch, payload) {
  const f = { ch };
  switch (type) {
    case 1: f.type = 'method'; return decodeMethod(f, payload);
    case 2: { f.type = 'header'; const r = new Reader(payload); f.cls = r.u16(); r.u16(); f.bodySize = r.u64(); return f; }
    case 3: f.type = 'body'; f.size = payload.length; if (f.size <= 64) f.text = payload.toString('latin1'); return f;
    case 8: f.type = 'heartbeat'; if (payload.length) f.size = payload.length; return f;
    default: f.type = `frame-type-${type}`; f.size = payload.length; return f;
  }
}

// ------------------------------------------------------------------------------- the probe client
class Probe {
  constructor(name, { autoCloseOk = true, autoChannelCloseOk = true, rawHex = false } = {}) {
    Object.assign(this, { name, autoCloseOk, autoChannelCloseOk, rawHex });
    this.buf = Buffer.alloc(0);
    this.frames = []; // recorded frames (only while recording)
    this.all = []; // every decoded frame, for waitFor
    this.raw = []; // raw received bytes after the mark (rawHex cases)
    this.clientSent = [];
    this.recording = false;
    this.mark = Date.now();
    this.closed = false;
    this.closeInfo = null;
    this.waiters = new Set();
    this.ctx = context();
  }

  now() { return Date.now() - this.mark; }

  connect() {
    return new Promise((resolve, reject) => {
      this.sock = net.connect({ host: this.ctx.host, port: this.ctx.port }, resolve);
      this.sock.setNoDelay(true);
      this.sock.on('error', (e) => { if (!this.sock.connecting) this.onClose(`error:${e.code}`); else reject(e); });
      this.sock.on('data', (d) => this.onData(d));
      this.sock.on('end', () => this.onClose('fin'));
      this.sock.on('close', () => this.onClose('close'));
    });
  }

  onClose(how) {
    (this.closeEvents ??= []).push(how); // e.g. ['fin', 'close'] or ['error:ECONNRESET', 'close']
    if (this.closed) return;
    this.closed = true;
    this.closeInfo = { how, at: this.now() };
    this.notify();
  }

  startRecording() { this.mark = Date.now(); this.recording = true; }

  write(buf) { if (!this.closed && !this.sock.destroyed) this.sock.write(buf); }

  // write the hostile input and start the clock
  hostile(buf) { this.startRecording(); this.write(buf); }

  onData(d) {
    if (this.recording && this.rawHex) this.raw.push(d);
    this.buf = cat(this.buf, d);
    for (;;) {
      if (this.buf.length >= 4 && this.buf.subarray(0, 4).toString('latin1') === 'AMQP') {
        if (this.buf.length < 8) return;
        this.push({ type: 'protocol-header', hex: this.buf.subarray(0, 8).toString('hex') });
        this.buf = this.buf.subarray(8);
        continue;
      }
      if (this.buf.length < 7) return;
      const type = this.buf[0], ch = this.buf.readUInt16BE(1), size = this.buf.readUInt32BE(3);
      if (size > 16 * 1024 * 1024) { this.push({ type: 'garbage', hex: this.buf.subarray(0, 64).toString('hex') }); this.buf = Buffer.alloc(0); return; }
      if (this.buf.length < size + 8) return;
      let f;
      try {
        f = decodeFrame(type, ch, this.buf.subarray(7, 7 + size));
      } catch (e) { // a malformed frame from the server: record it as it is
        f = { ch, type: `undecodable-frame-type-${type}`, hex: this.buf.subarray(7, 7 + Math.min(size, 64)).toString('hex'), decodeError: String(e.message) };
      }
      if (this.buf[7 + size] !== FRAME_END) f.badFrameEnd = this.buf[7 + size];
      this.buf = this.buf.subarray(size + 8);
      this.push(f);
      this.autoReply(f);
    }
  }

  push(f) {
    f.t = this.now();
    this.all.push(f);
    if (this.recording) this.frames.push(f);
    this.notify();
  }

  autoReply(f) {
    if (f.name === 'connection.close' && this.autoCloseOk) this.reply(0, ID.closeOk, 'connection.close-ok');
    if (f.name === 'channel.close' && this.autoChannelCloseOk) this.reply(f.ch, ID.chCloseOk, `channel.close-ok@ch${f.ch}`);
  }

  reply(ch, id, label) { this.clientSent.push({ t: this.now(), sent: label }); this.write(send(ch, id)); }

  notify() { for (const w of this.waiters) w(); }

  // resolve with the first frame (seen after `from` frames) matching pred, or null on timeout / close
  waitFor(pred, timeout = this.ctx.replyTimeoutMs, from = 0) {
    return new Promise((resolve) => {
      const check = () => {
        const f = this.all.slice(from).find(pred);
        if (f || this.closed) { done(f ?? null); return true; }
        return false;
      };
      const done = (v) => { clearTimeout(timer); this.waiters.delete(check); resolve(v); };
      const timer = setTimeout(() => done(null), timeout);
      this.waiters.add(check);
      check();
    });
  }

  waitMethod(name, timeout, from) { return this.waitFor((f) => f.name === name, timeout, from); }

  // wait until the server closes the socket, or `ms` elapses
  waitClose(ms = this.ctx.waitMs) {
    return new Promise((resolve) => {
      const check = () => { if (this.closed) { done(); return true; } return false; };
      const done = () => { clearTimeout(timer); this.waiters.delete(check); resolve(); };
      const timer = setTimeout(done, ms);
      this.waiters.add(check);
      check();
    });
  }

  sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

  destroy() { if (this.sock && !this.sock.destroyed) this.sock.destroy(); }
}

// full handshake; returns the probe (throws if the server did not answer as expected)
async function handshake(p, { tune = [2047, 131072, 0] } = {}) {
  p.write(PROTOCOL_HEADER);
  if (!(await p.waitMethod('connection.start'))) throw new Error('no connection.start');
  p.write(send(0, ID.startOk, M.startOk()));
  if (!(await p.waitMethod('connection.tune'))) throw new Error('no connection.tune');
  p.write(send(0, ID.tuneOk, M.tuneOk(...tune)));
  p.write(send(0, ID.open, M.connOpen('/')));
  if (!(await p.waitMethod('connection.open-ok'))) throw new Error('no connection.open-ok');
  return p;
}

async function openChannel(p, ch) {
  const from = p.all.length;
  p.write(send(ch, ID.chOpen, M.channelOpen()));
  if (!(await p.waitMethod('channel.open-ok', undefined, from))) throw new Error(`no channel.open-ok on ${ch}`);
}

// a connected, opened probe (optionally with channel 1 open)
async function ready(name, { channel = true, ...opts } = {}) {
  const p = new Probe(name, opts);
  await p.connect();
  await handshake(p);
  if (channel) await openChannel(p, 1);
  return p;
}

// wait for the server to close (or the case's wait), then check the connection still works, and report
async function finish(p, { wait = p.ctx.waitMs, aliveChannel = 77, extra = {} } = {}) {
  await p.waitClose(wait);
  const res = { case: p.name, frames: p.frames, socketClosed: p.closed, msToClose: p.closed ? p.closeInfo.at : null };
  if (p.closed) res.closedBy = p.closeEvents.filter((e) => e !== 'close').join('+') || 'close';
  if (p.clientSent.length) res.clientSent = p.clientSent;
  if (p.rawHex) res.rawHex = cat(...p.raw).toString('hex');
  if (!p.closed && aliveChannel != null) {
    p.recording = false;
    const from = p.all.length;
    p.write(send(aliveChannel, ID.chOpen, M.channelOpen()));
    const f = await p.waitFor((x) => x.ch === aliveChannel || x.name === 'connection.close', 1500, from);
    res.aliveAfter = f?.name === 'channel.open-ok';
    if (f && !res.aliveAfter) res.aliveProbeReply = f;
  }
  p.destroy();
  return Object.assign(res, extra);
}

// shorthand: handshake, channel 1 open, send one buffer, report
const simple = (name, buf, opts = {}) => async () => {
  const p = await ready(name, opts);
  p.hostile(typeof buf === 'function' ? buf() : buf);
  return finish(p, opts.finish);
};

// ------------------------------------------------------------------------------- the cases
// Each case: { name, run, waitMs }. waitMs, when set, is the case's own wait for the server to
// close the socket (heartbeats, handshake and close timeouts), kept whatever wait a run uses for
// the other cases; finish() returns as soon as the socket closes, so it is only an upper bound.
export const CASES = [];
const def = (name, run, { waitMs } = {}) => CASES.push({ name, run, waitMs });

// 1. wrong protocol headers (raw bytes back, in hex)
for (const [label, hdr] of [
  ['AMQP-1-1-0-9', 'AMQP\x01\x01\x00\x09'],
  ['HTTP/1.1', 'HTTP/1.1'],
  ['AMQP-0-0-9-2', 'AMQP\x00\x00\x09\x02'],
  ['AMQP-1-1-9-1', 'AMQP\x01\x01\x09\x01'],
  ['AMQP-0-1-0-0', 'AMQP\x00\x01\x00\x00'],
  ['GET-request', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'],
]) {
  def(`01-bad-protocol-header ${label}`, async () => {
    const p = new Probe(`01-bad-protocol-header ${label}`, { rawHex: true });
    await p.connect();
    p.hostile(Buffer.from(hdr, 'latin1'));
    return finish(p, { aliveChannel: null });
  });
}

// 2. bad frame-end octet
def('02-bad-frame-end channel.open end=0x00',
  simple('02-bad-frame-end channel.open end=0x00', frame(1, 2, methodPayload(20, 10, M.channelOpen()), 0x00)));

def('02-bad-frame-end, client never sends close-ok', simple('02-bad-frame-end, client never sends close-ok',
  frame(1, 2, methodPayload(20, 10, M.channelOpen()), 0x00), { autoCloseOk: false }));

// 3. frames larger than frame_max (only the 7-byte header, then a little payload)
def('03-frame-too-large size=200000 ch1 type1', simple('03-frame-too-large size=200000 ch1 type1',
  cat(u8(1), u16(1), u32(200000), Buffer.alloc(64))));
def('03-frame-too-large size=0xFFFFFFF0 ch1 type1', simple('03-frame-too-large size=0xFFFFFFF0 ch1 type1',
  cat(u8(1), u16(1), u32(0xfffffff0), Buffer.alloc(64))));
def('03-frame-size=frame_max+1 (131065 payload) ch1 type3', simple('03-frame-size=frame_max+1 (131065 payload) ch1 type3',
  frame(3, 1, Buffer.alloc(131065))));

// 4. unknown frame types
for (const type of [9, 0]) for (const ch of [0, 1]) {
  const name = `04-unknown-frame-type type=${type} ch=${ch}`;
  def(name, simple(name, frame(type, ch, Buffer.from('abcd'))));
}

// 5. unknown class / method ids
def('05-unknown-class 99.10 ch1', simple('05-unknown-class 99.10 ch1', method(1, 99, 10, Buffer.alloc(4))));
def('05-unknown-method 20.99 ch1', simple('05-unknown-method 20.99 ch1', method(1, 20, 99, Buffer.alloc(4))));
def('05-unknown-method 60.99 ch1', simple('05-unknown-method 60.99 ch1', method(1, 60, 99, Buffer.alloc(4))));
def('05-unknown-method 10.99 ch0', simple('05-unknown-method 10.99 ch0', method(0, 10, 99, Buffer.alloc(4))));

// 6. methods on a never-opened channel
def('06-unopened-channel basic.qos ch5', simple('06-unopened-channel basic.qos ch5', send(5, ID.qos, M.basicQos(0, 10))));
def('06-unopened-channel queue.declare ch5', simple('06-unopened-channel queue.declare ch5', send(5, ID.qDeclare, M.queueDeclare('q6'))));

// 7. channel.open twice
def('07-channel-open-twice ch1', simple('07-channel-open-twice ch1', send(1, ID.chOpen, M.channelOpen())));

// 8. content header without basic.publish
def('08-header-without-publish ch1', simple('08-header-without-publish ch1', header(1, 5)));

// 9. body without header
def('09-body-without-header ch1', simple('09-body-without-header ch1', body(1, 'hello')));

// 10. basic.publish followed by a method instead of the content header
def('10-publish-then-method ch1', simple('10-publish-then-method ch1',
  cat(send(1, ID.publish, M.basicPublish('', 'q10')), send(1, ID.qos, M.basicQos(0, 10)))));
def('10-publish-then-body ch1', simple('10-publish-then-body ch1',
  cat(send(1, ID.publish, M.basicPublish('', 'q10')), body(1, 'hello'))));

// 11. content header with class 50
def('11-header-class-50 ch1', simple('11-header-class-50 ch1',
  cat(send(1, ID.publish, M.basicPublish('', 'q11')), header(1, 5, 50), body(1, 'hello'))));

// 12. body larger than announced
def('12-body-longer-than-header 5 vs 10', simple('12-body-longer-than-header 5 vs 10',
  cat(send(1, ID.publish, M.basicPublish('', 'q12')), header(1, 5), body(1, '0123456789'))));
def('12-body-split 5 = 3 + 4', simple('12-body-split 5 = 3 + 4',
  cat(send(1, ID.publish, M.basicPublish('', 'q12')), header(1, 5), body(1, '012'), body(1, '3456'))));

for (const [i, [label, frames]] of [['5 vs 10', [body(1, '0123456789')]], ['5 = 3 + 4', [body(1, '012'), body(1, '3456')]],
  ['5 = 5 + extra body frame', [body(1, '01234'), body(1, 'extra')]]].entries()) {
  const name = `12-body-longer-than-header ${label}, then basic.get`;
  const q = `q12-get-${i}`; // exclusive: each case its own, as cases may run concurrently
  def(name, async () => {
    const p = await ready(name);
    p.write(send(1, ID.qDeclare, M.queueDeclare(q, { exclusive: true })));
    await p.waitMethod('queue.declare-ok');
    p.hostile(cat(send(1, ID.publish, M.basicPublish('', q)), header(1, 5), ...frames));
    await p.sleep(300);
    p.clientSent.push({ t: p.now(), sent: 'basic.get q12-get' });
    p.write(send(1, ID.get, M.basicGet(q)));
    await p.sleep(300);
    p.clientSent.push({ t: p.now(), sent: 'basic.get q12-get' });
    p.write(send(1, ID.get, M.basicGet(q)));
    return finish(p);
  });
}

// 13. truncated method arguments (frame itself well-formed)
def('13-truncated-args queue.declare', simple('13-truncated-args queue.declare',
  method(1, 50, 10, M.queueDeclare('a-queue-name').subarray(0, 6))));
def('13-truncated-args basic.qos (3 of 7 bytes)', simple('13-truncated-args basic.qos (3 of 7 bytes)',
  method(1, 60, 10, M.basicQos(0, 10).subarray(0, 3))));
def('13-method-frame-too-short (2 bytes)', simple('13-method-frame-too-short (2 bytes)', frame(1, 1, u16(60))));

// 14. trailing garbage after valid arguments
def('14-trailing-garbage channel.open +3', simple('14-trailing-garbage channel.open +3',
  method(2, 20, 10, cat(M.channelOpen(), Buffer.from([1, 2, 3])))));
def('14-trailing-garbage basic.qos +3', simple('14-trailing-garbage basic.qos +3',
  method(1, 60, 10, cat(M.basicQos(0, 10), Buffer.from([1, 2, 3])))));

// 15. channel above channel_max
def('15-channel-above-max ch3000', simple('15-channel-above-max ch3000', send(3000, ID.chOpen, M.channelOpen())));
def('15-channel-at-max ch2047', simple('15-channel-at-max ch2047', send(2047, ID.chOpen, M.channelOpen())));
def('15-channel-above-max ch65535', simple('15-channel-above-max ch65535', send(65535, ID.chOpen, M.channelOpen())));
def('15-channel-max+1 ch2048', simple('15-channel-max+1 ch2048', send(2048, ID.chOpen, M.channelOpen())));

// 16. heartbeat on a non-zero channel
def('16-heartbeat-on-ch1', simple('16-heartbeat-on-ch1', heartbeat(1)));
def('16-heartbeat-with-payload ch0', simple('16-heartbeat-with-payload ch0', frame(8, 0, Buffer.from('xy'))));

// 17. authentication failures (handshake cases: recording starts with the protocol header)
const authCase = (name, startOkArgs) => def(name, async () => {
  const p = new Probe(name);
  await p.connect();
  p.startRecording();
  p.write(PROTOCOL_HEADER);
  await p.waitMethod('connection.start');
  p.write(send(0, ID.startOk, startOkArgs));
  return finish(p, { aliveChannel: null });
});
authCase('17-auth wrong password', M.startOk({ pass: 'wrong' }));
authCase('17-auth unknown user', M.startOk({ user: 'nobody', pass: 'x' }));
authCase('17-auth mechanism FOO', M.startOk({ mechanism: 'FOO' }));
authCase('17-auth wrong password, no authentication_failure_close capability',
  M.startOk({ pass: 'wrong', props: { product: 'probe-hostile' } }));
authCase('17-auth PLAIN response garbage', cat(table(CLIENT_PROPERTIES), shortstr('PLAIN'), longstr('garbage'), shortstr('en_US')));

// 18. unknown vhost
def('18-open-unknown-vhost nope', async () => {
  const p = new Probe('18-open-unknown-vhost nope');
  await p.connect();
  p.write(PROTOCOL_HEADER);
  await p.waitMethod('connection.start');
  p.write(send(0, ID.startOk, M.startOk()));
  await p.waitMethod('connection.tune');
  p.write(send(0, ID.tuneOk, M.tuneOk(2047, 131072, 0)));
  p.hostile(send(0, ID.open, M.connOpen('nope')));
  return finish(p, { aliveChannel: null });
});

// 19. odd tune-ok values; then connection.open and (if opened) channel.open on channel 1
for (const [label, tune] of [
  ['frame_max=100', [2047, 100, 0]],
  ['frame_max=0', [2047, 0, 0]],
  ['frame_max=200000', [2047, 200000, 0]],
  ['frame_max=4096', [2047, 4096, 0]],
  ['channel_max=0', [0, 131072, 0]],
  ['channel_max=65535', [65535, 131072, 0]],
  ['channel_max=10 then open ch11', [10, 131072, 0]],
  ['heartbeat=0', [2047, 131072, 0]],
  ['heartbeat=65535', [2047, 131072, 65535]],
]) {
  const name = `19-tune-ok ${label}`;
  def(name, async () => {
    const p = new Probe(name);
    await p.connect();
    p.write(PROTOCOL_HEADER);
    await p.waitMethod('connection.start');
    p.write(send(0, ID.startOk, M.startOk()));
    await p.waitMethod('connection.tune');
    p.hostile(send(0, ID.tuneOk, M.tuneOk(...tune)));
    p.write(send(0, ID.open, M.connOpen('/')));
    const ok = await p.waitFor((f) => f.name === 'connection.open-ok' || f.name === 'connection.close', 1500);
    if (ok?.name === 'connection.open-ok') p.write(send(tune[0] === 10 ? 11 : 1, ID.chOpen, M.channelOpen()));
    return finish(p, { aliveChannel: 5 });
  });
}

// 20. methods of the wrong class for the channel
def('20-connection.open on ch1', simple('20-connection.open on ch1', send(1, ID.open, M.connOpen('/'))));
def('20-channel.open on ch0', simple('20-channel.open on ch0', send(0, ID.chOpen, M.channelOpen())));
def('20-basic.qos on ch0', simple('20-basic.qos on ch0', send(0, ID.qos, M.basicQos(0, 10))));
def('20-connection.tune-ok again on ch0 after open', simple('20-connection.tune-ok again on ch0 after open',
  send(0, ID.tuneOk, M.tuneOk(2047, 131072, 0))));

// 21. channel-level (soft) and connection-level (hard) errors from ordinary methods
def('21-publish to missing exchange nope', simple('21-publish to missing exchange nope',
  cat(send(1, ID.publish, M.basicPublish('nope', 'rk')), header(1, 5), body(1, 'hello'))));
def('21-exchange.declare type bogus', simple('21-exchange.declare type bogus', send(1, ID.exDeclare, M.exchangeDeclare('x21', 'bogus'))));
def('21-exchange.declare name amq.foo', simple('21-exchange.declare name amq.foo', send(1, ID.exDeclare, M.exchangeDeclare('amq.foo', 'direct'))));
def('21-exchange.declare passive missing', simple('21-exchange.declare passive missing',
  send(1, ID.exDeclare, M.exchangeDeclare('missing-x', 'direct', { passive: true }))));
def('21-queue.declare passive missing', simple('21-queue.declare passive missing',
  send(1, ID.qDeclare, M.queueDeclare('missing-q', { passive: true }))));
def('21-basic.qos prefetch_size=10', simple('21-basic.qos prefetch_size=10', send(1, ID.qos, M.basicQos(10, 0))));
def('21-basic.publish immediate=true', simple('21-basic.publish immediate=true',
  cat(send(1, ID.publish, M.basicPublish('', 'q21', { immediate: true })), header(1, 5), body(1, 'hello'))));
def('21-basic.publish immediate=true (method only)', simple('21-basic.publish immediate=true (method only)',
  send(1, ID.publish, M.basicPublish('', 'q21', { immediate: true }))));
def('21-basic.recover requeue=false', simple('21-basic.recover requeue=false', send(1, ID.recover, M.basicRecover(false))));
def('21-basic.publish mandatory unroutable', simple('21-basic.publish mandatory unroutable',
  cat(send(1, ID.publish, M.basicPublish('', 'no-such-queue', { mandatory: true })), header(1, 5), body(1, 'hello'))));

// 22. huge content
def('22-header body_size=200MiB (header only)', simple('22-header body_size=200MiB (header only)',
  cat(send(1, ID.publish, M.basicPublish('', 'q22')), header(1, 200 * 1024 * 1024))));
def('22-header body_size=2^63-1 (header only)', simple('22-header body_size=2^63-1 (header only)',
  () => cat(send(1, ID.publish, M.basicPublish('', 'q22')), frame(2, 1, cat(u16(60), u16(0), u64(2n ** 63n - 1n), u16(0))))));
def('22-full message of 134217729 bytes (max_message_size+1)', async () => {
  const p = await ready('22-full message of 134217729 bytes (max_message_size+1)');
  const size = 134217729, chunk = Buffer.alloc(131072 - 8, 0x61);
  p.hostile(cat(send(1, ID.publish, M.basicPublish('', 'q22')), header(1, size)));
  // Like a real client, stop sending the body once the server has closed the channel (RabbitMQ
  // only says so after the last body frame; a body frame after our channel.close-ok would be a
  // frame on a closed channel).
  const channelClosed = () => p.frames.some((f) => f.name === 'channel.close' || f.name === 'connection.close');
  let left = size;
  for (; left > 0 && !p.closed && !channelClosed(); left -= chunk.length) {
    const ok = p.sock.write(body(1, left >= chunk.length ? chunk : chunk.subarray(0, left)));
    if (!ok) {
      await new Promise((r) => {
        const done = () => { p.sock.off('drain', done); p.sock.off('close', done); r(); };
        p.sock.on('drain', done);
        p.sock.on('close', done);
      });
    }
  }
  p.clientSent.push({ t: p.now(), sent: left > 0 ? `stopped the body, ${left} bytes short` : 'last body frame' });
  await p.waitFor((f) => f.name === 'channel.close' || f.name === 'connection.close', 10000); // RabbitMQ: after the last body frame
  return finish(p);
});

// 23. close handshake misuse
def('23-channel.close-ok on a channel that is not closing', simple('23-channel.close-ok on a channel that is not closing', send(1, ID.chCloseOk)));
def('23-channel.close-ok on a never-opened channel', simple('23-channel.close-ok on a never-opened channel', send(4, ID.chCloseOk)));
def('23-client channel.close then basic.qos before close-ok', simple('23-client channel.close then basic.qos before close-ok',
  cat(send(1, ID.chClose, M.close(200, 'bye')), send(1, ID.qos, M.basicQos(0, 10)))));
def('23-server channel.close, client sends more methods, then close-ok, then reopen', async () => {
  const p = await ready('23-server channel.close, client sends more methods, then close-ok, then reopen', { autoChannelCloseOk: false });
  p.hostile(send(1, ID.qDeclare, M.queueDeclare('missing-q', { passive: true })));
  await p.waitMethod('channel.close');
  p.clientSent.push({ t: p.now(), sent: 'basic.qos + queue.declare + channel.open + body on ch1' });
  p.write(cat(send(1, ID.qos, M.basicQos(0, 10)), send(1, ID.qDeclare, M.queueDeclare('q23')), send(1, ID.chOpen, M.channelOpen()), body(1, 'x')));
  await p.sleep(500);
  p.reply(1, ID.chCloseOk, 'channel.close-ok@ch1');
  await p.sleep(300);
  p.clientSent.push({ t: p.now(), sent: 'channel.open@ch1' });
  p.write(send(1, ID.chOpen, M.channelOpen()));
  return finish(p);
});
def('23-server channel.close, client sends methods only, then close-ok, then reopen', async () => {
  const p = await ready('23-server channel.close, client sends methods only, then close-ok, then reopen', { autoChannelCloseOk: false });
  p.hostile(send(1, ID.qDeclare, M.queueDeclare('missing-q', { passive: true })));
  await p.waitMethod('channel.close');
  p.clientSent.push({ t: p.now(), sent: 'basic.qos + queue.declare on ch1' });
  p.write(cat(send(1, ID.qos, M.basicQos(0, 10)), send(1, ID.qDeclare, M.queueDeclare('q23'))));
  await p.sleep(500);
  p.reply(1, ID.chCloseOk, 'channel.close-ok@ch1');
  await p.sleep(300);
  p.clientSent.push({ t: p.now(), sent: 'channel.open@ch1' });
  p.write(send(1, ID.chOpen, M.channelOpen()));
  return finish(p);
});
def('23-server channel.close, client sends channel.open on it before close-ok', async () => {
  const p = await ready('23-server channel.close, client sends channel.open on it before close-ok', { autoChannelCloseOk: false });
  p.hostile(send(1, ID.qDeclare, M.queueDeclare('missing-q', { passive: true })));
  await p.waitMethod('channel.close');
  p.clientSent.push({ t: p.now(), sent: 'channel.open on ch1' });
  p.write(send(1, ID.chOpen, M.channelOpen()));
  return finish(p);
});
def('23-server channel.close, client sends publish+header+body, then close-ok', async () => {
  const p = await ready('23-server channel.close, client sends publish+header+body, then close-ok', { autoChannelCloseOk: false });
  p.hostile(send(1, ID.qDeclare, M.queueDeclare('missing-q', { passive: true })));
  await p.waitMethod('channel.close');
  p.clientSent.push({ t: p.now(), sent: 'basic.publish + header + body on ch1' });
  p.write(cat(send(1, ID.publish, M.basicPublish('', 'q23')), header(1, 5), body(1, 'hello')));
  await p.sleep(500);
  p.reply(1, ID.chCloseOk, 'channel.close-ok@ch1');
  return finish(p);
});
def('23-server connection.close, client sends more, then close-ok', async () => {
  const p = await ready('23-server connection.close, client sends more, then close-ok', { autoCloseOk: false });
  p.hostile(frame(9, 0, Buffer.alloc(0)));
  await p.waitMethod('connection.close');
  p.clientSent.push({ t: p.now(), sent: 'channel.open@ch2 + basic.qos@ch1 + garbage frame type 9' });
  p.write(cat(send(2, ID.chOpen, M.channelOpen()), send(1, ID.qos, M.basicQos(0, 10)), frame(9, 0, Buffer.alloc(0))));
  await p.sleep(500);
  if (!p.closed) p.reply(0, ID.closeOk, 'connection.close-ok');
  return finish(p);
});
def('23-server connection.close, client never sends close-ok (heartbeat 0, wait 35 s)', async () => {
  const p = await ready('23-server connection.close, client never sends close-ok (heartbeat 0, wait 35 s)', { autoCloseOk: false });
  p.hostile(frame(9, 0, Buffer.alloc(0)));
  return finish(p);
}, { waitMs: 35000 });
def('23-client connection.close with open channel', simple('23-client connection.close with open channel',
  send(0, ID.close, M.close(200, 'client bye')), { autoCloseOk: false }));
def('23-client connection.close, then client keeps socket open (wait 35 s)', simple('23-client connection.close, then client keeps socket open (wait 35 s)',
  send(0, ID.close, M.close(200, 'client bye'))), { waitMs: 35000 });
def('23-client connection.close then more methods', simple('23-client connection.close then more methods',
  cat(send(0, ID.close, M.close(200, 'client bye')), send(1, ID.qos, M.basicQos(0, 10)), send(2, ID.chOpen, M.channelOpen()))));

// 24. skipping tune-ok
def('24-connection.open without tune-ok', async () => {
  const p = new Probe('24-connection.open without tune-ok');
  await p.connect();
  p.write(PROTOCOL_HEADER);
  await p.waitMethod('connection.start');
  p.write(send(0, ID.startOk, M.startOk()));
  await p.waitMethod('connection.tune');
  p.hostile(send(0, ID.open, M.connOpen('/')));
  return finish(p, { aliveChannel: null });
});
def('24-start-ok + open in one write (no tune-ok)', async () => {
  const p = new Probe('24-start-ok + open in one write (no tune-ok)');
  await p.connect();
  p.write(PROTOCOL_HEADER);
  await p.waitMethod('connection.start');
  p.hostile(cat(send(0, ID.startOk, M.startOk()), send(0, ID.open, M.connOpen('/'))));
  return finish(p, { aliveChannel: null });
});
def('24-channel.open before connection.open', async () => {
  const p = new Probe('24-channel.open before connection.open');
  await p.connect();
  p.write(PROTOCOL_HEADER);
  await p.waitMethod('connection.start');
  p.write(send(0, ID.startOk, M.startOk()));
  await p.waitMethod('connection.tune');
  p.write(send(0, ID.tuneOk, M.tuneOk(2047, 131072, 0)));
  p.hostile(send(1, ID.chOpen, M.channelOpen()));
  return finish(p, { aliveChannel: null });
});
def('24-second protocol header after handshake', simple('24-second protocol header after handshake', PROTOCOL_HEADER));
def('24-no start-ok (wait 12 s after connection.start)', async () => {
  const p = new Probe('24-no start-ok (wait 12 s after connection.start)');
  await p.connect();
  p.hostile(PROTOCOL_HEADER);
  return finish(p, { aliveChannel: null });
}, { waitMs: 12000 });

// 25. missing heartbeats
for (const hb of [1, 2]) {
  const name = `25-heartbeat=${hb}, client silent`;
  def(name, async () => {
    const p = new Probe(name);
    await p.connect();
    p.write(PROTOCOL_HEADER);
    await p.waitMethod('connection.start');
    p.write(send(0, ID.startOk, M.startOk()));
    await p.waitMethod('connection.tune');
    p.write(send(0, ID.tuneOk, M.tuneOk(2047, 131072, hb)));
    p.write(send(0, ID.open, M.connOpen('/')));
    await p.waitMethod('connection.open-ok');
    p.startRecording(); // mark = open-ok received; from now on the client sends nothing
    return finish(p);
  }, { waitMs: 5000 + hb * 3000 });
}

// 26. content headers with odd sizes, weights and property lists (publish to the default
// exchange, so the message would be routable if the header were accepted)
const rawHeader = (ch, size, props, { cls = 60, weight = 0 } = {}) => frame(2, ch, cat(u16(cls), u16(weight), u64(size), props));
const pub = (rk = 'q26', exchange = '') => send(1, ID.publish, M.basicPublish(exchange, rk));
for (const [label, frames] of [
  ['header payload 10 bytes', () => [frame(2, 1, cat(u16(60), u16(0), u32(0), u16(5))), body(1, 'hello')]],
  ['header without property flags (12 bytes)', () => [rawHeader(1, 5, Buffer.alloc(0)), body(1, 'hello')]],
  ['header weight=1', () => [rawHeader(1, 5, u16(0), { weight: 1 }), body(1, 'hello')]],
  ['props content-type flag, no value', () => [rawHeader(1, 5, u16(0x8000)), body(1, 'hello')]],
  ['props content-type longer than the frame', () => [rawHeader(1, 5, cat(u16(0x8000), u8(200), Buffer.from('text'))), body(1, 'hello')]],
  ['props trailing bytes', () => [rawHeader(1, 5, cat(u16(0x1000), u8(2), Buffer.from([7, 7]))), body(1, 'hello')]],
  ['props headers table with unknown type Z', () => [rawHeader(1, 5, cat(u16(0x2000), u32(7), shortstr('k'), Buffer.from('Z'), u32(0))), body(1, 'hello')]],
  ['props headers table length past the end', () => [rawHeader(1, 5, cat(u16(0x2000), u32(1000), shortstr('k'))), body(1, 'hello')]],
  ['props continuation bit set', () => [rawHeader(1, 5, u16(0x0001)), body(1, 'hello')]],
  ['props last two flag bits set', () => [rawHeader(1, 5, cat(u16(0x0006), shortstr('c'))), body(1, 'hello')]],
  ['props malformed, body_size=0', () => [rawHeader(1, 0, u16(0x8000))]],
]) {
  const name = `26-content-header ${label}`;
  def(name, simple(name, () => cat(pub(), ...frames())));
}
def('26-content-header props malformed, publish to missing exchange', simple('26-content-header props malformed, publish to missing exchange',
  () => cat(pub('rk', 'nope'), rawHeader(1, 5, u16(0x8000)), body(1, 'hello'))));
def('26-content-header on ch0', simple('26-content-header on ch0', () => rawHeader(0, 5, u16(0))));
def('26-content-header 10 bytes on ch0', simple('26-content-header 10 bytes on ch0', () => frame(2, 0, cat(u16(60), u16(0), u32(0), u16(5)))));
def('26-content-header 10 bytes without publish', simple('26-content-header 10 bytes without publish', () => frame(2, 1, cat(u16(60), u16(0), u32(0), u16(5)))));
def('26-body on ch0', simple('26-body on ch0', () => body(0, 'hello')));

// 27. content-carrying methods only a server sends (basic.deliver / return / get-ok)
def('27-basic.deliver from client, with content', simple('27-basic.deliver from client, with content',
  () => cat(method(1, 60, 60, cat(shortstr('ctag'), u64(1), u8(0), shortstr(''), shortstr('rk'))), rawHeader(1, 5, u16(0)), body(1, 'hello'))));
def('27-basic.deliver from client, then a method', simple('27-basic.deliver from client, then a method',
  () => cat(method(1, 60, 60, cat(shortstr('ctag'), u64(1), u8(0), shortstr(''), shortstr('rk'))), send(1, ID.qos, M.basicQos(0, 10)))));
def('27-basic.get-ok from client, header for class 50', simple('27-basic.get-ok from client, header for class 50',
  () => cat(method(1, 60, 71, cat(u64(1), u8(0), shortstr(''), shortstr('rk'), u32(0))), rawHeader(1, 5, u16(0), { cls: 50 }))));

// 28. content frames on a channel the server is closing (after a soft error, before close-ok)
for (const [label, frames] of [
  ['body frame', () => body(1, 'hello')],
  ['header frame', () => rawHeader(1, 5, u16(0))],
  ['publish + header + body + channel.open', () => cat(pub(), rawHeader(1, 5, u16(0)), body(1, 'hello'), send(1, ID.chOpen, M.channelOpen()))],
]) {
  const name = `28-server channel.close, client sends ${label} before close-ok`;
  def(name, async () => {
    const p = await ready(name, { autoChannelCloseOk: false });
    p.hostile(send(1, ID.qDeclare, M.queueDeclare('missing-q', { passive: true })));
    await p.waitMethod('channel.close');
    p.clientSent.push({ t: p.now(), sent: label });
    p.write(frames());
    await p.sleep(300);
    if (!p.closed) p.reply(1, ID.chCloseOk, 'channel.close-ok@ch1');
    return finish(p);
  });
}

// 29. odd frames before connection.open
for (const [label, buf] of [
  ['frame type 9 on ch1', () => frame(9, 1, Buffer.from('abcd'))],
  ['frame type 9 on ch0', () => frame(9, 0, Buffer.from('abcd'))],
  ['heartbeat on ch1', () => heartbeat(1)],
  ['body on ch0', () => body(0, 'hello')],
]) {
  const name = `29-before connection.open: ${label}`;
  def(name, async () => {
    const p = new Probe(name);
    await p.connect();
    p.write(PROTOCOL_HEADER);
    await p.waitMethod('connection.start');
    p.write(send(0, ID.startOk, M.startOk()));
    await p.waitMethod('connection.tune');
    p.write(send(0, ID.tuneOk, M.tuneOk(2047, 131072, 0)));
    p.hostile(buf());
    return finish(p, { aliveChannel: null });
  });
}

// 30. the client closes a channel and sends more on it in the same write
def('30-client channel.close then channel.open in the same write', simple('30-client channel.close then channel.open in the same write',
  () => cat(send(1, ID.chClose, M.close(200, 'bye')), send(1, ID.chOpen, M.channelOpen()))));
def('30-client channel.close then publish+header+body in the same write', simple('30-client channel.close then publish+header+body in the same write',
  () => cat(send(1, ID.chClose, M.close(200, 'bye')), pub(), rawHeader(1, 5, u16(0)), body(1, 'hello'))));
def('30-client channel.close then body frame in the same write', simple('30-client channel.close then body frame in the same write',
  () => cat(send(1, ID.chClose, M.close(200, 'bye')), body(1, 'hello'))));
def('30-client channel.close, then basic.qos 300 ms later', async () => {
  const p = await ready('30-client channel.close, then basic.qos 300 ms later');
  p.hostile(send(1, ID.chClose, M.close(200, 'bye')));
  await p.waitMethod('channel.close-ok');
  await p.sleep(300);
  p.clientSent.push({ t: p.now(), sent: 'basic.qos@ch1' });
  p.write(send(1, ID.qos, M.basicQos(0, 10)));
  return finish(p);
});

// 31. reply texts longer than a short string: RabbitMQ sends the first 252 bytes and "..."
for (const [label, name] of [['ascii', 'q'.repeat(250)], ['2-byte utf8', '\u00e9'.repeat(120)], ['2-byte utf8 cut mid-character', 'x' + '\u00e9'.repeat(120)]]) {
  const cname = `31-long reply text, ${label}`;
  def(cname, simple(cname, send(1, ID.qDeclare, M.queueDeclare(name, { passive: true }))));
}

def('31-long reply text in connection.close: exchange.declare of an unknown 239-byte type', simple('31-long reply text in connection.close: exchange.declare of an unknown 239-byte type',
  send(1, ID.exDeclare, M.exchangeDeclare('x31', 'x' + '\u00e9'.repeat(119)))));
def('31-long reply text in connection.close: connection.open of a 240-byte vhost', async () => {
  const p = new Probe('31-long reply text in connection.close: connection.open of a 240-byte vhost');
  await p.connect();
  p.write(PROTOCOL_HEADER);
  await p.waitMethod('connection.start');
  p.write(send(0, ID.startOk, M.startOk()));
  await p.waitMethod('connection.tune');
  p.write(send(0, ID.tuneOk, M.tuneOk(2047, 131072, 0)));
  p.hostile(send(0, ID.open, M.connOpen('\u00e9'.repeat(120))));
  return finish(p, { aliveChannel: null });
});

// 32. connection methods out of place
const beforeOpen = (name, buf, { tuned = true } = {}) => def(name, async () => {
  const p = new Probe(name);
  await p.connect();
  p.write(PROTOCOL_HEADER);
  await p.waitMethod('connection.start');
  p.write(send(0, ID.startOk, M.startOk()));
  await p.waitMethod('connection.tune');
  if (tuned) p.write(send(0, ID.tuneOk, M.tuneOk(2047, 131072, 0)));
  p.hostile(buf);
  return finish(p, { aliveChannel: null });
});
beforeOpen('32-connection.close after tune-ok, before connection.open', send(0, ID.close, M.close(200, 'bye')));
beforeOpen('32-connection.close before tune-ok', send(0, ID.close, M.close(200, 'bye')), { tuned: false });
beforeOpen('32-connection.close-ok before connection.open', send(0, ID.closeOk));
for (const [label, buf] of [
  ['connection.close-ok while running', () => send(0, ID.closeOk)],
  ['connection.blocked from the client', () => method(0, 10, 60, shortstr('low on memory'))],
  ['connection.unblocked from the client', () => method(0, 10, 61)],
  ['connection.update-secret', () => method(0, 10, 70, cat(longstr('new-secret'), shortstr('because')))],
  ['connection.update-secret-ok from the client', () => method(0, 10, 71)],
  ['connection.start-ok while running', () => send(0, ID.startOk, M.startOk())],
  ['connection.secure-ok while running', () => method(0, 10, 21, longstr('x'))],
  ['connection.open twice', () => send(0, ID.open, M.connOpen('/'))],
  ['connection.start from the client', () => method(0, 10, 10, cat(u8(0), u8(9), table(), longstr('PLAIN'), longstr('en_US')))],
  ['channel.flow active=false', () => method(1, 20, 20, bits(false))],
  ['channel.flow active=true', () => method(1, 20, 20, bits(true))],
  ['channel.flow-ok from the client', () => method(1, 20, 21, bits(true))],
  ['channel.open-ok from the client', () => method(1, 20, 11, longstr(''))],
]) {
  const name = `32-${label}`;
  def(name, simple(name, buf));
}

// ------------------------------------------------------------------------------- running
/** After the cases: does a fresh client still get a connection and a queue? */
export async function freshClientCheck({ host = HOST, port = DEFAULT_PORT, replyTimeoutMs = DEFAULT_WAIT_MS } = {}) {
  return runContext.run({ ...defaultContext(), host, port, replyTimeoutMs }, async () => {
    try {
      const p = await ready('zz-fresh-client-after-all-cases');
      const from = p.all.length;
      p.write(send(1, ID.qDeclare, M.queueDeclare('', { exclusive: true })));
      const ok = await p.waitMethod('queue.declare-ok', undefined, from);
      p.destroy();
      return { case: 'zz-fresh-client-after-all-cases', ok: !!ok };
    } catch (e) {
      return { case: 'zz-fresh-client-after-all-cases', ok: false, error: String(e.message) };
    }
  });
}

function matches(filter, name) {
  if (filter == null) return true;
  if (typeof filter === 'function') return filter(name);
  if (filter instanceof RegExp) return filter.test(name);
  const list = Array.isArray(filter) ? filter : [filter];
  return list.length === 0 || list.some((f) => name.includes(f));
}

/**
 * Run the cases (those whose name `filter` selects: a substring, a list of substrings, a RegExp
 * or a predicate) against host:port, at most `concurrency` at once, each on its own connection.
 * `waitMs` is how long a case waits for the server to close the socket unless the case has its
 * own wait; `waits` ({ [case name]: ms }) overrides single cases. `onResult(res)` is called as
 * each case finishes. Resolves to the results, in case order.
 */
export async function runCases({
  host = HOST, port = DEFAULT_PORT, filter, waitMs = DEFAULT_WAIT_MS, concurrency = 1, waits = {},
  replyTimeoutMs = Math.max(waitMs, DEFAULT_WAIT_MS), onResult,
} = {}) {
  const selected = CASES.filter((c) => matches(filter, c.name));
  const results = new Array(selected.length);
  let next = 0;
  const worker = async () => {
    while (next < selected.length) {
      const i = next++;
      const c = selected[i];
      const caseWait = waits[c.name] ?? c.waitMs ?? waitMs;
      let res;
      try {
        res = await runContext.run({ host, port, waitMs: caseWait, replyTimeoutMs }, c.run);
      } catch (e) {
        res = { case: c.name, error: String(e.message) };
      }
      results[i] = res;
      onResult?.(res);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, selected.length)) }, worker));
  return results;
}

// The building blocks, for ad-hoc probes and tests.
export const tools = { Probe, ready, finish, handshake, openChannel, frame, method, send, header, body, heartbeat, ID, M, cat, u8, u16, u32, u64, shortstr, longstr, table, runContext };

// ------------------------------------------------------------------------------- main
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.argv[2] || DEFAULT_PORT);
  const filters = process.argv.slice(3);
  await runCases({
    port, filter: filters, waitMs: DEFAULT_WAIT_MS, replyTimeoutMs: DEFAULT_WAIT_MS,
    onResult: (res) => process.stdout.write(JSON.stringify(res) + '\n'),
  });
  process.stdout.write(JSON.stringify(await freshClientCheck({ port })) + '\n');
}
