// Frames out of a byte stream, by Warren's own FrameParser, for codec tests that compare what
// two encoders wrote. Each payload is copied out of the parser's buffer.
import { FrameParser } from '../../src/protocol/frame-parser.js';

export interface Frame { type: number; channel: number; payload: Buffer }

/** Every frame in `stream`, fed to the parser `chunk` bytes at a time (all at once by default). */
export function parseFrames(stream: Buffer, chunk = stream.length): Frame[] {
  const frames: Frame[] = [];
  const parser = new FrameParser({
    onFrame(type, channel, buf, start, end) {
      frames.push({ type, channel, payload: Buffer.from(buf.subarray(start, end)) });
    },
  }, 0);
  for (let off = 0; off < stream.length; off += chunk) parser.push(stream.subarray(off, off + chunk));
  return frames;
}
