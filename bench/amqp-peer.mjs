// A minimal AMQP 0-9-1 client for load generation, built on Warren's own codec (dist/) so the
// client is not the bottleneck (amqplib tops out early). Only what the benchmarks need.
import net from 'node:net';
import { FrameParser } from '../dist/protocol/frame-parser.js';
import { FrameWriter } from '../dist/amqp/frame-writer.js';
import { ByteReader } from '../dist/protocol/byte-reader.js';
import { M, decodeMethod, writeBasicPublish, writeBasicAck } from '../dist/protocol/generated/amqp.js';

const HEADER = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');
// Property flags: delivery-mode only (persistent) or nothing.
const PROPS_NONE = Buffer.from([0, 0]);
const PROPS_PERSISTENT = Buffer.from([0x10, 0x00, 2]);

export class Peer {
  constructor() {
    this.out = new FrameWriter();
    this.out.frameMax = 131072;
    this.reader = new ByteReader();
    this.waiters = [];
    this.onDeliver = null; // (channel, deliveryTag, body) => void
    this.onAck = null; // (deliveryTag, multiple) => void
    this.pendingDeliver = null;
    this.scheduled = false;
  }

  connect(port, host = '127.0.0.1') {
    return new Promise((resolve, reject) => {
      this.sock = net.connect({ port, host }, () => {
        this.sock.setNoDelay(true);
        this.sock.write(HEADER);
      });
      this.sock.on('error', reject);
      this.parser = new FrameParser(this, 0);
      this.sock.on('data', (d) => this.parser.push(d));
      this.expect(M.ConnectionStart).then(() => {
        this.send(0, M.ConnectionStartOk, {
          clientProperties: {}, mechanism: 'PLAIN', response: Buffer.from('\0guest\0guest'), locale: 'en_US',
        });
        return this.expect(M.ConnectionTune);
      }).then((tune) => {
        this.send(0, M.ConnectionTuneOk, { channelMax: tune.channelMax, frameMax: tune.frameMax, heartbeat: 0 });
        this.send(0, M.ConnectionOpen, { virtualHost: '/' });
        return this.expect(M.ConnectionOpenOk);
      }).then(resolve, reject);
    });
  }

  onFrame(type, channel, buf, start, end) {
    if (type === 1) {
      const m = decodeMethod(this.reader.reset(buf, start, end));
      if (m.id === M.BasicDeliver || m.id === M.BasicGetOk) { this.pendingDeliver = { channel, m }; return; }
      if (m.id === M.BasicAck && this.onAck) { this.onAck(m.deliveryTag, m.multiple); return; }
      const i = this.waiters.findIndex((w) => w.id === m.id);
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m);
      else if (m.id === M.ConnectionClose || m.id === M.ChannelClose) throw new Error(`closed: ${m.replyText}`);
    } else if (type === 3 && this.pendingDeliver) {
      const { channel: ch, m } = this.pendingDeliver;
      this.pendingDeliver = null;
      this.onDeliver?.(ch, m.deliveryTag, buf.subarray(start, end));
    } else if (type === 2 && this.pendingDeliver && buf.readUInt32BE(start + 8) === 0 && buf.readUInt32BE(start + 4) === 0) {
      const { channel: ch, m } = this.pendingDeliver;
      this.pendingDeliver = null;
      this.onDeliver?.(ch, m.deliveryTag, Buffer.alloc(0));
    }
  }

  expect(id) { return new Promise((resolve) => this.waiters.push({ id, resolve })); }

  send(channel, id, args) { this.out.method(channel, id, args); this.flushSoon(); }

  flushSoon() {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  flush() {
    this.scheduled = false;
    const parts = this.out.take();
    if (parts.length === 0) return true;
    let ok = true;
    this.sock.cork();
    for (const p of parts) ok = this.sock.write(p);
    this.sock.uncork();
    return ok;
  }

  async rpc(channel, id, args, replyId) {
    const p = this.expect(replyId);
    this.send(channel, id, args);
    return p;
  }

  openChannel(ch) { return this.rpc(ch, M.ChannelOpen, {}, M.ChannelOpenOk); }
  declareQueue(ch, queue, opts = {}) {
    return this.rpc(ch, M.QueueDeclare, { queue, durable: !!opts.durable, arguments: opts.arguments ?? {} }, M.QueueDeclareOk);
  }
  qos(ch, prefetchCount) { return this.rpc(ch, M.BasicQos, { prefetchCount }, M.BasicQosOk); }
  consume(ch, queue, noAck) { return this.rpc(ch, M.BasicConsume, { queue, noAck, consumerTag: '' }, M.BasicConsumeOk); }
  confirmSelect(ch) { return this.rpc(ch, M.ConfirmSelect, {}, M.ConfirmSelectOk); }

  /** Append one publish (method + header + body) to the output; call flush() to send. */
  publish(ch, exchange, routingKey, body, persistent = false) {
    const w = this.out;
    const at = w.beginFrame(1, ch);
    writeBasicPublish(w, exchange, routingKey, false, false);
    w.endFrame(at);
    w.content(ch, persistent ? PROPS_PERSISTENT : PROPS_NONE, body);
  }

  /** publish() with raw content-header properties (flags + values, as on the wire). */
  publishWith(ch, exchange, routingKey, props, body) {
    const w = this.out;
    const at = w.beginFrame(1, ch);
    writeBasicPublish(w, exchange, routingKey, false, false);
    w.endFrame(at);
    w.content(ch, props, body);
  }

  ack(ch, deliveryTag, multiple) {
    const w = this.out;
    const at = w.beginFrame(1, ch);
    writeBasicAck(w, deliveryTag, multiple);
    w.endFrame(at);
    this.flushSoon();
  }

  /** basic.nack of one delivery (requeue: a failed attempt on a retrying queue). */
  nack(ch, deliveryTag, requeue) { this.send(ch, M.BasicNack, { deliveryTag, multiple: false, requeue }); }

  close() { this.sock.destroy(); }
}
