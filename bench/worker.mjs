// One load-generator role in a worker thread: a producer or a consumer on its own connection.
// Reports counts (and, for consumers, latency samples) to the parent every 250 ms.
import { parentPort, workerData } from 'node:worker_threads';
import { Peer } from './amqp-peer.mjs';

const w = workerData;
const peer = new Peer();
await peer.connect(w.port);
await peer.openChannel(1);
let count = 0;
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
  pump();
} else {
  await peer.declareQueue(1, w.queue, { durable: w.durable });
  if (!w.noAck) await peer.qos(1, w.prefetch);
  const samples = [];
  let lastAcked = 0;
  peer.onDeliver = (ch, tag, body) => {
    count++;
    if (body.length >= 8 && (count & 15) === 0) {
      samples.push(Number(process.hrtime.bigint() - body.readBigUInt64LE(0)) / 1e6);
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
