// A virtual host: exchanges, queues and the bindings between them, with RabbitMQ's rules for
// declaring, deleting and binding, and routing of a message to its set of queues.
import { ChannelError, ConnectionError } from '../protocol/errors.js';
import { fieldEquals, typeClass, type FieldTable } from '../protocol/field-table.js';
import { Exchange, type Binding, type Destination, type ExchangeType } from './exchange/exchange.js';
import { createRouter, isExchangeType } from './exchange/index.js';
import type { Message } from './message.js';
import { describeValue, exchangeRes, generatedName, inequivalentArg, queueRes } from './names.js';
import { Queue } from './queue/queue.js';

export interface ExchangeDeclare {
  passive: boolean; durable: boolean; autoDelete: boolean; internal: boolean; args: FieldTable;
}
export interface QueueDeclare {
  passive: boolean; durable: boolean; exclusive: boolean; autoDelete: boolean; args: FieldTable;
}

/** Queue arguments RabbitMQ compares on re-declare (rabbit_amqqueue:declare_args). */
const EQUIVALENT_QUEUE_ARGS = [
  'x-expires', 'x-message-ttl', 'x-dead-letter-exchange', 'x-dead-letter-routing-key', 'x-max-length',
  'x-max-length-bytes', 'x-max-in-memory-length', 'x-max-in-memory-bytes', 'x-max-priority', 'x-overflow',
  'x-queue-mode', 'x-single-active-consumer', 'x-queue-type', 'x-quorum-initial-group-size', 'x-max-age',
  'x-stream-max-segment-size-bytes', 'x-initial-cluster-size', 'x-queue-leader-locator',
];
const EQUIVALENT_EXCHANGE_ARGS = ['alternate-exchange'];

const PREDECLARED: [string, ExchangeType][] = [
  ['', 'direct'], ['amq.direct', 'direct'], ['amq.fanout', 'fanout'], ['amq.topic', 'topic'],
  ['amq.headers', 'headers'], ['amq.match', 'headers'],
];

export class VHost {
  readonly exchanges = new Map<string, Exchange>();
  readonly queues = new Map<string, Queue>();

  constructor(readonly name: string) {
    for (const [n, type] of PREDECLARED) {
      this.exchanges.set(n, new Exchange(n, type, true, false, false, {}, createRouter(type)));
    }
  }

  // ---- exchanges ----------------------------------------------------------------------------

  exchange(name: string): Exchange {
    const x = this.exchanges.get(name);
    if (!x) throw ChannelError.notFound(`no ${exchangeRes(name, this.name)}`);
    return x;
  }

  declareExchange(name: string, type: string, d: ExchangeDeclare): Exchange {
    if (d.passive) {
      if (name === '') throw defaultExchangeRefused();
      return this.exchange(name);
    }
    if (name === '') throw defaultExchangeRefused();
    if (name.startsWith('amq.')) throw reservedName('exchange', name);
    if (!isExchangeType(type)) throw ConnectionError.commandInvalid(`unknown exchange type '${type}'`);
    const existing = this.exchanges.get(name);
    if (existing) {
      const res = exchangeRes(name, this.name);
      assertField('type', res, type, existing.type);
      assertField('durable', res, d.durable, existing.durable);
      assertField('auto_delete', res, d.autoDelete, existing.autoDelete);
      assertField('internal', res, d.internal, existing.internal);
      assertArgs(EQUIVALENT_EXCHANGE_ARGS, res, d.args, existing.args);
      return existing;
    }
    const x = new Exchange(name, type, d.durable, d.autoDelete, d.internal, d.args, createRouter(type));
    this.exchanges.set(name, x);
    return x;
  }

  deleteExchange(name: string, ifUnused: boolean): void {
    if (name === '') throw defaultExchangeRefused();
    if (name.startsWith('amq.')) throw reservedName('exchange', name);
    const x = this.exchanges.get(name);
    if (!x) return; // RabbitMQ 3.x: deleting a missing exchange succeeds
    if (ifUnused && x.bindings.length > 0) throw ChannelError.preconditionFailed(`${exchangeRes(name, this.name)} in use`);
    this.removeExchange(x);
  }

  private removeExchange(x: Exchange): void {
    this.exchanges.delete(x.name);
    for (const b of x.bindings.slice()) this.removeBinding(x, b);
    for (const b of [...x.inbound]) {
      const src = this.exchanges.get(b.source);
      if (src) this.removeBinding(src, b);
    }
  }

  // ---- queues -------------------------------------------------------------------------------

  /** Look up a queue the caller may use: 404 if missing, 405 if another connection's exclusive. */
  queue(name: string, owner: object): Queue {
    const q = this.queues.get(name);
    if (!q) throw ChannelError.notFound(`no ${queueRes(name, this.name)}`);
    checkExclusive(q, owner, this.name);
    return q;
  }

  declareQueue(requested: string, d: QueueDeclare, owner: object): Queue {
    if (d.passive) {
      const q = this.queue(requested, owner);
      return q;
    }
    if (requested.startsWith('amq.')) throw reservedName('queue', requested);
    const name = requested === '' ? generatedName('amq.gen') : requested;
    const existing = this.queues.get(name);
    if (existing) {
      const res = queueRes(name, this.name);
      const owns = existing.exclusiveOwner === null ? !d.exclusive : existing.exclusiveOwner === owner && d.exclusive;
      if (!owns) throw lockedQueue(name, this.name);
      assertField('durable', res, d.durable, existing.durable);
      assertField('auto_delete', res, d.autoDelete, existing.autoDelete);
      assertArgs(EQUIVALENT_QUEUE_ARGS, res, d.args, existing.args);
      return existing;
    }
    const q = new Queue(name, { durable: d.durable, autoDelete: d.autoDelete, owner: d.exclusive ? owner : null, args: d.args });
    q.onUnused = (unused) => this.removeQueue(unused);
    this.queues.set(name, q);
    return q;
  }

  /** queue.delete: returns the number of ready messages deleted. Missing queue: 0. */
  deleteQueue(name: string, ifUnused: boolean, ifEmpty: boolean, owner: object): number {
    const q = this.queues.get(name);
    if (!q) return 0;
    checkExclusive(q, owner, this.name);
    if (ifUnused && q.consumerCount > 0) throw ChannelError.preconditionFailed(`${queueRes(name, this.name)} in use`);
    if (ifEmpty && q.messageCount > 0) throw ChannelError.preconditionFailed(`${queueRes(name, this.name)} not empty`);
    const count = q.messageCount;
    this.removeQueue(q);
    return count;
  }

  removeQueue(q: Queue): void {
    if (q.deleted) return;
    q.deleted = true;
    this.queues.delete(q.name);
    for (const b of [...q.bindings]) {
      const src = this.exchanges.get(b.source);
      if (src) this.removeBinding(src, b);
    }
    for (const c of q.consumers.splice(0)) c.owner.cancelledByQueue(c);
    q.purge();
  }

  /** Exclusive queues of a connection go when it closes. */
  connectionClosed(owner: object): void {
    for (const q of [...this.queues.values()]) if (q.exclusiveOwner === owner) this.removeQueue(q);
  }

  // ---- bindings -----------------------------------------------------------------------------

  bindQueue(queue: string, exchange: string, routingKey: string, args: FieldTable, owner: object): void {
    const q = this.queue(queue, owner);
    if (exchange === '') throw defaultExchangeRefused();
    const x = this.exchange(exchange);
    this.addBinding(x, q, routingKey, args);
  }

  unbindQueue(queue: string, exchange: string, routingKey: string, args: FieldTable, owner: object): void {
    const q = this.queues.get(queue);
    if (exchange === '') throw defaultExchangeRefused();
    if (q) checkExclusive(q, owner, this.name);
    const x = this.exchanges.get(exchange);
    if (!q || !x) return; // RabbitMQ 3.x: unbinding something missing succeeds
    const b = findBinding(x, q, routingKey, args);
    if (b) this.removeBinding(x, b);
  }

  bindExchange(destination: string, source: string, routingKey: string, args: FieldTable): void {
    if (source === '' || destination === '') throw defaultExchangeRefused();
    const dst = this.exchange(destination);
    const src = this.exchange(source);
    this.addBinding(src, dst, routingKey, args);
  }

  unbindExchange(destination: string, source: string, routingKey: string, args: FieldTable): void {
    if (source === '' || destination === '') throw defaultExchangeRefused();
    const dst = this.exchanges.get(destination);
    const src = this.exchanges.get(source);
    if (!dst || !src) return;
    const b = findBinding(src, dst, routingKey, args);
    if (b) this.removeBinding(src, b);
  }

  private addBinding(x: Exchange, dest: Queue | Exchange, routingKey: string, args: FieldTable): void {
    if (findBinding(x, dest, routingKey, args)) return;
    const b: Binding = { source: x.name, destination: dest, routingKey, args };
    x.router.add(b);
    x.bindings.push(b);
    if (dest.kind === 'queue') dest.bindings.add(b);
    else dest.inbound.add(b);
  }

  private removeBinding(x: Exchange, b: Binding): void {
    const i = x.bindings.indexOf(b);
    if (i < 0) return;
    x.bindings.splice(i, 1);
    x.router.remove(b);
    const dest = b.destination as Queue | Exchange;
    if (dest.kind === 'queue') dest.bindings.delete(b);
    else dest.inbound.delete(b);
    if (x.autoDelete && x.bindings.length === 0 && this.exchanges.get(x.name) === x) this.removeExchange(x);
  }

  // ---- routing ------------------------------------------------------------------------------

  /**
   * Route through `x` and any exchange-to-exchange bindings into `out`, each queue once.
   * Exchange loops are cut by visiting each exchange once.
   */
  route(x: Exchange, msg: Message, out: Queue[]): void {
    if (x.name === '') {
      const q = this.queues.get(msg.routingKey);
      if (q) out.push(q);
      return;
    }
    const dests: Destination[] = [];
    this.routeOne(x, msg, dests);
    if (dests.length === 1 && dests[0].kind === 'queue') {
      out.push(dests[0] as Queue);
      return;
    }
    // Breadth-first through exchange-to-exchange bindings; `dests` grows as exchanges expand.
    const seen = new Set<Destination>([x]);
    for (let i = 0; i < dests.length; i++) {
      const d = dests[i];
      if (seen.has(d)) continue;
      seen.add(d);
      if (d.kind === 'queue') out.push(d as Queue);
      else this.routeOne(d as Exchange, msg, dests);
    }
  }

  private routeOne(x: Exchange, msg: Message, out: Destination[]): void {
    const headers = x.type === 'headers' && !msg.hasNoProperties ? msg.props.headers : undefined;
    x.router.route(msg.routingKey, headers, out);
  }
}

function findBinding(x: Exchange, dest: Destination, routingKey: string, args: FieldTable): Binding | undefined {
  return x.bindings.find((b) => b.destination === dest && b.routingKey === routingKey && tablesEqual(b.args, args));
}

function tablesEqual(a: FieldTable, b: FieldTable): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => k in b && fieldEquals(a[k], b[k]));
}

function checkExclusive(q: Queue, owner: object, vhost: string): void {
  if (q.exclusiveOwner !== null && q.exclusiveOwner !== owner) throw lockedQueue(q.name, vhost);
}

function lockedQueue(name: string, vhost: string): ChannelError {
  return ChannelError.resourceLocked(
    `cannot obtain exclusive access to locked ${queueRes(name, vhost)}. It could be originally declared on ` +
      'another connection or the exclusive property value does not match that of the original declaration.',
  );
}

function defaultExchangeRefused(): ChannelError {
  return ChannelError.accessRefused("operation not permitted on the default exchange");
}

function reservedName(kind: 'queue' | 'exchange', name: string): ChannelError {
  return ChannelError.accessRefused(`${kind} name '${name}' contains reserved prefix 'amq.*'`);
}

function assertField(key: string, resource: string, received: unknown, current: unknown): void {
  if (received !== current) {
    throw ChannelError.preconditionFailed(inequivalentArg(key, resource, `'${received}'`, `'${current}'`));
  }
}

function assertArgs(keys: string[], resource: string, received: FieldTable, current: FieldTable): void {
  for (const key of keys) {
    const r = received[key];
    const c = current[key];
    if (r === undefined && c === undefined) continue;
    if (r !== undefined && c !== undefined && typeClass(r.type) === typeClass(c.type) && fieldEquals(r, c)) continue;
    throw ChannelError.preconditionFailed(inequivalentArg(key, resource, describeValue(r), describeValue(c)));
  }
}
