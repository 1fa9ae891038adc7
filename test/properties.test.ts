// Reading one basic property from the raw content-header bytes, as the publish checks do.
import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../src/protocol/byte-writer.js';
import { writeBasicProperties, type BasicProperties } from '../src/protocol/generated/amqp.js';
import { P, propertyAt, propertyFlags, shortstrAt, spliceBytes } from '../src/core/properties.js';
import { Message } from '../src/core/message.js';

function encode(p: BasicProperties): Buffer {
  const w = new ByteWriter(1024);
  writeBasicProperties(w, p);
  return Buffer.concat(w.take());
}

describe('raw property access', () => {
  const all: BasicProperties = {
    contentType: 'ct', contentEncoding: 'ce', headers: { h: { type: 'S', value: 'v' } }, deliveryMode: 2, priority: 7,
    correlationId: 'corr', replyTo: 'reply', expiration: '60000', messageId: 'mid', timestamp: 1_700_000_000,
    type: 'ty', userId: 'guest', appId: 'app', reserved: 'cluster',
  };

  it('finds every shortstr and octet with all properties set', () => {
    const raw = encode(all);
    expect(propertyFlags(raw)).toBe(0xfffc);
    const text = (flag: number) => shortstrAt(raw, flag).toString();
    expect([P.contentType, P.contentEncoding, P.correlationId, P.replyTo, P.expiration, P.messageId, P.type, P.userId, P.appId, P.clusterId]
      .map(text)).toEqual(['ct', 'ce', 'corr', 'reply', '60000', 'mid', 'ty', 'guest', 'app', 'cluster']);
    expect(raw[propertyAt(raw, P.deliveryMode)]).toBe(2);
    expect(raw[propertyAt(raw, P.priority)]).toBe(7);
    expect(raw.readUInt32BE(propertyAt(raw, P.timestamp) + 4)).toBe(1_700_000_000);
  });

  it('Message.priority reads the octet without decoding, behind headers and strings', () => {
    const m = new Message('x', 'k', encode(all), Buffer.alloc(0));
    expect(m.priority).toBe(7);
    expect(new Message('x', 'k', encode({ contentType: 'a', priority: 0 }), Buffer.alloc(0)).priority).toBe(0);
    expect(new Message('x', 'k', encode({ contentType: 'a', priority: 255 }), Buffer.alloc(0)).priority).toBe(255);
    expect(new Message('x', 'k', encode({ headers: { a: { type: 'S', value: 'b' } } }), Buffer.alloc(0)).priority).toBe(0);
  });

  it('skips only the properties that are present', () => {
    const raw = encode({ deliveryMode: 1, userId: 'u', appId: 'a' });
    expect(shortstrAt(raw, P.userId).toString()).toBe('u');
    expect(shortstrAt(raw, P.appId).toString()).toBe('a');
    expect(propertyFlags(Buffer.alloc(0))).toBe(0);
  });

  it('splices bytes into a new buffer', () => {
    const raw = Buffer.from('abcdef');
    expect(spliceBytes(raw, 1, 3, Buffer.from('XYZ')).toString()).toBe('aXYZdef');
    expect(spliceBytes(raw, 2, 4, Buffer.alloc(0)).toString()).toBe('abef');
    expect(raw.toString()).toBe('abcdef');
  });
});
