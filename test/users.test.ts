// The user table: passwords, and RabbitMQ's loopback_users rule for guest.
import { describe, expect, it } from 'vitest';
import { UserStore, isLoopback } from '../src/core/users.js';
import { parseCredentials } from '../src/amqp/auth.js';

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
