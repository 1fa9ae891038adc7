// Listening and closing for Warren's HTTP listeners (management API, Prometheus): listen
// resolves with the address once bound (rejects on EADDRINUSE and the like); close stops
// accepting and ends open keep-alive connections, so stop() does not wait on idle clients.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export async function listenHttp(handler: http.RequestListener, port: number, host: string): Promise<{ server: http.Server; address: AddressInfo }> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 5_000;
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
  return { server, address };
}

export function closeHttp(server: http.Server): Promise<void> {
  return new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  });
}
