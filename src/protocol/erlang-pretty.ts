// io_lib:format's ~p where a term may not fit on the line: a port of OTP 25's io_lib_pretty
// (line length 80, no depth or size limit, Latin-1) for the terms RabbitMQ puts in reply texts.
// A term wider than what is left of the line is broken over lines and indented as Erlang does,
// so e.g. "invalid expiration '<30 digits>': {value_too_large,\n    <digits>}" comes out exactly
// as RabbitMQ writes it. Text is Latin-1 (one char per byte), which is how Erlang counts columns.
import { escapeLatin1, isPrintableLatin1 } from './erlang-format.js';

/** Integers, atoms, strings (lists of bytes, as binary_to_list makes), lists and tuples. */
export type ErlTerm = number | bigint | { atom: string } | { chars: Buffer } | ErlTerm[] | { tuple: ErlTerm[] };

const LL = 80;

/** io_lib_pretty's intermediate form: a leaf's text, or a list or tuple of parts; len = flat width. */
interface Part { len: number; leaf: string | null; items: Part[]; open: string; close: string; tagged: boolean }

const leaf = (text: string): Part => ({ len: text.length, leaf: text, items: [], open: '', close: '', tagged: false });

function compound(items: Part[], open: string, close: string, tagged: boolean): Part {
  const len = items.reduce((n, p) => n + p.len, 1 + items.length); // brackets and commas
  return { len, leaf: null, items, open, close, tagged };
}

function parts(t: ErlTerm): Part {
  if (typeof t === 'number' || typeof t === 'bigint') return leaf(String(t));
  if (Array.isArray(t)) return t.length === 0 ? leaf('[]') : compound(t.map(parts), '[', ']', false);
  if ('atom' in t) return leaf(t.atom);
  if ('tuple' in t) {
    const items = t.tuple.map(parts);
    return items.length === 0 ? leaf('{}') : compound(items, '{', '}', typeof t.tuple[0] === 'object' && 'atom' in t.tuple[0] && items.length > 1);
  }
  if (t.chars.length === 0) return leaf('[]');
  if (isPrintableLatin1(t.chars)) return leaf(`"${escapeLatin1(t.chars)}"`);
  return compound(Array.from(t.chars, (c) => leaf(String(c))), '[', ']', false);
}

const write = (p: Part): string => p.leaf ?? p.open + p.items.map(write).join(',') + p.close;

/**
 * ~p of `t` after `text` (Latin-1) on the same output: the column is where `text` leaves the
 * line (a newline resets it, a tab moves to the next multiple of 8), as io_lib_format counts.
 */
export function erlPrettyAfter(text: string, t: ErlTerm): string {
  let col = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    col = c === 10 ? 0 : c === 9 ? (Math.floor(col / 8) + 1) * 8 : col + 1;
  }
  return erlPretty(t, col + 1);
}

/** io_lib_pretty:print(Term, Col, 80, -1): `col` is 1-based. */
export function erlPretty(t: ErlTerm, col: number): string {
  const p = parts(t);
  if (p.leaf !== null || p.len < LL - col) return write(p);
  const m = p.len;
  let tind = 1;
  for (const i of [-1, 4]) {
    try {
      cind(p, col, m, i, 0, 0);
      tind = i;
      break;
    } catch (e) {
      if (e !== NO_GOOD) throw e;
    }
  }
  return pp(p, col, m, tind, col - 1, 0, 0);
}

// pp*: lay out `p` from column `col`; `ind` is the indentation (spaces) of continuation lines,
// `ld` the closing brackets that follow, `w` the width used so far, `m` the widest allowed.

function pp(p: Part, col: number, m: number, tind: number, ind: number, ld: number, w: number): string {
  if ((p.len < LL - col - ld && p.len + w + ld <= m) || p.leaf !== null) return write(p);
  if (!p.tagged) return p.open + ppList(p.items, 1, col + 1, m, tind, ind + 1, ld, w + 1) + p.close;
  const tag = p.items[0]!;
  const tagInd = tag.len + 2;
  const tcol = col + tagInd;
  if (tind > 0 && tagInd > tind) return `{${tag.leaf}${ppTail(p.items, 1, col + tind, tcol, m, tind, ind + tind, ld, w + tag.len + 1)}}`;
  return `{${tag.leaf},${ppList(p.items, 2, tcol, m, tind, ind + tagInd, ld, w + tag.len + 2)}}`;
}

const lastDepth = (items: Part[], next: number, ld: number) => (next < items.length ? 0 : ld + 1);

/** Whether element `e` (with its comma, `elen`) still fits on the line at `col`. */
function fits(e: Part, elen: number, col: number, m: number, ld1: number, w: number): boolean {
  if (e.leaf === null) return false;
  return ld1 === 0 ? elen + 1 < LL - col && w + elen + 1 <= m : elen < LL - col - ld1 && w + elen + ld1 <= m;
}

function ppList(items: Part[], from: number, col0: number, m: number, tind: number, ind: number, ld: number, w: number): string {
  const [text, we] = ppElement(items[from - 1]!, col0, m, tind, ind, lastDepth(items, from, ld), w);
  return text + ppTail(items, from, col0, col0 + we, m, tind, ind, ld, w + we);
}

function ppTail(items: Part[], from: number, col0: number, col: number, m: number, tind: number, ind: number, ld: number, w: number): string {
  let out = '';
  for (let i = from; i < items.length; i++) {
    const e = items[i]!;
    const ld1 = lastDepth(items, i + 1, ld);
    const elen = 1 + e.len;
    if (fits(e, elen, col, m, ld1, w)) {
      out += `,${write(e)}`;
      col += elen;
      w += elen;
      continue;
    }
    const [text, we] = ppElement(e, col0, m, tind, ind, ld1, 0);
    out += `,\n${' '.repeat(ind)}${text}`;
    col = col0 + we;
    w = we;
  }
  return out;
}

function ppElement(e: Part, col: number, m: number, tind: number, ind: number, ld: number, w: number): [string, number] {
  if (e.leaf !== null && e.len < LL - col - ld && e.len + w + ld <= m) return [e.leaf, e.len];
  return [pp(e, col, m, tind, ind, ld, w), LL];
}

// cind*: the same walk without output, to find the tag indentation that works (throws NO_GOOD).

const NO_GOOD = new Error('no good');

function cind(p: Part, col: number, m: number, ind: number, ld: number, w: number): void {
  if ((p.len < LL - col - ld && p.len + w + ld <= m) || p.leaf !== null) return;
  if (!p.tagged) return cindTail(p.items, 0, col + 1, col + 1, m, ind, ld, w + 1, true);
  const tagInd = p.items[0]!.len + 2;
  const tcol = col + tagInd;
  const tw = w + 1 + p.items[0]!.len;
  if (ind > 0 && tagInd > ind) {
    const col1 = col + ind;
    if (m + col1 > LL && col1 > LL / 2) throw NO_GOOD;
    return cindTail(p.items, 1, col1, tcol, m, ind, ld, tw, false);
  }
  if (m + tcol >= LL && tcol >= Math.floor(LL / 2)) throw NO_GOOD;
  cindTail(p.items, 1, tcol, tcol, m, ind, ld, tw + 1, true);
}

/** cind_tail, or cind_list when `first` (its first element has no comma before it). */
function cindTail(items: Part[], from: number, col0: number, col: number, m: number, ind: number, ld: number, w: number, first: boolean): void {
  for (let i = from; i < items.length; i++) {
    const e = items[i]!;
    const ld1 = lastDepth(items, i + 1, ld);
    if (first && i === from) {
      const we = cindElement(e, col0, m, ind, ld1, w);
      col = col0 + we;
      w += we;
      continue;
    }
    const elen = 1 + e.len;
    if (fits(e, elen, col, m, ld1, w)) {
      col += elen;
      w += elen;
      continue;
    }
    const we = cindElement(e, col0, m, ind, ld1, 0);
    col = col0 + we;
    w = we;
  }
}

function cindElement(e: Part, col: number, m: number, ind: number, ld: number, w: number): number {
  if (e.leaf !== null && e.len < LL - col - ld && e.len + w + ld <= m) return e.len;
  cind(e, col, m, ind, ld, w);
  return LL;
}
