// Names and texts that RabbitMQ clients see: generated names, resource descriptions, and the
// "inequivalent arg" message format of rabbit_misc:assert_args_equivalence.
import { randomBytes } from 'node:crypto';
import { TYPE_ATOMS, erlTerm } from '../protocol/erlang-format.js';
import { ChannelError } from '../protocol/errors.js';
import type { FieldValue } from '../protocol/field-table.js';

/** `amq.gen-...` / `amq.ctag-...`: prefix + 128 random bits in URL-safe base64, as RabbitMQ. */
export function generatedName(prefix: string): string {
  return `${prefix}-${randomBytes(16).toString('base64url')}`;
}

/**
 * rabbit_channel:strip_cr_lf: CR and LF are dropped from queue and exchange names in declare,
 * delete and (un)bind, though not in publish, get, consume or purge.
 */
export function stripCrLf(name: string): string {
  return name.includes('\n') || name.includes('\r') ? name.replace(/[\r\n]/g, '') : name;
}

export const queueRes = (name: string, vhost: string) => `queue '${name}' in vhost '${vhost}'`;
export const exchangeRes = (name: string, vhost: string) => `exchange '${name}' in vhost '${vhost}'`;

/**
 * How RabbitMQ prints an argument in "inequivalent arg" errors (rabbit_misc:val/1) when only one
 * side has it: `the value 'x' of type 'longstr'`; the missing side is `none`.
 */
export function describeValue(v: FieldValue | undefined): string {
  if (v === undefined) return 'none';
  return `the value '${erlText(v)}' of type '${TYPE_ATOMS[v.type]}'`;
}

/**
 * rabbit_misc:val/1 of a bare value, used when both sides have the argument but differ:
 * `'x'` (a binary, printed as text), `'5'`, `'[{byte,1}]'`; void is the atom undefined = `none`.
 */
export function describeBareValue(v: FieldValue): string {
  return v.type === 'V' ? 'none' : `'${erlText(v)}'`;
}

/** ~ts for binaries, ~tp for everything else. */
function erlText(v: FieldValue): string {
  if (v.type === 'S' || v.type === 'x') return typeof v.value === 'string' ? v.value : v.value.toString('utf8');
  return erlTerm(v);
}

export function inequivalentArg(key: string, resource: string, received: string, current: string): string {
  return `inequivalent arg '${key}' for ${resource}: received ${received} but current is ${current}`;
}

export function lockedQueue(name: string, vhost: string): ChannelError {
  return ChannelError.resourceLocked(
    `cannot obtain exclusive access to locked ${queueRes(name, vhost)}. It could be originally declared on ` +
      'another connection or the exclusive property value does not match that of the original declaration.',
  );
}

export function defaultExchangeRefused(): ChannelError {
  return ChannelError.accessRefused("operation not permitted on the default exchange");
}

export function reservedName(kind: 'queue' | 'exchange', name: string): ChannelError {
  return ChannelError.accessRefused(`${kind} name '${name}' contains reserved prefix 'amq.*'`);
}
