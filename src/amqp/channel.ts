// One AMQP channel: its life cycle (open, close handshake in both directions, flow) and the
// dispatch of every other method to the handler family that owns it.
import { AmqpError, ConnectionError } from '../protocol/errors.js';
import { M, METHODS, type AnyMethod, type BasicPublish } from '../protocol/generated/amqp.js';
import { CommandAssembler, type CommandSink } from './command-assembler.js';
import type { Connection } from './connection.js';
import { handleMethod } from './methods.js';
import { basicPublish } from './methods-basic.js';
import { Session } from './session.js';

type State = 'new' | 'open' | 'closing';

export class Channel implements CommandSink {
  state: State = 'new';
  private readonly assembler: CommandAssembler;
  /** Messaging state (consumers, unacked, confirms); exists once the channel is open. */
  session: Session | null = null;

  constructor(readonly conn: Connection, readonly id: number) {
    this.assembler = new CommandAssembler(this, conn.broker.config.maxMessageSize);
  }

  onFrame(type: number, buf: Buffer, start: number, end: number): void {
    if (this.state === 'closing') {
      // After we sent channel.close only close-ok (or a crossing close) is looked at.
      if (type !== 1) return;
      const m = this.decode(buf, start, end);
      if (m.id === M.ChannelCloseOk) this.conn.channelClosed(this.id);
      else if (m.id === M.ChannelClose) this.conn.send(this.id, M.ChannelCloseOk, {});
      return;
    }
    this.assembler.frame(type, buf, start, end);
  }

  decode(buf: Buffer, start: number, end: number): AnyMethod {
    return this.conn.decode(buf, start, end);
  }

  onCommand(m: AnyMethod): void {
    try {
      this.dispatch(m);
    } catch (err) {
      if (err instanceof AmqpError) err.during(m.id >>> 16, m.id & 0xffff);
      throw err;
    }
  }

  onContent(m: BasicPublish, properties: Buffer, body: Buffer): void {
    if (this.state !== 'open') throw ConnectionError.channelError("expected 'channel.open'").during(60, 40);
    try {
      basicPublish(this.session!, m, properties, body);
    } catch (err) {
      if (err instanceof AmqpError) err.during(60, 40);
      throw err;
    }
  }

  private dispatch(m: AnyMethod): void {
    if (this.state === 'new') {
      if (m.id !== M.ChannelOpen) throw ConnectionError.channelError("expected 'channel.open'");
      this.state = 'open';
      this.session = new Session(this);
      this.conn.send(this.id, M.ChannelOpenOk, {});
      return;
    }
    switch (m.id) {
      case M.ChannelOpen:
        throw ConnectionError.channelError("second 'channel.open' seen");
      case M.ChannelClose:
        this.release();
        this.conn.send(this.id, M.ChannelCloseOk, {});
        this.conn.channelClosed(this.id);
        return;
      case M.ChannelCloseOk:
        // We were not closing: nothing to finish.
        return;
      case M.ChannelFlow:
        if (!m.active) throw ConnectionError.notImplemented('active=false');
        this.conn.send(this.id, M.ChannelFlowOk, { active: true });
        return;
      case M.ChannelFlowOk:
        return;
    }
    if (m.id >>> 16 === 10) {
      throw ConnectionError.commandInvalid(`${METHODS.get(m.id)!.name} is a connection method, sent on channel ${this.id}`);
    }
    handleMethod(this.session!, m);
  }

  /** Soft error: send channel.close and drop everything but close-ok until it comes. */
  closeWithError(err: AmqpError): void {
    if (this.state === 'closing') return;
    this.release();
    this.state = 'closing';
    this.assembler.reset();
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
