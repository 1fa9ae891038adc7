// Per channel: joins method -> content header -> body frames into one command, following
// RabbitMQ's rabbit_command_assembler. Frames out of that order are 505 UNEXPECTED_FRAME (a
// connection error). A body that arrives in a single frame stays a slice of the socket chunk; a
// body spread over several frames is joined once it is complete (memory follows what actually
// arrived, never just what a header announced).
//
// Every method that carries content (basic.publish, and basic.return / deliver / get-ok, which
// only a server may send) is followed by its content, as in RabbitMQ; only a publish's body is
// kept, the others are counted and then handed on (the channel refuses them).
//
// Deliberate differences from RabbitMQ 3.10, which simply waits:
//  - a publish whose header announces more than the max message size is refused at the header
//    (406, a channel error) instead of after its whole body; its body frames are then skipped;
//  - a body longer than announced is 501 FRAME_ERROR at once.
import { ChannelError, ConnectionError } from '../protocol/errors.js';
import { FRAME_BODY, FRAME_HEADER, FRAME_METHOD, M, type AnyMethod, type BasicPublish } from '../protocol/generated/amqp.js';

export interface CommandSink {
  decode(buf: Buffer, start: number, end: number): AnyMethod;
  onCommand(method: AnyMethod): void;
  onContent(method: BasicPublish, properties: Buffer, body: Buffer): void;
}

/** class-id, weight, body-size: the fixed part of a content header payload. */
export const CONTENT_HEADER_MIN = 12;
const EMPTY = Buffer.alloc(0);
/** rabbit_framing_amqp_0_9_1:method_has_content/1, for the methods a client can name. */
const CONTENT_METHODS: ReadonlySet<number> = new Set([M.BasicPublish, M.BasicReturn, M.BasicDeliver, M.BasicGetOk]);
const enum Expect { Method, Header, Body, Skip }

export class CommandAssembler {
  private expect = Expect.Method;
  private method: AnyMethod | null = null;
  private properties: Buffer = EMPTY;
  private bodySize = 0;
  private received = 0;
  /** Body frames received so far (slices), when the body spans several frames. */
  private parts: Buffer[] = [];

  constructor(private readonly sink: CommandSink, private readonly maxMessageSize: number) {}

  frame(type: number, buf: Buffer, start: number, end: number): void {
    switch (this.expect) {
      case Expect.Skip:
        // The body of a publish refused at its header. The channel is closing: a method frame
        // (its close-ok, typically) ends the skipping, as the client may stop sending the body
        // once it has seen our channel.close.
        if (type === FRAME_BODY) {
          this.received += end - start;
          if (this.received >= this.bodySize) this.reset();
          return;
        }
        if (type !== FRAME_METHOD) {
          this.reset();
          throw ConnectionError.unexpectedFrame('expected content body, got non content body frame instead').duringMethod(M.BasicPublish);
        }
        this.reset();
        return this.onMethodFrame(buf, start, end);
      case Expect.Method:
        if (type !== FRAME_METHOD) throw ConnectionError.unexpectedFrame('expected method frame, got non method frame instead');
        return this.onMethodFrame(buf, start, end);
      case Expect.Header:
        return this.onHeaderFrame(type, buf, start, end);
      case Expect.Body:
        return this.onBodyFrame(type, buf, start, end);
    }
  }

  private onMethodFrame(buf: Buffer, start: number, end: number): void {
    const method = this.sink.decode(buf, start, end);
    if (CONTENT_METHODS.has(method.id)) {
      this.method = method;
      this.expect = Expect.Header;
      return;
    }
    this.sink.onCommand(method);
  }

  private onHeaderFrame(type: number, buf: Buffer, start: number, end: number): void {
    const method = this.method!;
    const [classId, methodId] = [method.id >>> 16, method.id & 0xffff];
    // A header with a non-zero weight is not a content header to RabbitMQ's assembler either.
    if (type !== FRAME_HEADER || end - start < CONTENT_HEADER_MIN || buf.readUInt16BE(start + 2) !== 0) {
      this.reset();
      throw ConnectionError.unexpectedFrame(`expected content header for class ${classId}, got non content header frame instead`)
        .during(classId, methodId);
    }
    const headerClass = buf.readUInt16BE(start);
    if (headerClass !== classId) {
      this.reset();
      throw ConnectionError.unexpectedFrame(`expected content header for class ${classId}, got one for class ${headerClass} instead`)
        .during(classId, methodId);
    }
    const high = buf.readUInt32BE(start + 4);
    const size = high * 4294967296 + buf.readUInt32BE(start + 8);
    if (method.id === M.BasicPublish && size > this.maxMessageSize) {
      // RabbitMQ says so after the last body frame; refusing at the header saves buffering it.
      this.expect = Expect.Skip;
      this.method = null;
      this.bodySize = size;
      this.received = 0;
      const exact = high < 0x200000 ? String(size) : buf.readBigUInt64BE(start + 4).toString();
      throw ChannelError.preconditionFailed(`message size ${exact} is larger than configured max size ${this.maxMessageSize}`)
        .duringMethod(M.BasicPublish);
    }
    this.properties = buf.subarray(start + CONTENT_HEADER_MIN, end);
    this.bodySize = size;
    this.received = 0;
    if (size === 0) return this.complete(EMPTY);
    this.expect = Expect.Body;
  }

  private onBodyFrame(type: number, buf: Buffer, start: number, end: number): void {
    const method = this.method!;
    if (type !== FRAME_BODY) {
      this.reset();
      throw ConnectionError.unexpectedFrame('expected content body, got non content body frame instead')
        .duringMethod(method.id);
    }
    const n = end - start;
    if (this.received + n > this.bodySize) {
      const announced = this.bodySize;
      this.reset();
      throw ConnectionError.frameError(`content body exceeds the announced size ${announced}`)
        .duringMethod(method.id);
    }
    if (method.id !== M.BasicPublish) {
      // Content of a method the channel will refuse: count it, keep nothing.
      this.received += n;
      if (this.received === this.bodySize) this.complete(EMPTY);
      return;
    }
    if (this.received === 0 && n === this.bodySize) return this.complete(buf.subarray(start, end));
    this.parts.push(buf.subarray(start, end));
    this.received += n;
    if (this.received === this.bodySize) this.complete(Buffer.concat(this.parts, this.bodySize));
  }

  private complete(body: Buffer): void {
    const method = this.method!;
    const properties = this.properties;
    this.reset();
    if (method.id === M.BasicPublish) this.sink.onContent(method as BasicPublish, properties, body);
    else this.sink.onCommand(method);
  }

  reset(): void {
    this.expect = Expect.Method;
    this.method = null;
    this.properties = EMPTY;
    this.parts = [];
    this.received = 0;
    this.bodySize = 0;
  }
}
