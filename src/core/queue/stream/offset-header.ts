// The x-stream-offset header every stream delivery carries, spliced into a message's raw
// properties once, when it is appended (the log stores the spliced properties, so reading
// back and delivering re-encode nothing). Properties with an x-stream-offset header already
// or with a second flag word take the slow path (decode, set, encode).
import { Message, withHeader } from '../../message.js';
import { P } from '../../properties.js';

const KEY = Buffer.from('\x0fx-stream-offset', 'latin1');
/** keylen + key + 'l' + int64. */
const ENTRY = KEY.length + 1 + 8;

/** `props` with header x-stream-offset = offset (long): a new buffer. */
export function withOffsetHeader(msg: Message, offset: number): Buffer {
  const props = msg.properties;
  const flags = props.length < 2 ? 0 : props.readUInt16BE(0);
  if ((flags & 1) !== 0) return slow(msg, offset);
  let at = 2;
  if ((flags & P.contentType) !== 0) at += 1 + props[at]!;
  if ((flags & P.contentEncoding) !== 0) at += 1 + props[at]!;
  const hasHeaders = (flags & P.headers) !== 0;
  const tableLen = hasHeaders ? props.readUInt32BE(at) : 0;
  const tableEnd = hasHeaders ? at + 4 + tableLen : at;
  if (hasHeaders && props.indexOf(KEY, at + 4) !== -1 && props.indexOf(KEY, at + 4) < tableEnd) return slow(msg, offset);
  const tail = props.length < 2 ? 0 : props.length - tableEnd;
  const out = Buffer.allocUnsafe(tableEnd + 4 * (hasHeaders ? 0 : 1) + ENTRY + tail + (props.length < 2 ? 2 : 0));
  if (props.length < 2) out.writeUInt16BE(0, 0);
  else props.copy(out, 0, 0, at);
  out.writeUInt16BE(flags | P.headers, 0);
  out.writeUInt32BE(tableLen + ENTRY, at);
  let w = at + 4;
  if (hasHeaders) w += props.copy(out, w, at + 4, tableEnd);
  w += KEY.copy(out, w);
  out[w++] = 0x6c; // 'l'
  out.writeUInt32BE(Math.floor(offset / 0x1_0000_0000), w);
  out.writeUInt32BE(offset >>> 0, w + 4);
  w += 8;
  if (tail > 0) props.copy(out, w, tableEnd);
  return out;
}

function slow(msg: Message, offset: number): Buffer {
  return withHeader(msg, 'x-stream-offset', { type: 'l', value: offset }).properties;
}
