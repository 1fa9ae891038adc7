// One load-generator role in a worker thread: a producer or a consumer on its own connection,
// or (role 'consumers', for S6) many consumer connections, one queue each.
// Reports counts (and, for consumers, latency samples) to the parent every 250 ms.
import { parentPort, workerData } from 'node:worker_threads';
import { Peer } from './amqp-peer.mjs';

const w = workerData;
let count = 0;
const samples = [];
/** Every 16th delivery's latency, from the send time in the first 8 body bytes. */
const sample = (body) => {
  if (body.length >= 8 && (count & 15) === 0) samples.push(Number(process.hrtime.bigint() - body.readBigUInt64LE(0)) / 1e6);
};

if (w.role === 'consumers') {
  const peers = [];
  for (const queue of w.queues) {
    const p = new Peer();
    await p.connect(w.port);
    await p.openChannel(1);
    await p.declareQueue(1, queue);
    p.onDeliver = (_ch, _tag, body) => { count++; sample(body); };
    await p.consume(1, queue, true);
    peers.push(p);
  }
  parentPort.postMessage({ type: 'ready' });
  let stopping = false;
  parentPort.on('message', (m) => { if (m === 'stop') stopping = true; });
  setInterval(() => {
    parentPort.postMessage({ type: 'count', count, samples: samples.splice(0) });
    if (stopping) { for (const p of peers) p.close(); process.exit(0); }
  }, 250);
  await new Promise(() => {}); // runs until stopped
}

const peer = new Peer();
await peer.connect(w.port);
await peer.openChannel(1);
let stop = false;
parentPort.on('message', (m) => { if (m === 'stop') stop = true; });

if (w.role === 'producer') {
  const body = Buffer.alloc(w.size, 120);
  let unconfirmed = 0;
  let confirmed = 0;
  if (w.confirmWindow) {
    await peer.confirmSelect(1);
    let last = 0;
    peer.onAck = (tag, multiple) => {
      const n = multiple ? tag - last : 1;
      last = multiple ? tag : Math.max(last, tag);
      confirmed += n;
      unconfirmed -= n;
      if (!paused) return;
      paused = false;
      setImmediate(pump);
    };
  }
  let paused = false;
  const pump = () => {
    if (stop || (w.total && count >= w.total)) return done();
    let batch = 0;
    while (batch < 100 && (!w.confirmWindow || unconfirmed < w.confirmWindow) && (!w.total || count < w.total)) {
      if (w.size >= 8) body.writeBigUInt64LE(process.hrtime.bigint(), 0);
      const rk = w.routingKeys ? w.routingKeys[count % w.routingKeys.length] : w.routingKey;
      peer.publish(1, w.exchange, rk, body, w.persistent);
      count++;
      batch++;
      unconfirmed++;
    }
    const writable = peer.flush();
    if (w.confirmWindow && unconfirmed >= w.confirmWindow) { paused = true; return; }
    if (!writable) peer.sock.once('drain', pump);
    else setImmediate(pump);
  };
  const done = () => {
    parentPort.postMessage({ type: 'done', count, confirmed });
  };
  setInterval(() => parentPort.postMessage({ type: 'count', count }), 250).unref();
  if (w.rate) {
    // A fixed rate (latency scenario): rate/100 messages every 10 ms.
    const perTick = Math.max(1, Math.round(w.rate / 100));
    const tick = setInterval(() => {
      if (stop) { clearInterval(tick); return done(); }
      for (let i = 0; i < perTick; i++) {
        body.writeBigUInt64LE(process.hrtime.bigint(), 0);
        peer.publish(1, w.exchange, w.routingKey, body, w.persistent);
        count++;
      }
      peer.flush();
    }, 10);
  } else {
    pump();
  }
} else {
  await peer.declareQueue(1, w.queue, { durable: w.durable, arguments: w.arguments });
  if (!w.noAck) await peer.qos(1, w.prefetch);
  let lastAcked = 0;
  peer.onDeliver = (ch, tag, body) => {
    count++;
    sample(body);
    // S2_retry: every nackEvery-th delivery fails and goes back for a broker-side retry.
    if (w.nackEvery && count % w.nackEvery === 0) {
      peer.nack(1, tag, true);
      return;
    }
    if (!w.noAck && tag - lastAcked >= w.ackEvery) {
      peer.ack(1, tag, true);
      lastAcked = tag;
    }
  };
  await peer.consume(1, w.queue, w.noAck);
  parentPort.postMessage({ type: 'ready' });
  setInterval(() => {
    parentPort.postMessage({ type: 'count', count, samples: samples.splice(0) });
    if (stop) { peer.close(); process.exit(0); }
  }, 250);
}
