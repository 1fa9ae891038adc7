// Reading single basic properties straight from the raw content-header bytes, so a check or a
// queue feature that needs one field does not decode (and allocate) all of them. The bytes
// have been validated at publish (channel.ts), so offsets are trusted here.

/** Property flag bits (the 16-bit flag word, first property highest). */
export const P = {
  contentType: 0x8000, contentEncoding: 0x4000, headers: 0x2000, deliveryMode: 0x1000, priority: 0x0800,
  correlationId: 0x0400, replyTo: 0x0200, expiration: 0x0100, messageId: 0x0080, timestamp: 0x0040,
  type: 0x0020, userId: 0x0010, appId: 0x0008, clusterId: 0x0004,
} as const;

export const propertyFlags = (raw: Buffer): number => (raw.length < 2 ? 0 : raw.readUInt16BE(0));

/** Where the property `flag` (which must be set) starts: its length byte for a shortstr. */
export function propertyAt(raw: Buffer, flag: number): number {
  const flags = propertyFlags(raw);
  let at = 2;
  for (let f = 0x8000; f > flag; f >>>= 1) {
    if ((flags & f) === 0) continue;
    if (f === P.headers) at += 4 + raw.readUInt32BE(at);
    else if (f === P.deliveryMode || f === P.priority) at += 1;
    else if (f === P.timestamp) at += 8;
    else at += 1 + raw[at]!;
  }
  return at;
}

/** A shortstr property's bytes (a view, no copy). */
export function shortstrAt(raw: Buffer, flag: number): Buffer {
  const at = propertyAt(raw, flag);
  return raw.subarray(at + 1, at + 1 + raw[at]!);
}

/** `raw` with bytes [from, to) replaced by `insert`: a new buffer. */
export function spliceBytes(raw: Buffer, from: number, to: number, insert: Buffer): Buffer {
  const out = Buffer.allocUnsafe(raw.length - (to - from) + insert.length);
  raw.copy(out, 0, 0, from);
  insert.copy(out, from);
  raw.copy(out, from + insert.length, to);
  return out;
}
