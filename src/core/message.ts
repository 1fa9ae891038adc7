// A published message. Properties stay as the raw bytes the publisher sent (re-emitted as they
// are on delivery) and are decoded only when routing or a queue feature needs a field. The body
// is a Buffer slice shared by every queue the message is routed to.
import { ByteReader } from '../protocol/byte-reader.js';
import { ByteWriter } from '../protocol/byte-writer.js';
import { setOwn, type FieldTable, type FieldValue } from '../protocol/field-table.js';
import { decodeBasicProperties, writeBasicProperties, type BasicProperties } from '../protocol/generated/amqp.js';
import { parseExpiration } from './expiration.js';
import { P, propertyAt, shortstrAt } from './properties.js';

const reader = new ByteReader();
const writer = new ByteWriter(4096);

/** Property flag bits as they sit in the first byte of the raw properties (bits 15..8). */
const EXPIRATION_BIT = 0x01; // expiration = 256
const PRIORITY_BIT = 0x08; // priority = 2048
const DELIVERY_MODE_BIT = 0x10; // delivery-mode = 4096
const HEADERS_BIT = 0x20; // headers = 8192

export class Message {
  private decoded: BasicProperties | null = null;
  /** Per-message TTL in ms from `expiration`: -2 = not parsed yet, -1 = none (or unparsable). */
  private ttl = -2;
  /**
   * The routing keys to route by instead of the routing key and the CC/BCC headers. Set on a
   * dead-lettered message, which keeps the keys it was first published with (BCC ones included)
   * as RabbitMQ's #basic_message.routing_keys does.
   */
  routeKeys: string[] | null = null;

  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    /** Property flags + values, exactly as in the content header frame. */
    readonly properties: Buffer,
    readonly body: Buffer,
  ) {}

  get props(): BasicProperties {
    if (this.decoded === null) this.decoded = decodeBasicProperties(reader.reset(this.properties, 0, this.properties.length));
    return this.decoded;
  }

  /** True when the property flags say nothing is set: common, and saves a decode. */
  get hasNoProperties(): boolean {
    return this.properties.length < 2 || (this.properties[0] === 0 && this.properties[1] === 0);
  }

  /** Cheap test on the raw flags: does the message carry an `expiration` property? */
  get hasExpiration(): boolean {
    return this.properties.length >= 2 && (this.properties[0]! & EXPIRATION_BIT) !== 0;
  }

  /**
   * The `expiration` property as milliseconds, or -1 when absent. Publish refuses a value
   * rabbit_basic:parse_expiration would not take, so here it only needs reading.
   */
  get expirationMs(): number {
    if (this.ttl === -2) {
      const ms = this.hasExpiration ? parseExpiration(shortstrAt(this.properties, P.expiration)) : -1;
      this.ttl = typeof ms === 'number' ? ms : -1;
    }
    return this.ttl;
  }

  /** delivery_mode is 2, read straight from the raw properties (nothing is decoded). */
  get persistent(): boolean {
    const p = this.properties;
    if (p.length < 3 || (p[0]! & DELIVERY_MODE_BIT) === 0) return false;
    if (this.decoded !== null) return this.decoded.deliveryMode === 2;
    return p[propertyAt(p, P.deliveryMode)] === 2;
  }

  /** The `priority` property (0 when absent). */
  get priority(): number {
    const p = this.properties;
    if (p.length < 2 || (p[0]! & PRIORITY_BIT) === 0) return 0;
    // Straight from the raw bytes: every enqueue asks, and most clients set the bit (the Java
    // client's defaults do), so decoding every property here would cost each message.
    if (this.decoded !== null) return this.decoded.priority ?? 0;
    return p[propertyAt(p, P.priority)]!;
  }
}

/**
 * `msg` with header `key` set to `value` (removed when undefined), other properties, routing
 * key, exchange and body unchanged: a new Message with newly encoded properties. For the
 * features that rewrite one header (x-delay on a delayed message's release, x-delivery-count on
 * a retry), never the plain publish path.
 */
export function withHeader(msg: Message, key: string, value: FieldValue | undefined): Message {
  const props: BasicProperties = msg.hasNoProperties ? {} : { ...msg.props };
  const headers: FieldTable = {};
  if (props.headers !== undefined) for (const k of Object.keys(props.headers)) if (k !== key) setOwn(headers, k, props.headers[k]!);
  if (value !== undefined) setOwn(headers, key, value);
  if (Object.keys(headers).length > 0) props.headers = headers;
  else delete props.headers;
  writeBasicProperties(writer, props);
  const parts = writer.take();
  const out = new Message(msg.exchange, msg.routingKey, parts.length === 1 ? Buffer.from(parts[0]!) : Buffer.concat(parts), msg.body);
  out.routeKeys = msg.routeKeys;
  return out;
}

/** Header `key` of `msg`, or undefined (decodes the properties only when there are headers). */
export function headerOf(msg: Message, key: string): FieldValue | undefined {
  if (msg.properties.length < 2 || (msg.properties[0]! & HEADERS_BIT) === 0) return undefined;
  const h = msg.props.headers;
  return h !== undefined && Object.hasOwn(h, key) ? h[key] : undefined;
}
