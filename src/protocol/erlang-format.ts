// Erlang ~p rendering of values, for reply texts that RabbitMQ builds with io_lib:format
// (frame errors print the offending bytes, argument errors the offending value).
import type { FieldValue, TypeLetter } from './field-table.js';

// Single-line only: Erlang wraps terms wider than 80 columns (long arrays/tables), which
// nobody will compare byte for byte.

export const TYPE_ATOMS: Record<TypeLetter, string> = {
  t: 'bool', b: 'byte', B: 'unsignedbyte', s: 'short', u: 'unsignedshort', I: 'signedint',
  i: 'unsignedint', l: 'long', f: 'float', d: 'double', D: 'decimal', S: 'longstr', A: 'array',
  T: 'timestamp', F: 'table', V: 'void', x: 'binary',
};

export function erlTerm(f: FieldValue): string {
  switch (f.type) {
    case 'S': case 'x': return erlBinary(bytes(f.value));
    case 't': return String(f.value);
    case 'V': return 'undefined';
    case 'D': return `{${f.value.scale},${f.value.value}}`;
    case 'f': case 'd': return erlFloat(f.value);
    case 'A': return `[${f.value.map((x) => `{${TYPE_ATOMS[x.type]},${erlTerm(x)}}`).join(',')}]`;
    case 'F': {
      const t = f.value;
      const rows = Object.keys(t).map((k) => `{${erlBinary(Buffer.from(k, 'utf8'))},${TYPE_ATOMS[t[k]!.type]},${erlTerm(t[k]!)}}`);
      return `[${rows.join(',')}]`;
    }
    default: return String(f.value); // integers (number or bigint)
  }
}

const ESCAPES: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 27: '\\e', 34: '\\"', 92: '\\\\' };

/** io_lib:printable_latin1_list of the bytes: ~p shows them as a string rather than as numbers. */
export function isPrintableLatin1(b: Buffer): boolean {
  return b.every((c) => (c >= 32 && c <= 126) || c >= 160 || (c >= 8 && c <= 13) || c === 27);
}

/** The inside of ~p's quotes for printable bytes, as Latin-1 text (one char per byte). */
export function escapeLatin1(b: Buffer): string {
  let s = '';
  for (const c of b) s += ESCAPES[c] ?? String.fromCharCode(c);
  return s;
}

/**
 * ~p of a binary: <<"text">> when every byte is printable Latin-1 (io_lib:printable_latin1_list),
 * else <<1,2,3>>. The bytes go out as they are, so UTF-8 text such as "café" (all bytes >= 160)
 * shows as itself, while a UTF-8 character with a byte in 128..159 (e.g. "€") turns the whole
 * binary into numbers, as in RabbitMQ.
 */
export function erlBinary(b: Buffer): string {
  if (b.length === 0) return '<<>>';
  if (!isPrintableLatin1(b)) return `<<${Array.from(b).join(',')}>>`;
  return `<<"${Buffer.from(escapeLatin1(b), 'latin1').toString('utf8')}">>`;
}

/**
 * ~p of a float (OTP 25 float_to_list(F, [short])): shortest round-trip digits, in plain or
 * exponent notation, whichever is shorter (plain on a tie), but always exponent from 2^53 up.
 */
export function erlFloat(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, exp] = Math.abs(x).toExponential().split('e');
  const digits = mant!.replace('.', '');
  const place = Number(exp) + 1; // |x| = 0.<digits> * 10^place
  const n = digits.length;
  const sign = x < 0 ? '-' : '';
  const sci = `${sign}${digits[0]}.${n === 1 ? '0' : digits.slice(1)}e${place - 1}`;
  if (Math.abs(x) >= 2 ** 53) return sci;
  const plain =
    place <= 0 ? `${sign}0.${'0'.repeat(-place)}${digits}`
    : place < n ? `${sign}${digits.slice(0, place)}.${digits.slice(place)}`
    : `${sign}${digits}${'0'.repeat(place - n)}.0`;
  return plain.length <= sci.length ? plain : sci;
}

function bytes(v: string | Buffer): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

/** How RabbitMQ shows a frame in errors: `type 1, all octets = <<0,20,0,10,0>>`. */
export function frameText(type: number, payload: Buffer): string {
  const [which, shown] = payload.length <= 16 ? ['all', payload] : ['first 16', payload.subarray(0, 16)];
  return `type ${type}, ${which} octets = ${erlBinary(shown)}`;
}

/** RabbitMQ's frame error text: `type 1, all octets = <<0,20>>: {invalid_frame_end_marker,0}`. */
export function frameErrorText(type: number, payload: Buffer, error: string): string {
  return `${frameText(type, payload)}: ${error}`;
}

/**
 * A reply text as RabbitMQ sends it (rabbit_binary_generator:amqp_exception_explanation/2): one
 * over 255 bytes becomes its first 252 bytes and "...". The cut is moved back to a character
 * boundary, so the text stays valid UTF-8 (RabbitMQ cuts the bytes wherever they fall).
 */
export function replyText(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= 255) return text;
  let end = 252;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // bytes[end] continues a character
  return `${bytes.toString('utf8', 0, end)}...`;
}
