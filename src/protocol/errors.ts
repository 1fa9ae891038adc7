// Every error class of the broker's protocol side, in one place. Core code throws these; only
// the connection turns them into close frames. A soft (channel) error closes one channel; a
// hard (connection) error closes the connection. (DecodeError lives in decode-error.ts only
// because the generated codec, which this file imports, throws it; it is re-exported here.)
import { REPLY_CODE_NAMES, HARD_ERROR_CODES } from './generated/amqp.js';
import { replyText } from './erlang-format.js';
export { DecodeError } from './decode-error.js';

export class AmqpError extends Error {
  /** Reply text as RabbitMQ sends it: `NOT_FOUND - no queue 'q' in vhost '/'`, at most 255 bytes. */
  readonly replyText: string;
  constructor(
    readonly code: number,
    readonly explanation: string,
    public classId = 0,
    public methodId = 0,
  ) {
    const text = `${REPLY_CODE_NAMES[code] ?? 'INTERNAL_ERROR'} - ${explanation}`;
    super(text);
    this.replyText = replyText(text);
  }
  get hard(): boolean {
    return HARD_ERROR_CODES.has(this.code);
  }
  /** during() for a method id as the generated M constants hold it (class << 16 | method). */
  duringMethod(methodKey: number): this {
    return this.during(methodKey >>> 16, methodKey & 0xffff);
  }
  /** Remember which method failed, unless a more specific one was already recorded. */
  during(classId: number, methodId: number): this {
    if (this.classId === 0 && this.methodId === 0) {
      this.classId = classId;
      this.methodId = methodId;
    }
    return this;
  }
}

/** Soft error: the broker closes the channel, the connection survives. */
export class ChannelError extends AmqpError {
  static accessRefused(text: string) { return new ChannelError(403, text); }
  static notFound(text: string) { return new ChannelError(404, text); }
  static resourceLocked(text: string) { return new ChannelError(405, text); }
  static preconditionFailed(text: string) { return new ChannelError(406, text); }
}

/** Hard error: the broker closes the whole connection. */
export class ConnectionError extends AmqpError {
  static connectionForced(text: string) { return new ConnectionError(320, text); }
  static frameError(text: string) { return new ConnectionError(501, text); }
  static syntaxError(text: string) { return new ConnectionError(502, text); }
  static commandInvalid(text: string) { return new ConnectionError(503, text); }
  static channelError(text: string) { return new ConnectionError(504, text); }
  static unexpectedFrame(text: string) { return new ConnectionError(505, text); }
  static resourceError(text: string) { return new ConnectionError(506, text); }
  static notAllowed(text: string) { return new ConnectionError(530, text); }
  static notImplemented(text: string) { return new ConnectionError(540, text); }
  static internalError(text: string) { return new ConnectionError(541, text); }
  static accessRefused(text: string) { return new ConnectionError(403, text); }
}

/**
 * The byte stream cannot be parsed past this point (bad frame end, frame over frame_max): the
 * connection sends connection.close and reads nothing more (RabbitMQ's fatal_frame_error).
 */
export class FatalFrameError extends ConnectionError {}

/**
 * What RabbitMQ answers when a channel process crashes (content properties that do not decode,
 * or a bug of ours): a bare "INTERNAL_ERROR", as a connection error, naming no method. The
 * explanation goes to the log only.
 */
export class InternalError extends ConnectionError {
  override readonly replyText = 'INTERNAL_ERROR';
  constructor(explanation: string) {
    super(541, explanation);
  }
}
