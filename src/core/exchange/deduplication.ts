// Deduplication exchange `x-message-deduplication`, as the rabbitmq-message-deduplication plugin
// (README, 0.6.x) documents it: fanout routing (the routing key is ignored), and a message whose
// `x-deduplication-header` value is in the exchange's cache is not routed (it is unroutable: the
// publisher still gets its ack). A message without the header is never deduplicated.
// - x-cache-size (required; an integer > 0, or a numeric string): a full cache evicts its
//   oldest entry for the new one.
// - x-cache-ttl (ms > 0): entries expire; a message's own `x-cache-ttl` header sets its entry's.
// - x-cache-persistence `memory` (default) or `disk`: a durable exchange's disk cache survives
//   a restart. Warren keeps the cache in memory either way and writes a disk one through.
// The cache is consulted when a message is published to this exchange (vhost.publish's hold),
// not when one reaches it through an exchange-to-exchange binding.
import { ChannelError } from '../../protocol/errors.js';
import type { FieldTable, FieldValue } from '../../protocol/field-table.js';
import { dedupKey } from '../dedup-key.js';
import { headerOf, type Message } from '../message.js';
import type { DedupJournal, Persistence } from '../persistence.js';
import type { PublishResult } from '../publish.js';
import type { Exchange, ExchangeHost, ExchangeTypeDef, Hold } from './exchange.js';
import { FanoutRouter } from './fanout.js';

const SIZE_TEXT = "Missing or invalid argument, 'x-cache-size' must be an integer greater than 0";
const TTL_TEXT = "Invalid argument, 'x-cache-ttl' must be an integer greater than 0";
const PERSISTENCE_TEXT = "Invalid argument, 'x-cache-persistence' must be either 'disk' or 'memory'";

const INTEGERS = new Set(['b', 'B', 's', 'u', 'I', 'i', 'l']);

/** An integer > 0 (any integer type, or a string of digits), else NaN. */
function positive(v: FieldValue | undefined): number {
  if (v === undefined) return NaN;
  let n = NaN;
  if (INTEGERS.has(v.type)) n = Number(v.value);
  else if (v.type === 'S') {
    const s = typeof v.value === 'string' ? v.value : v.value.toString('latin1');
    if (/^[0-9]+$/.test(s)) n = Number(s);
  }
  return n > 0 ? n : NaN;
}

const arg = (args: FieldTable, k: string) => (Object.hasOwn(args, k) ? args[k] : undefined);

function persistenceOf(args: FieldTable): 'memory' | 'disk' | null {
  const v = arg(args, 'x-cache-persistence');
  if (v === undefined) return 'memory';
  const s = v.type === 'S' ? (typeof v.value === 'string' ? v.value : v.value.toString('utf8')) : '';
  return s === 'memory' || s === 'disk' ? s : null;
}

class DedupHold implements Hold {
  /** key -> expiry (ms since the epoch, 0 = never), oldest first (Map insertion order). */
  private readonly cache = new Map<string, number>();
  private readonly size: number;
  private readonly ttl: number;
  private readonly onDisk: boolean;
  private journalCache: DedupJournal | null | undefined = undefined;

  constructor(private readonly x: Exchange, private readonly host: ExchangeHost) {
    this.size = positive(arg(x.args, 'x-cache-size'));
    const ttl = positive(arg(x.args, 'x-cache-ttl'));
    this.ttl = Number.isNaN(ttl) ? 0 : ttl;
    this.onDisk = x.durable && persistenceOf(x.args) === 'disk';
  }

  private journal(p: Persistence | null = this.host.persistence): DedupJournal | null {
    if (this.journalCache === undefined) {
      if (p === null) return null;
      this.journalCache = this.onDisk ? p.dedupCache(this.host.name, this.x.name) : null;
    }
    return this.journalCache;
  }

  take(msg: Message, _r: PublishResult): boolean {
    const key = dedupKey(msg);
    if (key === null) return false;
    const now = Date.now();
    const until = this.cache.get(key);
    if (until !== undefined) {
      if (until === 0 || until > now) return true; // a duplicate: not routed
      this.cache.delete(key);
    }
    if (this.cache.size >= this.size) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
      this.journal()?.remove(oldest);
    }
    const own = positive(headerOf(msg, 'x-cache-ttl'));
    const ttl = Number.isNaN(own) ? this.ttl : own;
    const expiresAt = ttl > 0 ? now + ttl : 0;
    this.cache.set(key, expiresAt);
    this.journal()?.put(key, expiresAt);
    return false;
  }

  recover(p: Persistence): number {
    const j = this.journal(p);
    if (j === null) return 0;
    const now = Date.now();
    j.forEach((key, expiresAt) => {
      if (expiresAt === 0 || expiresAt > now) this.cache.set(key, expiresAt);
      else j.remove(key);
    });
    return this.cache.size;
  }

  drop(): void {
    this.cache.clear();
  }

  close(): void {}
}

export const deduplicationType: ExchangeTypeDef = {
  name: 'x-message-deduplication',
  routesBy: 'none',
  createRouter: () => new FanoutRouter(),
  validateDeclare(args) {
    if (Number.isNaN(positive(arg(args, 'x-cache-size')))) throw ChannelError.preconditionFailed(SIZE_TEXT);
    if (arg(args, 'x-cache-ttl') !== undefined && Number.isNaN(positive(arg(args, 'x-cache-ttl')))) {
      throw ChannelError.preconditionFailed(TTL_TEXT);
    }
    if (persistenceOf(args) === null) throw ChannelError.preconditionFailed(PERSISTENCE_TEXT);
  },
  createHold: (x, host) => new DedupHold(x, host),
};
