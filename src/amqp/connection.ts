// One AMQP connection: handshake, heartbeats, the channel table, and THE place where errors
// become close frames.
//
// Life cycle: protocol header -> start/start-ok (auth) -> tune/tune-ok -> open/open-ok ->
// running -> closing (we sent connection.close, awaiting close-ok) -> closed. Frames for
// channels go to their Channel; channel 0 carries connection methods. Core code throws typed
// errors; handleError() decides: a soft code closes the channel, a hard code the connection.
import type { Socket } from 'node:net';
import type { Logger } from '../log.js';
import type { BrokerConfig } from '../config.js';
import type { UserStore, User } from '../core/users.js';
import { isLoopback } from '../core/users.js';
import type { VHost } from '../core/vhost.js';
import { ByteReader } from '../protocol/byte-reader.js';
import { AmqpError, ConnectionError, DecodeError } from '../protocol/errors.js';
import { FrameParser, type FrameSink } from '../protocol/frame-parser.js';
import {
  FRAME_HEARTBEAT, FRAME_METHOD, FRAME_MIN_SIZE, M, METHODS, UnknownMethodError, decodeMethod,
  type AnyMethod,
} from '../protocol/generated/amqp.js';
import { toTable, type FieldTable, plain } from '../protocol/field-table.js';
import { MECHANISMS, parseCredentials } from './auth.js';
import { Channel } from './channel.js';
import { FrameWriter } from './frame-writer.js';

export interface BrokerContext {
  config: BrokerConfig;
  log: Logger;
  users: UserStore;
  version: string;
  vhost(name: string): VHost | undefined;

  connectionClosed(c: Connection): void;
}

const PROTOCOL_HEADER = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');
/** Above this many bytes queued on the socket, stop reading from this peer until it drains. */
const WRITE_HIGH_WATER = 1024 * 1024;
const CLOSE_OK_TIMEOUT_MS = 3_000;

type State = 'header' | 'start' | 'secure' | 'tune' | 'open' | 'running' | 'closing' | 'closed';

const sharedReader = new ByteReader();

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

  constructor(readonly socket: Socket, readonly broker: BrokerContext) {
    this.name = `${socket.remoteAddress}:${socket.remotePort} -> ${socket.localAddress}:${socket.localPort}`;
    this.parser = new FrameParser(this, FRAME_MIN_SIZE);
    this.out.frameMax = FRAME_MIN_SIZE;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
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
    if (this.state === 'closed') return;
    try {
      if (this.state === 'header') {
        this.onHeaderBytes(chunk);
      } else {
        this.parser.push(chunk);
      }
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
      return;
    }
    this.state = 'start';
    this.sendStart();
    const rest = chunk.subarray(need);
    if (rest.length > 0) this.parser.push(rest);
  }

  onFrame(type: number, channel: number, buf: Buffer, start: number, end: number): void {
    if (type === FRAME_HEARTBEAT) {
      if (channel !== 0) throw ConnectionError.frameError(`heartbeat frame on non-zero channel ${channel}`);
      return;
    }
    if (this.state === 'closing' || this.state === 'closed') {
      // Only close/close-ok matter now; everything else is discarded as the spec says.
      if (channel === 0 && type === FRAME_METHOD) this.onMethodWhileClosing(buf, start, end);
      return;
    }
    if (channel === 0) {
      if (type !== FRAME_METHOD) throw ConnectionError.unexpectedFrame(`unexpected frame of type ${type} on channel 0`);
      const method = this.decode(buf, start, end);
      try {
        this.onConnectionMethod(method);
      } catch (err) {
        if (err instanceof AmqpError) err.during(method.id >>> 16, method.id & 0xffff);
        throw err;
      }
      return;
    }
    if (this.state !== 'running') {
      throw ConnectionError.channelError(`frame on channel ${channel} before the connection was opened`);
    }
    if (channel > this.channelMax) {
      throw ConnectionError.channelError(`channel ${channel} is above the negotiated channel_max ${this.channelMax}`);
    }
    let ch = this.channels.get(channel);
    if (!ch) {
      ch = new Channel(this, channel);
      this.channels.set(channel, ch);
    }
    try {
      ch.onFrame(type, buf, start, end);
    } catch (err) {
      this.handleError(err, channel);
    }
  }

  decode(buf: Buffer, start: number, end: number): AnyMethod {
    const r = sharedReader.reset(buf, start, end);
    let method: AnyMethod;
    try {
      method = decodeMethod(r);
    } catch (err) {
      if (err instanceof UnknownMethodError) {
        const e = ConnectionError.commandInvalid(`unknown method ${err.methodKey >>> 16}/${err.methodKey & 0xffff}`);
        throw e.during(err.methodKey >>> 16, err.methodKey & 0xffff);
      }
      if (err instanceof DecodeError) {
        const key = end - start >= 4 ? buf.readUInt32BE(start) : 0;
        throw ConnectionError.frameError(`cannot decode ${METHODS.get(key)?.name ?? 'method'}: ${err.message}`)
          .during(key >>> 16, key & 0xffff);
      }
      throw err;
    }
    if (r.pos !== end) {
      throw ConnectionError.frameError(`${METHODS.get(method.id)!.name} has ${end - r.pos} bytes after its arguments`)
        .during(method.id >>> 16, method.id & 0xffff);
    }
    return method;
  }

  private onMethodWhileClosing(buf: Buffer, start: number, end: number): void {
    let method: AnyMethod;
    try {
      method = this.decode(buf, start, end);
    } catch {
      return;
    }
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
      throw ConnectionError.channelError(`unexpected method in connection state ${this.state}: ${METHODS.get(method.id)!.name}`);
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
        this.log.info('client closed connection', { connection: this.name, code: m.replyCode, text: m.replyText });
        this.closeChannels();
        this.send(0, M.ConnectionCloseOk, {});
        this.finishClose();
        return;
      case M.ConnectionCloseOk:
        // Not closing (handled in onMethodWhileClosing): RabbitMQ treats this as a protocol error.
        throw ConnectionError.channelError('unexpected connection.close-ok');
      case M.ConnectionBlocked:
      case M.ConnectionUnblocked:
      case M.ConnectionUpdateSecretOk:
        return;
      case M.ConnectionUpdateSecret:
        throw ConnectionError.notImplemented('connection.update-secret is not supported');
      default:
        throw ConnectionError.commandInvalid(`${METHODS.get(m.id)!.name} is not a connection method (sent on channel 0)`);
    }
  }

  private authenticate(response: Buffer): void {
    const creds = parseCredentials(this.mechanism, response);
    const result = creds
      ? this.broker.users.login(creds.username, creds.password, isLoopback(this.socket.remoteAddress))
      : { refused: `malformed ${this.mechanism} response` };
    if ('refused' in result) {
      this.log.warn('refusing connection: authentication failed', {
        connection: this.name, mechanism: this.mechanism, reason: result.refused,
      });
      const err = ConnectionError.accessRefused(
        `Login was refused using authentication mechanism ${this.mechanism}. For details see the broker logfile.`,
      );
      if (this.capabilities.authentication_failure_close === true) throw err;
      // Clients that did not ask for a close frame get what the 0-9-1 spec says: the socket closes.
      this.state = 'closed';
      this.flush();
      this.socket.destroy();
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
    // Send when we have been silent for a whole interval; give up after two silent intervals
    // from the peer, as RabbitMQ does.
    this.heartbeatTimer = setInterval(() => {
      if (!this.sentSinceTick) {
        this.out.heartbeat();
        this.scheduleFlush();
      }
      this.sentSinceTick = false;
      if (this.receivedSinceTick) {
        this.missedHeartbeats = 0;
      } else if (++this.missedHeartbeats >= 2) {
        this.log.warn('closing connection: missed heartbeats from client', { connection: this.name, timeoutSeconds: this.heartbeat });
        this.socket.destroy();
      }
      this.receivedSinceTick = false;
    }, this.heartbeat * 1000);
    this.heartbeatTimer.unref();
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
      s.pause();
    }
  }

  private onDrain(): void {
    if (!this.writeBlocked) return;
    this.writeBlocked = false;
    if (this.state !== 'closed') this.socket.resume();
    for (const l of this.drainListeners) l();
  }

  // ---- errors and closing ---------------------------------------------------------------------

  /** The one error mapper: soft errors close a channel, everything else the connection. */
  handleError(err: unknown, channel: number): void {
    if (this.state === 'closed') return;
    const amqp = err instanceof AmqpError ? err : ConnectionError.internalError(describe(err));
    if (!(err instanceof AmqpError)) this.log.error('internal error', { connection: this.name, error: describe(err), stack: (err as Error)?.stack });
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
    this.log[level]('closing connection', { connection: this.name, code: err.code, text: err.replyText });
    this.send(0, M.ConnectionClose, { replyCode: err.code, replyText: err.replyText, classId: err.classId, methodId: err.methodId });
    this.state = 'closing';
    this.closeChannels();
    this.clearHandshakeTimer();
    this.closeTimer = setTimeout(() => this.socket.destroy(), CLOSE_OK_TIMEOUT_MS);
  }

  /** Broker shutdown: tell the client why (320 CONNECTION_FORCED). */
  forceClose(reason: string): void {
    this.closeWithError(ConnectionError.connectionForced(reason));
    this.flush();
  }

  private finishClose(): void {
    this.closeChannels();
    this.state = 'closed';
    this.flush();
    this.socket.end();
    this.socket.destroySoon?.();
  }

  private closeChannels(): void {
    for (const ch of this.channels.values()) ch.release();
    this.channels.clear();
    this.vhost?.connectionClosed(this);
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
  }

  private onSocketClosed(): void {
    const wasOpen = this.state === 'running';
    this.state = 'closed';
    this.closeChannels();
    this.clearHandshakeTimer();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.drainListeners.clear();
    if (wasOpen) this.log.info('connection closed abruptly', { connection: this.name });
    this.broker.connectionClosed(this);
  }

  /** Channel finished its close handshake and may be reopened. */
  channelClosed(channel: number): void {
    this.channels.delete(channel);
  }
}

function flushConnection(c: Connection): void {
  c.flush();
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

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
