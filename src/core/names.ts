// Names and texts that RabbitMQ clients see: generated names, resource descriptions, and the
// "inequivalent arg" message format of rabbit_misc:assert_args_equivalence.
import { randomBytes } from 'node:crypto';
import type { FieldValue } from '../protocol/field-table.js';

/** `amq.gen-...` / `amq.ctag-...`: prefix + 128 random bits in URL-safe base64, as RabbitMQ. */
export function generatedName(prefix: string): string {
  return `${prefix}-${randomBytes(16).toString('base64url')}`;
}

export const queueRes = (name: string, vhost: string) => `queue '${name}' in vhost '${vhost}'`;
export const exchangeRes = (name: string, vhost: string) => `exchange '${name}' in vhost '${vhost}'`;

const TYPE_NAMES: Record<string, string> = {
  t: 'bool', b: 'byte', B: 'unsignedbyte', s: 'short', u: 'unsignedshort', I: 'signedint',
  i: 'unsignedint', l: 'long', f: 'float', d: 'double', D: 'decimal', S: 'longstr', A: 'array',
  T: 'timestamp', F: 'table', V: 'void', x: 'binary',
};

/** How RabbitMQ prints a value in "inequivalent arg" errors. */
export function describeValue(v: FieldValue | undefined): string {
  if (v === undefined) return 'none';
  const shown = v.type === 'S' || v.type === 'x' ? String(v.value) : JSON.stringify(v.value);
  return `the value '${shown}' of type '${TYPE_NAMES[v.type]}'`;
}

export function inequivalentArg(key: string, resource: string, received: string, current: string): string {
  return `inequivalent arg '${key}' for ${resource}: received ${received} but current is ${current}`;
}
