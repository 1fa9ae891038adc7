// The reply address registry: addresses are unguessable, routing-key safe, and go with the channel.
import { describe, expect, it } from 'vitest';
import { isReplyAddress, REPLY_QUEUE, ReplyRegistry } from '../src/amqp/direct-reply-to.js';
import type { Session } from '../src/amqp/session.js';

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

  it('addresses are the prefix plus 144 random bits in base64url, never repeated', () => {
    const r = new ReplyRegistry();
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const addr = r.add({} as Session);
      expect(addr).toMatch(/^amq\.rabbitmq\.reply-to\.[A-Za-z0-9_-]{24}$/);
      seen.add(addr);
    }
    expect(seen.size).toBe(10_000);
  });

  it('isReplyAddress: only names under the prefix, not the pseudo-queue itself', () => {
    expect(isReplyAddress(`${REPLY_QUEUE}.abc`)).toBe(true);
    expect(isReplyAddress(REPLY_QUEUE)).toBe(false);
    expect(isReplyAddress(`${REPLY_QUEUE}.`)).toBe(false);
    expect(isReplyAddress('amq.rabbitmq.reply-toX')).toBe(false);
    expect(isReplyAddress('orders')).toBe(false);
  });
});
