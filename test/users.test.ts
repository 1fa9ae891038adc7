// The user table: passwords, and RabbitMQ's loopback_users rule for guest.
import { describe, expect, it } from 'vitest';
import { UserStore, isLoopback } from '../src/core/users.js';
import { X509Certificate } from 'node:crypto';
import { externalUserName, offeredMechanisms, parseCredentials, peerIdentity } from '../src/amqp/auth.js';
import { makePki, removeCerts } from './support/tls-certs.js';

describe('UserStore', () => {
  const users = new UserStore(new Set(['guest']));
  users.add('guest', 'guest', ['administrator']);
  users.add('alice', 's3cret');

  it('accepts the right password and refuses a wrong one or an unknown user', () => {
    expect(users.login('alice', 's3cret', false)).toEqual({ user: { name: 'alice', tags: [] } });
    expect(users.login('alice', 'nope', true)).toHaveProperty('refused');
    expect(users.login('mallory', 'x', true)).toHaveProperty('refused');
  });

  it('lets guest in only from loopback, as RabbitMQ does by default', () => {
    expect(users.login('guest', 'guest', true)).toHaveProperty('user');
    const r = users.login('guest', 'guest', false);
    expect(r).toEqual({ refused: "user 'guest' can only connect via localhost" });
  });

  it('EXTERNAL logs a known user in without a password, loopback_users still apply', () => {
    expect(users.loginExternal('alice', false)).toEqual({ user: { name: 'alice', tags: [] } });
    expect(users.loginExternal('mallory', true)).toEqual({ refused: "user 'mallory' - invalid credentials" });
    expect(users.loginExternal('guest', false)).toEqual({ refused: "user 'guest' can only connect via localhost" });
    expect(users.loginExternal('guest', true)).toHaveProperty('user');
  });

  it('tells loopback addresses apart', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLoopback(a)).toBe(true);
    for (const a of ['10.0.0.1', '192.168.1.5', '::ffff:10.0.0.1', 'fe80::1', undefined]) expect(isLoopback(a)).toBe(false);
  });
});

describe('SASL responses', () => {
  it('parses PLAIN with an empty authzid and refuses other shapes', () => {
    expect(parseCredentials('PLAIN', Buffer.from('\0guest\0pw'))).toEqual({ username: 'guest', password: 'pw' });
    expect(parseCredentials('PLAIN', Buffer.from('admin\0guest\0pw'))).toBeNull();
    expect(parseCredentials('PLAIN', Buffer.from('\0guest\0p\0w'))).toBeNull();
    expect(parseCredentials('PLAIN', Buffer.from('guest'))).toBeNull();
  });

  it('parses AMQPLAIN (a length-less field table with LOGIN and PASSWORD)', () => {
    const field = (k: string, v: string) => {
      const vb = Buffer.from(v);
      const len = Buffer.alloc(4);
      len.writeUInt32BE(vb.length);
      return Buffer.concat([Buffer.from([k.length]), Buffer.from(k), Buffer.from('S'), len, vb]);
    };
    const response = Buffer.concat([field('LOGIN', 'alice'), field('PASSWORD', 's3cret')]);
    expect(parseCredentials('AMQPLAIN', response)).toEqual({ username: 'alice', password: 's3cret' });
    expect(parseCredentials('AMQPLAIN', field('LOGIN', 'alice'))).toBeNull();
    expect(parseCredentials('AMQPLAIN', Buffer.from([5, 1, 2]))).toBeNull();
  });
});

describe('EXTERNAL', () => {
  it('offers the configured mechanisms in a fixed order, EXTERNAL only over TLS', () => {
    expect(offeredMechanisms(['EXTERNAL', 'PLAIN'], true)).toEqual(['PLAIN', 'EXTERNAL']);
    expect(offeredMechanisms(['EXTERNAL', 'PLAIN'], false)).toEqual(['PLAIN']);
    expect(offeredMechanisms(['PLAIN', 'AMQPLAIN'], true)).toEqual(['PLAIN', 'AMQPLAIN']);
  });

  it('names the user by CN or by the RFC 4514 subject, as RabbitMQ 3.10 does', () => {
    const pki = makePki({ a: '/C=US/O=Acme, Inc/OU=dev/CN=alice', b: '/O=Acme' });
    try {
      const id = peerIdentity(new X509Certificate(pki.read(pki.clients.a!.cert)));
      // RabbitMQ logged this DN for the same subject: 'CN=alice,OU=dev,O=Acme\, Inc,C=US'.
      expect(id).toEqual({ distinguishedName: 'CN=alice,OU=dev,O=Acme\\, Inc,C=US', commonName: 'alice' });
      expect(externalUserName(id, 'common_name')).toBe('alice');
      expect(externalUserName(id, 'distinguished_name')).toBe('CN=alice,OU=dev,O=Acme\\, Inc,C=US');
      expect(externalUserName(peerIdentity(new X509Certificate(pki.read(pki.clients.b!.cert))), 'common_name')).toBeUndefined();
    } finally {
      removeCerts(pki);
    }
  });
});
