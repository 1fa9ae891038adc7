// The user table: RabbitMQ's password hashing, blank passwords, and the loopback_users rule.
import { describe, expect, it } from 'vitest';
import { Users, isLoopback } from '../src/core/users.js';
import { hashPassword, passwordMatches } from '../src/core/password.js';
import { X509Certificate } from 'node:crypto';
import { externalUserName, offeredMechanisms, parseCredentials, peerIdentity } from '../src/amqp/auth.js';
import { makePki, removeCerts } from './support/tls-certs.js';

// Hashes RabbitMQ 3.10.8 produced or accepted for the password 'hunter2 ü' (a space and a
// non-ASCII letter, to pin the UTF-8 encoding): sha256 from PUT /api/users/hashed and then
// GET /api/users/hashed; sha512 and md5 made here and imported into that RabbitMQ with POST
// /api/definitions, after which it let 'hunter2 ü' log in over AMQP.
const RABBIT = {
  rabbit_password_hashing_sha256: 'GqSygrLwLeBzFhb2UtZqqDUyWs1EOp5vV7HD7ICAMEc/Xeae',
  rabbit_password_hashing_sha512: 'jfwm6JJ00kz169WJgMQfWPa4MRq0hYkUzkUHjfRw3SozU5x6qZUum/0QRsOyEY/b5AnLpdnIYGrKa4RprhhGut91u0o=',
  rabbit_password_hashing_md5: '6lJYd2q7PLqFcuXo66XFF9Wm42E=',
} as const;

describe('password hashing', () => {
  it('accepts the hashes RabbitMQ made or accepted, and nothing else', () => {
    for (const [algorithm, b64] of Object.entries(RABBIT) as [keyof typeof RABBIT, string][]) {
      const stored = Buffer.from(b64, 'base64');
      expect(passwordMatches(stored, algorithm, 'hunter2 ü'), algorithm).toBe(true);
      expect(passwordMatches(stored, algorithm, 'hunter2 u'), algorithm).toBe(false);
      expect(passwordMatches(stored, algorithm, ''), algorithm).toBe(false);
    }
    // The SHA-256 hash of the same password under another algorithm does not match.
    expect(passwordMatches(Buffer.from(RABBIT.rabbit_password_hashing_sha256, 'base64'), 'rabbit_password_hashing_sha512', 'hunter2 ü')).toBe(false);
  });

  it('hashes as RabbitMQ does: 4 random salt bytes, then the digest of salt ++ password', () => {
    const a = hashPassword('pw');
    const b = hashPassword('pw');
    expect(a).toHaveLength(36);
    expect(a.equals(b)).toBe(false); // salted
    expect(passwordMatches(a, 'rabbit_password_hashing_sha256', 'pw')).toBe(true);
    expect(hashPassword('pw', 'rabbit_password_hashing_sha512')).toHaveLength(68);
    expect(hashPassword('pw', 'rabbit_password_hashing_md5')).toHaveLength(20);
  });

  it('never matches an empty hash (a user without a password)', () => {
    expect(passwordMatches(Buffer.alloc(0), 'rabbit_password_hashing_sha256', '')).toBe(false);
  });
});

describe('Users', () => {
  const users = new Users(new Set(['guest']));
  users.addUser('guest', 'guest', ['administrator']);
  users.addUser('alice', 's3cret');
  users.put({ name: 'imported', passwordHash: Buffer.from(RABBIT.rabbit_password_hashing_md5, 'base64'), hashingAlgorithm: 'rabbit_password_hashing_md5', tags: [] });

  it('accepts the right password and refuses a wrong one or an unknown user', () => {
    expect(users.login('alice', 's3cret', false)).toEqual({ user: { name: 'alice', tags: [] } });
    expect(users.login('alice', 'nope', true)).toEqual({ refused: "user 'alice' - invalid credentials (wrong password)" });
    expect(users.login('mallory', 'x', true)).toEqual({ refused: "user 'mallory' - invalid credentials (no such user)" });
    expect(users.login('imported', 'hunter2 ü', false)).toHaveProperty('user');
  });

  it('EXTERNAL logs a known user in without a password, loopback_users still apply', () => {
    expect(users.loginExternal('alice', false)).toEqual({ user: { name: 'alice', tags: [] } });
    expect(users.loginExternal('mallory', true)).toEqual({ refused: "user 'mallory' - invalid credentials (no such user)" });
    expect(users.loginExternal('guest', false)).toEqual({ refused: "user 'guest' can only connect via localhost" });
    expect(users.loginExternal('guest', true)).toHaveProperty('user');
  });

  it('lets guest in only from loopback, as RabbitMQ does by default', () => {
    expect(users.login('guest', 'guest', true)).toHaveProperty('user');
    const r = users.login('guest', 'guest', false);
    expect(r).toEqual({ refused: "user 'guest' can only connect via localhost" });
  });

  it('refuses blank passwords and users whose password was cleared', () => {
    const u = new Users(new Set());
    u.addUser('bob', 'pw', ['management']);
    expect(u.login('bob', '', true)).toHaveProperty('refused');
    u.clearPassword('bob');
    expect(u.login('bob', 'pw', true)).toHaveProperty('refused');
    expect(u.list()[0]).toMatchObject({ name: 'bob', passwordHash: Buffer.alloc(0), tags: ['management'] });
    u.changePassword('bob', 'new');
    expect(u.login('bob', 'new', true)).toHaveProperty('user');
    expect(u.login('bob', 'pw', true)).toHaveProperty('refused');
  });

  it('keeps one User object per name, so tag changes reach open connections', () => {
    const u = new Users(new Set());
    const bob = u.addUser('bob', 'pw');
    u.setTags('bob', ['impersonator']);
    expect(bob.tags).toEqual(['impersonator']);
    expect(u.get('bob')).toBe(bob);
    let deleted = '';
    u.onDeleted = (n) => { deleted = n; };
    u.deleteUser('bob');
    expect(deleted).toBe('bob');
    expect(() => u.deleteUser('bob')).toThrow(/no user 'bob'/);
    expect(() => { u.addUser('x', 'y'); u.addUser('x', 'z'); }).toThrow(/already exists/);
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
