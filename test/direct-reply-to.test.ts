// The direct reply-to registry: address shape, one reply consumer per channel, per-broker
// tables, staleness after cancel and channel close, and the basic.deliver a reply becomes.
// Sessions are stand-ins with just what the registry touches; the interop suite drives the
// real thing.
import { describe, expect, it } from 'vitest';
import { ByteReader } from '../src/protocol/byte-reader.js';
import { ChannelError } from '../src/protocol/errors.js';
import { decodeMethod, M } from '../src/protocol/generated/amqp.js';
import { Message } from '../src/core/message.js';
import { FrameWriter } from '../src/amqp/frame-writer.js';
import type { Session } from '../src/amqp/session.js';
import {
  REPLY_PREFIX, REPLY_QUEUE, ReplyRegistry, consumeReplies, deliverReplies, replyQueueExists, stopReplies,
} from '../src/amqp/direct-reply-to.js';

type Fake = Session & { conn: { out: FrameWriter }; channel: { state: string } };

function fakeSession(replies: ReplyRegistry, id = 1): Fake {
  const conn = { services: { replies }, running: true, out: new FrameWriter(), scheduleFlush: () => {} };
  const channel = { state: 'open' };
  return {
    conn, channel, id, reply: null, nextDeliveryTag: () => 7,
    get writable() { return channel.state === 'open'; },
  } as unknown as Fake;
}

/** The methods written to a fake session's connection (content frames skipped). */
function methodsOut(s: Fake) {
  const bytes = Buffer.concat(s.conn.out.take());
  const out = [];
  for (let at = 0; at < bytes.length;) {
    const size = bytes.readUInt32BE(at + 3);
    if (bytes[at] === 1) out.push(decodeMethod(new ByteReader().reset(bytes, at + 7, at + 7 + size)));
    at += 8 + size;
  }
  return out;
}

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof ChannelError ? `${e.code} ${e.replyText}` : e;
  }
  return 'no error';
};

describe('ReplyRegistry', () => {
  it('gives each channel its own address, finds it, and forgets it', () => {
    const r = new ReplyRegistry();
    const a = {} as Session;
    const b = {} as Session;
    const addrA = r.add(a);
    const addrB = r.add(b);
    expect(addrA).not.toBe(addrB);
    expect(r.get(addrA)).toBe(a);
    expect(r.get(addrB)).toBe(b);
    r.remove(addrA);
    expect(r.get(addrA)).toBeUndefined();
    expect(r.get(addrB)).toBe(b);
  });

  it('addresses are the prefix, a counter and 128 random bits, in routing-key-safe characters', () => {
    const r = new ReplyRegistry();
    const randoms = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const address = r.add({} as Session);
      expect(address.startsWith(REPLY_PREFIX)).toBe(true);
      const m = /^([0-9a-z]+)\.([A-Za-z0-9_-]{22})$/.exec(address.slice(REPLY_PREFIX.length));
      expect(m?.[1]).toBe((i + 1).toString(36));
      randoms.add(m![2]!);
    }
    expect(randoms.size).toBe(10_000);
  });
});

describe('reply consumers', () => {
  it('one per channel, no_ack only, with the tag given or a generated one', () => {
    const s = fakeSession(new ReplyRegistry());
    expect(refusal(() => consumeReplies(s, 'ctag', false))).toBe('406 PRECONDITION_FAILED - reply consumer cannot acknowledge');
    expect(s.reply).toBeNull();
    expect(consumeReplies(s, 'ctag', true)).toBe('ctag');
    expect(refusal(() => consumeReplies(s, 'other', true))).toBe('406 PRECONDITION_FAILED - reply consumer already set');
    expect(refusal(() => consumeReplies(s, 'other', false))).toBe('406 PRECONDITION_FAILED - reply consumer cannot acknowledge');
    expect(consumeReplies(fakeSession(new ReplyRegistry()), '', true)).toMatch(/^amq\.ctag-[A-Za-z0-9_-]{22}$/);
  });

  it('are found by address within their broker only; stopping makes the address stale', () => {
    const replies = new ReplyRegistry();
    const a = fakeSession(replies);
    const b = fakeSession(replies, 2);
    const elsewhere = fakeSession(new ReplyRegistry());
    consumeReplies(a, 'ta', true);
    consumeReplies(b, 'tb', true);
    const na = a.reply!.address;
    expect(na).not.toBe(b.reply!.address);
    expect([replyQueueExists(b, na), replyQueueExists(a, REPLY_QUEUE), replyQueueExists(elsewhere, na), replyQueueExists(a, `${na}x`)])
      .toEqual([true, true, false, false]);
    stopReplies(a);
    expect([a.reply, replyQueueExists(b, na)]).toEqual([null, false]);
    consumeReplies(a, 'ta', true);
    expect(a.reply!.address).not.toBe(na);
  });
});

describe('deliverReplies', () => {
  const reply = (key: string, routeKeys: string[] | null = null) => {
    const m = new Message('', key, Buffer.from([0, 0]), Buffer.from('body'));
    m.routeKeys = routeKeys;
    return m;
  };

  it("writes basic.deliver with the consumer's tag, the next delivery tag, exchange '' and the published key", () => {
    const replies = new ReplyRegistry();
    const consumer = fakeSession(replies, 5);
    consumeReplies(consumer, 'replies', true);
    const address = consumer.reply!.address;
    deliverReplies(fakeSession(replies), reply(address));
    expect(methodsOut(consumer)).toEqual([{
      id: M.BasicDeliver, consumerTag: 'replies', deliveryTag: 7, redelivered: false, exchange: '', routingKey: address,
    }]);
  });

  it('each named consumer once, through CC/BCC keys too; stale, foreign and closing ones get nothing', () => {
    const replies = new ReplyRegistry();
    const [one, two, closing, stale] = [1, 2, 3, 4].map((id) => fakeSession(replies, id));
    for (const s of [one, two, closing, stale]) consumeReplies(s!, 't', true);
    closing!.channel.state = 'closing';
    const [n1, n2, n3, n4] = [one, two, closing, stale].map((s) => s!.reply!.address);
    stopReplies(stale!);
    deliverReplies(fakeSession(replies), reply('q', ['q', n1!, n2!, n1!, n3!, n4!]));
    deliverReplies(fakeSession(new ReplyRegistry()), reply(n1!)); // another broker's publish
    expect(methodsOut(one!).map((m) => 'routingKey' in m && m.routingKey)).toEqual(['q']);
    expect(methodsOut(two!)).toHaveLength(1);
    expect([methodsOut(closing!), methodsOut(stale!)]).toEqual([[], []]);
  });
});
