// Frame encoding on top of the generated method codec. Every frame a connection sends goes
// through one FrameWriter, which collects the frames of an event-loop turn for a single write.
import { ByteWriter, COPY_LIMIT } from '../protocol/byte-writer.js';
import {
  FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD,
  writeMethod, type MethodArgs,
} from '../protocol/generated/amqp.js';

export class FrameWriter extends ByteWriter {
  /** Largest frame the peer accepts (negotiated frame_max); bodies are split to fit. */
  frameMax = 4096;

  /** Append a method frame; if its arguments do not encode, nothing is appended. */
  method<K extends keyof MethodArgs>(channel: number, id: K, args: MethodArgs[K]): void {
    const at = this.beginFrame(FRAME_METHOD, channel);
    try {
      writeMethod(this, id, args);
    } catch (err) {
      this.rewind(at - 3);
      throw err;
    }
    this.endFrame(at);
  }

  /** Start a frame whose payload the caller writes next; pass the result to endFrame(). */
  beginFrame(type: number, channel: number): number {
    this.ensure(7);
    this.buf[this.pos] = type;
    this.buf.writeUInt16BE(channel, this.pos + 1);
    this.pos += 3;
    const at = this.mark();
    this.pos += 4;
    return at;
  }

  endFrame(at: number): void {
    this.patchU32(at, this.since(at) - 4);
    this.u8(FRAME_END);
    this.complete();
  }

  /**
   * Content header + body frames. `properties` are the raw property-flags-and-values bytes as
   * received from the publisher, re-emitted untouched.
   */
  content(channel: number, properties: Buffer, body: Buffer): void {
    const at = this.beginFrame(FRAME_HEADER, channel);
    this.u32(60 << 16); // class basic, weight 0
    this.u64(body.length);
    this.bytes(properties);
    this.endFrame(at);
    this.bodyFrames(channel, body);
  }

  /**
   * basic.deliver and its content in one pass: one ensure() and direct writes for the method
   * frame, the content header and (for a body copied in) the body frame, instead of a call per
   * field. The bytes are exactly those of method() + content() (test/frame-writer-deliver.test.ts);
   * it is the per-message path of every consumer. A string over 255 bytes throws before anything
   * is written, so a failed call appends nothing.
   */
  deliver(
    channel: number, consumerTag: string, deliveryTag: number, redelivered: boolean,
    exchange: string, routingKey: string, properties: Buffer, body: Buffer,
  ): void {
    const max = this.frameMax === 0 ? body.length : this.frameMax - 8;
    const inline = body.length > 0 && body.length < COPY_LIMIT && body.length <= max;
    const methodMax = 7 + 4 + 3 * (consumerTag.length + exchange.length + routingKey.length) + 3 + 9 + 1 + 1;
    this.ensure(methodMax + 8 + 12 + properties.length + (inline ? 8 + body.length : 0));
    const b = this.buf;
    const start = this.pos;
    let p = start + 7;
    b.writeUInt32BE(0x003c003c, p);
    p = shortstrInto(b, p + 4, consumerTag);
    b.writeUInt32BE(Math.floor(deliveryTag / TWO_32) >>> 0, p);
    b.writeUInt32BE(deliveryTag >>> 0, p + 4);
    b[p + 8] = redelivered ? 1 : 0;
    p = shortstrInto(b, p + 9, exchange);
    p = shortstrInto(b, p, routingKey);
    frameHeader(b, start, FRAME_METHOD, channel, p - start - 7);
    b[p++] = FRAME_END;
    const header = p;
    p += 7;
    b.writeUInt32BE(60 << 16, p); // class basic, weight 0
    b.writeUInt32BE(Math.floor(body.length / TWO_32) >>> 0, p + 4);
    b.writeUInt32BE(body.length >>> 0, p + 8);
    p += 12 + properties.copy(b, p + 12);
    frameHeader(b, header, FRAME_HEADER, channel, p - header - 7);
    b[p++] = FRAME_END;
    if (inline) {
      frameHeader(b, p, FRAME_BODY, channel, body.length);
      p += 7 + body.copy(b, p + 7);
      b[p++] = FRAME_END;
    }
    this.pos = p;
    this.complete();
    if (!inline) this.bodyFrames(channel, body);
  }

  /** The body as frames of at most frame_max; large parts go by reference (ByteWriter.slice). */
  private bodyFrames(channel: number, body: Buffer): void {
    const max = this.frameMax === 0 ? body.length : this.frameMax - 8;
    for (let off = 0; off < body.length; off += max) {
      const part = body.length <= max ? body : body.subarray(off, Math.min(body.length, off + max));
      this.ensure(7);
      frameHeader(this.buf, this.pos, FRAME_BODY, channel, part.length);
      this.pos += 7;
      this.slice(part);
      this.u8(FRAME_END);
      this.complete();
    }
  }

  heartbeat(): void {
    this.ensure(8);
    this.buf[this.pos++] = FRAME_HEARTBEAT;
    this.buf.writeUInt16BE(0, this.pos);
    this.buf.writeUInt32BE(0, this.pos + 2);
    this.pos += 6;
    this.buf[this.pos++] = FRAME_END;
    this.complete();
  }
}

const TWO_32 = 4294967296;

/** A frame's type, channel and payload size at b[at, at + 7). */
function frameHeader(b: Buffer, at: number, type: number, channel: number, size: number): void {
  b[at] = type;
  b.writeUInt16BE(channel, at + 1);
  b.writeUInt32BE(size, at + 3);
}

/** A shortstr at b[at]: returns the position after it. The caller made room for 1 + 3 * length. */
function shortstrInto(b: Buffer, at: number, s: string): number {
  const n = s.length === 0 ? 0 : b.write(s, at + 1, 'utf8');
  if (n > 255) throw new RangeError(`short string longer than 255 bytes: ${s.slice(0, 40)}...`);
  b[at] = n;
  return at + 1 + n;
}
