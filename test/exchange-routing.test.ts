// Routing of the four exchange types. Expected values in the TOPIC_CASES and HEADERS_CASES
// tables were checked against a live RabbitMQ 3.10.8 (one exchange + queue per row, publish with
// confirms, basic.get), not just derived from the spec.
import { describe, expect, it } from 'vitest';
import type { Binding, Destination, Router } from '../src/core/exchange/exchange.js';
import { DirectRouter } from '../src/core/exchange/direct.js';
import { FanoutRouter } from '../src/core/exchange/fanout.js';
import { HeadersRouter, erlangEquals, validateHeadersBindingArgs } from '../src/core/exchange/headers.js';
import { exchangeType, isExchangeType } from '../src/core/exchange/index.js';
import { TopicRouter, topicWords } from '../src/core/exchange/topic.js';
import type { FieldTable, FieldValue } from '../src/protocol/field-table.js';
import { prng } from './support/prng.js';

const q = (name: string): Destination => ({ kind: 'queue', name });

function bind(r: Router, routingKey: string, dest: Destination | string, args: FieldTable = {}): Binding {
  const b: Binding = { source: 'x', destination: typeof dest === 'string' ? q(dest) : dest, routingKey, args };
  r.add(b);
  return b;
}

/** Names routed to, de-duplicated and sorted (the caller de-duplicates in the broker too). */
function routed(r: Router, routingKey: string, headers?: FieldTable): string[] {
  const out: Destination[] = [];
  r.route(routingKey, headers, out);
  return [...new Set(out.map((d) => d.name))].sort();
}

// Typed field values, by RabbitMQ type letter.
const S = (value: string): FieldValue => ({ type: 'S', value });
const X = (value: string): FieldValue => ({ type: 'x', value: Buffer.from(value) });
const V: FieldValue = { type: 'V', value: null };
const n = (type: 'b' | 'B' | 's' | 'u' | 'I' | 'i' | 'f' | 'd' | 'T', value: number): FieldValue => ({ type, value });
const L = (value: number | bigint): FieldValue => ({ type: 'l', value });
const bool = (value: boolean): FieldValue => ({ type: 't', value });
const dec = (scale: number, value: number): FieldValue => ({ type: 'D', value: { scale, value } });
const arr = (...value: FieldValue[]): FieldValue => ({ type: 'A', value });
const tbl = (value: FieldTable): FieldValue => ({ type: 'F', value });

describe('exchange type registry', () => {
  it('knows the built-in types only', () => {
    for (const t of ['direct', 'fanout', 'topic', 'headers', 'x-consistent-hash', 'x-delayed-message']) expect(isExchangeType(t)).toBe(true);
    for (const t of ['x-random', 'Direct', '', 'match']) expect(isExchangeType(t)).toBe(false);
    expect(exchangeType('direct')!.createRouter({})).toBeInstanceOf(DirectRouter);
    expect(exchangeType('fanout')!.createRouter({})).toBeInstanceOf(FanoutRouter);
    expect(exchangeType('topic')!.createRouter({})).toBeInstanceOf(TopicRouter);
    expect(exchangeType('headers')!.createRouter({})).toBeInstanceOf(HeadersRouter);
  });

  it('says how each type is routed and which checks its bindings', () => {
    expect(['direct', 'fanout', 'topic', 'headers'].map((t) => exchangeType(t)!.routesBy)).toEqual(['key', 'none', 'key', 'headers']);
    expect(exchangeType('direct')!.validateBinding).toBeUndefined();
    expect(exchangeType('headers')!.validateBinding!('', { 'x-match': { type: 'S', value: 'one' } }))
      .toBe('Invalid x-match field value <<"one">>; expected all, any, all-with-x, or any-with-x');
  });
});

describe('DirectRouter', () => {
  it('matches the routing key exactly, case- and wildcard-sensitive', () => {
    const r = new DirectRouter();
    bind(r, 'a.b', 'q1');
    bind(r, 'a.*', 'q2');
    bind(r, '', 'q3');
    bind(r, 'A.B', 'q4');
    expect(routed(r, 'a.b')).toEqual(['q1']);
    expect(routed(r, 'a.c')).toEqual([]);
    expect(routed(r, 'a.*')).toEqual(['q2']);
    expect(routed(r, '')).toEqual(['q3']);
    expect(routed(r, 'A.B')).toEqual(['q4']);
  });

  it('routes to every binding with the key and forgets removed ones', () => {
    const r = new DirectRouter();
    const b1 = bind(r, 'k', 'q1');
    bind(r, 'k', 'q2');
    const b3 = bind(r, 'k', 'q1', { a: S('other args') }); // same queue, second binding
    expect(routed(r, 'k')).toEqual(['q1', 'q2']);
    r.remove(b1);
    expect(routed(r, 'k')).toEqual(['q1', 'q2']);
    r.remove(b3);
    expect(routed(r, 'k')).toEqual(['q2']);
    r.remove(b3); // removing twice is a no-op
    expect(routed(r, 'k')).toEqual(['q2']);
  });

  it('pushes exchange destinations too, and ignores headers', () => {
    const r = new DirectRouter();
    const x: Destination = { kind: 'exchange', name: 'x2' };
    bind(r, 'k', x);
    const out: Destination[] = [];
    r.route('k', { a: S('b') }, out);
    expect(out).toEqual([x]);
  });
});

describe('FanoutRouter', () => {
  it('routes to every binding whatever the key', () => {
    const r = new FanoutRouter();
    const b1 = bind(r, 'ignored', 'q1');
    bind(r, '', 'q2');
    expect(routed(r, 'anything')).toEqual(['q1', 'q2']);
    expect(routed(r, '')).toEqual(['q1', 'q2']);
    r.remove(b1);
    expect(routed(r, 'x')).toEqual(['q2']);
  });
});

// [binding key, routing key, matches?] -- every row checked on RabbitMQ 3.10.8.
// Note: in RabbitMQ 3.x the empty key "" is ZERO words (split_topic_key(<<>>) -> []), so `*`
// does not match "" while `#` does; any other key keeps its empty words ("a." = ["a", ""]).
const TOPIC_CASES: [string, string, boolean][] = [
  // plain words
  ['a.b', 'a.b', true],
  ['a.b', 'a.b.c', false],
  ['a.b.c', 'a.b', false],
  ['a', 'A', false],
  ['a.b', 'a.*', false],
  // `*`: exactly one word
  ['*', 'a', true],
  ['*', 'a.b', false],
  ['*.b', 'a.b', true],
  ['*.b', 'b', false],
  ['a.*', 'a', false],
  ['a.*.c', 'a.b.c', true],
  ['a.*.c', 'a.c', false],
  ['*.*.*', 'a.b', false],
  ['*.*.*', 'a.b.c', true],
  ['*', '*', true],
  ['a.*', 'a.#', true],
  // `#`: zero or more words
  ['#', 'a', true],
  ['#', 'a.b.c', true],
  ['#', '#', true],
  ['a.#', 'a', true],
  ['a.#', 'a.b.c', true],
  ['a.#', 'b.a', false],
  ['#.b', 'b', true],
  ['#.b', 'a.b', true],
  ['#.b', 'a.a.b', true],
  ['#.b', 'a.b.c', false],
  ['a.#.b', 'a.b', true],
  ['a.#.b', 'a.x.y.b', true],
  ['a.#.b', 'a.b.b', true],
  ['a.#.b', 'a.b.c', false],
  ['a.#.b', 'a', false],
  ['a.#.b', 'b', false],
  ['#.#', 'a.b', true],
  ['#.#.#', 'a', true],
  ['a.#.#.b', 'a.b', true],
  ['#.a.#', 'a', true],
  ['#.a.#', 'b.a.c', true],
  ['#.a.#', 'b.c', false],
  ['a.*.#', 'a', false],
  ['a.*.#', 'a.b', true],
  ['a.*.#', 'a.b.c.d', true],
  ['#.#.*', 'a', true],
  ['*.#.*', 'a', false],
  ['*.#.*', 'a.b', true],
  ['#.*.#', 'x', true],
  // the empty routing key: zero words
  ['*', '', false],
  ['*.*', '', false],
  ['#', '', true],
  ['#.#', '', true],
  ['*.#', '', false],
  ['#.*', '', false],
  ['#.*.#', '', false],
  ['', '', true],
  ['', 'a', false],
  ['a', '', false],
  // empty words anywhere else are words like any other
  ['', '.', false],
  ['*', '.', false],
  ['*.*', '.', true],
  ['#', '.', true],
  ['.', '.', true],
  ['a.*', 'a.', true],
  ['a.#', 'a.', true],
  ['a', 'a.', false],
  ['a.', 'a', false],
  ['a.', 'a.', true],
  ['*', '.a', false],
  ['*.a', '.a', true],
  ['.a', '.a', true],
  ['#.a', '.a', true],
  ['a..b', 'a..b', true],
  ['a..b', 'a.b', false],
  ['a.*.b', 'a..b', true],
  ['a.#.b', 'a..b', true],
  ['a.#.b', 'a...b', true],
  ['#.', 'a.', true],
  ['#.', 'a', false],
];

describe('TopicRouter', () => {
  it.each(TOPIC_CASES)('binding %j, routing key %j -> %s', (bk, rk, expected) => {
    const r = new TopicRouter();
    bind(r, bk, 'q');
    expect(routed(r, rk)).toEqual(expected ? ['q'] : []);
  });

  it('has at least 40 table rows', () => {
    expect(TOPIC_CASES.length).toBeGreaterThanOrEqual(40);
  });

  it('splits keys as RabbitMQ 3.x: "" is no words, other keys keep empty words', () => {
    expect(topicWords('')).toEqual([]);
    expect(topicWords('.')).toEqual(['', '']);
    expect(topicWords('a.')).toEqual(['a', '']);
    expect(topicWords('a..b')).toEqual(['a', '', 'b']);
  });

  it('routes to all matching bindings of one router at once', () => {
    const r = new TopicRouter();
    bind(r, 'a.b', 'exact');
    bind(r, 'a.*', 'star');
    bind(r, 'a.#', 'hash');
    bind(r, '#', 'all');
    bind(r, '*.b', 'starb');
    bind(r, 'c.#', 'other');
    expect(routed(r, 'a.b')).toEqual(['all', 'exact', 'hash', 'star', 'starb']);
    expect(routed(r, 'a')).toEqual(['all', 'hash']);
    expect(routed(r, '')).toEqual(['all']);
  });

  it('reports a queue bound with several matching keys at least once', () => {
    const r = new TopicRouter();
    bind(r, 'a.*', 'q');
    bind(r, '#.b', 'q');
    bind(r, 'a.b', 'q');
    const out: Destination[] = [];
    r.route('a.b', undefined, out);
    expect(out.length).toBeGreaterThanOrEqual(1);
    expect(new Set(out.map((d) => d.name))).toEqual(new Set(['q']));
  });

  it('reports each binding once even for keys that reach it by several paths', () => {
    const r = new TopicRouter();
    bind(r, '#.#.#', 'q');
    const out: Destination[] = [];
    r.route('a.b.c.d', undefined, out);
    expect(out).toHaveLength(1);
  });

  it('handles many words and many `#` without exponential blow-up', () => {
    const r = new TopicRouter();
    const hashes = Array(30).fill('#').join('.');
    bind(r, `${hashes}.z`, 'never'); // the last word never matches: naive backtracking explodes
    bind(r, `a.#.a.#.a.#.a.#.a.#.a.#.a.#.b`, 'ab');
    bind(r, Array(50).fill('*').join('.'), 'fifty');
    const fiftyA = Array(50).fill('a').join('.');
    const started = performance.now();
    expect(routed(r, fiftyA)).toEqual(['fifty']);
    expect(routed(r, `${Array(127).fill('a').join('.')}.b`)).toEqual(['ab']);
    expect(routed(r, Array(256).fill('').join('.'))).toEqual([]); // 255 dots: 256 empty words
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('removes bindings and prunes trie nodes no longer used', () => {
    const r = new TopicRouter();
    const b1 = bind(r, 'a.b.c', 'q1');
    const b2 = bind(r, 'a.#', 'q2');
    const b3 = bind(r, 'a.b.c', 'q3');
    const b4 = bind(r, '', 'q4');
    expect(r.nodeCount()).toBe(4); // a, a.b, a.b.c, a.#
    r.remove(b1);
    expect(r.nodeCount()).toBe(4); // a.b.c still has q3
    expect(routed(r, 'a.b.c')).toEqual(['q2', 'q3']);
    r.remove(b3);
    expect(r.nodeCount()).toBe(2); // a, a.#
    expect(routed(r, 'a.b.c')).toEqual(['q2']);
    r.remove(b2);
    expect(r.nodeCount()).toBe(0);
    expect(routed(r, 'a')).toEqual([]);
    expect(routed(r, '')).toEqual(['q4']); // bound at the root itself
    r.remove(b4);
    r.remove(b4); // unknown binding: no-op
    r.remove({ ...b1 }); // an equal but different object is not a bound binding
    expect(routed(r, '')).toEqual([]);
    expect(r.nodeCount()).toBe(0);
  });

  it('does not prune a node that still has children', () => {
    const r = new TopicRouter();
    const b1 = bind(r, 'a', 'q1');
    bind(r, 'a.b', 'q2');
    r.remove(b1);
    expect(r.nodeCount()).toBe(2);
    expect(routed(r, 'a.b')).toEqual(['q2']);
    expect(routed(r, 'a')).toEqual([]);
  });
});

// ---- property test: TopicRouter against a regex reference ------------------------------------

/**
 * Reference matcher: routing key words become ".w1.w2..." (each word prefixed with a dot, so
 * that zero words is "" and one empty word is "."), and the binding a regex over that string.
 */
function referenceMatch(bindingKey: string, routingKey: string): boolean {
  const split = (k: string) => (k === '' ? [] : k.split('.'));
  const subject = split(routingKey).map((w) => `.${w}`).join('');
  const escape = (w: string) => w.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  const re = split(bindingKey)
    .map((w) => (w === '*' ? '\\.[^.]*' : w === '#' ? '(?:\\.[^.]*)*' : `\\.${escape(w)}`))
    .join('');
  return new RegExp(`^${re}$`).test(subject);
}

function randomKey(rnd: () => number, alphabet: string[], maxWords: number): string {
  const count = Math.floor(rnd() * (maxWords + 1));
  const words: string[] = [];
  for (let i = 0; i < count; i++) words.push(alphabet[Math.floor(rnd() * alphabet.length)]!);
  return words.join('.');
}

describe('TopicRouter against a regex reference', () => {
  const bindingAlphabet = ['a', 'b', '', '*', '#'];
  const routingAlphabet = ['a', 'b', '', '*', '#'];

  it('agrees on 5000 random single-binding pairs', () => {
    const rnd = prng(42);
    const disagreements: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const bk = randomKey(rnd, bindingAlphabet, 6);
      const rk = randomKey(rnd, routingAlphabet, 6);
      const r = new TopicRouter();
      bind(r, bk, 'q');
      const got = routed(r, rk).length === 1;
      if (got !== referenceMatch(bk, rk)) disagreements.push(`${JSON.stringify(bk)} ${JSON.stringify(rk)}`);
    }
    expect(disagreements).toEqual([]);
  });

  it('agrees with 300 bindings in one trie, and after removing half of them', () => {
    const rnd = prng(7);
    const r = new TopicRouter();
    const bindings: Binding[] = [];
    for (let i = 0; i < 300; i++) bindings.push(bind(r, randomKey(rnd, bindingAlphabet, 5), `q${i}`));
    const check = (live: Binding[]) => {
      for (let i = 0; i < 1000; i++) {
        const rk = randomKey(rnd, routingAlphabet, 6);
        const expected = live.filter((b) => referenceMatch(b.routingKey, rk)).map((b) => b.destination.name);
        expect(routed(r, rk), JSON.stringify(rk)).toEqual([...new Set(expected)].sort());
      }
    };
    check(bindings);
    const kept = bindings.filter((_, i) => i % 2 === 0);
    for (const b of bindings.filter((_, i) => i % 2 === 1)) r.remove(b);
    check(kept);
    for (const b of kept) r.remove(b);
    expect(r.nodeCount()).toBe(0);
  });
});

// ---- headers -----------------------------------------------------------------------------------

// [description, binding arguments, message headers, matches?] -- every row checked on RabbitMQ
// 3.10.8. Value comparison is Erlang `==` on the decoded terms: the type letter does not matter
// at the top level, but does inside arrays and tables.
const HEADERS_CASES: [string, FieldTable, FieldTable | undefined, boolean][] = [
  ['all, no arguments, no headers', {}, undefined, true],
  ['any, no arguments, no headers', { 'x-match': S('any') }, undefined, false],
  ['any, no arguments, some headers', { 'x-match': S('any') }, { a: n('b', 1) }, false],
  ['all, only x- arguments (ignored)', { 'x-match': S('all'), 'x-foo': S('bar') }, {}, true],
  ['no x-match, x- argument ignored', { 'x-foo': S('y') }, {}, true],
  ['all-with-x, x- header missing', { 'x-match': S('all-with-x'), 'x-foo': S('bar') }, {}, false],
  ['all-with-x, x- header present', { 'x-match': S('all-with-x'), 'x-foo': S('bar') }, { 'x-foo': S('bar') }, true],
  ['any-with-x, only x-match itself', { 'x-match': S('any-with-x') }, { 'x-match': S('any-with-x') }, false],
  ['any-with-x, x- header matches', { 'x-match': S('any-with-x'), 'x-foo': S('y'), b: n('b', 2) }, { 'x-foo': S('y') }, true],
  ['any, x- header not considered', { 'x-match': S('any'), 'x-foo': S('y'), b: n('b', 2) }, { 'x-foo': S('y') }, false],
  ['all, message x-match header irrelevant', { 'x-match': S('all'), a: n('b', 1) }, { a: n('b', 1), 'x-match': S('zzz') }, true],
  ['any, one of two matches', { 'x-match': S('any'), a: n('b', 1), b: n('b', 2) }, { b: n('b', 2) }, true],
  ['all, one of two matches', { 'x-match': S('all'), a: n('b', 1), b: n('b', 2) }, { b: n('b', 2) }, false],
  ['all, extra message headers are fine', { a: S('1') }, { a: S('1'), z: S('2') }, true],
  ['byte vs signedint', { a: n('b', 5) }, { a: n('I', 5) }, true],
  ['byte vs unsignedint', { a: n('b', 5) }, { a: n('i', 5) }, true],
  ['long vs short', { a: L(5) }, { a: n('s', 5) }, true],
  ['double vs float, exact', { a: n('d', 1.5) }, { a: n('f', 1.5) }, true],
  ['double 0.1 vs float 0.1 (rounded to 32 bits)', { a: n('d', 0.1) }, { a: n('f', Math.fround(0.1)) }, false],
  ['signedint 1 vs double 1.0', { a: n('I', 1) }, { a: n('d', 1) }, true],
  ['signedint 1 vs double 1.5', { a: n('I', 1) }, { a: n('d', 1.5) }, false],
  ['longstr vs byte array', { a: S('abc') }, { a: X('abc') }, true],
  ['timestamp vs long', { a: n('T', 5) }, { a: L(5) }, true],
  ['bool true vs byte 1', { a: bool(true) }, { a: n('b', 1) }, false],
  ['void argument, header present', { a: V }, { a: S('anything') }, true],
  ['void argument, header missing', { a: V }, { b: n('b', 1) }, false],
  ['void argument, void header', { a: V }, { a: V }, true],
  ['longstr argument, void header', { a: S('x') }, { a: V }, false],
  ['arrays: element types must be identical', { a: arr(n('b', 1)) }, { a: arr(n('I', 1)) }, false],
  ['arrays: equal', { a: arr(n('b', 1), S('x')) }, { a: arr(n('b', 1), S('x')) }, true],
  ['tables: same order', { a: tbl({ p: S('x'), q: S('y') }) }, { a: tbl({ p: S('x'), q: S('y') }) }, true],
  ['tables: different key order', { a: tbl({ p: S('x'), q: S('y') }) }, { a: tbl({ q: S('y'), p: S('x') }) }, false],
  ['tables: nested int widths differ', { a: tbl({ p: n('b', 1) }) }, { a: tbl({ p: L(1) }) }, false],
  ['decimal vs same decimal', { a: dec(2, 150) }, { a: dec(2, 150) }, true],
  ['decimal vs int', { a: dec(0, 5) }, { a: n('b', 5) }, false],
  ['long 2^53+1 vs double 2^53', { a: L(9007199254740993n) }, { a: n('d', 9007199254740992) }, false],
];

describe('HeadersRouter', () => {
  it.each(HEADERS_CASES)('%s', (_name, args, headers, expected) => {
    const r = new HeadersRouter();
    expect(validateHeadersBindingArgs(args)).toBeNull();
    bind(r, 'ignored', 'q', args);
    expect(routed(r, 'any routing key', headers)).toEqual(expected ? ['q'] : []);
  });

  it('treats an unknown x-match (legacy, unvalidated binding) as all', () => {
    const r = new HeadersRouter();
    bind(r, '', 'q1', { 'x-match': S('first'), a: S('1'), b: S('2') });
    bind(r, '', 'q2', { 'x-match': n('I', 23), a: S('1'), b: S('2') });
    expect(routed(r, '', { a: S('1') })).toEqual([]);
    expect(routed(r, '', { a: S('1'), b: S('2') })).toEqual(['q1', 'q2']);
  });

  it('routes several bindings independently and forgets removed ones', () => {
    const r = new HeadersRouter();
    const b1 = bind(r, '', 'q1', { 'x-match': S('any'), colour: S('red'), size: S('big') });
    const b2 = bind(r, '', 'q2', { colour: S('red'), size: S('big') });
    const b3 = bind(r, '', 'q3', {});
    expect(routed(r, '', { colour: S('red') })).toEqual(['q1', 'q3']);
    expect(routed(r, '', { colour: S('red'), size: S('big') })).toEqual(['q1', 'q2', 'q3']);
    expect(routed(r, '', undefined)).toEqual(['q3']);
    r.remove(b1);
    r.remove(b3);
    expect(routed(r, '', { colour: S('red'), size: S('big') })).toEqual(['q2']);
    r.remove(b2);
    expect(routed(r, '', { colour: S('red'), size: S('big') })).toEqual([]);
  });

  it('does not mistake inherited object properties for headers', () => {
    const r = new HeadersRouter();
    bind(r, '', 'q', { toString: V });
    expect(routed(r, '', {})).toEqual([]);
    expect(routed(r, '', { toString: S('x') })).toEqual(['q']);
  });

  it('compares values as Erlang == does', () => {
    expect(erlangEquals(n('d', 0), n('f', -0))).toBe(true);
    expect(erlangEquals(L(2n ** 60n), n('d', 2 ** 60))).toBe(true);
    expect(erlangEquals(L(2n ** 60n), L(2n ** 60n))).toBe(true);
    expect(erlangEquals(L(2n ** 60n + 1n), L(2n ** 60n))).toBe(false);
    expect(erlangEquals(S('é'), X('é'))).toBe(true);
    expect(erlangEquals(S('1'), n('b', 1))).toBe(false);
    expect(erlangEquals(arr(), arr())).toBe(true);
    expect(erlangEquals(arr(), tbl({}))).toBe(false);
    expect(erlangEquals(tbl({ a: arr(S('x')) }), tbl({ a: arr(X('x')) }))).toBe(false); // longstr vs binary atoms
    expect(erlangEquals(bool(false), bool(false))).toBe(true);
    expect(erlangEquals(dec(1, 5), dec(2, 5))).toBe(false);
  });
});

describe('validateHeadersBindingArgs (texts as RabbitMQ 3.10.8 replies them)', () => {
  const value = (x: string) => `Invalid x-match field value ${x}; expected all, any, all-with-x, or any-with-x`;
  const type = (t: string, v: string) => `Invalid x-match field type ${t} (value ${v}); expected longstr`;
  it.each<[string, FieldValue | undefined, string | null]>([
    ['absent', undefined, null],
    ['all', S('all'), null],
    ['any', S('any'), null],
    ['all-with-x', S('all-with-x'), null],
    ['any-with-x', S('any-with-x'), null],
    ['unknown value', S('foo'), value('<<"foo">>')],
    ['empty', S(''), value('<<>>')],
    ['case matters', S('ALL'), value('<<"ALL">>')],
    ['UTF-8 with bytes >= 160 shows as text', S('café'), value('<<"café">>')],
    ['control bytes show as numbers', S('\u0001\u0002'), value('<<1,2>>')],
    ['UTF-8 with bytes 128..159 shows as numbers', S('€'), value('<<226,130,172>>')],
    ['quotes and backslashes are escaped', S('q"uo\\te'), value('<<"q\\"uo\\\\te">>')],
    ['named escapes', S('a\nb\tc\u001b'), value('<<"a\\nb\\tc\\e">>')],
    ['long values are not wrapped', S('a'.repeat(100)), value(`<<"${'a'.repeat(100)}">>`)],
    ['signedint', n('I', 23), type('signedint', '23')],
    ['binary', X('any'), type('binary', '<<"any">>')],
    ['bool', bool(true), type('bool', 'true')],
    ['void', V, type('void', 'undefined')],
    ['decimal', dec(2, 150), type('decimal', '{2,150}')],
    ['array', arr(n('b', 1), S('x')), type('array', '[{byte,1},{longstr,<<"x">>}]')],
    ['table', tbl({ k: L(1) }), type('table', '[{<<"k">>,long,1}]')],
  ])('%s', (_name, xMatch, expected) => {
    expect(validateHeadersBindingArgs(xMatch === undefined ? { a: S('b') } : { 'x-match': xMatch })).toBe(expected);
  });

  it.each<[number, string]>([
    [1000, '1.0e3'], [100, '100.0'], [0.5, '0.5'], [12345.678, '12345.678'], [1e-10, '1.0e-10'],
    [-0, '-0.0'], [0, '0.0'], [5e-324, '5.0e-324'], [1.7976931348623157e308, '1.7976931348623157e308'],
    [123456, '123456.0'], [1234567, '1234567.0'], [0.1, '0.1'], [0.0025, '0.0025'], [0.0001, '0.0001'],
    [3e-5, '3.0e-5'], [1e15, '1.0e15'], [9007199254740992, '9.007199254740992e15'], [-2.5, '-2.5'],
    [9007199254740991, '9007199254740991.0'], [123456789012345, '123456789012345.0'], [0.000123, '1.23e-4'],
    [0.00123, '0.00123'], [12300, '1.23e4'], [9e15, '9.0e15'], [1234567890123456, '1234567890123456.0'],
  ])('formats the double %d as Erlang ~p: %s', (x, shown) => {
    expect(validateHeadersBindingArgs({ 'x-match': n('d', x) })).toBe(type('double', shown));
  });
});
