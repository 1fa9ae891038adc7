// One AMQP connection: frames in, the channel table, heartbeats, output, and THE place where
// errors become close frames. The handshake (handshake.ts), heartbeats (heartbeats.ts) and the
// reasons to stop reading (read-gate.ts) live in their own files; channels talk to it through
// the narrow ChannelPort (port.ts). It takes any Duplex, so tests can drive it in memory.
//
// Life cycle: protocol header -> handshake -> running -> closing (we sent connection.close,
// awaiting close-ok) -> closed. Frames for channels go to their Channel; channel 0 carries
// connection methods. Core code throws typed errors; handleError() decides: a soft code closes
// the channel, a hard code the connection.
//
// Bad input is answered as RabbitMQ 3.x answers it (frames are judged in rabbit_reader's order,
// with its texts); interop/differential/probe-hostile.mjs and test/hostile.test.ts hold the
// evidence and the deliberate differences. No exception may leave a socket or timer handler:
// one would end the whole broker, so every entry point catches and turns it into a close.
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.js';
import type { Actor } from '../core/actor.js';
import { isLoopback, type User } from '../core/users.js';
import { ConnectionStats } from '../core/stats.js';
import type { VHost } from '../core/vhost.js';
import { AmqpError, ConnectionError, FatalFrameError, InternalError } from '../protocol/errors.js';
import { FrameParser, type FrameSink } from '../protocol/frame-parser.js';
import { frameText } from '../protocol/erlang-format.js';
import { CONNECTION_FORCED, FRAME_HEARTBEAT, FRAME_METHOD, FRAME_MIN_SIZE, M, type AnyMethod } from '../protocol/generated/amqp.js';
import type { FieldTable } from '../protocol/field-table.js';
import type { PeerIdentity } from './auth.js';
import type { Channel } from './channel.js';
import { ChannelTable } from './channel-table.js';
import type { BrokerContext } from './context.js';
import { checkFrameShape, decodeMethodFrame } from './decode.js';
import { forget as forgetFlow } from './flow.js';
import type { FrameWriter } from './frame-writer.js';
import { Handshake, STATE_NAMES, unexpectedMethod, type ConnectionState } from './handshake.js';
import { Heartbeats } from './heartbeats.js';
import { Outbox } from './outbox.js';
import type { BeforeFlush, ChannelPort } from './port.js';
import { ReadGate } from './read-gate.js';

export type { BrokerContext } from './context.js';

const CLOSE_OK_TIMEOUT_MS = 3_000;

/** The addresses of the two ends, for the connection's name and the loopback check. */
export interface PeerAddress {
  remoteAddress?: string;
  remotePort?: number;
  localAddress?: string;
  localPort?: number;
  /** The connection came over TLS (amqps). */
  tls?: boolean;
  /** The client's certificate, when it sent one that was verified. */
  peerIdentity?: PeerIdentity;
}

export class Connection implements FrameSink, ChannelPort {
  readonly name: string;
  state: ConnectionState = 'header';
  private readonly table = new ChannelTable();
  channelMax = 0;
  frameMax = FRAME_MIN_SIZE;
  heartbeat = 0;
  vhost!: VHost;
  actor!: Actor;
  readonly gate: ReadGate;
  readonly stats = new ConnectionStats();
  /** Called when a blocked socket drains: consumers on this connection may resume. */
  readonly drainListeners = new Set<() => void>();
  /** Connected at (ms since the epoch), for the management API. */
  readonly connectedAt = Date.now();
  readonly fromLoopback: boolean;
  readonly tls: boolean;
  readonly peerIdentity: PeerIdentity | undefined;

  private readonly handshake: Handshake;
  private readonly heartbeats: Heartbeats;
  private readonly parser: FrameParser;
  private readonly outbox: Outbox;
  private sentBlocked = false;
  private handshakeTimer: NodeJS.Timeout | null;
  private closeTimer: NodeJS.Timeout | null = null;
  /** After a fatal framing error the byte stream is not parsed any more. */
  private fatal = false;

  constructor(readonly socket: Duplex, readonly broker: BrokerContext, readonly peer: PeerAddress = {}) {
    this.name = `${peer.remoteAddress}:${peer.remotePort} -> ${peer.localAddress}:${peer.localPort}`;
    this.fromLoopback = isLoopback(peer.remoteAddress);
    this.tls = peer.tls === true;
    this.peerIdentity = peer.peerIdentity;
    this.parser = new FrameParser(this, FRAME_MIN_SIZE);
    this.gate = new ReadGate(socket);
    this.outbox = new Outbox(socket, this.gate, this.stats, () => this.heartbeats.sent(), (work) => this.guard(work));
    this.out.frameMax = FRAME_MIN_SIZE;
    this.handshake = new Handshake(this);
    this.heartbeats = new Heartbeats(this);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.guard(() => this.onDrain()));
    socket.on('error', (err) => this.log.debug('socket error', { connection: this.name, error: err.message }));
    socket.on('close', () => this.onSocketClosed());
    this.handshakeTimer = setTimeout(() => {
      this.log.warn('closing connection: handshake not completed within timeout', {
        connection: this.name, timeoutMs: broker.config.handshakeTimeoutMs, state: this.state,
      });
      this.socket.destroy();
    }, broker.config.handshakeTimeoutMs);
    this.log.debug('accepting AMQP connection', { connection: this.name });
  }

  get log(): Logger { return this.broker.log; }
  /** The open channels by number. */
  get channels(): ReadonlyMap<number, Channel> { return this.table.byId; }
  /** This turn's outgoing frames (written at the end of the turn). */
  get out(): FrameWriter { return this.outbox.out; }
  get services(): BrokerContext { return this.broker; }
  get running(): boolean { return this.state === 'running'; }
  get user(): User | null { return this.handshake.user; }
  get clientProperties(): FieldTable { return this.handshake.clientProperties; }
  get authMechanism(): string { return this.handshake.mechanism; }
  get capabilities(): Readonly<Record<string, unknown>> { return this.handshake.capabilities; }

  // ---- input ------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.heartbeats.received();
    this.stats.recvOct += chunk.length;
    this.stats.recvCnt++;
    this.broker.bytesRead(chunk.length);
    if (this.state === 'closed' || this.fatal) return;
    // Nothing may escape a socket handler: an exception here would end the whole process.
    try {
      if (this.state !== 'header') this.parser.push(chunk);
      else {
        const rest = this.handshake.onHeaderBytes(chunk);
        if (rest !== null && rest.length > 0) this.parser.push(rest);
      }
    } catch (err) {
      // Per-frame errors are handled in onFrame; what arrives here is the parser's (fatal).
      this.handleError(err, 0);
    }
    try {
      if (this.table.hasClientCloses) this.finishClientCloses();
    } catch (err) {
      this.handleError(err, 0);
    }
  }

  onFrame(type: number, channel: number, buf: Buffer, start: number, end: number): void {
    // Errors are handled frame by frame, so the parser keeps its place in the byte stream (the
    // close-ok we then wait for may follow in the same read).
    try {
      this.frame(type, channel, buf, start, end);
    } catch (err) {
      this.handleError(err, channel);
    }
  }

  /** rabbit_reader:handle_frame/4, clause by clause. */
  private frame(type: number, channel: number, buf: Buffer, start: number, end: number): void {
    if (this.state === 'closing' || this.state === 'closed') {
      // Only close/close-ok matter now; everything else is discarded as the spec says.
      if (channel === 0 && type === FRAME_METHOD && end - start >= 4) this.onMethodWhileClosing(buf, start, end);
      return;
    }
    if (channel !== 0 && this.state !== 'running') {
      throw ConnectionError.unexpectedFrame(frameText(type, buf.subarray(start, end)));
    }
    checkFrameShape(type, buf, start, end);
    if (channel === 0) {
      if (type === FRAME_HEARTBEAT) return;
      if (type !== FRAME_METHOD) throw ConnectionError.unexpectedFrame(frameText(type, buf.subarray(start, end)));
      const method = this.decode(buf, start, end);
      try {
        this.onConnectionMethod(method);
      } catch (err) {
        if (err instanceof AmqpError) err.duringMethod(method.id);
        throw err;
      }
      return;
    }
    if (type === FRAME_HEARTBEAT) throw ConnectionError.unexpectedFrame(frameText(type, buf.subarray(start, end)));
    if (channel > this.channelMax) {
      // Deliberately stricter than RabbitMQ 3.10, which accepts any channel number.
      throw ConnectionError.channelError(`channel ${channel} is above the negotiated channel_max ${this.channelMax}`);
    }
    this.table.forFrame(channel, this).onFrame(type, buf, start, end);
  }

  decode(buf: Buffer, start: number, end: number): AnyMethod {
    return decodeMethodFrame(buf, start, end);
  }

  private onMethodWhileClosing(buf: Buffer, start: number, end: number): void {
    let method: AnyMethod;
    try {
      method = this.decode(buf, start, end);
    } catch {
      return;
    }
    if (this.state !== 'closing') return;
    if (method.id === M.ConnectionCloseOk) this.finishClose();
    else if (method.id === M.ConnectionClose) {
      this.out.method(0, M.ConnectionCloseOk, {});
      this.finishClose();
    }
  }

  private onConnectionMethod(m: AnyMethod): void {
    if (this.handshake.onMethod(m)) return;
    switch (m.id) {
      case M.ConnectionClose:
        if (this.state !== 'running') throw unexpectedMethod(this.state);
        this.log.info('client closed connection', { connection: this.name, code: m.replyCode, text: m.replyText });
        // 'closing' first: requeued messages must not go to consumers on this connection's other channels.
        this.state = 'closing';
        this.closeChannels();
        this.send(0, M.ConnectionCloseOk, {});
        this.finishClose();
        return;
      case M.ConnectionUpdateSecret:
        // As RabbitMQ with its internal user database: nothing to update, and that is fine.
        if (this.state !== 'running') throw unexpectedMethod(this.state);
        this.log.info('client updated its secret', { connection: this.name, reason: m.reason });
        this.send(0, M.ConnectionUpdateSecretOk, {});
        return;
      // connection.close-ok when we are not closing (that case is onMethodWhileClosing), and the
      // methods only a server sends (blocked, unblocked, update-secret-ok, start, ...) are all
      // "unexpected" to RabbitMQ.
      default:
        throw unexpectedMethod(this.state);
    }
  }

  // ---- the handshake's side (HandshakeSide) ---------------------------------------------------

  tuned(channelMax: number, frameMax: number, heartbeat: number): void {
    this.channelMax = channelMax;
    this.frameMax = frameMax;
    this.parser.frameMax = frameMax;
    this.out.frameMax = frameMax;
    this.heartbeat = heartbeat;
    this.heartbeats.start(heartbeat);
  }

  opened(vhost: VHost, actor: Actor): void {
    this.vhost = vhost;
    this.actor = actor;
    vhost.limits.connectionOpened(actor);
    this.clearHandshakeTimer();
  }

  refuse(err: ConnectionError): void {
    this.closeWithError(err);
  }

  refuseProtocol(header: Buffer, answer: Buffer): void {
    // As RabbitMQ: answer with the header we do speak, then close.
    this.log.warn('closing connection: unsupported protocol header', { connection: this.name, header: header.toString('hex') });
    this.state = 'closed';
    this.socket.write(answer);
    this.endSocket();
  }

  drop(reason: string): void {
    this.log.warn('closing connection during handshake', { connection: this.name, state: STATE_NAMES[this.state], reason });
    // What was already said (connection.tune, say) still goes out, then the socket is closed
    // without a close frame.
    this.state = 'closed';
    this.endSocket();
  }

  /** Heartbeats: we were silent for half the interval. */
  sendHeartbeat(): void {
    this.out.heartbeat();
    this.flush();
  }

  /** Heartbeats: the peer was silent for two intervals. */
  heartbeatTimeout(): void {
    this.log.warn('closing connection: missed heartbeats from client', { connection: this.name, timeoutSeconds: this.heartbeat });
    this.socket.destroy();
  }

  /** Run timer / event work for this connection; a failure drops this connection, not the broker. */
  guard(work: () => void): void {
    try {
      work();
    } catch (err) {
      this.log.error('internal error', { connection: this.name, error: describe(err), stack: (err as Error)?.stack });
      this.state = 'closed';
      this.socket.destroy();
    }
  }

  // ---- output ---------------------------------------------------------------------------------

  send(channel: number, id: Parameters<FrameWriter['method']>[1], args: Parameters<FrameWriter['method']>[2] & object): void {
    this.out.method(channel, id, args as never);
    this.outbox.schedule();
  }

  scheduleFlush(): void {
    this.outbox.schedule();
  }

  beforeNextFlush(h: BeforeFlush): void {
    this.outbox.beforeNextFlush(h);
  }

  /** Write this turn's frames now. */
  flush(): void {
    this.outbox.flush();
  }

  private onDrain(): void {
    if (this.outbox.drained()) for (const l of this.drainListeners) l();
  }

  /** It published while a resource alarm is on: stop reading it, and say so if it asked. */
  blockForAlarm(): void {
    if (!this.gate.blockForAlarm()) return;
    this.sentBlocked = this.capabilities['connection.blocked'] === true && this.running;
    if (this.sentBlocked) this.send(0, M.ConnectionBlocked, { reason: this.broker.alarms.reason });
  }

  /** The last resource alarm cleared. */
  unblockAfterAlarm(): void {
    if (!this.gate.unblockAfterAlarm()) return;
    if (this.sentBlocked && this.running) this.send(0, M.ConnectionUnblocked, {});
    this.sentBlocked = false;
  }

  // ---- errors and closing ---------------------------------------------------------------------

  /** The one error mapper: soft errors close a channel, everything else the connection. */
  handleError(err: unknown, channel: number): void {
    if (this.state === 'closed') return;
    let amqp: AmqpError;
    if (err instanceof AmqpError) amqp = err;
    else {
      // A bug of ours. RabbitMQ's equivalent is a crashed channel process, which it reports as
      // a bare INTERNAL_ERROR connection error; the details go to the log only.
      this.log.error('internal error', { connection: this.name, error: describe(err), stack: (err as Error)?.stack });
      amqp = new InternalError(describe(err));
    }
    if (this.state === 'header' || this.state === 'start' || this.state === 'secure' || this.state === 'tune') {
      // Before tune-ok nothing can be said on the wire; RabbitMQ just drops the socket.
      return this.drop(amqp.replyText);
    }
    if (amqp instanceof FatalFrameError) {
      // The byte stream cannot be parsed any more, so no close-ok can be read either: send the
      // close and end the socket (RabbitMQ waits 3 s before it resets it).
      this.fatal = true;
      this.closeWithError(amqp);
      this.endSocket();
      return;
    }
    if (this.state === 'closing') return;
    const ch = channel === 0 ? undefined : this.table.get(channel);
    if (!amqp.hard && ch) {
      this.log.debug('channel error', { connection: this.name, channel, error: amqp.replyText });
      ch.closeWithError(amqp);
      return;
    }
    this.closeWithError(amqp);
  }

  closeWithError(err: AmqpError): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    const level = err.code === CONNECTION_FORCED ? 'info' : 'warn';
    const detail = err instanceof InternalError ? { detail: err.explanation } : {};
    this.log[level]('closing connection', { connection: this.name, code: err.code, text: err.replyText, ...detail });
    this.send(0, M.ConnectionClose, { replyCode: err.code, replyText: err.replyText, classId: err.classId, methodId: err.methodId });
    this.state = 'closing';
    this.closeChannels();
    this.clearHandshakeTimer();
    this.closeTimer = setTimeout(() => this.socket.destroy(), CLOSE_OK_TIMEOUT_MS);
  }

  /**
   * Write what is pending and send FIN, but keep reading (and discarding) until the client
   * closes its side, for at most CLOSE_OK_TIMEOUT_MS. Closing at once would make the kernel
   * answer frames still in flight from the client (acks sent just before connection.close) with
   * a RST, and a RST makes the client's kernel drop our close-ok unread: amqplib's close() then
   * never returns (interop/connection-close-linger.test.ts).
   */
  private endSocket(): void {
    this.flush();
    this.socket.end();
    this.socket.resume();
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = setTimeout(() => this.socket.destroy(), CLOSE_OK_TIMEOUT_MS);
    // Gone for the broker now (listings, connection_max), not when the client's FIN arrives.
    this.broker.connectionClosed(this);
  }

  /** Broker shutdown: tell the client why (320 CONNECTION_FORCED). */
  forceClose(reason: string): void {
    this.closeWithError(ConnectionError.connectionForced(reason));
    this.flush();
  }

  private finishClose(): void {
    this.closeChannels();
    this.state = 'closed';
    this.endSocket();
  }

  private closeChannels(): void {
    this.table.releaseAll();
    if (this.actor !== undefined) this.vhost.connectionClosed(this.actor);
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
  }

  private onSocketClosed(): void {
    const wasOpen = this.state === 'running';
    this.state = 'closed';
    this.gate.close();
    forgetFlow(this.gate);
    this.clearHandshakeTimer();
    this.heartbeats.stop();
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.drainListeners.clear();
    try {
      // Requeues what the channels held, which may deliver to other connections.
      this.closeChannels();
    } catch (err) {
      this.log.error('internal error', { connection: this.name, error: describe(err), stack: (err as Error)?.stack });
    } finally {
      if (wasOpen) this.log.info('connection closed abruptly', { connection: this.name });
      this.broker.connectionClosed(this);
    }
  }

  /** Channel finished its close handshake and may be reopened. */
  channelClosed(channel: number): void {
    this.table.delete(channel);
  }

  /** The client closed a channel: close-ok goes out after this socket read (channel-table.ts). */
  channelClosedByClient(ch: Channel): void {
    this.table.clientClosed(ch);
  }

  private finishClientCloses(): void {
    this.table.finishClientCloses((id) => {
      if (this.state === 'running') this.send(id, M.ChannelCloseOk, {});
    });
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
