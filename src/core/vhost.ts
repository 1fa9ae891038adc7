// A virtual host: exchanges, queues and the bindings between them, with RabbitMQ's rules for
// declaring, deleting and binding, and core's one publish entry point: publish() routes a
// message (routing.ts), enqueues it into every queue reached and reports what happened in a
// PublishResult. Dead-lettering and transaction commits go through the same enqueue step.
import { TYPE_ATOMS } from '../protocol/erlang-format.js';
import { ChannelError, ConnectionError } from '../protocol/errors.js';
import type { FieldTable } from '../protocol/field-table.js';
import type { Actor } from './actor.js';
import { permit, type Perm } from './access.js';
import { EQUIVALENT_EXCHANGE_ARGS, EQUIVALENT_QUEUE_ARGS, assertArgs, assertField, tablesIdentical } from './equivalence.js';
import { Exchange, type Binding, type Destination, type ExchangeHost } from './exchange/exchange.js';
import { exchangeType } from './exchange/types.js';
import type { Message } from './message.js';
import { defaultExchangeRefused, exchangeRes, generatedName, lockedQueue, queueRes, reservedName } from './names.js';
import type { Persistence, QueueJournal } from './persistence.js';
import { VhostPolicies } from './policy-set.js';
import { VhostLimits } from './vhost-limits.js';
import { PublishResult } from './publish.js';
import { validateQueueArgs } from './queue/arguments.js';
import { isCycle, makeDeadLetter, type DeathReason, type DeadLetter } from './queue/dead-letter.js';
import { createQueue, queueTypeOf } from './queue/factory.js';
import { checkStreamProperties, STREAM_EQUIVALENT_ARGS } from './queue/stream/args.js';
import type { MessageQueue, QueueHost } from './queue/types.js';
import { route, type RoutingTables } from './routing.js';
import { MessageStats } from './stats.js';

export interface ExchangeDeclare {
  passive: boolean; durable: boolean; autoDelete: boolean; internal: boolean; args: FieldTable;
}
export interface QueueDeclare {
  passive: boolean; durable: boolean; exclusive: boolean; autoDelete: boolean; args: FieldTable;
}

const PREDECLARED: [string, string][] = [
  ['', 'direct'], ['amq.direct', 'direct'], ['amq.fanout', 'fanout'], ['amq.topic', 'topic'],
  ['amq.headers', 'headers'], ['amq.match', 'headers'],
];

export class VHost implements QueueHost, RoutingTables, ExchangeHost {
  readonly exchanges = new Map<string, Exchange>();
  readonly queues = new Map<string, MessageQueue>();
  /** Policies and operator policies, applied to the queues and exchanges here (policy-set.ts). */
  readonly policies = new VhostPolicies(this);
  /** max-connections and max-queues, and the open connections they count (vhost-limits.ts). */
  readonly limits: VhostLimits;
  /** Dead-letters waiting to be routed while one is being routed (see deadLetter). */
  private readonly deadLetters: [Exchange, DeadLetter, DeathReason][] = [];
  private deadLettering = false;
  /**
   * The message counters of this vhost's channels that have closed; the management API adds
   * the open ones to report vhost and overview totals that do not drop when a channel goes.
   */
  readonly closedChannelStats = new MessageStats();
  /** deadLetter()'s result, reused: dead-letters are routed one at a time. */
  private readonly deadLetterResult = new PublishResult();
  /**
   * The store, when the broker has one: durable exchanges, queues (not exclusive ones) and
   * bindings between durable ends are saved as they are made and deleted as they go.
   */
  persistence: Persistence | null = null;

  constructor(readonly name: string) {
    this.limits = new VhostLimits(name);
    for (const [n, type] of PREDECLARED) this.addExchange(newExchange(n, type, true, false, false, {}));
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
  declareExchange(name: string, type: string, d: ExchangeDeclare, actor?: Actor): Exchange {
    if (d.passive) {
      // rabbit_channel: a passive declare needs no permission.
      if (name === '') throw defaultExchangeRefused();
      return this.exchange(name);
    }
    const def = exchangeType(type);
    if (def === undefined) throw ConnectionError.commandInvalid(`unknown exchange type '${type}'`);
    if (name === '') throw defaultExchangeRefused();
    permit(actor, 'configure', 'exchange', name);
    const existing = this.exchanges.get(name);
    if (existing) {
      const res = exchangeRes(name, this.name);
      assertField('type', res, type, existing.type);
      assertField('durable', res, d.durable, existing.durable);
      assertField('auto_delete', res, d.autoDelete, existing.autoDelete);
      assertField('internal', res, d.internal, existing.internal);
      assertArgs(EQUIVALENT_EXCHANGE_ARGS, res, d.args, existing.args);
      if (def.equivalentArgs !== undefined) assertArgs(def.equivalentArgs, res, d.args, existing.args);
      return existing;
    }
    if (name.startsWith('amq.')) throw reservedName('exchange', name);
    const ae = Object.hasOwn(d.args, 'alternate-exchange') ? d.args['alternate-exchange'] : undefined;
    if (ae !== undefined && ae.type !== 'S') {
      throw ChannelError.preconditionFailed(
        `invalid type '${TYPE_ATOMS[ae.type]}' for arg 'alternate-exchange' in ${exchangeRes(name, this.name)}`);
    }
    if (ae !== undefined) {
      // rabbit_channel: an alternate exchange needs read on the new exchange and write on the AE.
      permit(actor, 'read', 'exchange', name);
      permit(actor, 'write', 'exchange', String(ae.value));
    }
    def.validateDeclare?.(d.args, exchangeRes(name, this.name));
    const x = this.addExchange(new Exchange(name, def, d.durable, d.autoDelete, d.internal, d.args, new MessageStats()));
    if (x.durable) this.persistence?.saveExchange(this.name, x);
    return x;
  }

  /** Startup: an exchange from the store (saved when it was declared, so checked then). */
  restoreExchange(name: string, type: string, autoDelete: boolean, internal: boolean, args: FieldTable): Exchange {
    return this.addExchange(newExchange(name, type, true, autoDelete, internal, args));
  }

  private addExchange(x: Exchange): Exchange {
    x.hold = x.typeDef.createHold?.(x, this) ?? null;
    this.exchanges.set(x.name, x);
    this.policies.applyExchange(x);
    return x;
  }

  deleteExchange(name: string, ifUnused: boolean, actor?: Actor): void {
    if (name === '') throw defaultExchangeRefused();
    // rabbit_channel:check_exchange_deletion: refused for any amq.* name, existing or not.
    if (name.startsWith('amq.')) {
      throw ChannelError.accessRefused(`deletion of system ${exchangeRes(name, this.name)} not allowed`);
    }
    permit(actor, 'configure', 'exchange', name);
    const x = this.exchanges.get(name);
    if (!x) return; // RabbitMQ 3.x: deleting a missing exchange succeeds
    if (ifUnused && x.bindings.length > 0) throw ChannelError.preconditionFailed(`${exchangeRes(name, this.name)} in use`);
    this.removeExchange(x);
  }

  private removeExchange(x: Exchange): void {
    this.exchanges.delete(x.name);
    x.hold?.drop();
    if (x.durable) this.persistence?.deleteExchange(this.name, x.name);
    for (const b of x.bindings.slice()) this.removeBinding(x, b);
    for (const b of [...x.inbound]) {
      const src = this.exchanges.get(b.source);
      if (src) this.removeBinding(src, b);
    }
  }

  // ---- queues -------------------------------------------------------------------------------

  /**
   * Look up a queue the caller may use: 403 without `perm` on it (basic.get, basic.consume and
   * queue.purge need read, checked before the lookup as rabbit_channel does), 404 if missing,
   * 405 if another connection's exclusive.
   */
  queue(name: string, actor: Actor, perm?: Perm): MessageQueue {
    if (perm !== undefined) permit(actor, perm, 'queue', name);
    const q = this.queues.get(name);
    if (!q) throw ChannelError.notFound(`no ${queueRes(name, this.name)}`);
    checkExclusive(q, actor, this.name);
    return q;
  }

  declareQueue(requested: string, d: QueueDeclare, actor: Actor): MessageQueue {
    if (d.passive) {
      const q = this.queue(requested, actor);
      q.touch();
      return q;
    }
    if (requested.startsWith('amq.')) throw reservedName('queue', requested);
    const name = requested === '' ? generatedName('amq.gen') : requested;
    // rabbit_channel checks configure on the name to be used, a generated one too.
    permit(actor, 'configure', 'queue', name);
    const existing = this.queues.get(name);
    if (existing) {
      const res = queueRes(name, this.name);
      const owns = existing.exclusiveOwner === null ? !d.exclusive : existing.exclusiveOwner === actor && d.exclusive;
      if (!owns) throw lockedQueue(name, this.name);
      assertField('durable', res, d.durable, existing.durable);
      assertField('auto_delete', res, d.autoDelete, existing.autoDelete);
      assertArgs(existing.type === 'stream' ? STREAM_EQUIVALENT_ARGS : EQUIVALENT_QUEUE_ARGS, res, d.args, existing.args);
      existing.touch();
      return existing;
    }
    // As rabbit_channel: arguments are validated only for a queue about to be created, after the
    // dead-letter exchange's permissions (read on the queue, write on the exchange).
    const dlx = d.args['x-dead-letter-exchange'];
    if (dlx !== undefined && (dlx.type === 'S' || dlx.type === 'x')) {
      permit(actor, 'read', 'queue', name);
      permit(actor, 'write', 'exchange', String(dlx.value));
    }
    // rabbit_amqqueue:declare checks the limit before the arguments (a bad one over it gets the limit's text).
    this.limits.admitQueue(name, this.queues.size);
    validateQueueArgs(d.args, name, this.name);
    const type = queueTypeOf(d.args);
    if (type === 'stream') checkStreamProperties(d.durable, d.exclusive, d.autoDelete, queueRes(name, this.name));
    // An exclusive queue goes with its connection, so it never outlives a restart.
    const p = this.persistence;
    const journal = d.durable && !d.exclusive && p !== null ? p.saveQueue(this.name, name, d.autoDelete, d.args) : null;
    return this.addQueue(createQueue(name, {
      durable: d.durable, autoDelete: d.autoDelete, owner: d.exclusive ? actor : null, args: d.args, host: this, journal,
      vhost: this.name, persistence: p,
    }));
  }

  /** Startup: a durable queue from the store; the caller restores its messages into it. */
  restoreQueue(name: string, autoDelete: boolean, args: FieldTable, journal: QueueJournal, persistence = this.persistence): MessageQueue {
    // Recovery runs before the vhost is attached to the store: it hands the persistence over.
    return this.addQueue(createQueue(name, { durable: true, autoDelete, owner: null, args, host: this, journal, vhost: this.name, persistence }));
  }

  private addQueue(q: MessageQueue): MessageQueue {
    this.queues.set(q.name, q);
    this.policies.applyQueue(q);
    return q;
  }

  /** queue.delete: returns the number of ready messages deleted. Missing queue: 0. */
  deleteQueue(name: string, ifUnused: boolean, ifEmpty: boolean, actor: Actor): number {
    permit(actor, 'configure', 'queue', name);
    const q = this.queues.get(name);
    if (!q) return 0;
    checkExclusive(q, actor, this.name);
    if (ifUnused && q.consumerCount > 0) throw ChannelError.preconditionFailed(`${queueRes(name, this.name)} in use`);
    if (ifEmpty && q.messageCount > 0) throw ChannelError.preconditionFailed(`${queueRes(name, this.name)} not empty`);
    const count = q.messageCount;
    this.removeQueue(q);
    return count;
  }

  removeQueue(q: MessageQueue): void {
    if (q.deleted) return;
    // The store drops the queue's messages and bindings first, so what follows writes nothing.
    if (q.journal !== null) this.persistence?.deleteQueue(this.name, q.name);
    this.queues.delete(q.name);
    q.markDeleted();
    for (const b of [...q.bindings]) {
      const src = this.exchanges.get(b.source);
      if (src) this.removeBinding(src, b);
    }
  }

  /** x-expires ran out. */
  expireQueue(q: MessageQueue): void {
    this.removeQueue(q);
  }

  /** An auto-delete queue lost its last consumer. */
  queueUnused(q: MessageQueue): void {
    this.removeQueue(q);
  }

  // ---- publishing ---------------------------------------------------------------------------

  /**
   * Core's one publish entry point: route `msg` from `x` (e2e bindings, alternate exchanges,
   * CC/BCC), enqueue it into every queue reached, count it, and report in `r` (reset first).
   * The caller has made the exchange checks (exists, not internal) and the message checks.
   * An exchange with a hold may take it instead: x-delayed-message keeps it (r.held) and
   * publishes it here again when its time comes (so publish_in counts it twice),
   * x-message-deduplication drops a duplicate (unroutable).
   */
  publish(x: Exchange, msg: Message, r: PublishResult): PublishResult {
    r.reset();
    x.stats.publishIn++;
    if (x.hold !== null && x.hold.take(msg, r)) return r;
    route(this, x, msg, r.queues);
    this.enqueueAll(x, msg, r);
    return r;
  }

  /**
   * A transactional publish is routed at basic.publish (bindings made or exchanges deleted
   * before the commit do not change where it goes, as in rabbit_channel): the names of the
   * queues it reaches, for deliverTo() at tx.commit.
   */
  routeNames(x: Exchange, msg: Message): string[] {
    const out: MessageQueue[] = [];
    route(this, x, msg, out);
    x.stats.publishIn++;
    return out.map((q) => q.name);
  }

  /** tx.commit: enqueue into the queues routeNames() found that still exist. */
  deliverTo(names: readonly string[], msg: Message, r: PublishResult): PublishResult {
    r.reset();
    for (const name of names) {
      const q = this.queues.get(name);
      if (q !== undefined) r.queues.push(q);
    }
    this.enqueueAll(null, msg, r);
    return r;
  }

  private enqueueAll(x: Exchange | null, msg: Message, r: PublishResult): void {
    const qs = r.queues;
    for (let i = 0; i < qs.length; i++) {
      const outcome = qs[i]!.enqueue(msg);
      if (outcome === 'refused') r.refused++;
      else if (outcome === 'stored') r.stored = true;
    }
    if (x !== null) x.stats.publishOut += qs.length - r.refused;
  }

  /** The queues `msg` would reach from `x`, into `out` (no enqueueing). */
  route(x: Exchange, msg: Message, out: MessageQueue[]): void {
    route(this, x, msg, out);
  }

  /**
   * rabbit_dead_letter:publish: re-publish through the queue's dead-letter exchange (dropped if
   * it does not exist), leaving out the queues a cycle without a rejection would reach again.
   * Dead-lettering can cascade (a target queue over its limit dead-letters its head, and so
   * on): nested ones wait in a list and are routed in turn, so the stack stays flat.
   */
  deadLetter(q: MessageQueue, msg: Message, reason: DeathReason): void {
    const dlx = q.deadLetterExchange;
    if (dlx === null) return;
    const x = this.exchanges.get(dlx);
    if (x === undefined) return;
    const dl = makeDeadLetter(msg, reason, q.name, dlx, q.deadLetterRoutingKey, Date.now());
    this.deadLetters.push([x, dl, reason]);
    if (this.deadLettering) return;
    this.deadLettering = true;
    try {
      const result = this.deadLetterResult;
      for (let i = 0; i < this.deadLetters.length; i++) {
        const [dx, d, why] = this.deadLetters[i]!;
        result.reset();
        route(this, dx, d.msg, result.queues);
        dx.stats.publishIn++;
        // rabbit_dead_letter drops the targets a fully automatic cycle would reach again.
        const qs = result.queues;
        let kept = 0;
        for (const target of qs) {
          if (target.deleted || (why !== 'rejected' && isCycle(target.name, d.deaths))) continue;
          qs[kept++] = target;
        }
        qs.length = kept;
        this.enqueueAll(dx, d.msg, result);
      }
    } finally {
      this.deadLetters.length = 0;
      this.deadLettering = false;
    }
  }

  /** rabbit_vhost:delete: every queue goes (the store dropped their rows already) and stops its timers. */
  destroy(): void {
    for (const q of [...this.queues.values()]) {
      this.removeQueue(q);
      q.close();
    }
    this.exchanges.clear();
  }

  /** Exclusive queues of a connection go when it closes. */
  connectionClosed(actor: Actor): void {
    this.limits.connectionClosed(actor);
    for (const q of [...this.queues.values()]) if (q.exclusiveOwner === actor) this.removeQueue(q);
  }

  // ---- bindings -----------------------------------------------------------------------------

  // Checks in rabbit_channel:binding_action / rabbit_binding:add order: write on the destination
  // (403), the default exchange (403), read on the source (403) and, for a topic source that
  // exists, the user's topic read pattern on the routing key (403); then the source exchange
  // (404), the destination (404), the source type's validate_binding (406: headers x-match), and
  // only then the exclusive-queue check (405). Unbinding makes the same permission checks.

  private bindingAccess(kind: 'queue' | 'exchange', dest: string, source: string, routingKey: string, actor: Actor | undefined): void {
    permit(actor, 'write', kind, dest);
    if (source === '' || dest === '') throw defaultExchangeRefused();
    permit(actor, 'read', 'exchange', source);
    const x = this.exchanges.get(source);
    if (x !== undefined && actor?.access) actor.access.checkTopic(actor, 'read', source, x.type, routingKey);
  }

  bindQueue(queue: string, exchange: string, routingKey: string, args: FieldTable, actor: Actor): void {
    this.bindingAccess('queue', queue, exchange, routingKey, actor);
    const x = this.exchange(exchange);
    const q = this.queues.get(queue);
    if (!q) throw ChannelError.notFound(`no ${queueRes(queue, this.name)}`);
    validateBinding(x, routingKey, args);
    checkExclusive(q, actor, this.name);
    this.addBinding(x, q, routingKey, args);
  }

  unbindQueue(queue: string, exchange: string, routingKey: string, args: FieldTable, actor: Actor): void {
    this.bindingAccess('queue', queue, exchange, routingKey, actor);
    const q = this.queues.get(queue);
    const x = this.exchanges.get(exchange);
    if (!q || !x) return; // RabbitMQ 3.x: unbinding something missing succeeds
    const b = findBinding(x, q, routingKey, args);
    if (!b) return; // ...and so does a missing binding, exclusive queue or not
    checkExclusive(q, actor, this.name);
    this.removeBinding(x, b);
  }

  bindExchange(destination: string, source: string, routingKey: string, args: FieldTable, actor?: Actor): void {
    this.bindingAccess('exchange', destination, source, routingKey, actor);
    const src = this.exchange(source);
    const dst = this.exchange(destination);
    validateBinding(src, routingKey, args);
    this.addBinding(src, dst, routingKey, args);
  }

  unbindExchange(destination: string, source: string, routingKey: string, args: FieldTable, actor?: Actor): void {
    this.bindingAccess('exchange', destination, source, routingKey, actor);
    const dst = this.exchanges.get(destination);
    const src = this.exchanges.get(source);
    if (!dst || !src) return;
    const b = findBinding(src, dst, routingKey, args);
    if (b) this.removeBinding(src, b);
  }

  private addBinding(x: Exchange, dest: MessageQueue | Exchange, routingKey: string, args: FieldTable, restoring = false): void {
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
    const dest = b.destination as MessageQueue | Exchange;
    if (dest.kind === 'queue') dest.bindings.delete(b);
    else dest.inbound.delete(b);
    if (isDurableBinding(x, dest) && !(dest.kind === 'queue' && dest.deleted)) this.persistence?.deleteBinding(this.name, b);
    if (x.autoDelete && x.bindings.length === 0 && this.exchanges.get(x.name) === x) this.removeExchange(x);
  }
}

/** RabbitMQ keeps a binding across restarts when both of its ends are durable. */
function isDurableBinding(x: Exchange, dest: MessageQueue | Exchange): boolean {
  return x.durable && (dest.kind === 'exchange' ? dest.durable : dest.journal !== null);
}

function findBinding(x: Exchange, dest: Destination, routingKey: string, args: FieldTable): Binding | undefined {
  return x.bindings.find((b) => b.destination === dest && b.routingKey === routingKey && tablesIdentical(b.args, args));
}

/** The source exchange type's validate_binding (headers: x-match), as a 406. */
function validateBinding(x: Exchange, routingKey: string, args: FieldTable): void {
  const problem = x.rules.validateBinding?.(routingKey, args) ?? null;
  if (problem !== null) throw ChannelError.preconditionFailed(problem);
}

function checkExclusive(q: MessageQueue, actor: Actor, vhost: string): void {
  if (q.exclusiveOwner !== null && q.exclusiveOwner !== actor) throw lockedQueue(q.name, vhost);
}

/** An exchange of a built-in (or stored, hence once validated) type. */
function newExchange(name: string, type: string, durable: boolean, autoDelete: boolean, internal: boolean, args: FieldTable): Exchange {
  const def = exchangeType(type);
  if (def === undefined) throw new Error(`no exchange type '${type}'`);
  return new Exchange(name, def, durable, autoDelete, internal, args, new MessageStats());
}

