// RabbitMQ's ssl_options as node:tls server options. verify_peer asks the client for a
// certificate and checks it against the CA; fail_if_no_peer_cert also refuses a client that
// sends none (Node does that in the handshake, as Erlang does). verify_none does not ask.
import { readFileSync } from 'node:fs';
import type tls from 'node:tls';
import type { TlsOptions } from '../config.js';

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read the TLS ${what} ${file}: ${(err as Error).message}`);
  }
}

export function tlsServerOptions(o: TlsOptions, handshakeTimeoutMs: number): tls.TlsOptions {
  const verifyPeer = o.verify === 'verify_peer';
  return {
    cert: read(o.certFile, 'certificate'),
    key: read(o.keyFile, 'key'),
    ...(o.caFile !== undefined && { ca: read(o.caFile, 'CA certificate') }),
    requestCert: verifyPeer,
    rejectUnauthorized: verifyPeer && o.failIfNoPeerCert,
    handshakeTimeout: handshakeTimeoutMs,
  };
}
