// The listeners: TCP (amqp) and TLS (amqps). Every accepted socket becomes a Connection; a TLS
// socket only once its handshake is done and its client certificate, if any, was verified.
//
// connection_max: as RabbitMQ (ranch's max_connections), a connection over the limit is neither
// refused nor closed: it waits, unread (its protocol header unanswered), until another closes,
// and is then served in arrival order. The wait is bounded as RabbitMQ's is by its listen backlog:
// beyond WAITING_MAX waiting sockets, more are closed at once. The handshake timeout starts when a
// socket is served.
import net from 'node:net';
import type { TlsOptions } from '../config.js';
import { peerIdentity, type PeerIdentity } from './auth.js';
import { Connection } from './connection.js';
import type { BrokerContext } from './context.js';
import { tlsServerOptions } from './tls.js';

/** Sockets held over connection_max (RabbitMQ's are in the kernel's listen backlog, 128). */
export const WAITING_MAX = 128;

interface Waiting { socket: net.Socket; peer: { tls: boolean; peerIdentity?: PeerIdentity } }

export class AmqpServer {
  readonly connections = new Set<Connection>();
  private readonly servers: net.Server[] = [];
  /** Accepted over connection_max, not read yet, oldest first. */
  private readonly waiting: Waiting[] = [];

  constructor(private readonly broker: BrokerContext) {}

  listen(port: number, host: string): Promise<net.AddressInfo> {
    return this.bind(net.createServer({ noDelay: true }, (socket) => this.accept(socket, { tls: false })), port, host);
  }

  /** An amqps listener; reading the certificate files can throw (naming the file). */
  async listenTls(port: number, host: string, options: TlsOptions): Promise<net.AddressInfo> {
    // Loaded only for a TLS listener: an ES import of node:tls reads tls.rootCertificates (the
    // module facade copies every export), ~1 MiB of idle RSS in a broker without TLS.
    const tls = await import('node:tls');
    const server = tls.createServer(tlsServerOptions(options, this.broker.config.handshakeTimeoutMs));
    server.on('secureConnection', (socket) => {
      const cert = socket.getPeerX509Certificate();
      // verify_peer without fail_if_no_peer_cert: no certificate is fine, a bad one is not
      // (Node lets both through when rejectUnauthorized is off, so the check is here).
      if (options.verify === 'verify_peer' && cert !== undefined && !socket.authorized) {
        this.broker.log.warn('refusing TLS connection: client certificate not accepted', {
          remote: `${socket.remoteAddress}:${socket.remotePort}`, error: String(socket.authorizationError),
        });
        socket.destroy();
        return;
      }
      const verified = options.verify === 'verify_peer' && cert !== undefined ? peerIdentity(cert) : undefined;
      this.accept(socket, { tls: true, ...(verified && { peerIdentity: verified }) });
    });
    server.on('tlsClientError', (err, socket) => {
      const remote = socket.remoteAddress === undefined ? undefined : `${socket.remoteAddress}:${socket.remotePort}`;
      this.broker.log.warn('TLS handshake failed', { remote, error: err.message });
    });
    return this.bind(server, port, host);
  }

  private accept(socket: net.Socket, peer: { tls: boolean; peerIdentity?: PeerIdentity }): void {
    // Nagle's algorithm left on stalls manual-ack consumers (small writes wait for acks).
    socket.setNoDelay(true);
    if (this.connections.size >= this.broker.config.connectionMax) return this.hold({ socket, peer });
    this.serve(socket, peer);
  }

  private hold(w: Waiting): void {
    const { socket } = w;
    if (this.waiting.length >= WAITING_MAX) {
      socket.destroy();
      return;
    }
    if (this.waiting.length === 0) {
      this.broker.log.warn('connection_max reached: new connections wait until one closes', { connectionMax: this.broker.config.connectionMax });
    }
    this.waiting.push(w);
    socket.on('error', () => {});
    socket.once('close', () => {
      const i = this.waiting.indexOf(w);
      if (i >= 0) this.waiting.splice(i, 1);
    });
  }

  private serveWaiting(): void {
    while (this.waiting.length > 0 && this.connections.size < this.broker.config.connectionMax) {
      const w = this.waiting.shift()!;
      if (!w.socket.destroyed) this.serve(w.socket, w.peer);
    }
  }

  private serve(socket: net.Socket, peer: { tls: boolean; peerIdentity?: PeerIdentity }): void {
    const { remoteAddress, remotePort, localAddress, localPort } = socket;
    this.connections.add(new Connection(socket, this.broker, { remoteAddress, remotePort, localAddress, localPort, ...peer }));
  }

  private bind(server: net.Server, port: number, host: string): Promise<net.AddressInfo> {
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server.address() as net.AddressInfo);
      });
    });
  }

  remove(c: Connection): void {
    if (this.connections.delete(c) && this.waiting.length > 0) this.serveWaiting();
  }

  /** Connections waiting over connection_max. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Stop accepting, close every client with 320 CONNECTION_FORCED, wait for sockets to go. */
  async close(reason: string): Promise<void> {
    const servers = this.servers.splice(0);
    for (const w of this.waiting.splice(0)) w.socket.destroy();
    const closed = Promise.all(servers.map((s) => new Promise<void>((r) => (s.listening ? s.close(() => r()) : r()))));
    for (const c of this.connections) {
      if (c.state === 'running') c.forceClose(reason);
      else c.socket.destroy();
    }
    const deadline = Date.now() + 2000;
    while (this.connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const c of this.connections) c.socket.destroy();
    await closed;
  }
}
