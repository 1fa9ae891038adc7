// Reads AMQP primitives in place from a Buffer region. One reader is reused for every frame
// (decoding is synchronous), so decoding a method allocates only its result object and strings.
import { DecodeError } from './decode-error.js';
import { setOwn, type FieldTable, type FieldValue } from './field-table.js';

const TWO_32 = 4294967296;

export class ByteReader {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  end = 0;

  reset(buf: Buffer, start: number, end: number): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  private need(n: number): number {
    const p = this.pos;
    if (p + n > this.end) throw new DecodeError(`truncated: need ${n} bytes at offset ${p}`);
    this.pos = p + n;
    return p;
  }

  u8(): number { return this.buf[this.need(1)]!; }
  u16(): number { return this.buf.readUInt16BE(this.need(2)); }
  u32(): number { return this.buf.readUInt32BE(this.need(4)); }
  /** Unsigned 64-bit as a number: delivery tags and timestamps stay far below 2^53. */
  u64(): number {
    const p = this.need(8);
    return this.buf.readUInt32BE(p) * TWO_32 + this.buf.readUInt32BE(p + 4);
  }
  shortstr(): string {
    const len = this.u8();
    const p = this.need(len);
    return this.buf.toString('utf8', p, p + len);
  }
  /** Long strings stay as slices of the received buffer. */
  longstr(): Buffer {
    const len = this.u32();
    const p = this.need(len);
    return this.buf.subarray(p, p + len);
  }
  table(): FieldTable {
    const len = this.u32();
    const start = this.need(len);
    const savedEnd = this.end;
    this.pos = start;
    this.end = start + len;
    const table: FieldTable = {};
    while (this.pos < this.end) {
      const key = this.shortstr();
      if (key === '__proto__') setOwn(table, key, this.fieldValue()); // not a prototype change
      else table[key] = this.fieldValue();
    }
    this.end = savedEnd;
    return table;
  }
  private array(): FieldValue[] {
    const len = this.u32();
    const start = this.need(len);
    const savedEnd = this.end;
    this.pos = start;
    this.end = start + len;
    const out: FieldValue[] = [];
    while (this.pos < this.end) out.push(this.fieldValue());
    this.end = savedEnd;
    return out;
  }
  skip(n: number): void { this.need(n); }
  skipShortstr(): void { this.need(this.u8()); }
  skipLongstr(): void { this.need(this.u32()); }
  /** Validate a table's structure without building it (for properties nobody reads yet). */
  skipTable(): void {
    const len = this.u32();
    const start = this.need(len);
    const savedEnd = this.end;
    this.pos = start;
    this.end = start + len;
    while (this.pos < this.end) {
      this.skipShortstr();
      this.skipFieldValue();
    }
    this.end = savedEnd;
  }
  private skipFieldValue(): void {
    const letter = this.u8();
    switch (letter) {
      case 0x74: case 0x62: case 0x42: this.need(1); return; // t b B
      case 0x73: case 0x75: this.need(2); return; // s u
      case 0x49: case 0x69: case 0x66: this.need(4); return; // I i f
      case 0x6c: case 0x64: case 0x54: this.need(8); return; // l d T
      case 0x44: this.need(5); return; // D
      case 0x53: case 0x78: this.skipLongstr(); return; // S x
      case 0x46: this.skipTable(); return; // F
      case 0x41: { // A
        const len = this.u32();
        const start = this.need(len);
        const savedEnd = this.end;
        this.pos = start;
        this.end = start + len;
        while (this.pos < this.end) this.skipFieldValue();
        this.end = savedEnd;
        return;
      }
      case 0x56: return; // V
      default: throw new DecodeError(`unknown field table type '${String.fromCharCode(letter)}'`);
    }
  }
  fieldValue(): FieldValue {
    const letter = String.fromCharCode(this.u8());
    const b = this.buf;
    switch (letter) {
      case 't': return { type: 't', value: this.u8() !== 0 };
      case 'b': return { type: 'b', value: b.readInt8(this.need(1)) };
      case 'B': return { type: 'B', value: this.u8() };
      case 's': return { type: 's', value: b.readInt16BE(this.need(2)) };
      case 'u': return { type: 'u', value: this.u16() };
      case 'I': return { type: 'I', value: b.readInt32BE(this.need(4)) };
      case 'i': return { type: 'i', value: this.u32() };
      case 'l': {
        const v = b.readBigInt64BE(this.need(8));
        const n = Number(v);
        return { type: 'l', value: Number.isSafeInteger(n) ? n : v };
      }
      case 'f': return { type: 'f', value: b.readFloatBE(this.need(4)) };
      case 'd': return { type: 'd', value: b.readDoubleBE(this.need(8)) };
      case 'D': {
        // decimal-value = scale:octet value:long-uint (unsigned, as RabbitMQ and amqplib read it)
        const scale = this.u8();
        return { type: 'D', value: { scale, value: this.u32() } };
      }
      case 'S': return { type: 'S', value: this.longstr().toString('utf8') };
      case 'x': return { type: 'x', value: this.longstr() };
      case 'A': return { type: 'A', value: this.array() };
      case 'T': return { type: 'T', value: this.u64() };
      case 'F': return { type: 'F', value: this.table() };
      case 'V': return { type: 'V', value: null };
      default: throw new DecodeError(`unknown field table type '${letter}'`);
    }
  }
}
