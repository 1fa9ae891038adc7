// Consistent-hash exchange `x-consistent-hash`, as RabbitMQ 3.10's
// rabbitmq_consistent_hash_exchange (rabbit_exchange_type_consistent_hash, read from the 3.10.8
// plugin): every message goes to exactly one bound destination, chosen by a hash of
// - its routing key (the one given in basic.publish; CC keys do not take part), or
// - with the `hash-header` argument, that header's value, or
// - with `hash-property`, the message_id, correlation_id or timestamp property.
// A message without the header or property hashes as "undefined": all of those go to one queue.
// The binding key is the destination's weight (a decimal integer >= 1); a destination's share
// of keys is proportional to it. As in the plugin, a destination is in the ring once, with the
// weight of its first binding; a second binding to it (another key) changes nothing.
//
// The hash is not Erlang's (the plugin's jump hash over phash2 numbers its buckets by binding
// order and renumbers them on unbind, which moves keys of other queues too). Warren uses
// weighted rendezvous hashing: each destination scores weight / -ln(u), u a uniform hash of
// (key, destination), and the highest score wins. The mapping depends only on the key and the
// set of destinations, not on binding order, so it is the same after a restart; unbinding a
// destination moves only its own keys, and binding it again brings them back. One key hash per
// message, then one multiply-xorshift and one log per destination; nothing is allocated.
import { erlBinary, erlTerm } from '../../protocol/erlang-format.js';
import { ChannelError } from '../../protocol/errors.js';
import type { FieldTable, FieldValue } from '../../protocol/field-table.js';
import type { Message } from '../message.js';
import type { Binding, Destination, ExchangeTypeDef, Router } from './exchange.js';

const PROPERTIES = ['correlation_id', 'message_id', 'timestamp'] as const;
type HashOn = { kind: 'key' } | { kind: 'header'; name: string } | { kind: 'property'; name: (typeof PROPERTIES)[number] };

interface Member {
  readonly binding: Binding;
  readonly weight: number;
  /** Hash of the destination's kind and name: its place in every key's ranking. */
  readonly seed: number;
}

const FNV_OFFSET = 0x811c9dc5;
/** The hash every message without a value shares (the plugin hashes the atom undefined). */
const UNDEFINED = fnvString(FNV_OFFSET, '\u0000undefined');

function fnvString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function fnvBytes(h: number, b: Buffer): number {
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

/** murmur3's finalizer: spreads a 32-bit value over all bits. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function hashValue(v: FieldValue | undefined): number {
  if (v === undefined) return UNDEFINED;
  if (v.type === 'S' || v.type === 'x') return typeof v.value === 'string' ? fnvString(FNV_OFFSET, v.value) : fnvBytes(FNV_OFFSET, v.value);
  if (typeof v.value === 'number' || typeof v.value === 'bigint') return fnvString(FNV_OFFSET, String(v.value));
  return fnvString(FNV_OFFSET, erlTerm(v));
}

export class ConsistentHashRouter implements Router {
  /** One member per destination, in binding order; `others` are later bindings to the same one. */
  private readonly members: Member[] = [];
  private readonly others: Binding[] = [];

  constructor(private readonly on: HashOn) {}

  add(b: Binding): void {
    if (this.members.some((m) => m.binding.destination === b.destination)) {
      this.others.push(b);
      return;
    }
    const seed = mix(fnvString(FNV_OFFSET, `${b.destination.kind}\u0000${b.destination.name}`));
    this.members.push({ binding: b, weight: Number(b.routingKey), seed });
  }

  remove(b: Binding): void {
    const o = this.others.indexOf(b);
    if (o >= 0) {
      this.others.splice(o, 1);
      return;
    }
    const i = this.members.findIndex((m) => m.binding === b);
    if (i < 0) return;
    this.members.splice(i, 1);
    // Another binding to the same destination now stands for it (the plugin drops the
    // destination from its ring altogether, though the binding still exists).
    const next = this.others.findIndex((x) => x.destination === b.destination);
    if (next >= 0) this.add(this.others.splice(next, 1)[0]!);
  }

  route(routingKey: string, _headers: FieldTable | undefined, out: Destination[], msg?: Message): void {
    const ms = this.members;
    if (ms.length === 0) return;
    if (ms.length === 1) {
      out.push(ms[0]!.binding.destination);
      return;
    }
    const key = this.keyHash(routingKey, msg);
    let best = ms[0]!;
    let bestScore = -1;
    for (let i = 0; i < ms.length; i++) {
      const m = ms[i]!;
      const u = (mix(key ^ m.seed) + 0.5) / 4294967296;
      const score = m.weight / -Math.log(u);
      if (score > bestScore) {
        bestScore = score;
        best = m;
      }
    }
    out.push(best.binding.destination);
  }

  private keyHash(routingKey: string, msg: Message | undefined): number {
    const on = this.on;
    if (on.kind === 'key' || msg === undefined) return fnvString(FNV_OFFSET, routingKey);
    if (msg.hasNoProperties) return UNDEFINED;
    const p = msg.props;
    if (on.kind === 'header') {
      const h = p.headers;
      return hashValue(h !== undefined && Object.hasOwn(h, on.name) ? h[on.name] : undefined);
    }
    const v = on.name === 'message_id' ? p.messageId : on.name === 'correlation_id' ? p.correlationId : p.timestamp;
    return v === undefined ? UNDEFINED : fnvString(FNV_OFFSET, String(v));
  }
}

const text = (v: FieldValue): string => (typeof v.value === 'string' ? v.value : (v.value as Buffer).toString('utf8'));

/** hash_args: only longstr values count (the plugin ignores other types... by crashing; Warren ignores them). */
function hashArgs(args: FieldTable): { header: string | undefined; property: string | undefined } {
  const h = Object.hasOwn(args, 'hash-header') ? args['hash-header']! : undefined;
  const p = Object.hasOwn(args, 'hash-property') ? args['hash-property']! : undefined;
  return { header: h?.type === 'S' ? text(h) : undefined, property: p?.type === 'S' ? text(p) : undefined };
}

function hashOn(args: FieldTable): HashOn {
  const { header, property } = hashArgs(args);
  if (header !== undefined) return { kind: 'header', name: header };
  if (property !== undefined) return { kind: 'property', name: property as (typeof PROPERTIES)[number] };
  return { kind: 'key' };
}

/** validate/1, in the plugin's order. */
function validateDeclare(args: FieldTable): void {
  const { header, property } = hashArgs(args);
  if (header !== undefined && property !== undefined) {
    throw ChannelError.preconditionFailed('hash-header and hash-property are mutually exclusive');
  }
  if (property !== undefined && !(PROPERTIES as readonly string[]).includes(property)) {
    throw ChannelError.preconditionFailed(`Unsupported property: ${property}`);
  }
}

/** validate_binding/2: list_to_integer(binary_to_list(Key)) >= 1. */
function validateBinding(routingKey: string): string | null {
  if (!/^[+-]?[0-9]+$/.test(routingKey)) return `The binding key must be an integer: ${erlBinary(Buffer.from(routingKey, 'utf8'))}`;
  return Number(routingKey) < 1 ? 'The binding key must be greater than 0' : null;
}

export const consistentHashType: ExchangeTypeDef = {
  name: 'x-consistent-hash',
  routesBy: 'message',
  createRouter: (args) => new ConsistentHashRouter(hashOn(args)),
  validateDeclare,
  validateBinding,
};
