// The connection handshake, as rabbit_reader runs it: protocol header -> connection.start /
// start-ok (authentication; secure / secure-ok is never needed by PLAIN, AMQPLAIN or EXTERNAL) ->
// tune / tune-ok (limits) -> open / open-ok (vhost). The connection hands it the methods of
// those states and learns the outcome through HandshakeSide; refusals are RabbitMQ's.
import type { Actor } from '../core/actor.js';
import type { LoginResult, User } from '../core/users.js';
import type { VHost } from '../core/vhost.js';
import { ConnectionError } from '../protocol/errors.js';
import { plain, toTable, type FieldTable } from '../protocol/field-table.js';
import { FRAME_MIN_SIZE, M, type AnyMethod } from '../protocol/generated/amqp.js';
import { externalUserName, IMPLEMENTED_MECHANISMS, offeredMechanisms, parseCredentials, type PeerIdentity } from './auth.js';
import type { BrokerContext } from './context.js';

export type ConnectionState = 'header' | 'start' | 'secure' | 'tune' | 'open' | 'running' | 'closing' | 'closed';

/** RabbitMQ's names for the states, used in its error texts. */
export const STATE_NAMES: Record<ConnectionState, string> = {
  header: 'starting', start: 'starting', secure: 'securing', tune: 'tuning', open: 'opening',
  running: 'running', closing: 'closing', closed: 'closed',
};

/** RabbitMQ's 504 for a connection method the current state does not take. */
export function unexpectedMethod(state: ConnectionState): ConnectionError {
  return ConnectionError.channelError(`unexpected method in connection state ${STATE_NAMES[state]}`);
}

/** What the handshake needs from its connection. */
export interface HandshakeSide {
  readonly name: string;
  readonly broker: BrokerContext;
  /** The peer connects from a loopback address (guest may log in). */
  readonly fromLoopback: boolean;
  /** The connection came over TLS. */
  readonly tls: boolean;
  /** The client's TLS certificate, when it sent one and it was verified. */
  readonly peerIdentity: PeerIdentity | undefined;
  state: ConnectionState;
  send(channel: 0, id: number, args: object): void;
  /** tune-ok: the limits in force from now on. */
  tuned(channelMax: number, frameMax: number, heartbeat: number): void;
  /** connection.open succeeded. */
  opened(vhost: VHost, actor: Actor): void;
  /** Refuse with a close frame (the client asked for one). */
  refuse(err: ConnectionError): void;
  /** Close the socket without a close frame, as the spec says for a failed handshake. */
  drop(reason: string): void;
  /** A wrong protocol header: write `answer` (the header we speak) and close. */
  refuseProtocol(header: Buffer, answer: Buffer): void;
}

const PROTOCOL_HEADER = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');

export class Handshake {
  clientProperties: FieldTable = {};
  /** Client capabilities (consumer_cancel_notify, connection.blocked, ...) as announced. */
  capabilities: Record<string, unknown> = {};
  user: User | null = null;
  /** The SASL mechanism the client chose. */
  mechanism = '';
  /** What connection.start offered. */
  private offered: string[] = [];
  private header = Buffer.alloc(0);

  constructor(private readonly side: HandshakeSide) {}

  /**
   * The first bytes: the 8-byte protocol header (possibly over several reads). Returns the
   * bytes after it once it was right and connection.start is out, else null.
   */
  onHeaderBytes(chunk: Buffer): Buffer | null {
    const need = 8 - this.header.length;
    this.header = Buffer.concat([this.header, chunk.subarray(0, need)]);
    if (this.header.length < 8) return null;
    if (!this.header.equals(PROTOCOL_HEADER)) {
      this.side.refuseProtocol(this.header, PROTOCOL_HEADER);
      return null;
    }
    this.side.state = 'start';
    this.start();
    return chunk.subarray(need);
  }

  /** The protocol header was right: offer connection.start. */
  private start(): void {
    const { config, version } = this.side.broker;
    this.offered = offeredMechanisms(config.authMechanisms, this.side.tls);
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
    this.side.send(0, M.ConnectionStart, {
      versionMajor: 0, versionMinor: 9, serverProperties,
      mechanisms: this.offered.join(' '), locales: 'en_US',
    });
  }

  /** A handshake method; false when `m` is not one (the connection handles it). */
  onMethod(m: AnyMethod): boolean {
    const side = this.side;
    switch (m.id) {
      case M.ConnectionStartOk: {
        this.expect('start');
        this.clientProperties = m.clientProperties;
        const caps = m.clientProperties.capabilities;
        this.capabilities = caps?.type === 'F' ? (plain(caps) as Record<string, unknown>) : {};
        this.mechanism = m.mechanism;
        if (!this.offered.includes(m.mechanism)) {
          // rabbit_reader: a mechanism it has but did not offer here is "invalid".
          const known = (IMPLEMENTED_MECHANISMS as readonly string[]).includes(m.mechanism);
          throw ConnectionError.commandInvalid(`${known ? 'invalid' : 'unknown'} authentication mechanism '${m.mechanism}'`);
        }
        this.authenticate(m.response);
        return true;
      }
      case M.ConnectionSecureOk:
        this.expect('secure');
        this.authenticate(m.response);
        return true;
      case M.ConnectionTuneOk: {
        this.expect('tune');
        const { config } = side.broker;
        negotiated('channel_max', 1, config.channelMax, m.channelMax);
        negotiated('frame_max', FRAME_MIN_SIZE, config.frameMax, m.frameMax);
        side.state = 'open';
        side.tuned(m.channelMax === 0 ? 65535 : m.channelMax, m.frameMax, m.heartbeat);
        return true;
      }
      case M.ConnectionOpen: {
        this.expect('open');
        const vhost = side.broker.vhost(m.virtualHost);
        if (!vhost) {
          side.broker.log.warn('refusing connection: unknown vhost', { connection: side.name, vhost: m.virtualHost, user: this.user?.name });
          throw ConnectionError.notAllowed(`vhost ${m.virtualHost} not found`);
        }
        const user = this.user!;
        // rabbit_reader checks the vhost's connection limit before the user's access to it.
        try {
          vhost.limits.admitConnection(user.name);
        } catch (e) {
          side.broker.log.warn('refusing connection: vhost connection limit reached', { connection: side.name, vhost: vhost.name, user: user.name });
          throw e;
        }
        // rabbit_access_control:check_vhost_access: the user needs permissions in the vhost.
        const access = side.broker.permissions;
        if (!access.canOpen(user.name, vhost.name)) {
          side.broker.log.warn('refusing connection: no permissions in vhost', { connection: side.name, vhost: vhost.name, user: user.name });
          throw ConnectionError.notAllowed(`access to vhost '${vhost.name}' refused for user '${user.name}'`);
        }
        side.state = 'running';
        side.opened(vhost, { user, vhost: vhost.name, connection: side.name, access });
        side.send(0, M.ConnectionOpenOk, {});
        side.broker.log.info('connection opened', { connection: side.name, user: this.user?.name, vhost: m.virtualHost });
        return true;
      }
      default:
        return false;
    }
  }

  private expect(state: ConnectionState): void {
    if (this.side.state !== state) throw unexpectedMethod(this.side.state);
  }

  private authenticate(response: Buffer): void {
    const side = this.side;
    const result = this.login(response);
    if (result === null) return;
    if ('refused' in result) {
      side.broker.log.warn('refusing connection: authentication failed', {
        connection: side.name, mechanism: this.mechanism, reason: result.refused,
      });
      const err = ConnectionError.accessRefused(
        `Login was refused using authentication mechanism ${this.mechanism}. For details see the broker logfile.`,
      );
      // Only clients that announced authentication_failure_close get a close frame; the rest
      // get what the 0-9-1 spec says, a closed socket. RabbitMQ names no method in this close
      // (class and method ids 0).
      if (this.capabilities.authentication_failure_close === true) side.refuse(err);
      else side.drop(`authentication failed: ${result.refused}`);
      return;
    }
    this.user = result.user;
    side.state = 'tune';
    const { config } = side.broker;
    side.send(0, M.ConnectionTune, { channelMax: config.channelMax, frameMax: config.frameMax, heartbeat: config.heartbeat });
  }

  /** The login the response asks for; null when the response was malformed (the socket is dropped). */
  private login(response: Buffer): LoginResult | null {
    const side = this.side;
    const { users, config } = side.broker;
    if (this.mechanism === 'EXTERNAL') {
      // The response (an authorization identity) is ignored, as rabbit_auth_mechanism_ssl does.
      const peer = side.peerIdentity;
      if (!peer) return { refused: 'connection peer presented no TLS (x.509) certificate' };
      const name = externalUserName(peer, config.sslCertLoginFrom);
      if (name === undefined) return { refused: `the client certificate (${peer.distinguishedName}) has no ${config.sslCertLoginFrom}` };
      return users.loginExternal(name, side.fromLoopback);
    }
    const creds = parseCredentials(this.mechanism, response);
    if (!creds) {
      // RabbitMQ: a protocol error, not a refused login, so no close frame whatever the client's
      // capabilities; the socket is just closed.
      side.drop(`malformed ${this.mechanism} response`);
      return null;
    }
    return users.login(creds.username, creds.password, side.fromLoopback);
  }
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
