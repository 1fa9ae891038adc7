// SASL PLAIN and AMQPLAIN response parsing (the mechanisms RabbitMQ offers by default).
import { ByteReader } from '../protocol/byte-reader.js';
import { plain } from '../protocol/field-table.js';

export const MECHANISMS = ['PLAIN', 'AMQPLAIN'] as const;

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
