// SASL: PLAIN and AMQPLAIN response parsing (the mechanisms RabbitMQ offers by default), and
// EXTERNAL (rabbitmq_auth_mechanism_ssl): the user name comes from the client's verified TLS
// certificate, no password is checked.
import type { X509Certificate } from 'node:crypto';
import { ByteReader } from '../protocol/byte-reader.js';
import { plain } from '../protocol/field-table.js';

/** Every mechanism Warren has, in the order connection.start lists them (RabbitMQ's order is its registry's, not the configured one). */
export const IMPLEMENTED_MECHANISMS = ['PLAIN', 'AMQPLAIN', 'EXTERNAL'] as const;

/**
 * The mechanisms connection.start offers: the configured ones (auth_mechanisms.*), in a fixed
 * order whatever the configured one (as RabbitMQ); EXTERNAL only on TLS connections, as
 * rabbit_auth_mechanism_ssl:should_offer (RabbitMQ 3.10 offers it there with or without a
 * client certificate; without one the login is refused).
 */
export function offeredMechanisms(configured: readonly string[], tls: boolean): string[] {
  return IMPLEMENTED_MECHANISMS.filter((m) => configured.includes(m) && (m !== 'EXTERNAL' || tls));
}

/** A client certificate that passed verification: the names EXTERNAL may log in as. */
export interface PeerIdentity {
  /** The subject in RFC 4514 form, most specific first (`CN=alice,OU=dev,O=Acme\, Inc,C=US`), as RabbitMQ shows it. */
  distinguishedName: string;
  /** The subject's (first) CN, unescaped; undefined when it has none. */
  commonName: string | undefined;
}

export function peerIdentity(cert: X509Certificate): PeerIdentity {
  // Node gives the subject one RFC 2253-escaped attribute per line, least specific first.
  const rdns = cert.subject.split('\n');
  const cn = rdns.find((r) => r.startsWith('CN='));
  return {
    distinguishedName: [...rdns].reverse().join(','),
    commonName: cn === undefined ? undefined : unescapeRdnValue(cn.slice(3)),
  };
}

function unescapeRdnValue(v: string): string {
  return v.replace(/\\([0-9a-fA-F]{2}|.)/g, (_, c: string) => (c.length === 2 ? String.fromCharCode(parseInt(c, 16)) : c));
}

/** The user name EXTERNAL logs in as (ssl_cert_login_from), or undefined when the certificate has none. */
export function externalUserName(peer: PeerIdentity, from: 'common_name' | 'distinguished_name'): string | undefined {
  return from === 'common_name' ? peer.commonName : peer.distinguishedName;
}

export interface Credentials { username: string; password: string }

/** Returns the credentials, or null when the response is malformed for its mechanism. */
export function parseCredentials(mechanism: string, response: Buffer): Credentials | null {
  if (mechanism === 'PLAIN') {
    // authzid NUL authcid NUL passwd (RFC 4616). Like RabbitMQ: the authzid must be empty and
    // the password cannot contain NUL.
    const first = response.indexOf(0);
    const second = first < 0 ? -1 : response.indexOf(0, first + 1);
    if (first !== 0 || second < 0 || response.indexOf(0, second + 1) >= 0) return null;
    return {
      username: response.toString('utf8', first + 1, second),
      password: response.toString('utf8', second + 1),
    };
  }
  if (mechanism === 'AMQPLAIN') {
    // A field table without its length prefix, holding LOGIN and PASSWORD.
    try {
      const r = new ByteReader().reset(response, 0, response.length);
      const fields: Record<string, unknown> = {};
      while (r.pos < r.end) {
        const key = r.shortstr();
        fields[key] = plain(r.fieldValue());
      }
      const { LOGIN, PASSWORD } = fields;
      if (typeof LOGIN !== 'string' || typeof PASSWORD !== 'string') return null;
      return { username: LOGIN, password: PASSWORD };
    } catch {
      return null;
    }
  }
  return null;
}
