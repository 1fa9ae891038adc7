// Sender-selected distribution (RabbitMQ's CC and BCC headers): extra routing keys carried in
// array headers. BCC routes the message but is removed before anyone receives it.
import { ByteWriter } from '../protocol/byte-writer.js';
import { TYPE_ATOMS } from '../protocol/erlang-format.js';
import { setOwn, type FieldTable, type FieldValue } from '../protocol/field-table.js';
import { writeBasicProperties } from '../protocol/generated/amqp.js';
import { Message } from './message.js';

// Field-table keys as encoded (shortstr length + name): a cheap test on the raw property bytes
// before anything is decoded. A false positive only costs a decode.
const CC_KEY = Buffer.from('\x02CC', 'latin1');
const BCC_KEY = Buffer.from('\x03BCC', 'latin1');
const HEADERS_BIT = 0x20;

const writer = new ByteWriter(64 * 1024, 1024);

const header = (h: FieldTable, name: string): FieldValue | undefined => (Object.hasOwn(h, name) ? h[name] : undefined);

/** Might the message carry CC or BCC headers? False for almost every message, without decoding. */
export function mayHaveHeaderRoutes(msg: Message): boolean {
  const raw = msg.properties;
  if (raw.length < 2 || (raw[0] & HEADERS_BIT) === 0) return false;
  return raw.indexOf(CC_KEY) >= 0 || raw.indexOf(BCC_KEY) >= 0;
}

/**
 * rabbit_basic:header_routes: the routing key followed by the longstr elements of the CC and
 * BCC array headers (other element types are skipped), or null when there are none, the
 * common case.
 */
export function headerRoutes(msg: Message): string[] | null {
  if (!mayHaveHeaderRoutes(msg)) return null;
  const headers = msg.props.headers;
  if (headers === undefined) return null;
  let keys: string[] | null = null;
  for (const name of ['CC', 'BCC']) {
    const v = header(headers, name);
    if (v?.type !== 'A') continue;
    for (const e of v.value) {
      if (e.type !== 'S') continue;
      (keys ??= [msg.routingKey]).push(typeof e.value === 'string' ? e.value : e.value.toString('utf8'));
    }
  }
  return keys;
}

/**
 * rabbit_basic:message's check: a CC or BCC header that is not an array refuses the publish.
 * Returns the Erlang error term (`{unacceptable_type_in_header,"CC",longstr}`) or null.
 */
export function headerRoutesError(headers: FieldTable): string | null {
  for (const name of ['CC', 'BCC']) {
    const v = header(headers, name);
    if (v !== undefined && v.type !== 'A') return `{unacceptable_type_in_header,"${name}",${TYPE_ATOMS[v.type]}}`;
  }
  return null;
}

/**
 * The message as queues keep it: without its BCC header (strip_header), still routed by the
 * BCC keys. The same message when there is no BCC.
 */
export function withoutBcc(msg: Message): Message {
  const props = msg.props;
  const headers = props.headers;
  if (headers === undefined || !Object.hasOwn(headers, 'BCC')) return msg;
  const routeKeys = headerRoutes(msg);
  const kept: FieldTable = {};
  for (const k of Object.keys(headers)) if (k !== 'BCC') setOwn<FieldValue>(kept, k, headers[k]);
  writeBasicProperties(writer, { ...props, headers: kept });
  const stripped = new Message(msg.exchange, msg.routingKey, Buffer.concat(writer.take()), msg.body);
  stripped.routeKeys = routeKeys;
  return stripped;
}
