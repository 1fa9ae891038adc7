// One AMQP connection: handshake, heartbeats, the channel table, and THE place where errors
// become close frames.
//
// Life cycle: protocol header -> start/start-ok (auth) -> tune/tune-ok -> open/open-ok ->
// running -> closing (we sent connection.close, awaiting close-ok) -> closed. Frames for
// channels go to their Channel; channel 0 carries connection methods. Core code throws typed
// errors; handleError() decides: a soft code closes the channel, a hard code the connection.
//
// Bad input is answered as RabbitMQ 3.x answers it (frames are judged in rabbit_reader's order,
// with its texts); interop/differential/probe-hostile.mjs and test/hostile.test.ts hold the
// evidence and the deliberate differences. No exception may leave a socket or timer handler:
// one would end the whole broker, so every entry point catches and turns it into a close.
import type { Socket } from 'node:net';
import type { Logger } from '../log.js';
import type { BrokerConfig } from '../config.js';
import type { UserStore, User } from '../core/users.js';
import { isLoopback } from '../core/users.js';
import type { VHost } from '../core/vhost.js';
import { ByteReader } from '../protocol/byte-reader.js';
import { AmqpError, ConnectionError, DecodeError } from '../protocol/errors.js';
import { FatalFrameError, FrameParser, type FrameSink } from '../protocol/frame-parser.js';
import { erlBinary, frameErrorText, frameText } from '../protocol/erlang-format.js';
import {
  FRAME_BODY, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD, FRAME_MIN_SIZE, M, UnknownMethodError,
  decodeMethod, type AnyMethod,
} from '../protocol/generated/amqp.js';
import { toTable, type FieldTable, plain } from '../protocol/field-table.js';
import { MECHANISMS, parseCredentials } from './auth.js';
import { CONTENT_HEADER_MIN } from './command-assembler.js';
import { Channel, InternalError } from './channel.js';
import { forget as forgetFlow } from './flow.js';
import type { Queue } from '../core/queue/queue.js';
import { FrameWriter } from './frame-writer.js';
import type { ReplyRegistry } from './direct-reply-to.js';

export interface BrokerContext {
  config: BrokerConfig;
  log: Logger;
  users: UserStore;
  version: string;
  vhost(name: string): VHost | undefined;
  /** Direct reply-to addresses of every channel with a reply consumer. */
  readonly replies: ReplyRegistry;
  /** True while memory is above the high watermark: publishing connections are blocked. */
  readonly memoryAlarm: boolean;
  /** Bytes arrived from a client (the memory monitor checks more often under load). */
  bytesRead(n: number): void;

  connectionClosed(c: Connection): void;
}

const PROTOCOL_HEADER = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');
/** Above this many bytes queued on the socket, stop reading from this peer until it drains. */
const WRITE_HIGH_WATER = 1024 * 1024;
const CLOSE_OK_TIMEOUT_MS = 3_000;

type State = 'header' | 'start' | 'secure' | 'tune' | 'open' | 'running' | 'closing' | 'closed';

const sharedReader = new ByteReader();
/** RabbitMQ's names for the handshake states, used in its error texts. */
const STATE_NAMES: Record<State, string> = {
  header: 'starting', start: 'starting', secure: 'securing', tune: 'tuning', open: 'opening',
  running: 'running', closing: 'closing', closed: 'closed',
};

export class Connection implements FrameSink {
  readonly name: string;
  state: State = 'header';
  readonly out = new FrameWriter();
  readonly channels = new Map<number, Channel>();
  channelMax = 0;
  frameMax = FRAME_MIN_SIZE;
  heartbeat = 0;
  user: User | null = null;
  vhost: VHost | null = null;
  clientProperties: FieldTable = {};
  /** Client capabilities (consumer_cancel_notify, connection.blocked, ...) as announced. */
  capabilities: Record<string, unknown> = {};
  /** True while the socket's write buffer is over the high-water mark. */
  writeBlocked = false;
  /** Congested queues this connection published into; it is not read while any remain (flow.ts). */
  readonly throttledBy = new Set<Queue>();
  flowTimer: NodeJS.Timeout | null = null;
  /** Not read while the memory alarm lasts, because it published (RabbitMQ's "blocked"). */
  blockedByAlarm = false;
  private sentBlocked = false;
  /** Called when a blocked socket drains: consumers on this connection may resume. */
  readonly drainListeners = new Set<() => void>();
  /** Work to do just before the turn's frames go out (coalesced publisher confirms). */
  readonly beforeFlush: { beforeFlush(): void }[] = [];

  private readonly parser: FrameParser;
  private header = Buffer.alloc(0);
  private flushScheduled = false;
  private handshakeTimer: NodeJS.Timeout | null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private closeTimer: NodeJS.Timeout | null = null;
  private receivedSinceTick = true;
  private sentSinceTick = false;
  private missedHeartbeats = 0;
  private mechanism = '';
  /** After a fatal framing error the byte stream is not parsed any more. */
  private fatal = false;
  /** Channels the client closed during the current socket read (see channelClosedByClient). */
  private readonly closedByClient: Channel[] = [];

  constructor(readonly socket: Socket, readonly broker: BrokerContext) {
    this.name = `${socket.remoteAddress}:${socket.remotePort} -> ${socket.localAddress}:${socket.localPort}`;
    this.parser = new FrameParser(this, FRAME_MIN_SIZE);
    this.out.frameMax = FRAME_MIN_SIZE;
    socket.setNoDelay(true);
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

  // ---- input ------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.receivedSinceTick = true;
    this.broker.bytesRead(chunk.length);
    if (this.state === 'closed' || this.fatal) return;
    // Nothing may escape a socket handler: an exception here would end the whole process.
    try {
      if (this.state === 'header') {
        this.onHeaderBytes(chunk);
      } else {
        this.parser.push(chunk);
      }
    } catch (err) {
      // Per-frame errors are handled in onFrame; what arrives here is the parser's (fatal).
      this.handleError(err, 0);
    }
    try {
      if (this.closedByClient.length > 0) this.finishClientCloses();
    } catch (err) {
      this.handleError(err, 0);
    }
  }

  private onHeaderBytes(chunk: Buffer): void {
    const need = 8 - this.header.length;
    this.header = Buffer.concat([this.header, chunk.subarray(0, need)]);
    if (this.header.length < 8) return;
    if (!this.header.equals(PROTOCOL_HEADER)) {
      // As RabbitMQ: answer with the header we do speak, then close.
      this.log.warn('closing connection: unsupported protocol header', {
        connection: this.name, header: this.header.toString('hex'),
      });
      this.state = 'closed';
      this.socket.end(PROTOCOL_HEADER);
      this.socket.destroySoon?.();
      return;
    }
    this.state = 'start';
    this.sendStart();
    const rest = chunk.subarray(need);
    if (rest.length > 0) this.parser.push(rest);
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
    // rabbit_command_assembler:analyze_frame/3: what is not a well-formed frame of a known type.
    const size = end - start;
    if (
      (type === FRAME_METHOD && size < 4) || (type === FRAME_HEADER && size < CONTENT_HEADER_MIN) ||
      (type === FRAME_HEARTBEAT && size > 0) || (type !== FRAME_METHOD && type !== FRAME_HEADER && type !== FRAME_BODY && type !== FRAME_HEARTBEAT)
    ) {
      throw ConnectionError.frameError(frameErrorText(type, buf.subarray(start, end), 'unknown_frame'));
    }
    if (channel === 0) {
      if (type === FRAME_HEARTBEAT) return;
      if (type !== FRAME_METHOD) throw ConnectionError.unexpectedFrame(frameText(type, buf.subarray(start, end)));
      const method = this.decode(buf, start, end);
      try {
        this.onConnectionMethod(method);
      } catch (err) {
        if (err instanceof AmqpError) err.during(method.id >>> 16, method.id & 0xffff);
        throw err;
      }
      return;
    }
    if (type === FRAME_HEARTBEAT) throw ConnectionError.unexpectedFrame(frameText(type, buf.subarray(start, end)));
    if (channel > this.channelMax) {
      // Deliberately stricter than RabbitMQ 3.10, which accepts any channel number.
      throw ConnectionError.channelError(`channel ${channel} is above the negotiated channel_max ${this.channelMax}`);
    }
    let ch = this.channels.get(channel);
    if (!ch) {
      ch = new Channel(this, channel);
      this.channels.set(channel, ch);
    }
    ch.onFrame(type, buf, start, end);
  }

  decode(buf: Buffer, start: number, end: number): AnyMethod {
    if (end - start < 4) throw ConnectionError.frameError(frameErrorText(FRAME_METHOD, buf.subarray(start, end), 'unknown_frame'));
    const r = sharedReader.reset(buf, start, end);
    let method: AnyMethod;
    try {
      method = decodeMethod(r);
    } catch (err) {
      if (err instanceof UnknownMethodError) {
        // RabbitMQ 3.x crashes the connection here (no close frame); we say what happened.
        const [c, m] = [err.methodKey >>> 16, err.methodKey & 0xffff];
        throw ConnectionError.notImplemented(`unknown method {${c},${m}}`).during(c, m);
      }
      if (err instanceof DecodeError) throw cannotDecode(buf, start, end);
      throw err;
    }
    if (r.pos !== end) throw cannotDecode(buf, start, end);
    return method;
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

  // ---- handshake and connection methods ----------------------------------------------------

  private sendStart(): void {
    const { config, version } = this.broker;
    const serverProperties = toTable({
      product: config.product,
      version,
      platform: `Node.js ${process.version}`,
      copyright: 'Warren contributors',
      information: 'Licensed under the MIT license',
      cluster_name: `warren@${config.host}`,
      capabilities: {
        publisher_confirms: true,
        exchange_exchange_bindings: true,
        'basic.nack': true,
        consumer_cancel_notify: true,
        'connection.blocked': true,
        consumer_priorities: true,
        authentication_failure_close: true,
        per_consumer_qos: true,
        direct_reply_to: true,
      },
    });
    this.send(0, M.ConnectionStart, {
      versionMajor: 0, versionMinor: 9, serverProperties,
      mechanisms: MECHANISMS.join(' '), locales: 'en_US',
    });
  }

  private expect(state: State, method: AnyMethod): void {
    if (this.state !== state) {
      throw ConnectionError.channelError(`unexpected method in connection state ${STATE_NAMES[this.state]}`)
        .during(method.id >>> 16, method.id & 0xffff);
    }
  }

  private onConnectionMethod(m: AnyMethod): void {
    switch (m.id) {
      case M.ConnectionStartOk: {
        this.expect('start', m);
        this.clientProperties = m.clientProperties;
        const caps = m.clientProperties.capabilities;
        this.capabilities = caps?.type === 'F' ? (plain(caps) as Record<string, unknown>) : {};
        this.mechanism = m.mechanism;
        if (!(MECHANISMS as readonly string[]).includes(m.mechanism)) {
          throw ConnectionError.commandInvalid(`unknown authentication mechanism '${m.mechanism}'`);
        }
        this.authenticate(m.response);
        return;
      }
      case M.ConnectionSecureOk:
        this.expect('secure', m);
        this.authenticate(m.response);
        return;
      case M.ConnectionTuneOk: {
        this.expect('tune', m);
        const { config } = this.broker;
        negotiated('channel_max', 1, config.channelMax, m.channelMax);
        negotiated('frame_max', FRAME_MIN_SIZE, config.frameMax, m.frameMax);
        this.channelMax = m.channelMax === 0 ? 65535 : m.channelMax;
        this.frameMax = m.frameMax;
        this.parser.frameMax = m.frameMax;
        this.out.frameMax = m.frameMax;
        this.heartbeat = m.heartbeat;
        this.state = 'open';
        this.startHeartbeats();
        return;
      }
      case M.ConnectionOpen: {
        this.expect('open', m);
        const vhost = this.broker.vhost(m.virtualHost);
        if (!vhost) {
          this.log.warn('refusing connection: unknown vhost', { connection: this.name, vhost: m.virtualHost, user: this.user?.name });
          throw ConnectionError.notAllowed(`vhost ${m.virtualHost} not found`);
        }
        this.vhost = vhost;
        this.state = 'running';
        this.clearHandshakeTimer();
        this.send(0, M.ConnectionOpenOk, {});
        this.log.info('connection opened', { connection: this.name, user: this.user?.name, vhost: m.virtualHost });
        return;
      }
      case M.ConnectionClose:
        this.expect('running', m);
        this.log.info('client closed connection', { connection: this.name, code: m.replyCode, text: m.replyText });
        // 'closing' first: requeued messages must not go to consumers on this connection's other channels.
        this.state = 'closing';
        this.closeChannels();
        this.send(0, M.ConnectionCloseOk, {});
        this.finishClose();
        return;
      case M.ConnectionUpdateSecret:
        // As RabbitMQ with its internal user database: nothing to update, and that is fine.
        this.expect('running', m);
        this.log.info('client updated its secret', { connection: this.name, reason: m.reason });
        this.send(0, M.ConnectionUpdateSecretOk, {});
        return;
      // connection.close-ok when we are not closing (that case is onMethodWhileClosing), and the
      // methods only a server sends (blocked, unblocked, update-secret-ok, start, ...) are all
      // "unexpected" to RabbitMQ.
      default:
        throw ConnectionError.channelError(`unexpected method in connection state ${STATE_NAMES[this.state]}`);
    }
  }

  private authenticate(response: Buffer): void {
    const creds = parseCredentials(this.mechanism, response);
    if (!creds) {
      // RabbitMQ: a protocol error, not a refused login, so no close frame whatever the client's
      // capabilities; the socket is just closed.
      return this.dropHandshake(`malformed ${this.mechanism} response`);
    }
    const result = this.broker.users.login(creds.username, creds.password, isLoopback(this.socket.remoteAddress));
    if ('refused' in result) {
      this.log.warn('refusing connection: authentication failed', {
        connection: this.name, mechanism: this.mechanism, reason: result.refused,
      });
      const err = ConnectionError.accessRefused(
        `Login was refused using authentication mechanism ${this.mechanism}. For details see the broker logfile.`,
      );
      // Only clients that announced authentication_failure_close get a close frame; the rest
      // get what the 0-9-1 spec says, a closed socket.
      // RabbitMQ names no method in this close (class and method ids 0).
      if (this.capabilities.authentication_failure_close === true) this.closeWithError(err);
      else this.dropHandshake(`authentication failed: ${result.refused}`);
      return;
    }
    this.user = result.user;
    this.state = 'tune';
    const { config } = this.broker;
    this.send(0, M.ConnectionTune, { channelMax: config.channelMax, frameMax: config.frameMax, heartbeat: config.heartbeat });
  }

  // ---- heartbeats -----------------------------------------------------------------------------

  private startHeartbeats(): void {
    if (this.heartbeat === 0) return;
    // As RabbitMQ: a heartbeat goes out when we have been silent for half the interval, and a
    // peer silent for two whole intervals is dropped (without a close frame).
    const halfMs = (this.heartbeat * 1000) / 2;
    this.heartbeatTimer = setInterval(() => this.guard(() => this.heartbeatTick()), halfMs);
    this.heartbeatTimer.unref();
  }

  private heartbeatTick(): void {
    if (!this.sentSinceTick) {
      this.out.heartbeat();
      this.flush();
    }
    // A heartbeat does not count as traffic: when idle, one goes out every half interval.
    this.sentSinceTick = false;
    if (this.receivedSinceTick) {
      this.missedHeartbeats = 0;
    } else if (++this.missedHeartbeats >= 4) {
      this.log.warn('closing connection: missed heartbeats from client', { connection: this.name, timeoutSeconds: this.heartbeat });
      this.socket.destroy();
    }
    this.receivedSinceTick = false;
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

  send<K extends Parameters<FrameWriter['method']>[1]>(channel: number, id: K, args: Parameters<FrameWriter['method']>[2] & object): void {
    this.out.method(channel, id, args as never);
    this.scheduleFlush();
  }

  scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(flushConnection, this);
  }

  flush(): void {
    this.flushScheduled = false;
    if (this.state === 'closed' && this.socket.destroyed) return;
    if (this.beforeFlush.length > 0) {
      for (const h of this.beforeFlush) h.beforeFlush();
      this.beforeFlush.length = 0;
    }
    const parts = this.out.take();
    if (parts.length === 0) return;
    this.sentSinceTick = true;
    const s = this.socket;
    if (s.destroyed) return;
    if (parts.length === 1) s.write(parts[0]);
    else {
      s.cork();
      for (const p of parts) s.write(p);
      s.uncork();
    }
    if (!this.writeBlocked && s.writableLength > WRITE_HIGH_WATER) {
      // The peer is not reading: stop reading from it too, so it cannot make us buffer more.
      this.writeBlocked = true;
      this.pauseReading();
    }
  }

  private onDrain(): void {
    if (!this.writeBlocked) return;
    this.writeBlocked = false;
    this.resumeReading();
    for (const l of this.drainListeners) l();
  }

  pauseReading(): void {
    this.socket.pause();
  }

  /** Read again, unless another reason to hold back remains. */
  resumeReading(): void {
    if (this.writeBlocked || this.throttledBy.size > 0 || this.blockedByAlarm || this.state === 'closed') return;
    this.socket.resume();
  }

  /** It published while the memory alarm is on: stop reading it, and say so if it asked. */
  blockForAlarm(): void {
    if (this.blockedByAlarm) return;
    this.blockedByAlarm = true;
    this.pauseReading();
    if (this.capabilities['connection.blocked'] === true && this.state === 'running') {
      this.sentBlocked = true;
      this.send(0, M.ConnectionBlocked, { reason: 'low on memory' });
    }
  }

  /** The memory alarm cleared. */
  unblockAfterAlarm(): void {
    if (!this.blockedByAlarm) return;
    this.blockedByAlarm = false;
    if (this.sentBlocked && this.state === 'running') this.send(0, M.ConnectionUnblocked, {});
    this.sentBlocked = false;
    this.resumeReading();
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
      return this.dropHandshake(amqp.replyText);
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
    const ch = channel === 0 ? undefined : this.channels.get(channel);
    if (!amqp.hard && ch) {
      this.log.debug('channel error', { connection: this.name, channel, error: amqp.replyText });
      ch.closeWithError(amqp);
      return;
    }
    this.closeWithError(amqp);
  }

  closeWithError(err: AmqpError): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    const level = err.code === 320 ? 'info' : 'warn';
    const detail = err instanceof InternalError ? { detail: err.explanation } : {};
    this.log[level]('closing connection', { connection: this.name, code: err.code, text: err.replyText, ...detail });
    this.send(0, M.ConnectionClose, { replyCode: err.code, replyText: err.replyText, classId: err.classId, methodId: err.methodId });
    this.state = 'closing';
    this.closeChannels();
    this.clearHandshakeTimer();
    this.closeTimer = setTimeout(() => this.socket.destroy(), CLOSE_OK_TIMEOUT_MS);
  }

  private dropHandshake(reason: string): void {
    this.log.warn('closing connection during handshake', { connection: this.name, state: STATE_NAMES[this.state], reason });
    // What was already said (connection.tune, say) still goes out, then the socket is closed
    // without a close frame.
    this.state = 'closed';
    this.endSocket();
  }

  /** Write what is pending, then close the socket (destroyed once the writes are done). */
  private endSocket(): void {
    this.flush();
    this.socket.end();
    this.socket.destroySoon?.();
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
    for (const ch of this.channels.values()) ch.release();
    this.channels.clear();
    this.closedByClient.length = 0;
    this.vhost?.connectionClosed(this);
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
  }

  private onSocketClosed(): void {
    const wasOpen = this.state === 'running';
    this.state = 'closed';
    forgetFlow(this);
    this.clearHandshakeTimer();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
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
    this.channels.delete(channel);
  }

  /**
   * The client closed a channel. As in RabbitMQ, whose reader hands the rest of the bytes it has
   * already read to the (closing) channel process before it learns that the channel is gone,
   * the channel keeps receiving what came in the same socket read; after that read the
   * close-ok goes out and the channel number is free again.
   */
  channelClosedByClient(ch: Channel): void {
    this.closedByClient.push(ch);
  }

  private finishClientCloses(): void {
    const closed = this.closedByClient.splice(0);
    for (const ch of closed) {
      if (this.channels.get(ch.id) !== ch) continue;
      this.channels.delete(ch.id);
      if (this.state === 'running') this.send(ch.id, M.ChannelCloseOk, {});
    }
  }
}

function flushConnection(c: Connection): void {
  c.guard(() => c.flush());
}

/** RabbitMQ's rule for tune-ok values: at least the minimum, at most what the server offered. */
function negotiated(field: string, min: number, serverMax: number, client: number): void {
  if (client !== 0 && client < min) {
    throw ConnectionError.notAllowed(`negotiated ${field} = ${client} is lower than the minimum allowed value (${min})`);
  }
  if (serverMax !== 0 && (client === 0 || client > serverMax)) {
    throw ConnectionError.notAllowed(`negotiated ${field} = ${client} is higher than the maximum allowed value (${serverMax})`);
  }
}

/** RabbitMQ's text for method arguments that do not parse (or have bytes left over). */
function cannotDecode(buf: Buffer, start: number, end: number): ConnectionError {
  const key = buf.readUInt32BE(start);
  return ConnectionError.frameError(`cannot decode ${erlBinary(buf.subarray(start + 4, end))}`).during(key >>> 16, key & 0xffff);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
