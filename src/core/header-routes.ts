// Sender-selected distribution (RabbitMQ's CC and BCC headers): extra routing keys carried in
// array headers. BCC routes the message but is removed before anyone receives it.
import { ByteReader } from '../protocol/byte-reader.js';
import { TYPE_ATOMS } from '../protocol/erlang-format.js';
import { ChannelError } from '../protocol/errors.js';
import type { FieldValue } from '../protocol/field-table.js';
import type { Message } from './message.js';
import { P, propertyAt, spliceBytes } from './properties.js';

// Field-table keys as encoded (shortstr length + name): a cheap test on the raw property bytes
// before anything is decoded. A false positive only costs a decode.
const CC_KEY = Buffer.from('\x02CC', 'latin1');
const BCC_KEY = Buffer.from('\x03BCC', 'latin1');
const HEADERS_BIT = 0x20;

const reader = new ByteReader();

/** Might the message carry CC or BCC headers? False for almost every message, without decoding. */
export function mayHaveHeaderRoutes(msg: Message): boolean {
  const raw = msg.properties;
  if (raw.length < 2 || (raw[0]! & HEADERS_BIT) === 0) return false;
  return raw.indexOf(CC_KEY) >= 0 || raw.indexOf(BCC_KEY) >= 0;
}

/**
 * rabbit_basic:header_routes: the routing key followed by the longstr elements of the CC and
 * BCC array headers (other element types are skipped), or null when there are none, the
 * common case. A published message has its keys in Message.routeKeys already (see below).
 */
export function headerRoutes(msg: Message): string[] | null {
  if (!mayHaveHeaderRoutes(msg)) return null;
  const headers = msg.props.headers;
  if (headers === undefined) return null;
  const keys = [msg.routingKey];
  for (const name of ['CC', 'BCC']) routes(Object.hasOwn(headers, name) ? headers[name] : undefined, keys);
  return keys.length > 1 ? keys : null;
}

function routes(v: FieldValue | undefined, keys: string[]): void {
  if (v?.type !== 'A') return;
  for (const e of v.value) if (e.type === 'S') keys.push(typeof e.value === 'string' ? e.value : e.value.toString('utf8'));
}

/**
 * rabbit_basic:message at publish, on the raw properties (which have a headers table): the
 * first CC and the first BCC header (lists:keysearch) must be arrays, else 406 "invalid
 * message"; strip_header then cuts that BCC entry out, byte for byte. Null when there is
 * neither header, else the properties to keep and the keys to route by: the routing key, the
 * CC keys, the BCC keys.
 */
export function publishedHeaderRoutes(props: Buffer, routingKey: string): [Buffer, string[]] | null {
  const at = propertyAt(props, P.headers);
  const start = at + 4;
  const end = start + props.readUInt32BE(at);
  const within = (key: Buffer) => {
    const i = props.indexOf(key, start);
    return i >= 0 && i < end;
  };
  if (end === start || (!within(CC_KEY) && !within(BCC_KEY))) return null;
  let cc: FieldValue | undefined;
  let bcc: FieldValue | undefined;
  let bccFrom = 0;
  let bccTo = 0;
  const r = reader.reset(props, start, end);
  while (r.pos < r.end) {
    const entry = r.pos;
    const key = r.shortstr();
    const value = r.fieldValue();
    if (key === 'CC' && cc === undefined) cc = value;
    else if (key === 'BCC' && bcc === undefined) [bcc, bccFrom, bccTo] = [value, entry, r.pos];
  }
  if (cc === undefined && bcc === undefined) return null;
  for (const [name, v] of [['CC', cc], ['BCC', bcc]] as const) {
    if (v !== undefined && v.type !== 'A') {
      throw ChannelError.preconditionFailed(`invalid message: {unacceptable_type_in_header,"${name}",${TYPE_ATOMS[v.type]}}`);
    }
  }
  const keys = [routingKey];
  routes(cc, keys);
  routes(bcc, keys);
  if (bcc === undefined) return [props, keys];
  const stripped = spliceBytes(props, bccFrom, bccTo, Buffer.alloc(0));
  stripped.writeUInt32BE(end - start - (bccTo - bccFrom), at);
  return [stripped, keys];
}
