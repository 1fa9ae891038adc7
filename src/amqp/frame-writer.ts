// Frame encoding on top of the generated method codec. Every frame a connection sends goes
// through one FrameWriter, which collects the frames of an event-loop turn for a single write.
import { ByteWriter } from '../protocol/byte-writer.js';
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
    const max = this.frameMax === 0 ? body.length : this.frameMax - 8;
    for (let off = 0; off < body.length; off += max) {
      const part = body.length <= max ? body : body.subarray(off, Math.min(body.length, off + max));
      this.ensure(7);
      this.buf[this.pos] = FRAME_BODY;
      this.buf.writeUInt16BE(channel, this.pos + 1);
      this.buf.writeUInt32BE(part.length, this.pos + 3);
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
