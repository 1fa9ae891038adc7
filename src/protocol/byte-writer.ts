// A growable output buffer for frames. A connection keeps one and appends every frame of an
// event-loop turn to it; large message bodies are not copied in but queued as their own slices.
import type { FieldTable, FieldValue } from './field-table.js';

const TWO_32 = 4294967296;
/** Bodies at least this large are written by reference instead of copied into the buffer. */
export const COPY_LIMIT = 16 * 1024;

export class ByteWriter {
  buf: Buffer;
  pos = 0;
  /** Start of the bytes not yet handed out by take(); handed-out bytes are never overwritten. */
  private start = 0;
  /** Earlier output, in order: large slices appended by reference, and full buffers' frames. */
  private parts: Buffer[] = [];
  /** Bytes before this (from start) form whole frames: a full buffer hands them out uncopied. */
  private done = 0;
  /** Bytes moved from buf to parts since the last take(); marks count them, so they stay valid. */
  private shifted = 0;

  private readonly initialSize: number;

  /**
   * Starts small (a thousand idle connections should not hold 64 KiB each). A full buffer is
   * replaced by one sized for the bytes not yet taken, not for the buffer it replaces: twice
   * them, at least the initial size, at most chunkSize unless one turn needs more. Taken bytes
   * fill a buffer over many turns, so sizing by the old buffer would leave every connection
   * that ever wrapped around holding chunkSize bytes.
   */
  constructor(private readonly chunkSize = 64 * 1024, initialSize = 1024) {
    this.initialSize = Math.min(initialSize, chunkSize);
    this.buf = Buffer.allocUnsafe(this.initialSize);
  }

  /** Bytes written and not yet taken. */
  get length(): number {
    let n = this.pos - this.start;
    for (const p of this.parts) n += p.length;
    return n;
  }

  /**
   * Make room for n more bytes. The whole frames written so far (up to complete()) move to
   * parts as they are, so only a frame still being written is copied to the new buffer: a turn
   * that writes a megabyte copies no byte twice. Offsets from mark() stay valid.
   */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    // A turn that filled a buffer with whole frames is a busy one: go straight to chunkSize.
    let size = this.initialSize;
    if (this.done > this.start) {
      this.parts.push(this.buf.subarray(this.start, this.done));
      this.shifted += this.done - this.start;
      this.start = this.done;
      size = this.chunkSize;
    }
    const pending = this.pos - this.start;
    const need = pending + n;
    while (size < 2 * need && size < this.chunkSize) size *= 2;
    // Past chunkSize still twice the need, so a big frame costs amortized O(1) copying per byte.
    const next = Buffer.allocUnsafe(Math.max(size, need > this.chunkSize ? 2 * need : need));
    this.buf.copy(next, 0, this.start, this.pos);
    this.buf = next;
    this.start = 0;
    this.done = 0;
    this.pos = pending;
  }

  /** Everything written so far is whole frames: a later full buffer may hand it out uncopied. */
  complete(): void { this.done = this.pos; }

  /** A position that stays valid across ensure(), for patching a length later. */
  mark(): number { return this.pos - this.start + this.shifted; }
  patchU32(mark: number, v: number): void { this.buf.writeUInt32BE(v >>> 0, this.start + mark - this.shifted); }
  /** Drop everything written after mark (used to undo a frame that failed to encode). */
  rewind(mark: number): void { this.pos = this.start + mark - this.shifted; }
  /** Bytes written since mark. */
  since(mark: number): number { return this.pos - this.start + this.shifted - mark; }

  u8(v: number): void { this.ensure(1); this.buf[this.pos++] = v; }
  u16(v: number): void { this.ensure(2); this.buf.writeUInt16BE(v, this.pos); this.pos += 2; }
  u32(v: number): void { this.ensure(4); this.buf.writeUInt32BE(v >>> 0, this.pos); this.pos += 4; }
  u64(v: number): void {
    this.ensure(8);
    this.buf.writeUInt32BE(Math.floor(v / TWO_32) >>> 0, this.pos);
    this.buf.writeUInt32BE(v >>> 0, this.pos + 4);
    this.pos += 8;
  }
  shortstr(s: string): void {
    const max = s.length * 3;
    this.ensure(1 + max);
    const n = this.buf.write(s, this.pos + 1, 'utf8');
    if (n > 255) throw new RangeError(`short string longer than 255 bytes: ${s.slice(0, 40)}...`);
    this.buf[this.pos] = n;
    this.pos += 1 + n;
  }
  longstr(v: Buffer | string): void {
    if (typeof v === 'string') {
      this.ensure(4 + v.length * 3);
      const n = this.buf.write(v, this.pos + 4, 'utf8');
      this.buf.writeUInt32BE(n, this.pos);
      this.pos += 4 + n;
    } else {
      this.u32(v.length);
      this.bytes(v);
    }
  }
  bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }
  /** Append a message body: copied when small, queued by reference when large (never copied). */
  slice(b: Buffer): void {
    if (b.length < COPY_LIMIT) return this.bytes(b);
    if (this.pos > this.start) this.parts.push(this.buf.subarray(this.start, this.pos));
    this.shifted += this.pos - this.start + b.length;
    this.start = this.pos;
    this.done = this.pos;
    this.parts.push(b);
  }

  table(t: FieldTable | undefined): void {
    const at = this.mark();
    this.u32(0);
    if (t) for (const key of Object.keys(t)) {
      this.shortstr(key);
      this.fieldValue(t[key]!);
    }
    this.patchU32(at, this.since(at) - 4);
  }
  fieldValue(f: FieldValue): void {
    this.u8(f.type.charCodeAt(0));
    switch (f.type) {
      case 't': this.u8(f.value ? 1 : 0); return;
      case 'b': this.ensure(1); this.buf.writeInt8(f.value, this.pos); this.pos += 1; return;
      case 'B': this.u8(f.value); return;
      case 's': this.ensure(2); this.buf.writeInt16BE(f.value, this.pos); this.pos += 2; return;
      case 'u': this.u16(f.value); return;
      case 'I': this.ensure(4); this.buf.writeInt32BE(f.value, this.pos); this.pos += 4; return;
      case 'i': this.u32(f.value); return;
      case 'l': this.ensure(8); this.buf.writeBigInt64BE(BigInt(f.value), this.pos); this.pos += 8; return;
      case 'f': this.ensure(4); this.buf.writeFloatBE(f.value, this.pos); this.pos += 4; return;
      case 'd': this.ensure(8); this.buf.writeDoubleBE(f.value, this.pos); this.pos += 8; return;
      case 'D': this.u8(f.value.scale); this.u32(f.value.value); return; // value is a long-uint
      case 'S': this.longstr(f.value); return;
      case 'x': this.longstr(f.value); return;
      case 'T': this.u64(f.value); return;
      case 'F': this.table(f.value); return;
      case 'V': return;
      case 'A': {
        const at = this.mark();
        this.u32(0);
        for (const v of f.value) this.fieldValue(v);
        this.patchU32(at, this.since(at) - 4);
        return;
      }
    }
  }

  /** Hand out everything written so far. The buffers stay valid: later writes go elsewhere. */
  take(): Buffer[] {
    const out = this.parts;
    if (this.pos > this.start) out.push(this.buf.subarray(this.start, this.pos));
    this.parts = [];
    this.start = this.pos;
    this.done = this.pos;
    this.shifted = 0;
    return out;
  }
}
