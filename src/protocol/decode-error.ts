/** Bytes that do not decode as the grammar says; the connection reports it as a frame error. */
export class DecodeError extends Error {}
