// A routed message as bytes, the one layout the broker's own files share (stream segments after
// their fixed header, transient page files): exchange and routing key as AMQP short strings
// (length byte + utf8, <= 255 bytes), the properties' u32 length, the raw properties, the body.
import { Message } from './message.js';

/** Bytes of the record's head (everything but the body). */
export function recordHeadLength(exchange: string, routingKey: string, props: Buffer): number {
  return 1 + Buffer.byteLength(exchange) + 1 + Buffer.byteLength(routingKey) + 4 + props.length;
}

/** Writes the head at b[at] (room for recordHeadLength bytes is the caller's); returns where the body goes. */
export function writeRecordHead(b: Buffer, at: number, exchange: string, routingKey: string, props: Buffer): number {
  at = putShort(b, at, exchange);
  at = putShort(b, at, routingKey);
  b.writeUInt32BE(props.length, at);
  at += 4;
  return at + props.copy(b, at);
}

function putShort(b: Buffer, at: number, s: string): number {
  const n = s.length === 0 ? 0 : b.write(s, at + 1, 'utf8');
  b[at] = n;
  return at + 1 + n;
}

/** The record in buf[at, end) as a Message (its buffers are slices of buf). */
export function decodeRecord(buf: Buffer, at: number, end: number): Message {
  const exLen = buf[at]!;
  const exchange = exLen === 0 ? '' : lastExchange.get(buf, at + 1, exLen);
  at += 1 + exLen;
  const rkLen = buf[at]!;
  const routingKey = lastRoutingKey.get(buf, at + 1, rkLen);
  at += 1 + rkLen;
  const propsLen = buf.readUInt32BE(at);
  at += 4;
  return new Message(exchange, routingKey, buf.subarray(at, at + propsLen), buf.subarray(at + propsLen, end));
}

/**
 * The last string decoded, reused while the same bytes come again: a backlog or stream read
 * back is mostly one exchange and a few routing keys, and a string per record was the drain's
 * cost.
 */
class LastString {
  private readonly bytes = Buffer.alloc(255);
  private len = -1;
  private value = '';

  get(buf: Buffer, start: number, len: number): string {
    if (len === this.len && buf.compare(this.bytes, 0, len, start, start + len) === 0) return this.value;
    this.value = buf.toString('utf8', start, start + len);
    buf.copy(this.bytes, 0, start, start + len);
    this.len = len;
    return this.value;
  }
}

const lastExchange = new LastString();
const lastRoutingKey = new LastString();
