// Method frame payloads to methods, with RabbitMQ's answers for the ones that do not decode.
import { ByteReader } from '../protocol/byte-reader.js';
import { ConnectionError, DecodeError } from '../protocol/errors.js';
import { erlBinary, frameErrorText } from '../protocol/erlang-format.js';
import { FRAME_METHOD, UnknownMethodError, decodeMethod, type AnyMethod } from '../protocol/generated/amqp.js';

const reader = new ByteReader();

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
