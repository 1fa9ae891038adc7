// A vhost's limits (RabbitMQ's `vhost-limits` runtime parameter, rabbit_vhost_limit):
// max-connections and max-queues, validated with rabbit_parameter_validation's texts, and
// the two refusals they cause (checked against 3.10.8): connection.open over max-connections
// (530, before the permission check, as rabbit_reader does) and queue.declare of a new queue
// over max-queues (406). A negative limit is none; 0 allows nothing. Changing a limit never
// closes what is already open or declared.
import { ChannelError, ConnectionError } from '../protocol/errors.js';
import type { Actor } from './actor.js';
import type { LimitPersistence } from './persistence.js';
import { erlangTerm } from './policy-validate.js';

export const LIMIT_NAMES = ['max-connections', 'max-queues'] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

/** Limits in RabbitMQ's order: a map set whole is sorted by name, a single limit set goes first. */
export type LimitEntries = readonly (readonly [LimitName, number])[];

/** A refused value; `detail` is RabbitMQ's text (one line per problem; the API adds "Validation failed"). */
export class LimitError extends Error {
  constructor(readonly detail: string) {
    super(detail);
  }
}

const isName = (k: string): k is LimitName => (LIMIT_NAMES as readonly string[]).includes(k);

/**
 * rabbit_parameter_validation:proplist for vhost-limits: the unknown keys in one line first, then
 * each value that is not an integer, in the order given.
 */
export function validateLimits(value: unknown): [LimitName, number][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new LimitError(`limits must be a JSON object, got ${erlangTerm(value)}`);
  const entries = Object.entries(value as Record<string, unknown>);
  const problems: string[] = [];
  const unknown = entries.filter(([k]) => !isName(k));
  if (unknown.length > 0) problems.push(`Unrecognised terms ${erlangTerm(Object.fromEntries(unknown))} in limits`);
  for (const [k, v] of entries) {
    if (isName(k) && !(typeof v === 'number' && Number.isInteger(v))) problems.push(`${k} should be a number, actually was ${erlangTerm(v)}`);
  }
  if (problems.length > 0) throw new LimitError(problems.join('\n'));
  return (entries as [LimitName, number][]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export class VhostLimits {
  /** null: no limits parameter at all; [] is one whose limits were all cleared (RabbitMQ keeps it). */
  private entries: [LimitName, number][] | null = null;
  /** The connections open to the vhost, counted against max-connections. */
  private readonly connections = new Set<Actor>();
  /** Where changes are written (the store), once attached. */
  persistence: LimitPersistence | null = null;

  constructor(private readonly vhost: string) {}

  /** The limits parameter: null when there is none. */
  get value(): LimitEntries | null {
    return this.entries;
  }

  /** rabbitmqctl set_vhost_limits, PUT /api/parameters/vhost-limits/V/limits: all at once. True when there was none. */
  setAll(value: unknown, save = true): boolean {
    const entries = validateLimits(value);
    const created = this.entries === null;
    this.entries = entries;
    if (save) this.persistence?.saveVhostLimits(this.vhost, entries);
    return created;
  }

  /** Startup: the stored limits, checked again and kept in their order (not written back). */
  restore(stored: [string, number][]): void {
    validateLimits(Object.fromEntries(stored));
    this.entries = stored as [LimitName, number][];
  }

  /** PUT /api/vhost-limits/V/NAME: one limit, put first (rabbit_vhost_limit:update_limit). */
  set(name: string, value: unknown): void {
    const [entry] = validateLimits({ [name]: value });
    this.entries = [entry!, ...(this.entries ?? []).filter(([k]) => k !== name)];
    this.persistence?.saveVhostLimits(this.vhost, this.entries);
  }

  /** DELETE /api/vhost-limits/V/NAME: the parameter stays, maybe empty, as in RabbitMQ. */
  clear(name: string): void {
    if (this.entries === null) return;
    this.entries = this.entries.filter(([k]) => k !== name);
    this.persistence?.saveVhostLimits(this.vhost, this.entries);
  }

  /** rabbitmqctl clear_vhost_limits: false when there was no limits parameter. */
  clearAll(): boolean {
    if (this.entries === null) return false;
    this.entries = null;
    this.persistence?.saveVhostLimits(this.vhost, null);
    return true;
  }

  /** The limit in force: undefined for none (not set, or negative). */
  limit(name: LimitName): number | undefined {
    const v = this.entries?.find(([k]) => k === name)?.[1];
    return v === undefined || v < 0 ? undefined : v;
  }

  /** rabbit_reader:is_over_vhost_connection_limit, at connection.open. */
  admitConnection(user: string): void {
    const max = this.limit('max-connections');
    if (max !== undefined && this.connections.size >= max) {
      throw ConnectionError.notAllowed(`access to vhost '${this.vhost}' refused for user '${user}': connection limit (${max}) is reached`);
    }
  }

  connectionOpened(actor: Actor): void {
    this.connections.add(actor);
  }

  connectionClosed(actor: Actor): void {
    this.connections.delete(actor);
  }

  /** rabbit_vhost_limit:is_over_queue_limit, for a queue about to be created; `count` is the vhost's queues. */
  admitQueue(name: string, count: number): void {
    const max = this.limit('max-queues');
    if (max !== undefined && count >= max) {
      throw ChannelError.preconditionFailed(`cannot declare queue '${name}': queue limit in vhost '${this.vhost}' (${max}) is reached`);
    }
  }
}
