// A published message. Properties stay as the raw bytes the publisher sent (re-emitted as they
// are on delivery) and are decoded only when routing or a queue feature needs a field. The body
// is a Buffer slice shared by every queue the message is routed to.
import { ByteReader } from '../protocol/byte-reader.js';
import { decodeBasicProperties, type BasicProperties } from '../protocol/generated/amqp.js';

const reader = new ByteReader();

/** Property flag bits as they sit in the first byte of the raw properties (bits 15..8). */
const EXPIRATION_BIT = 0x01; // expiration = 256
const PRIORITY_BIT = 0x08; // priority = 2048
const DELIVERY_MODE_BIT = 0x10; // delivery-mode = 4096
const CONTENT_TYPE_BIT = 0x80;
const CONTENT_ENCODING_BIT = 0x40;
const HEADERS_BIT = 0x20;

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
    return this.properties.length >= 2 && (this.properties[0] & EXPIRATION_BIT) !== 0;
  }

  /**
   * The `expiration` property as milliseconds, or -1 when absent. Parsed as RabbitMQ's
   * rabbit_basic:parse_expiration (a decimal integer, optionally signed); a value RabbitMQ
   * would refuse at publish (not a number, negative) counts as absent here.
   */
  get expirationMs(): number {
    if (this.ttl === -2) {
      this.ttl = -1;
      if (this.hasExpiration) {
        const s = this.props.expiration;
        if (s !== undefined && /^[+-]?\d+$/.test(s)) {
          const n = Number(s);
          if (n >= 0 && Number.isSafeInteger(n)) this.ttl = n;
        }
      }
    }
    return this.ttl;
  }

  /**
   * delivery_mode is 2. Read straight from the raw properties: it follows content-type,
   * content-encoding and headers, which are skipped by their lengths, so nothing is decoded.
   */
  get persistent(): boolean {
    const p = this.properties;
    if (p.length < 3) return false;
    const flags = p[0];
    if ((flags & DELIVERY_MODE_BIT) === 0) return false;
    if (this.decoded !== null) return this.decoded.deliveryMode === 2;
    let at = 2;
    if ((flags & CONTENT_TYPE_BIT) !== 0) at += 1 + p[at];
    if ((flags & CONTENT_ENCODING_BIT) !== 0) at += 1 + p[at];
    if ((flags & HEADERS_BIT) !== 0) at += 4 + p.readUInt32BE(at);
    return p[at] === 2;
  }

  /** The `priority` property (0 when absent). */
  get priority(): number {
    if (this.properties.length < 2 || (this.properties[0] & PRIORITY_BIT) === 0) return 0;
    return this.props.priority ?? 0;
  }
}
