// Streaming frame parser: socket chunks in, whole frames out, decoded in place.
//
// A chunk usually holds many complete frames; those are handed to the sink as (buffer, start,
// end) regions of the chunk itself, with no copy. Only a frame split across chunks is copied,
// once, into a buffer sized for that frame. Every frame is checked against frame_max before its
// payload is awaited (so a header announcing 4 GiB is refused at once) and must end in 0xCE.
import { frameErrorText } from './erlang-format.js';
import { FatalFrameError } from './errors.js';
import { FRAME_END } from './generated/amqp.js';



export interface FrameSink {
  /**
   * A frame's payload is buf[start, end). The parser never reuses a buffer, so a slice of the
   * region stays valid after the call (the command assembler keeps body slices until a message
   * is complete); keeping one keeps its whole socket chunk in memory, though.
   */
  onFrame(type: number, channel: number, buf: Buffer, start: number, end: number): void;
}

const HEADER_SIZE = 7;

export class FrameParser {
  /**
   * Negotiated frame_max; 0 means no limit. Like RabbitMQ, a payload of up to frame_max bytes is
   * accepted (its 8-byte "fudge"), though the error names frame_max - 8 as the limit.
   */
  frameMax: number;
  private pending: Buffer | null = null; // a partial frame carried between chunks
  private pendingLength = 0;
  private needed = 0; // bytes the pending frame needs in total, once its header is known

  constructor(private readonly sink: FrameSink, frameMax: number) {
    this.frameMax = frameMax;
  }

  push(chunk: Buffer): void {
    let buf = chunk;
    let pos = 0;
    if (this.pending) {
      pos = this.fillPending(chunk);
      if (this.pending) return; // still incomplete; everything was consumed
      buf = chunk;
    }
    const len = buf.length;
    while (pos < len) {
      if (len - pos < HEADER_SIZE) return this.keep(buf, pos, len);
      const size = buf.readUInt32BE(pos + 3);
      this.checkSize(buf[pos]!, size);
      const total = HEADER_SIZE + size + 1;
      if (len - pos < total) return this.keep(buf, pos, len, total);
      this.emit(buf, pos, size);
      pos += total;
    }
  }

  private emit(buf: Buffer, pos: number, size: number): void {
    const end = pos + HEADER_SIZE + size;
    if (buf[end] !== FRAME_END) {
      const payload = buf.subarray(pos + HEADER_SIZE, end);
      throw new FatalFrameError(501, frameErrorText(buf[pos]!, payload, `{invalid_frame_end_marker,${buf[end]}}`));
    }
    this.sink.onFrame(buf[pos]!, buf.readUInt16BE(pos + 1), buf, pos + HEADER_SIZE, end);
  }

  private checkSize(type: number, size: number): void {
    if (this.frameMax !== 0 && size > this.frameMax) {
      throw new FatalFrameError(501, frameErrorText(type, Buffer.alloc(0), `{frame_too_large,${size},${this.frameMax - 8}}`));
    }
  }

  /** Keep an incomplete tail. When its full size is known, allocate for it exactly once. */
  private keep(buf: Buffer, from: number, to: number, total = 0): void {
    const n = to - from;
    this.needed = total;
    this.pending = Buffer.allocUnsafe(total > 0 ? total : HEADER_SIZE);
    buf.copy(this.pending, 0, from, to);
    this.pendingLength = n;
  }

  /** Append from chunk to the pending frame; returns how much of chunk was used. */
  private fillPending(chunk: Buffer): number {
    let used = 0;
    const p = this.pending!;
    if (this.needed === 0) {
      // Header not yet complete.
      const take = Math.min(HEADER_SIZE - this.pendingLength, chunk.length);
      chunk.copy(p, this.pendingLength, 0, take);
      this.pendingLength += take;
      used = take;
      if (this.pendingLength < HEADER_SIZE) return used;
      const size = p.readUInt32BE(3);
      this.checkSize(p[0]!, size);
      this.needed = HEADER_SIZE + size + 1;
      const grown = Buffer.allocUnsafe(this.needed);
      p.copy(grown, 0, 0, HEADER_SIZE);
      this.pending = grown;
    }
    const frame = this.pending!;
    const take = Math.min(this.needed - this.pendingLength, chunk.length - used);
    chunk.copy(frame, this.pendingLength, used, used + take);
    this.pendingLength += take;
    used += take;
    if (this.pendingLength === this.needed) {
      this.pending = null;
      this.needed = 0;
      this.pendingLength = 0;
      this.emit(frame, 0, frame.length - HEADER_SIZE - 1);
    }
    return used;
  }
}
