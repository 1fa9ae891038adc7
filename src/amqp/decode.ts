// Frames to methods, with RabbitMQ's answers for frames that are malformed or do not decode.
import { ByteReader } from '../protocol/byte-reader.js';
import { ConnectionError, DecodeError } from '../protocol/errors.js';
import { erlBinary, frameErrorText } from '../protocol/erlang-format.js';
import {
  FRAME_BODY, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD, UnknownMethodError, decodeMethod, type AnyMethod,
} from '../protocol/generated/amqp.js';
import { CONTENT_HEADER_MIN } from './command-assembler.js';

const reader = new ByteReader();

/** rabbit_command_assembler:analyze_frame/3: a frame of an unknown type, or too short for its type, is 501. */
export function checkFrameShape(type: number, buf: Buffer, start: number, end: number): void {
  const size = end - start;
  if (
    (type === FRAME_METHOD && size < 4) || (type === FRAME_HEADER && size < CONTENT_HEADER_MIN) ||
    (type === FRAME_HEARTBEAT && size > 0) || (type !== FRAME_METHOD && type !== FRAME_HEADER && type !== FRAME_BODY && type !== FRAME_HEARTBEAT)
  ) {
    throw ConnectionError.frameError(frameErrorText(type, buf.subarray(start, end), 'unknown_frame'));
  }
}

export function decodeMethodFrame(buf: Buffer, start: number, end: number): AnyMethod {
  if (end - start < 4) throw ConnectionError.frameError(frameErrorText(FRAME_METHOD, buf.subarray(start, end), 'unknown_frame'));
  const r = reader.reset(buf, start, end);
  let method: AnyMethod;
  try {
    method = decodeMethod(r);
  } catch (err) {
    if (err instanceof UnknownMethodError) {
      // RabbitMQ 3.x crashes the connection here (no close frame); we say what happened.
      const [c, m] = [err.methodKey >>> 16, err.methodKey & 0xffff];
      throw ConnectionError.notImplemented(`unknown method {${c},${m}}`).during(c, m);
    }
    if (err instanceof DecodeError) throw cannotDecode(buf, start, end);
    throw err;
  }
  if (r.pos !== end) throw cannotDecode(buf, start, end);
  return method;
}

/** RabbitMQ's text for method arguments that do not parse (or have bytes left over). */
function cannotDecode(buf: Buffer, start: number, end: number): ConnectionError {
  return ConnectionError.frameError(`cannot decode ${erlBinary(buf.subarray(start + 4, end))}`).duringMethod(buf.readUInt32BE(start));
}
