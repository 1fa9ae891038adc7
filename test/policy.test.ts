// Policy matching and precedence (core/policy.ts), validation texts (policy-validate.ts), and a
// vhost applying policies to its queues and exchanges at once (policy-set.ts).
import { describe, expect, it } from 'vitest';
import { compilePolicy, effectiveAlternate, effectiveDefinition, effectiveQueueArgs, matchPolicy, type PolicyRecord } from '../src/core/policy.js';
import { PolicyError, validatePolicy } from '../src/core/policy-validate.js';
import { VHost } from '../src/core/vhost.js';

const pol = (name: string, over: Partial<PolicyRecord> = {}) =>
  compilePolicy({ vhost: '/', name, pattern: '^q', applyTo: 'all', priority: 0, definition: { 'max-length': 1 }, ...over });
const l = (n: number) => ({ type: 'l' as const, value: n });
const S = (s: string) => ({ type: 'S' as const, value: s });

describe('policy matching', () => {
  it('takes the highest priority among matches of the right kind; a tie goes to the first name', () => {
    const ps = [pol('low', { priority: 1 }), pol('high', { priority: 5 }), pol('exch', { priority: 9, applyTo: 'exchanges' }), pol('other', { priority: 99, pattern: '^z' })];
    expect(matchPolicy(ps, 'queue', 'q1')?.name).toBe('high');
    expect(matchPolicy(ps, 'exchange', 'q1')?.name).toBe('exch');
    expect(matchPolicy(ps, 'queue', 'a')).toBeNull();
    expect(matchPolicy([pol('b'), pol('a'), pol('c')], 'queue', 'q')?.name).toBe('a');
  });
});

describe('precedence', () => {
  it('the lowest of argument, policy and operator policy for ttl, lengths and expires', () => {
    const p = pol('p', { definition: { 'max-length': 5, 'message-ttl': 100, expires: 9000 } });
    const op = pol('op', { definition: { 'max-length': 2, 'message-ttl': 500 } });
    const eff = effectiveQueueArgs({ 'x-max-length': l(8), 'x-expires': l(1000) }, p, op);
    expect(eff).toEqual({ 'x-max-length': l(2), 'x-expires': l(1000), 'x-message-ttl': l(100) });
    expect(effectiveDefinition(p, op)).toEqual({ expires: 9000, 'max-length': 2, 'message-ttl': 100 });
  });

  it('the argument wins for dead-lettering, overflow and the alternate exchange', () => {
    const p = pol('p', { definition: { 'dead-letter-exchange': 'px', 'dead-letter-routing-key': 'pk', overflow: 'reject-publish', 'alternate-exchange': 'pae' } });
    expect(effectiveQueueArgs({ 'x-dead-letter-exchange': S('ax'), 'x-overflow': S('drop-head') }, p, null)).toEqual({
      'x-dead-letter-exchange': S('ax'), 'x-overflow': S('drop-head'), 'x-dead-letter-routing-key': S('pk'),
    });
    expect(effectiveAlternate({ 'alternate-exchange': S('aae') }, p)).toBe('aae');
    expect(effectiveAlternate({}, p)).toBe('pae');
    expect(effectiveAlternate({}, null)).toBeNull();
  });

  it('keys Warren does not act on leave the arguments alone', () => {
    const args = { 'x-max-length': l(3) };
    expect(effectiveQueueArgs(args, null, null)).toBe(args);
    expect(effectiveQueueArgs(args, pol('p', { definition: { 'ha-mode': 'all', 'delivery-limit': 2 } }), null)).toEqual(args);
  });
});

describe('validation', () => {
  const refusal = (kind: 'policy' | 'operator', definition: unknown, extra: object = {}) => {
    try {
      validatePolicy(kind, '/', 'p', { pattern: 'x', definition, ...extra });
      return null;
    } catch (e) {
      return (e as PolicyError).detail;
    }
  };
  it('gives RabbitMQ\'s texts, known keys before unknown ones', () => {
    expect(refusal('policy', { foo: 1, 'max-length': 'a' })).toBe('<<"a">> is not a valid maximum length');
    expect(refusal('policy', { foo: 1, bar: 'b' })).toBe('[{<<"bar">>,<<"b">>},{<<"foo">>,1}] are not recognised policy settings');
    expect(refusal('policy', {})).toBe('no policy provided');
    expect(refusal('policy', { 'ha-mode': 'exactly' })).toBe('ha-mode="exactly" takes an integer, none given');
    expect(refusal('operator', { overflow: 'drop-head' })).toBe('[{<<"overflow">>,<<"drop-head">>}] are not recognised policy settings');
    expect(refusal('operator', { 'max-length': 1, 'message-ttl': 2, expires: 3, 'max-length-bytes': 4, 'delivery-limit': 5 })).toBeNull();
    expect(refusal('policy', { 'federation-upstream-set': 'all', 'queue-mode': 'lazy' })).toBeNull();
    expect(refusal('policy', { 'max-length': 1 }, { priority: 'x' })).toBe('priority should be a number, actually was <<"x">>');
  });
});

describe('a vhost applying policies', () => {
  const actor = { user: { name: 'guest', tags: [] }, vhost: '/', connection: 'c', access: null };
  const declare = { passive: false, durable: false, exclusive: false, autoDelete: false };
  it('to existing and new queues and exchanges, and takes them away when cleared', () => {
    const v = new VHost('/');
    const old = v.declareQueue('q-old', { ...declare, args: {} }, actor);
    const r = validatePolicy('policy', '/', 'p', { pattern: '^q', definition: { 'message-ttl': 10, 'alternate-exchange': 'ae' } });
    expect(v.policies.put('policy', r)).toBe(true);
    expect(old.policy?.name).toBe('p');
    const fresh = v.declareQueue('q-new', { ...declare, args: {} }, actor);
    expect(fresh.policy?.name).toBe('p');
    const x = v.declareExchange('qx', 'direct', { passive: false, durable: false, autoDelete: false, internal: false, args: {} }, actor);
    expect([x.policy?.name, x.alternate]).toEqual(['p', 'ae']);
    expect(v.policies.delete('policy', 'p')).toBe(true);
    expect([old.policy, fresh.policy, x.policy, x.alternate]).toEqual([null, null, null, null]);
    expect(v.policies.delete('policy', 'p')).toBe(false);
  });
});
