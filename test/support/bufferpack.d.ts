// Minimal types for bufferpack (a jspack port with no type declarations of its own), as the
// codec cross-check tests use it: Python struct-like formats, big-endian with '>'.
declare module 'bufferpack' {
  interface BufferPack {
    /** Pack values per format, e.g. pack('>BHI', [1, 0, 12]). */
    pack(format: string, values: readonly unknown[]): Buffer;
    /** Unpack per format from offset; undefined if the buffer is too short. */
    unpack(format: string, buf: Uint8Array, offset?: number): unknown[] | undefined;
    calcLength(format: string, values?: readonly unknown[]): number;
  }
  const bufferpack: BufferPack;
  export default bufferpack;
}
