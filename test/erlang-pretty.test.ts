// Erlang's ~p layout (io_lib_pretty) and rabbit_basic:parse_expiration. The expected texts were
// produced by OTP 25's io_lib:format("~s: ~p", [Prefix, Term]), the release RabbitMQ 3.10 runs
// on; a port that drifts from it shows here before it shows in a reply text.
import { describe, expect, it } from 'vitest';
import { erlPrettyAfter, type ErlTerm } from '../src/protocol/erlang-pretty.js';
import { MAX_EXPIRATION_MS, parseExpiration } from '../src/core/expiration.js';

const tagged = (tag: string, ...rest: ErlTerm[]): ErlTerm => ({ tuple: [{ atom: tag }, ...rest] });
const chars = (latin1: string): ErlTerm => ({ chars: Buffer.from(latin1, 'latin1') });
const sp = (n: number) => ' '.repeat(n);

describe('erlPrettyAfter', () => {
  const cases: [string, ErlTerm, string][] = [
    // Fits after a prefix whose last line is short (newlines reset the column, tabs jump to 8s).
    ['\t\n\n\n\\: ', tagged('leftover_string', chars('c 10xc')), '{leftover_string,"c 10xc"}'],
    // Not printable Latin-1: a list of numbers, filled line by line under the first element.
    ['\t\t"b\ta\n\t\na"\\: ', tagged('leftover_string', chars(Buffer.from('w+KsYaysrMOpw+KpgqlhqeJhgmFhqeLirMOsw6ysYeJh', 'base64').toString('latin1'))),
      `{leftover_string,[195,226,172,97,172,172,172,195,169,195,226,169,130,169,\n${sp(23)}97,169,226,97,130,97,97,169,226,226,172,195,172,195,\n${sp(23)}172,172,97,226,97]}`],
    // Too wide, far right: the value goes on the next line, one column right of the brace.
    ['a0yc9xz9  b1cya1y 1cz: ', tagged('value_too_large', 4n * 10n ** 60n - 1n), `{value_too_large,\n${sp(27)}${4n * 10n ** 60n - 1n}}`],
    // The rest of a 3-tuple stays together on the next line when it fits there.
    [`xc  x y9bx bxb1y01b19babyzz1x acazx0ayacx1x9z1xb9cyxaay: `, tagged('unacceptable_type_in_header', chars('BCC'), { atom: 'unsignedshort' }),
      `{unacceptable_type_in_header,\n${sp(58)}"BCC",unsignedshort}`],
    // Between columns 23 and 36 the tag indentation is 4.
    ["invalid expiration '5\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac': ", tagged('leftover_string', chars('\xe2\x82\xac'.repeat(3))),
      `{leftover_string,\n${sp(37)}[226,130,172,226,130,172,226,130,172]}`],
    // Escapes inside strings count with their backslash.
    ['p: ', tagged('leftover_string', chars('a"\\\n\t\x1b')), '{leftover_string,"a\\"\\\\\\n\\t\\e"}'],
  ];
  it.each(cases)('after %j', (prefix, term, expected) => {
    expect(erlPrettyAfter(prefix, term)).toBe(expected);
  });
});

describe('parseExpiration', () => {
  const parse = (s: string) => parseExpiration(Buffer.from(s, 'utf8'));
  it('takes one optional sign and ASCII digits, up to ten years', () => {
    expect(['0', '+5', '-0', '007', String(MAX_EXPIRATION_MS)].map(parse)).toEqual([0, 5, -0, 7, MAX_EXPIRATION_MS]);
  });
  it('refuses the rest with the term RabbitMQ prints', () => {
    expect(parse('')).toEqual({ atom: 'no_integer' });
    expect(parse(' 5')).toEqual({ atom: 'no_integer' });
    expect(parse('--5')).toEqual({ atom: 'no_integer' });
    expect(parse('٣')).toEqual({ atom: 'no_integer' });
    expect(parse('-0005')).toEqual(tagged('value_negative', -5));
    expect(parse(String(MAX_EXPIRATION_MS + 1))).toEqual(tagged('value_too_large', MAX_EXPIRATION_MS + 1));
    expect(parse('9'.repeat(30))).toEqual(tagged('value_too_large', 10n ** 30n - 1n));
    expect(parse('5é')).toEqual(tagged('leftover_string', { chars: Buffer.from('é') }));
  });
});
