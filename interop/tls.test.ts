// amqplib over TLS (amqps) against Warren: peer verification as RabbitMQ's ssl_options
// (verify_peer / verify_none, fail_if_no_peer_cert both ways), a client certificate from an
// unknown CA refused, and the EXTERNAL mechanism logging in as the certificate's CN or DN.
// Certificates are made with openssl at test time. Warren only: the differential RabbitMQ has
// no TLS listener (the behaviour was compared by hand against RabbitMQ 3.10.8, see README).
import { once } from 'node:events';
import tls from 'node:tls';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TlsOptions } from '../src/config.js';
import { ByteReader } from '../src/protocol/byte-reader.js';
import { decodeMethod, type ConnectionStart } from '../src/protocol/generated/amqp.js';
import { external, startBroker, type TestBroker } from '../test/support/broker.js';
import { parseFrames } from '../test/support/frames.js';
import { makePki, removeCerts, type CertFiles, type TestPki } from '../test/support/tls-certs.js';

const DN_USER = 'CN=carol,OU=dev,O=Acme\\, Inc,C=US';
let pki: TestPki;
const brokers: TestBroker[] = [];

interface Listening { tcp: number; tls: number; broker: TestBroker }

async function tlsBroker(tlsOptions: Partial<TlsOptions>, more: Parameters<typeof startBroker>[0] = {}): Promise<Listening> {
  const broker = await startBroker({
    tls: { certFile: pki.server.cert, keyFile: pki.server.key, caFile: pki.ca, verify: 'verify_peer', failIfNoPeerCert: false, ...tlsOptions },
    tcpListeners: [{ host: '127.0.0.1', port: 0 }],
    tlsListeners: [{ host: '127.0.0.1', port: 0 }],
    authMechanisms: ['PLAIN', 'AMQPLAIN', 'EXTERNAL'],
    users: [
      { name: 'guest', password: 'guest' },
      { name: 'alice', password: 'only-for-plain' },
      { name: DN_USER, password: 'x' },
    ],
    ...more,
  });
  brokers.push(broker);
  return { tcp: broker.broker!.address!.port, tls: broker.broker!.tlsAddress!.port, broker };
}

/** amqplib's socket options for amqps: trust `ca`, present `client` if given. */
function socketOptions(client?: CertFiles, ca = pki.ca, externalLogin = false): Record<string, unknown> {
  return {
    ca: [pki.read(ca)],
    ...(client && { cert: pki.read(client.cert), key: pki.read(client.key) }),
    ...(externalLogin && { credentials: amqp.credentials.external() }),
  };
}

const plainUrl = (port: number) => `amqps://guest:guest@127.0.0.1:${port}`;
const externalUrl = (port: number) => `amqps://127.0.0.1:${port}`;

/** Connects, checks the connection works (a queue declare), closes; returns the login. */
async function roundTrip(url: string, opts: Record<string, unknown>): Promise<void> {
  const c = await amqp.connect(url, opts);
  const ch = await c.createChannel();
  await ch.assertQueue('', { exclusive: true });
  await c.close();
}

/** The mechanisms connection.start offers on a TLS listener (raw socket, no login). */
async function offeredOverTls(port: number, client?: CertFiles): Promise<string> {
  const s = tls.connect({ host: '127.0.0.1', port, ca: [pki.read(pki.ca)], ...(client && { cert: pki.read(client.cert), key: pki.read(client.key) }) });
  await once(s, 'secureConnect');
  s.write(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'));
  let bytes = Buffer.alloc(0);
  for (;;) {
    const [chunk] = (await once(s, 'data')) as [Buffer];
    bytes = Buffer.concat([bytes, chunk]);
    const [frame] = parseFrames(bytes);
    if (frame) {
      s.destroy();
      const m = decodeMethod(new ByteReader().reset(frame.payload, 0, frame.payload.length)) as ConnectionStart;
      return m.mechanisms.toString();
    }
  }
}

beforeAll(() => {
  if (!external) pki = makePki({ alice: '/O=Acme/CN=alice', bob: '/CN=bob', carol: '/C=US/O=Acme, Inc/OU=dev/CN=carol', nocn: '/O=Acme/OU=nameless' });
});
afterAll(async () => {
  for (const b of brokers.splice(0)) await b.stop();
  removeCerts(pki);
});

describe.skipIf(external)('amqps with verify_peer, fail_if_no_peer_cert = false', () => {
  let b: Listening;
  beforeAll(async () => { b = await tlsBroker({}); });

  it('accepts a client without a certificate (PLAIN login)', async () => {
    await roundTrip(plainUrl(b.tls), socketOptions());
  });

  it('accepts a client with a certificate the CA signed (PLAIN login)', async () => {
    await roundTrip(plainUrl(b.tls), socketOptions(pki.clients.alice));
  });

  it('refuses a client certificate signed by a CA it does not trust', async () => {
    await expect(roundTrip(plainUrl(b.tls), socketOptions(pki.stranger))).rejects.toThrow();
  });

  it('is refused by a client that does not trust the server certificate', async () => {
    await expect(roundTrip(plainUrl(b.tls), socketOptions(undefined, pki.otherCa))).rejects.toThrow(/self.signed|unable to (get|verify)|certificate/i);
  });

  it('logs in with EXTERNAL as the certificate CN, without a password', async () => {
    const c = await amqp.connect(externalUrl(b.tls), socketOptions(pki.clients.alice, pki.ca, true));
    const conn = [...b.broker.broker!.connections].find((x) => x.state === 'running')!;
    expect(conn.actor.user.name).toBe('alice');
    expect(conn.authMechanism).toBe('EXTERNAL');
    expect(conn.tls).toBe(true);
    expect(conn.peerIdentity?.distinguishedName).toBe('CN=alice,O=Acme');
    await c.close();
  });

  it('refuses EXTERNAL when the CN names no user, or no certificate was sent (403, as RabbitMQ)', async () => {
    const refused = /403 \(ACCESS-REFUSED\).*Login was refused using authentication mechanism EXTERNAL/;
    await expect(amqp.connect(externalUrl(b.tls), socketOptions(pki.clients.bob, pki.ca, true))).rejects.toThrow(refused);
    await expect(amqp.connect(externalUrl(b.tls), socketOptions(undefined, pki.ca, true))).rejects.toThrow(refused);
    await expect(amqp.connect(externalUrl(b.tls), socketOptions(pki.clients.nocn, pki.ca, true))).rejects.toThrow(refused);
  });

  it('offers EXTERNAL on TLS connections only (with or without a certificate, as RabbitMQ 3.10)', async () => {
    expect(await offeredOverTls(b.tls, pki.clients.alice)).toBe('PLAIN AMQPLAIN EXTERNAL');
    expect(await offeredOverTls(b.tls)).toBe('PLAIN AMQPLAIN EXTERNAL');
    await expect(amqp.connect(`amqp://127.0.0.1:${b.tcp}`, { credentials: amqp.credentials.external() }))
      .rejects.toThrow(/SASL mechanism EXTERNAL is not provided by the server/);
    await roundTrip(`amqp://guest:guest@127.0.0.1:${b.tcp}`, {});
  });
});

describe.skipIf(external)('amqps with verify_peer, fail_if_no_peer_cert = true', () => {
  let b: Listening;
  beforeAll(async () => { b = await tlsBroker({ failIfNoPeerCert: true }); });

  it('refuses a client without a certificate in the TLS handshake', async () => {
    await expect(roundTrip(plainUrl(b.tls), socketOptions())).rejects.toThrow();
  });

  it('accepts a client with a good certificate, by PLAIN or EXTERNAL', async () => {
    await roundTrip(plainUrl(b.tls), socketOptions(pki.clients.alice));
    await roundTrip(externalUrl(b.tls), socketOptions(pki.clients.alice, pki.ca, true));
  });

  it('refuses a certificate from an unknown CA', async () => {
    await expect(roundTrip(plainUrl(b.tls), socketOptions(pki.stranger))).rejects.toThrow();
  });
});

describe.skipIf(external)('amqps with verify_none', () => {
  let b: Listening;
  beforeAll(async () => { b = await tlsBroker({ verify: 'verify_none' }); });

  it('does not ask for a certificate: any client connects, EXTERNAL has no certificate to use', async () => {
    await roundTrip(plainUrl(b.tls), socketOptions());
    await roundTrip(plainUrl(b.tls), socketOptions(pki.stranger));
    await expect(amqp.connect(externalUrl(b.tls), socketOptions(pki.clients.alice, pki.ca, true)))
      .rejects.toThrow(/403 \(ACCESS-REFUSED\)/);
  });
});

describe.skipIf(external)('EXTERNAL with ssl_cert_login_from = distinguished_name, auth_mechanisms = EXTERNAL only', () => {
  let b: Listening;
  beforeAll(async () => { b = await tlsBroker({}, { sslCertLoginFrom: 'distinguished_name', authMechanisms: ['EXTERNAL'] }); });

  it('logs in as the RFC 4514 subject (RabbitMQ\'s form: most specific first, commas escaped)', async () => {
    const c = await amqp.connect(externalUrl(b.tls), socketOptions(pki.clients.carol, pki.ca, true));
    const conn = [...b.broker.broker!.connections].find((x) => x.state === 'running')!;
    expect(conn.actor.user.name).toBe(DN_USER);
    await c.close();
    // alice's certificate has a DN that names no user.
    await expect(amqp.connect(externalUrl(b.tls), socketOptions(pki.clients.alice, pki.ca, true))).rejects.toThrow(/403/);
  });

  it('offers only EXTERNAL, so PLAIN is not available (nothing at all over TCP)', async () => {
    expect(await offeredOverTls(b.tls, pki.clients.carol)).toBe('EXTERNAL');
    await expect(amqp.connect(plainUrl(b.tls), socketOptions(pki.clients.carol))).rejects.toThrow(/SASL mechanism PLAIN is not provided/);
    await expect(amqp.connect(`amqp://guest:guest@127.0.0.1:${b.tcp}`)).rejects.toThrow(/SASL mechanism PLAIN is not provided/);
  });
});
