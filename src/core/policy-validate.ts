// Checking a policy as RabbitMQ 3.10's rabbit_policy:validate does, with its texts (checked
// against 3.10.8): priority, pattern, apply-to, then the definition, whose keys go to their
// validators in module order (mirroring's ha-* keys, then rabbit_policies' own, then the queue
// master locator); keys no validator knows are listed together at the end. Operator policies
// allow only the keys that merge by taking the lowest value.
import type { ApplyTo, Definition, PolicyKind, PolicyRecord } from './policy.js';

/** A refused policy; `detail` is RabbitMQ's text (the API wraps it in "Validation failed"). */
export class PolicyError extends Error {
  constructor(readonly detail: string) {
    super(detail);
  }
}

/** Erlang's ~p of a decoded JSON value (binaries as <<"...">>). */
export function erlangTerm(v: unknown): string {
  if (typeof v === 'string') return `<<${JSON.stringify(v)}>>`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(erlangTerm).join(',')}]`;
  return `[${Object.entries(v as Record<string, unknown>).map(([k, x]) => `{${erlangTerm(k)},${erlangTerm(x)}}`).join(',')}]`;
}

const isInt = (v: unknown, min: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= min;
const isStr = (v: unknown): boolean => typeof v === 'string';
const oneOf = (...xs: string[]) => (v: unknown) => typeof v === 'string' && xs.includes(v);

/** rabbit_policies:validate_policy0: a check and its "~p is not a valid ..." ending. */
const CORE: Record<string, [(v: unknown) => boolean, string]> = {
  'alternate-exchange': [isStr, 'alternate exchange name'],
  'dead-letter-exchange': [isStr, 'dead letter exchange name'],
  'dead-letter-routing-key': [isStr, 'dead letter routing key'],
  'dead-letter-strategy': [oneOf('at-most-once', 'at-least-once'), 'dead letter strategy'],
  'message-ttl': [(v) => isInt(v, 0), 'message TTL'],
  'expires': [(v) => isInt(v, 1), 'queue expiry'],
  'max-length': [(v) => isInt(v, 0), 'maximum length'],
  'max-length-bytes': [(v) => isInt(v, 0), 'maximum length in bytes'],
  'max-in-memory-length': [(v) => isInt(v, 0), 'maximum memory length'],
  'max-in-memory-bytes': [(v) => isInt(v, 0), 'maximum memory in bytes'],
  'queue-mode': [oneOf('default', 'lazy'), 'queue-mode value'],
  'queue-version': [(v) => v === 1 || v === 2, 'queue-version value'],
  'overflow': [oneOf('drop-head', 'reject-publish', 'reject-publish-dlx'), 'overflow value'],
  'delivery-limit': [(v) => isInt(v, 0), 'delivery limit'],
  'max-age': [(v) => typeof v === 'string' && /^\d+[YMDhms]$/.test(v), 'x-max-age value'],
  'stream-max-segment-size-bytes': [(v) => isInt(v, 0), 'segment size'],
  'queue-leader-locator': [oneOf('client-local', 'balanced', 'random', 'least-leaders'), 'queue leader locator value'],
  'initial-cluster-size': [(v) => isInt(v, 0), 'cluster size'],
};

const HA_KEYS = ['ha-mode', 'ha-params', 'ha-sync-mode', 'ha-sync-batch-size', 'ha-promote-on-shutdown', 'ha-promote-on-failure'];
/** Accepted for exports from brokers running these plugins; Warren has neither. */
const PLUGIN_KEYS = ['queue-master-locator', 'federation-upstream', 'federation-upstream-set'];
const OPERATOR_KEYS = new Set(['expires', 'message-ttl', 'max-length', 'max-length-bytes', 'max-in-memory-length', 'max-in-memory-bytes', 'delivery-limit']);

/** rabbit_mirror_queue_misc:validate_policy. */
function checkHa(d: Definition): void {
  const has = (k: string) => Object.hasOwn(d, k);
  if (!has('ha-mode')) {
    if (has('ha-params') || has('ha-sync-mode') || has('ha-promote-on-shutdown')) {
      throw new PolicyError('ha-mode must be specified to specify ha-params, ha-sync-mode or ha-promote-on-shutdown');
    }
    return;
  }
  const mode = d['ha-mode'];
  if (mode === 'exactly' || mode === 'nodes') {
    if (!has('ha-params')) throw new PolicyError(`ha-mode="${mode}" takes ${mode === 'exactly' ? 'an integer' : 'a list'}, none given`);
  } else if (mode === 'all') {
    if (has('ha-params')) throw new PolicyError('ha-mode="all" does not take parameters, got ' + erlangTerm(d['ha-params']));
  } else throw new PolicyError(`${erlangTerm(mode)} is not a valid ha-mode value`);
  const sync = d['ha-sync-mode'];
  if (sync !== undefined && sync !== 'manual' && sync !== 'automatic') throw new PolicyError(`ha-sync-mode must be "manual" or "automatic", got ${erlangTerm(sync)}`);
}

function checkDefinition(kind: PolicyKind, d: unknown): Definition {
  if (typeof d !== 'object' || d === null || Array.isArray(d)) throw new PolicyError(`definition must be a dictionary: ${erlangTerm(d)}`);
  const def = d as Definition;
  const keys = Object.keys(def).sort();
  if (keys.length === 0) throw new PolicyError('no policy provided');
  const known = (k: string) => (kind === 'operator' ? OPERATOR_KEYS.has(k) : Object.hasOwn(CORE, k) || HA_KEYS.includes(k) || PLUGIN_KEYS.includes(k));
  if (kind === 'policy') checkHa(def);
  for (const k of keys) {
    if (!known(k) || !Object.hasOwn(CORE, k)) continue;
    const [ok, what] = CORE[k]!;
    if (!ok(def[k])) throw new PolicyError(`${erlangTerm(def[k])} is not a valid ${what}`);
  }
  const unknown = keys.filter((k) => !known(k));
  if (unknown.length > 0) throw new PolicyError(`${erlangTerm(Object.fromEntries(unknown.map((k) => [k, def[k]])))} are not recognised policy settings`);
  return def;
}

/** What a caller gives (HTTP body, definitions file, ctl): unchecked JSON values. */
export interface PolicyInput {
  pattern: unknown;
  definition: unknown;
  priority?: unknown;
  applyTo?: unknown;
}

/** rabbit_policy:validate, in its order: a record to store, or a PolicyError. */
export function validatePolicy(kind: PolicyKind, vhost: string, name: string, input: PolicyInput): PolicyRecord {
  const priority = input.priority ?? 0;
  if (typeof priority !== 'number') throw new PolicyError(`priority should be a number, actually was ${erlangTerm(priority)}`);
  const pattern = input.pattern;
  if (typeof pattern !== 'string') throw new PolicyError(`pattern should be a binary but was ${erlangTerm(pattern)}`);
  try {
    new RegExp(pattern);
  } catch (e) {
    throw new PolicyError(`pattern should be regular expression but is invalid: {${JSON.stringify((e as Error).message)},0}`);
  }
  const applyTo = input.applyTo ?? 'all';
  if (applyTo !== 'all' && applyTo !== 'queues' && applyTo !== 'exchanges') {
    throw new PolicyError(`apply-to '${String(applyTo)}' unrecognised; should be 'queues', 'exchanges' or 'all'`);
  }
  const definition = checkDefinition(kind, input.definition);
  return { vhost, name, pattern, applyTo: applyTo as ApplyTo, priority, definition };
}
