// Messages in the management API's JSON: basic properties under RabbitMQ's names (cluster_id
// for the reserved one), payloads as text or base64, and the reverse for HTTP publish.
import { ByteWriter } from '../protocol/byte-writer.js';
import { writeBasicProperties, type BasicProperties } from '../protocol/generated/amqp.js';
import type { Message } from '../core/message.js';
import { erlPretty, type ErlTerm } from '../protocol/erlang-pretty.js';
import { HttpError } from './errors.js';
import { jsonToTable, tableToJson } from './json.js';

const writer = new ByteWriter(4096);

/** [JSON name, BasicProperties field, kind] in property-flag order. */
const PROPS: [string, keyof BasicProperties, 'str' | 'int' | 'table'][] = [
  ['content_type', 'contentType', 'str'], ['content_encoding', 'contentEncoding', 'str'], ['headers', 'headers', 'table'],
  ['delivery_mode', 'deliveryMode', 'int'], ['priority', 'priority', 'int'], ['correlation_id', 'correlationId', 'str'],
  ['reply_to', 'replyTo', 'str'], ['expiration', 'expiration', 'str'], ['message_id', 'messageId', 'str'],
  ['timestamp', 'timestamp', 'int'], ['type', 'type', 'str'], ['user_id', 'userId', 'str'], ['app_id', 'appId', 'str'],
  ['cluster_id', 'reserved', 'str'],
];

/**
 * The properties of a message as JSON. RabbitMQ encodes an empty property list as `[]`
 * (an empty Erlang proplist), not `{}`; clients that check for it see the same.
 */
export function propertiesToJson(msg: Message): Record<string, unknown> | [] {
  if (msg.hasNoProperties) return [];
  const p = msg.props;
  const out: Record<string, unknown> = {};
  for (const [name, field] of PROPS) {
    const v = p[field];
    if (v === undefined) continue;
    out[name] = field === 'headers' ? tableToJson(v as NonNullable<BasicProperties['headers']>) : v;
  }
  return Object.keys(out).length === 0 ? [] : out;
}

/** A JSON properties object as the raw property bytes a Message keeps. */
export function propertiesFromJson(o: unknown): Buffer {
  if (o !== undefined && (o === null || typeof o !== 'object' || Array.isArray(o))) {
    if (Array.isArray(o) && o.length === 0) return encode({});
    throw HttpError.badRequest('properties must be a JSON object');
  }
  const src = (o ?? {}) as Record<string, unknown>;
  const p: BasicProperties = {};
  for (const [name, field, kind] of PROPS) {
    const v = src[name];
    if (v === undefined || v === null) continue;
    if (kind === 'table') p.headers = jsonToTable(v, 'headers');
    else if (kind === 'int') {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw HttpError.badRequest(`${name} must be a non-negative integer`);
      (p as Record<string, unknown>)[field] = v;
    } else (p as Record<string, unknown>)[field] = String(v);
  }
  return encode(p);
}

function encode(p: BasicProperties): Buffer {
  writeBasicProperties(writer, p);
  return Buffer.concat(writer.take());
}

/** A body for JSON: text when it is valid UTF-8 and encoding is 'auto', else base64. */
export function payloadToJson(body: Buffer, encoding: string, truncate: number | null): { payload: string; payload_encoding: string } {
  const b = truncate !== null && body.length > truncate ? body.subarray(0, truncate) : body;
  if (encoding === 'auto') {
    const text = b.toString('utf8');
    if (Buffer.from(text, 'utf8').equals(b)) return { payload: text, payload_encoding: 'string' };
  }
  return { payload: b.toString('base64'), payload_encoding: 'base64' };
}

export function payloadFromJson(payload: unknown, encoding: unknown): Buffer {
  if (typeof payload !== 'string') throw HttpError.badRequest('payload must be a string');
  if (encoding === 'string') return Buffer.from(payload, 'utf8');
  if (encoding === 'base64') return Buffer.from(payload, 'base64');
  throw HttpError.badRequest(`payload_encoding must be 'string' or 'base64'`);
}

/** RabbitMQ's complaint about required fields that are missing: `[{key_missing,a},{key_missing,b}]`. */
export function requireKeys(body: Record<string, unknown>, keys: readonly string[]): void {
  const missing = keys.filter((k) => body[k] === undefined);
  if (missing.length === 0) return;
  // RabbitMQ formats the list with ~p, which breaks it over lines past column 80.
  const term: ErlTerm = missing.map((k) => ({ tuple: [{ atom: 'key_missing' }, { atom: k }] }));
  throw HttpError.badRequest(erlPretty(term, 1));
}
