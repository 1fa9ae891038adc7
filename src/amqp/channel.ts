// One AMQP channel: its life cycle (open, close handshake in both directions, flow) and the
// dispatch of every other method to the handler family that owns it.
//
// States, as rabbit_channel's: 'new' until channel.open; 'open'; 'closing' once we sent
// channel.close (until the client's close-ok); 'closed' once the client closed it and we
// answered. Frames keep going through the command assembler in 'closing' and 'closed' (a stray
// body frame is still 505), but commands are ignored, except channel.open (504, "second
// 'channel.open' seen") and the close handshake.
import { ByteReader } from '../protocol/byte-reader.js';
import { AmqpError, ChannelError, ConnectionError, DecodeError, InternalError } from '../protocol/errors.js';
import { M, checkBasicProperties, type AnyMethod, type BasicPublish } from '../protocol/generated/amqp.js';
import { CommandAssembler, type CommandSink } from './command-assembler.js';
import { handleMethod } from './methods.js';
import { basicPublish, publishTarget } from './methods-basic.js';
import type { ChannelPort } from './port.js';
import { Session } from './session.js';

type State = 'new' | 'open' | 'closing' | 'closed';

const reader = new ByteReader();
/** Connection-class methods on a channel other than 0 are refused. */
const CLASS_CONNECTION = M.ConnectionStart >>> 16;

export class Channel implements CommandSink {
  state: State = 'new';
  private readonly assembler: CommandAssembler;
  /** Messaging state (consumers, unacked, confirms); exists once the channel is open. */
  session: Session | null = null;

  constructor(readonly conn: ChannelPort, readonly id: number) {
    this.assembler = new CommandAssembler(this, conn.services.maxMessageSize);
  }

  onFrame(type: number, buf: Buffer, start: number, end: number): void {
    try {
      this.assembler.frame(type, buf, start, end);
    } catch (err) {
      // The one soft error the assembler raises is the message size, checked at the header
      // (RabbitMQ checks it in the channel): a channel that is not open says so first, and one
      // that is closing ignores the publish altogether.
      if (err instanceof ChannelError && this.state === 'new') {
        throw ConnectionError.channelError("expected 'channel.open'").duringMethod(M.BasicPublish);
      }
      if (err instanceof ChannelError && (this.state === 'closing' || this.state === 'closed')) return;
      throw err;
    }
  }

  decode(buf: Buffer, start: number, end: number): AnyMethod {
    return this.conn.decode(buf, start, end);
  }

  onCommand(m: AnyMethod): void {
    try {
      this.dispatch(m);
    } catch (err) {
      if (err instanceof AmqpError) err.duringMethod(m.id);
      throw err;
    }
  }

  onContent(m: BasicPublish, properties: Buffer, body: Buffer): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    if (this.state !== 'open') throw ConnectionError.channelError("expected 'channel.open'").duringMethod(M.BasicPublish);
    try {
      const props = checkedProperties(properties);
      if (props === null) {
        // RabbitMQ decodes the properties only after its own checks of the publish (immediate,
        // the exchange exists and is not internal), and a failure there crashes the channel.
        publishTarget(this.session!, m);
        throw new InternalError('content header properties do not decode');
      }
      basicPublish(this.session!, m, props, body);
      if (this.conn.services.alarms.any) this.conn.blockForAlarm();
    } catch (err) {
      if (err instanceof AmqpError && !(err instanceof InternalError)) err.duringMethod(M.BasicPublish);
      throw err;
    }
  }

  private dispatch(m: AnyMethod): void {
    switch (this.state) {
      case 'new':
        if (m.id !== M.ChannelOpen) throw ConnectionError.channelError("expected 'channel.open'");
        this.state = 'open';
        this.session = new Session(this);
        this.conn.send(this.id, M.ChannelOpenOk, {});
        return;
      case 'closing':
      case 'closed':
        // rabbit_channel: channel.open is matched before the closing state is looked at.
        if (m.id === M.ChannelOpen) throw ConnectionError.channelError("second 'channel.open' seen");
        if (m.id === M.ChannelClose) this.conn.send(this.id, M.ChannelCloseOk, {});
        else if (m.id === M.ChannelCloseOk && this.state === 'closing') this.conn.channelClosed(this.id);
        return;
      case 'open':
        break;
    }
    switch (m.id) {
      case M.ChannelOpen:
        throw ConnectionError.channelError("second 'channel.open' seen");
      case M.ChannelClose:
        // As RabbitMQ, the rest of what the client sent along with its close (the rest of this
        // socket read) still reaches this channel, now closed; the connection answers close-ok
        // and forgets the channel once that is done.
        this.release();
        this.state = 'closed';
        this.conn.channelClosedByClient(this);
        return;
      case M.ChannelCloseOk:
        // We were not closing: RabbitMQ treats it as a method it does not implement.
        throw ConnectionError.commandInvalid('unimplemented method');
      case M.ChannelFlow:
        if (!m.active) throw ConnectionError.notImplemented('active=false');
        this.conn.send(this.id, M.ChannelFlowOk, { active: true });
        return;
    }
    if (m.id >>> 16 === CLASS_CONNECTION) throw ConnectionError.commandInvalid('unimplemented method');
    handleMethod(this.session!, m);
  }

  /** Soft error: send channel.close and drop everything but close-ok until it comes. */
  closeWithError(err: AmqpError): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.release();
    this.state = 'closing';
    this.conn.send(this.id, M.ChannelClose, {
      replyCode: err.code, replyText: err.replyText, classId: err.classId, methodId: err.methodId,
    });
  }

  /** Give back everything the channel holds (consumers, unacked messages). Idempotent. */
  release(): void {
    const session = this.session;
    this.session = null;
    session?.release();
  }
}

/**
 * The properties as they will be stored, or null when they do not decode. Like RabbitMQ, the two
 * lowest flag bits (the continuation bit and an unused one) are ignored, by the decoders too.
 */
function checkedProperties(properties: Buffer): Buffer | null {
  try {
    checkBasicProperties(reader.reset(properties, 0, properties.length));
  } catch (err) {
    if (err instanceof DecodeError) return null;
    throw err;
  }
  return properties;
}
