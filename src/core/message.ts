// A published message. Properties stay as the raw bytes the publisher sent (re-emitted as they
// are on delivery) and are decoded only when routing or a queue feature needs a field. The body
// is a Buffer slice shared by every queue the message is routed to.
import { ByteReader } from '../protocol/byte-reader.js';
import { decodeBasicProperties, type BasicProperties } from '../protocol/generated/amqp.js';

const reader = new ByteReader();

export class Message {
  private decoded: BasicProperties | null = null;

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
}
