// Per channel: joins method -> content header -> body frames into one command.
// Frames out of that order are 505 UNEXPECTED_FRAME (a connection error), as in RabbitMQ.
// A body that arrives in a single frame stays a slice of the socket chunk; a body spread over
// several frames is copied once into a buffer of the announced size.
import { ByteReader } from '../protocol/byte-reader.js';
import { ChannelError, ConnectionError, DecodeError } from '../protocol/errors.js';
import { FRAME_BODY, FRAME_HEADER, FRAME_METHOD, M, checkBasicProperties, type AnyMethod, type BasicPublish } from '../protocol/generated/amqp.js';

export interface CommandSink {
  decode(buf: Buffer, start: number, end: number): AnyMethod;
  onCommand(method: AnyMethod): void;
  onContent(method: BasicPublish, properties: Buffer, body: Buffer): void;
}

const EMPTY = Buffer.alloc(0);
const reader = new ByteReader();
const enum Expect { Method, Header, Body }

export class CommandAssembler {
  private expect = Expect.Method;
  private method: BasicPublish | null = null;
  private properties: Buffer = EMPTY;
  private bodySize = 0;
  private received = 0;
  private first: Buffer | null = null;
  private whole: Buffer | null = null;

  constructor(private readonly sink: CommandSink, private readonly maxMessageSize: number) {}

  frame(type: number, buf: Buffer, start: number, end: number): void {
    switch (this.expect) {
      case Expect.Method: {
        if (type !== FRAME_METHOD) throw ConnectionError.unexpectedFrame('expected method frame, got non method frame instead');
        const method = this.sink.decode(buf, start, end);
        // Only basic.publish carries content from a client; the channel refuses the others.
        if (method.id === M.BasicPublish) {
          this.method = method;
          this.expect = Expect.Header;
          return;
        }
        this.sink.onCommand(method);
        return;
      }
      case Expect.Header: {
        if (type !== FRAME_HEADER) {
          this.reset();
          throw ConnectionError.unexpectedFrame('expected content header for class 60, got non content header frame instead');
        }
        if (end - start < 14) throw ConnectionError.frameError('content header frame too short');
        const classId = buf.readUInt16BE(start);
        if (classId !== 60) {
          this.reset();
          throw ConnectionError.unexpectedFrame(`expected content header for class 60, got one for class ${classId} instead`);
        }
        const high = buf.readUInt32BE(start + 4);
        const size = high * 4294967296 + buf.readUInt32BE(start + 8);
        this.properties = buf.subarray(start + 12, end);
        try {
          checkBasicProperties(reader.reset(buf, start + 12, end));
        } catch (err) {
          this.reset();
          if (err instanceof DecodeError) throw ConnectionError.frameError(`cannot decode content header properties: ${err.message}`);
          throw err;
        }
        this.bodySize = size;
        if (size > this.maxMessageSize) {
          this.reset();
          throw ChannelError.preconditionFailed(`message size ${size} is larger than max size ${this.maxMessageSize}`).during(60, 40);
        }
        if (size === 0) return this.complete(EMPTY);
        this.expect = Expect.Body;
        this.received = 0;
        return;
      }
      case Expect.Body: {
        if (type !== FRAME_BODY) {
          this.reset();
          throw ConnectionError.unexpectedFrame('expected content body, got non content body frame instead');
        }
        const n = end - start;
        if (this.received + n > this.bodySize) {
          this.reset();
          throw ConnectionError.frameError(`content body exceeds the announced size ${this.bodySize}`);
        }
        if (this.received === 0 && n === this.bodySize) return this.complete(buf.subarray(start, end));
        if (this.received === 0) this.first = buf.subarray(start, end);
        else {
          if (!this.whole) {
            this.whole = Buffer.allocUnsafe(this.bodySize);
            this.first!.copy(this.whole, 0);
            this.first = null;
          }
          buf.copy(this.whole, this.received, start, end);
        }
        this.received += n;
        if (this.received === this.bodySize) this.complete(this.whole!);
        return;
      }
    }
  }

  private complete(body: Buffer): void {
    const method = this.method!;
    const properties = this.properties;
    this.reset();
    this.sink.onContent(method, properties, body);
  }

  reset(): void {
    this.expect = Expect.Method;
    this.method = null;
    this.properties = EMPTY;
    this.first = null;
    this.whole = null;
    this.received = 0;
  }
}
