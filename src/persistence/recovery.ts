// Startup: rebuild durable exchanges, queues and bindings from the store, and each durable
// queue's index of persistent messages (sizes, expiry, priority; bodies stay on disk until a
// consumer is about to get them). Messages delivered before a stop or crash come back flagged
// redelivered (the store's delivered watermark). Delayed exchanges get back the messages they
// held.
import { isExchangeType } from '../core/exchange/index.js';
import type { VHost } from '../core/vhost.js';
import { decodeTable, type StorePersistence } from './store-persistence.js';

export interface Recovered {
  exchanges: number;
  queues: number;
  bindings: number;
  messages: number;
  /** Messages held by delayed exchanges and deduplication cache entries. */
  held: number;
  ms: number;
}

type Warn = (msg: string, meta: Record<string, unknown>) => void;

/** Restores everything the store holds into the vhosts vhostOf returns (creating them if need be). */
export function recover(p: StorePersistence, vhostOf: (name: string) => VHost, warn: Warn): Recovered {
  const started = performance.now();
  const store = p.store;
  const defs = store.loadDefinitions();
  const r: Recovered = { exchanges: 0, queues: 0, bindings: 0, messages: 0, held: 0, ms: 0 };
  for (const x of defs.exchanges) {
    const v = vhostOf(x.vhost);
    if (v.exchanges.has(x.name)) continue;
    if (!isExchangeType(x.type)) {
      warn('stored exchange has an unknown type; not restored', { vhost: x.vhost, exchange: x.name, type: x.type });
      continue;
    }
    const ex = v.restoreExchange(x.name, x.type, x.autoDelete, x.internal, decodeTable(x.args));
    r.exchanges++;
    // A delayed exchange's held messages (due times kept), a deduplication exchange's disk cache.
    if (ex.hold !== null) r.held += ex.hold.recover(p);
  }
  for (const d of defs.queues) {
    const v = vhostOf(d.vhost);
    const q = v.restoreQueue(d.name, d.autoDelete, decodeTable(d.args), p.journal(d.vhost, d.name), p);
    // Retry state (attempts, backoff due time) of the few messages that have failed before.
    const retries = new Map<number, [number, number | null]>();
    store.messages.forEachRetry(d.vhost, d.name, (seq, count, retryAt) => retries.set(seq, [count, retryAt]));
    store.messages.forEachIndexEntry(d.vhost, d.name, (seq, size, expiresAt, priority, redelivered) => {
      const rs = retries.size === 0 ? undefined : retries.get(seq);
      q.restore(seq, size, expiresAt ?? 0, priority, redelivered, rs?.[0] ?? 0, rs?.[1] ?? 0);
      r.messages++;
    });
    q.restored(store.messages.lastSeq(d.vhost, d.name));
    r.queues++;
  }
  for (const b of defs.bindings) {
    if (vhostOf(b.vhost).restoreBinding(b.source, b.destKind, b.destination, b.routingKey, decodeTable(b.args))) r.bindings++;
    else warn('stored binding has a missing end; not restored', { vhost: b.vhost, source: b.source, destination: b.destination });
  }
  r.ms = Math.round(performance.now() - started);
  return r;
}
