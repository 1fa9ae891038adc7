// The bridge between the broker model and the embedded store: core/persistence.ts's interfaces
// implemented over src/store/. Field tables are encoded here, so neither side knows the other.
import type { Binding, Exchange } from '../core/exchange/exchange.js';
import { Message } from '../core/message.js';
import type { DedupJournal, DurableFile, HeldJournal, PagingSettings, Persistence, QueueJournal } from '../core/persistence.js';
import { ByteReader } from '../protocol/byte-reader.js';
import { ByteWriter } from '../protocol/byte-writer.js';
import type { FieldTable } from '../protocol/field-table.js';
import type { Store, StoredMessage } from '../store/store.js';
import type { MessageJournal } from '../store/messages.js';

const writer = new ByteWriter(64 * 1024, 256);
const reader = new ByteReader();

/** A field table as AMQP encodes it (length-prefixed), for the store's args columns. */
export function encodeTable(t: FieldTable): Buffer {
  writer.table(t);
  return Buffer.concat(writer.take());
}

export function decodeTable(b: Buffer): FieldTable {
  return reader.reset(b, 0, b.length).table();
}

export class StorePersistence implements Persistence {
  constructor(readonly store: Store, readonly paging: PagingSettings) {}

  get pending(): boolean {
    return this.store.pending;
  }

  get commitId(): number {
    return this.store.commitId;
  }

  afterCommit(cb: (err: Error | null) => void): void {
    this.store.afterCommit(cb);
  }

  flush(): void {
    this.store.flush();
  }

  get dataDir(): string {
    return this.store.dir;
  }

  syncWith(f: DurableFile): void {
    this.store.syncWith(f);
  }

  log(level: 'error' | 'warn' | 'info', msg: string, meta: Record<string, unknown>): void {
    this.store.log(level, msg, meta);
  }

  saveExchange(vhost: string, x: Exchange): void {
    this.store.saveExchange(vhost, {
      name: x.name, type: x.type, durable: true, autoDelete: x.autoDelete, internal: x.internal, args: encodeTable(x.args),
    });
  }

  deleteExchange(vhost: string, name: string): void {
    this.store.deleteExchange(vhost, name);
  }

  saveQueue(vhost: string, name: string, autoDelete: boolean, args: FieldTable): QueueJournal {
    this.store.saveQueue(vhost, { name, autoDelete, args: encodeTable(args) });
    return this.journal(vhost, name);
  }

  /** The journal of a queue the store already has (saved now or found at startup). */
  journal(vhost: string, name: string): QueueJournal {
    return new StoreJournal(this.store.messages, vhost, name);
  }

  deleteQueue(vhost: string, name: string): void {
    this.store.deleteQueue(vhost, name);
  }

  saveBinding(vhost: string, b: Binding): void {
    this.store.saveBinding(vhost, bindingDef(b));
  }

  deleteBinding(vhost: string, b: Binding): void {
    this.store.deleteBinding(vhost, bindingDef(b));
  }

  heldMessages(vhost: string, exchange: string): HeldJournal {
    const p = this.store.patterns;
    return {
      add: (seq, dueAt, msg) => p.addHeld(vhost, exchange, { seq, dueAt, routingKey: msg.routingKey, properties: msg.properties, body: msg.body }),
      remove: (seq) => p.removeHeld(vhost, exchange, seq),
      read: (seq) => {
        const r = p.readHeld(vhost, exchange, seq);
        return r === undefined ? undefined : new Message(exchange, r.routingKey, r.properties, r.body);
      },
      forEach: (fn) => p.forEachHeld(vhost, exchange, (r) => fn(r.seq, r.dueAt, new Message(exchange, r.routingKey, r.properties, r.body))),
    };
  }

  dedupCache(vhost: string, exchange: string): DedupJournal {
    const p = this.store.patterns;
    const bytes = (key: string) => Buffer.from(key, 'utf8');
    return {
      put: (key, expiresAt) => p.putDedup(vhost, exchange, bytes(key), expiresAt === 0 ? null : expiresAt),
      remove: (key) => p.removeDedup(vhost, exchange, bytes(key)),
      forEach: (fn) => { for (const e of p.loadDedup(vhost, exchange)) fn(e.key.toString('utf8'), e.expiresAt ?? 0); },
    };
  }
}

function bindingDef(b: Binding) {
  return {
    source: b.source, destKind: b.destination.kind, destination: b.destination.name, routingKey: b.routingKey,
    args: encodeTable(b.args),
  };
}

function toMessage(m: StoredMessage): Message {
  return new Message(m.exchange, m.routingKey, m.properties, m.body);
}

class StoreJournal implements QueueJournal {
  constructor(private readonly messages: MessageJournal, private readonly vhost: string, private readonly queue: string) {}

  add(seq: number, msg: Message, expiresAt: number): void {
    this.messages.addMessage(this.vhost, this.queue, {
      seq, exchange: msg.exchange, routingKey: msg.routingKey, properties: msg.properties, body: msg.body,
      enqueuedAt: Date.now(), expiresAt: expiresAt === 0 ? null : expiresAt, priority: msg.priority,
    });
  }

  remove(seq: number): void {
    this.messages.removeMessage(this.vhost, this.queue, seq);
  }

  delivered(seq: number): void {
    this.messages.markDelivered(this.vhost, this.queue, seq);
  }

  read(seq: number): Message {
    const m = this.messages.readMessage(this.vhost, this.queue, seq);
    // The queue only asks for messages it holds, which the store has: anything else is a bug.
    if (m === undefined) throw new Error(`store has no message ${seq} of queue '${this.queue}' in vhost '${this.vhost}'`);
    return toMessage(m);
  }

  readRange(from: number, to: number, each: (seq: number, msg: Message) => void): void {
    this.messages.readRange(this.vhost, this.queue, from, to, (seq, m) => each(seq, toMessage(m)));
  }

  removeAll(): void {
    this.messages.purgeQueue(this.vhost, this.queue);
  }

  setRetry(seq: number, count: number, retryAt: number | null): void {
    this.messages.setRetry(this.vhost, this.queue, seq, count, retryAt);
  }
}
