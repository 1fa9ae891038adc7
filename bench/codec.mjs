// Codec micro-benchmark: encode and decode of publish and deliver frames (method + header +
// body), the per-message work on both sides of the broker.
import { FrameWriter } from '../dist/amqp/frame-writer.js';
import { FrameParser } from '../dist/protocol/frame-parser.js';
import { ByteReader } from '../dist/protocol/byte-reader.js';
import { decodeMethod, writeBasicDeliver, writeBasicPublish } from '../dist/protocol/generated/amqp.js';

const PROPS = Buffer.from([0, 0]);
const BODY = Buffer.alloc(16, 1);

function time(what, n, fn) {
  fn(1000); // warm-up
  const t0 = process.hrtime.bigint();
  fn(n);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { what, opsPerSec: n / secs };
}

export function codecBench(n = 1_000_000) {
  const w = new FrameWriter();
  w.frameMax = 131072;
  const encodePublish = (count) => {
    for (let i = 0; i < count; i++) {
      const at = w.beginFrame(1, 1);
      writeBasicPublish(w, '', 'bench-queue', false, false);
      w.endFrame(at);
      w.content(1, PROPS, BODY);
      if ((i & 1023) === 0) w.take();
    }
    w.take();
  };
  const encodeDeliver = (count) => {
    for (let i = 0; i < count; i++) {
      const at = w.beginFrame(1, 1);
      writeBasicDeliver(w, 'amq.ctag-abcdefghijklmnopqrstuv', i + 1, false, '', 'bench-queue');
      w.endFrame(at);
      w.content(1, PROPS, BODY);
      if ((i & 1023) === 0) w.take();
    }
    w.take();
  };
  // A buffer of 1000 publishes, parsed and decoded repeatedly.
  for (let i = 0; i < 1000; i++) {
    const at = w.beginFrame(1, 1);
    writeBasicPublish(w, '', 'bench-queue', false, false);
    w.endFrame(at);
    w.content(1, PROPS, BODY);
  }
  const stream = Buffer.concat(w.take());
  const reader = new ByteReader();
  let sink = 0;
  const parser = new FrameParser({
    onFrame(type, _ch, buf, start, end) {
      if (type === 1) sink += decodeMethod(reader.reset(buf, start, end)).id;
      else sink += end - start;
    },
  }, 131072);
  const decodePublish = (count) => { for (let i = 0; i < count / 1000; i++) parser.push(stream); };
  const out = [
    time('encode publish (method+header+body)', n, encodePublish),
    time('encode deliver (method+header+body)', n, encodeDeliver),
    time('parse+decode publish (method+header+body)', n, decodePublish),
  ];
  if (sink === -1) console.log(sink);
  return out;
}
