// A virtual host: exchanges, queues and the bindings between them, with RabbitMQ's rules for
// declaring, deleting and binding, and routing of a message to its set of queues.
import { TYPE_ATOMS } from '../protocol/erlang-format.js';
import { ChannelError, ConnectionError } from '../protocol/errors.js';
import { typeClass, type FieldTable, type FieldValue } from '../protocol/field-table.js';
import { Exchange, type Binding, type Destination, type ExchangeType } from './exchange/exchange.js';
import { erlangEquals, validateHeadersBindingArgs } from './exchange/headers.js';
import { createRouter, isExchangeType } from './exchange/index.js';
import { headerRoutes } from './header-routes.js';
import type { Message } from './message.js';
import type { Persistence, QueueJournal } from './persistence.js';
import { describeBareValue, describeValue, exchangeRes, generatedName, inequivalentArg, queueRes } from './names.js';
import { validateQueueArgs } from './queue/arguments.js';
import { isCycle, makeDeadLetter, type DeathReason, type DeadLetter } from './queue/dead-letter.js';
import { Queue, type QueueHost } from './queue/queue.js';

export interface ExchangeDeclare {
  passive: boolean; durable: boolean; autoDelete: boolean; internal: boolean; args: FieldTable;
}
export interface QueueDeclare {
  passive: boolean; durable: boolean; exclusive: boolean; autoDelete: boolean; args: FieldTable;
}

/**
 * Queue arguments RabbitMQ 3.10 compares on re-declare: the classic queue type's own arguments
 * (rabbit_queue_type:arguments(queue_arguments, rabbit_classic_queue)); others, such as
 * x-max-age or x-delivery-limit, cannot be on a classic queue and are not compared.
 */
const EQUIVALENT_QUEUE_ARGS = [
  'x-expires', 'x-message-ttl', 'x-dead-letter-exchange', 'x-dead-letter-routing-key', 'x-max-length',
  'x-max-length-bytes', 'x-max-priority', 'x-overflow', 'x-queue-mode', 'x-queue-version', 'x-single-active-consumer',
  'x-queue-type', 'x-queue-master-locator',
];
const EQUIVALENT_EXCHANGE_ARGS = ['alternate-exchange'];

const PREDECLARED: [string, ExchangeType][] = [
  ['', 'direct'], ['amq.direct', 'direct'], ['amq.fanout', 'fanout'], ['amq.topic', 'topic'],
  ['amq.headers', 'headers'], ['amq.match', 'headers'],
];

export class VHost implements QueueHost {
  readonly exchanges = new Map<string, Exchange>();
  readonly queues = new Map<string, Queue>();
  /** Dead-letters waiting to be routed while one is being routed (see deadLetter). */
  private readonly deadLetters: [Exchange, DeadLetter, DeathReason][] = [];
  private deadLettering = false;
  /**
   * The store, when the broker has one: durable exchanges, queues (not exclusive ones) and
   * bindings between durable ends are saved as they are made and deleted as they go.
   */
  persistence: Persistence | null = null;

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

  /**
   * exchange.declare in rabbit_channel's order: the type first (503, a connection error, even for
   * the default exchange or an amq.* name), then the default exchange (403), then equivalence
   * with an existing exchange (406); the reserved amq. prefix only matters for a new exchange, so
   * re-declaring amq.direct as it is succeeds. A passive declare ignores type and flags.
   */
  declareExchange(name: string, type: string, d: ExchangeDeclare): Exchange {
    if (d.passive) {
      if (name === '') throw defaultExchangeRefused();
      return this.exchange(name);
    }
    if (!isExchangeType(type)) throw ConnectionError.commandInvalid(`unknown exchange type '${type}'`);
    if (name === '') throw defaultExchangeRefused();
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
    if (name.startsWith('amq.')) throw reservedName('exchange', name);
    const ae = Object.hasOwn(d.args, 'alternate-exchange') ? d.args['alternate-exchange'] : undefined;
    if (ae !== undefined && ae.type !== 'S') {
      throw ChannelError.preconditionFailed(
        `invalid type '${TYPE_ATOMS[ae.type]}' for arg 'alternate-exchange' in ${exchangeRes(name, this.name)}`);
    }
    const x = new Exchange(name, type, d.durable, d.autoDelete, d.internal, d.args, createRouter(type));
    this.exchanges.set(name, x);
    if (x.durable) this.persistence?.saveExchange(this.name, x);
    return x;
  }

  /** Startup: an exchange from the store (saved when it was declared, so checked then). */
  restoreExchange(name: string, type: ExchangeType, autoDelete: boolean, internal: boolean, args: FieldTable): void {
    this.exchanges.set(name, new Exchange(name, type, true, autoDelete, internal, args, createRouter(type)));
  }

  deleteExchange(name: string, ifUnused: boolean): void {
    if (name === '') throw defaultExchangeRefused();
    // rabbit_channel:check_exchange_deletion: refused for any amq.* name, existing or not.
    if (name.startsWith('amq.')) {
      throw ChannelError.accessRefused(`deletion of system ${exchangeRes(name, this.name)} not allowed`);
    }
    const x = this.exchanges.get(name);
    if (!x) return; // RabbitMQ 3.x: deleting a missing exchange succeeds
    if (ifUnused && x.bindings.length > 0) throw ChannelError.preconditionFailed(`${exchangeRes(name, this.name)} in use`);
    this.removeExchange(x);
  }

  private removeExchange(x: Exchange): void {
    this.exchanges.delete(x.name);
    if (x.durable) this.persistence?.deleteExchange(this.name, x.name);
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
      q.touch();
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
      existing.touch();
      return existing;
    }
    // As rabbit_channel: arguments are validated only for a queue about to be created.
    validateQueueArgs(d.args, name, this.name);
    // An exclusive queue goes with its connection, so it never outlives a restart.
    const p = this.persistence;
    const journal = d.durable && !d.exclusive && p !== null ? p.saveQueue(this.name, name, d.autoDelete, d.args) : null;
    return this.addQueue(new Queue(name, {
      durable: d.durable, autoDelete: d.autoDelete, owner: d.exclusive ? owner : null, args: d.args, host: this, journal,
    }));
  }

  /** Startup: a durable queue from the store; the caller restores its messages into it. */
  restoreQueue(name: string, autoDelete: boolean, args: FieldTable, journal: QueueJournal): Queue {
    return this.addQueue(new Queue(name, { durable: true, autoDelete, owner: null, args, host: this, journal }));
  }

  private addQueue(q: Queue): Queue {
    q.onUnused = (unused) => this.removeQueue(unused);
    this.queues.set(q.name, q);
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
    // The store drops the queue's messages and bindings first, so what follows writes nothing.
    if (q.journal !== null) this.persistence?.deleteQueue(this.name, q.name);
    q.deleted = true;
    this.queues.delete(q.name);
    for (const b of [...q.bindings]) {
      const src = this.exchanges.get(b.source);
      if (src) this.removeBinding(src, b);
    }
    for (const c of q.consumers.splice(0)) c.owner.cancelledByQueue(c);
    q.active = null;
    q.purge();
    q.close();
  }

  /** x-expires ran out. */
  expireQueue(q: Queue): void {
    this.removeQueue(q);
  }

  /**
   * rabbit_dead_letter:publish: re-publish through the queue's dead-letter exchange (dropped if
   * it does not exist), leaving out the queues a cycle without a rejection would reach again.
   * Dead-lettering can cascade (a target queue over its limit dead-letters its head, and so
   * on): nested ones wait in a list and are routed in turn, so the stack stays flat.
   */
  deadLetter(q: Queue, msg: Message, reason: DeathReason): void {
    const dlx = q.features.dlx;
    if (dlx === null) return;
    const x = this.exchanges.get(dlx);
    if (x === undefined) return;
    const dl = makeDeadLetter(msg, reason, q.name, dlx, q.features.dlxRoutingKey, Date.now());
    this.deadLetters.push([x, dl, reason]);
    if (this.deadLettering) return;
    this.deadLettering = true;
    try {
      for (let i = 0; i < this.deadLetters.length; i++) {
        const [dx, d, r] = this.deadLetters[i];
        const out: Queue[] = [];
        this.route(dx, d.msg, out);
        for (const target of out) {
          if (r !== 'rejected' && isCycle(target.name, d.deaths)) continue;
          if (!target.deleted) target.enqueue(d.msg);
        }
      }
    } finally {
      this.deadLetters.length = 0;
      this.deadLettering = false;
    }
  }

  /** Exclusive queues of a connection go when it closes. */
  connectionClosed(owner: object): void {
    for (const q of [...this.queues.values()]) if (q.exclusiveOwner === owner) this.removeQueue(q);
  }

  // ---- bindings -----------------------------------------------------------------------------

  // Checks in rabbit_channel:binding_action / rabbit_binding:add order: the default exchange (403),
  // the source exchange (404), the destination (404), the source type's validate_binding (406:
  // headers x-match), and only then the exclusive-queue check (405).

  bindQueue(queue: string, exchange: string, routingKey: string, args: FieldTable, owner: object): void {
    if (exchange === '') throw defaultExchangeRefused();
    const x = this.exchange(exchange);
    const q = this.queues.get(queue);
    if (!q) throw ChannelError.notFound(`no ${queueRes(queue, this.name)}`);
    validateBinding(x, args);
    checkExclusive(q, owner, this.name);
    this.addBinding(x, q, routingKey, args);
  }

  unbindQueue(queue: string, exchange: string, routingKey: string, args: FieldTable, owner: object): void {
    if (exchange === '') throw defaultExchangeRefused();
    const q = this.queues.get(queue);
    const x = this.exchanges.get(exchange);
    if (!q || !x) return; // RabbitMQ 3.x: unbinding something missing succeeds
    const b = findBinding(x, q, routingKey, args);
    if (!b) return; // ...and so does a missing binding, exclusive queue or not
    checkExclusive(q, owner, this.name);
    this.removeBinding(x, b);
  }

  bindExchange(destination: string, source: string, routingKey: string, args: FieldTable): void {
    if (source === '' || destination === '') throw defaultExchangeRefused();
    const src = this.exchange(source);
    const dst = this.exchange(destination);
    validateBinding(src, args);
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

  private addBinding(x: Exchange, dest: Queue | Exchange, routingKey: string, args: FieldTable, restoring = false): void {
    if (findBinding(x, dest, routingKey, args)) return;
    const b: Binding = { source: x.name, destination: dest, routingKey, args };
    x.router.add(b);
    x.bindings.push(b);
    if (dest.kind === 'queue') dest.bindings.add(b);
    else dest.inbound.add(b);
    if (!restoring && isDurableBinding(x, dest)) this.persistence?.saveBinding(this.name, b);
  }

  /** Startup: a binding from the store; false if an end is missing (then it is dropped). */
  restoreBinding(source: string, destKind: 'queue' | 'exchange', destination: string, routingKey: string, args: FieldTable): boolean {
    const x = this.exchanges.get(source);
    const dest = destKind === 'queue' ? this.queues.get(destination) : this.exchanges.get(destination);
    if (x === undefined || dest === undefined) return false;
    this.addBinding(x, dest, routingKey, args, true);
    return true;
  }

  private removeBinding(x: Exchange, b: Binding): void {
    const i = x.bindings.indexOf(b);
    if (i < 0) return;
    x.bindings.splice(i, 1);
    x.router.remove(b);
    const dest = b.destination as Queue | Exchange;
    if (dest.kind === 'queue') dest.bindings.delete(b);
    else dest.inbound.delete(b);
    if (isDurableBinding(x, dest) && !(dest.kind === 'queue' && dest.deleted)) this.persistence?.deleteBinding(this.name, b);
    if (x.autoDelete && x.bindings.length === 0 && this.exchanges.get(x.name) === x) this.removeExchange(x);
  }

  // ---- routing ------------------------------------------------------------------------------

  /**
   * Route through `x` and any exchange-to-exchange bindings into `out`, each queue once.
   * Exchange loops are cut by visiting each exchange once. Besides its routing key, a message
   * is routed by the keys in its CC and BCC headers (sender-selected distribution), at every hop.
   * An exchange whose own bindings match nothing hands the message to its alternate exchange,
   * if it has one that exists (rabbit_exchange:route1 / process_alternate).
   */
  route(x: Exchange, msg: Message, out: Queue[]): void {
    const keys = msg.routeKeys ?? headerRoutes(msg);
    if (x.name === '') {
      if (keys === null) {
        const q = this.queues.get(msg.routingKey);
        if (q) out.push(q);
        return;
      }
      for (const k of keys) {
        const q = this.queues.get(k);
        if (q && !out.includes(q)) out.push(q);
      }
      return;
    }
    const dests: Destination[] = [];
    this.routeOne(x, msg, keys, dests);
    if (dests.length === 0) {
      const ae = this.alternateOf(x);
      if (ae === undefined) return;
      dests.push(ae);
    } else if (dests.length === 1 && dests[0].kind === 'queue') {
      out.push(dests[0] as Queue);
      return;
    }
    // Breadth-first through exchange-to-exchange bindings; `dests` grows as exchanges expand.
    const seen = new Set<Destination>([x]);
    for (let i = 0; i < dests.length; i++) {
      const d = dests[i];
      if (seen.has(d)) continue;
      seen.add(d);
      if (d.kind === 'queue') {
        out.push(d as Queue);
        continue;
      }
      const before = dests.length;
      this.routeOne(d as Exchange, msg, keys, dests);
      if (dests.length === before) {
        const ae = this.alternateOf(d as Exchange);
        if (ae !== undefined) dests.push(ae);
      }
    }
  }

  /** The exchange named by `x`'s alternate-exchange argument, if it exists. */
  private alternateOf(x: Exchange): Exchange | undefined {
    if (!Object.hasOwn(x.args, 'alternate-exchange')) return undefined;
    const v = x.args['alternate-exchange'];
    if (v.type !== 'S') return undefined;
    return this.exchanges.get(typeof v.value === 'string' ? v.value : v.value.toString('utf8'));
  }

  private routeOne(x: Exchange, msg: Message, keys: string[] | null, out: Destination[]): void {
    const headers = x.type === 'headers' && !msg.hasNoProperties ? msg.props.headers : undefined;
    // Fanout and headers exchanges ignore routing keys: route once whatever CC says.
    if (keys === null || x.type === 'fanout' || x.type === 'headers') x.router.route(msg.routingKey, headers, out);
    else for (const k of keys) x.router.route(k, headers, out);
  }
}

/** RabbitMQ keeps a binding across restarts when both of its ends are durable. */
function isDurableBinding(x: Exchange, dest: Queue | Exchange): boolean {
  return x.durable && (dest.kind === 'exchange' ? dest.durable : dest.journal !== null);
}

function findBinding(x: Exchange, dest: Destination, routingKey: string, args: FieldTable): Binding | undefined {
  return x.bindings.find((b) => b.destination === dest && b.routingKey === routingKey && tablesIdentical(b.args, args));
}

/**
 * Binding identity, as RabbitMQ's: the argument tables sorted by key and then compared as terms,
 * type atoms included, so {a: byte 1} and {a: long 1} are two different bindings.
 */
function tablesIdentical(a: FieldTable, b: FieldTable): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && a[k].type === b[k].type && erlangEquals(a[k], b[k]));
}

/** The exchange type's validate_binding: only headers exchanges check anything (x-match). */
function validateBinding(x: Exchange, args: FieldTable): void {
  if (x.type !== 'headers') return;
  const problem = validateHeadersBindingArgs(args);
  if (problem !== null) throw ChannelError.preconditionFailed(problem);
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

/**
 * rabbit_misc:assert_args_equivalence. Equivalent when both are absent, when the type classes
 * match (all integer widths are one class, float and double another) and the values are `==`,
 * or failing that when the bare values are identical terms (a longstr and a binary with the same
 * bytes, a long and a timestamp with the same number). The error shows both bare values when
 * both are present ("received '20' but current is '10'", even "'10' but current is '10'" for a
 * string against a number), else the typed form against `none`.
 */
function assertArgs(keys: string[], resource: string, received: FieldTable, current: FieldTable): void {
  for (const key of keys) {
    const r = Object.hasOwn(received, key) ? received[key] : undefined;
    const c = Object.hasOwn(current, key) ? current[key] : undefined;
    if (r === undefined && c === undefined) continue;
    // A queue declared without x-queue-type is a classic one: 'classic' and none are the same.
    if (key === 'x-queue-type' && isClassic(r ?? c!) && (r === undefined || c === undefined)) continue;
    if (r !== undefined && c !== undefined) {
      if (typeClass(r.type) === typeClass(c.type) && erlangEquals(r, c)) continue;
      if (sameBareTerm(r, c)) continue;
      throw ChannelError.preconditionFailed(inequivalentArg(key, resource, describeBareValue(r), describeBareValue(c)));
    }
    throw ChannelError.preconditionFailed(inequivalentArg(key, resource, describeValue(r), describeValue(c)));
  }
}

function isClassic(v: FieldValue): boolean {
  return v.type === 'S' && (typeof v.value === 'string' ? v.value : v.value.toString('utf8')) === 'classic';
}

const INTEGER_TERMS = new Set(['b', 'B', 's', 'u', 'I', 'i', 'l', 'T']);

/** Erlang `=:=` of the decoded values of two fields whose type classes differ. */
function sameBareTerm(a: FieldValue, b: FieldValue): boolean {
  if ((a.type === 'S' || a.type === 'x') && (b.type === 'S' || b.type === 'x')) return erlangEquals(a, b);
  if (INTEGER_TERMS.has(a.type) && INTEGER_TERMS.has(b.type)) return erlangEquals(a, b);
  // An empty array and an empty table both decode to [].
  if ((a.type === 'A' || a.type === 'F') && (b.type === 'A' || b.type === 'F')) {
    return (a.type === 'A' ? a.value.length : Object.keys(a.value).length) === 0 &&
      (b.type === 'A' ? b.value.length : Object.keys(b.value).length) === 0;
  }
  return false;
}
