// The TCP listener: every accepted socket becomes a Connection.
import net from 'node:net';
import { Connection } from './connection.js';
import type { BrokerContext } from './context.js';

export class AmqpServer {
  readonly connections = new Set<Connection>();
  private server: net.Server | null = null;

  constructor(private readonly broker: BrokerContext) {}

  listen(port: number, host: string): Promise<net.AddressInfo> {
    const server = net.createServer({ noDelay: true }, (socket) => {
      // Nagle's algorithm left on stalls manual-ack consumers (small writes wait for acks).
      socket.setNoDelay(true);
      this.connections.add(new Connection(socket, this.broker, socket));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server.address() as net.AddressInfo);
      });
    });
  }

  remove(c: Connection): void {
    this.connections.delete(c);
  }

  /** Stop accepting, close every client with 320 CONNECTION_FORCED, wait for sockets to go. */
  async close(reason: string): Promise<void> {
    const server = this.server;
    this.server = null;
    const closed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
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
