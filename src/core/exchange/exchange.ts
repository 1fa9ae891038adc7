// The Exchange record, the routing interface every exchange type's router implements, and the
// ExchangeTypeDef each type file exports (types.ts keeps the registry of them).
import type { FieldTable } from '../../protocol/field-table.js';
import type { Message } from '../message.js';
import type { Persistence } from '../persistence.js';
import { effectiveAlternate, type Policy } from '../policy.js';
import type { PublishResult } from '../publish.js';
import type { MessageStats } from '../stats.js';

/** What a binding points at: a queue or (exchange-to-exchange binding) an exchange. */
export interface Destination {
  readonly kind: 'queue' | 'exchange';
  readonly name: string;
}

export interface Binding {
  readonly source: string;
  readonly destination: Destination;
  readonly routingKey: string;
  readonly args: FieldTable;
}

/** Routing logic of one exchange. Bindings are added/removed as the same objects. */
export interface Router {
  add(b: Binding): void;
  remove(b: Binding): void;
  /**
   * Push every destination the message matches onto `out`. May push a destination more than
   * once; the caller de-duplicates. Must not allocate per call beyond what matching needs.
   * `msg` is the message itself, for 'message' types (x-consistent-hash reads its properties).
   */
  route(routingKey: string, headers: FieldTable | undefined, out: Destination[], msg?: Message): void;
}

/**
 * What an exchange that keeps messages (x-delayed-message) needs of its vhost: core's one
 * publish entry point, to route a kept message when its time comes, and the store.
 */
export interface ExchangeHost {
  readonly name: string;
  publish(x: Exchange, msg: Message, r: PublishResult): PublishResult;
  readonly persistence: Persistence | null;
}

/**
 * An exchange type's say over a message before it is routed: x-delayed-message holds it to
 * route later, x-message-deduplication drops duplicates. vhost.publish asks it first; a held
 * message comes back through vhost.publish when its time comes.
 */
export interface Hold {
  /**
   * true: the exchange took the message and it is not routed now (held: r.held, and r.stored
   * when written to the store; dropped: r is left empty, so it is unroutable). false: route it.
   */
  take(msg: Message, r: PublishResult): boolean;
  /** Startup: reload what the store keeps for this exchange; returns how many records. */
  recover(p: Persistence): number;
  /** The exchange was deleted: what it holds goes (the store drops its rows with it). */
  drop(): void;
  /** Stop timers (broker shutdown); the store keeps what it has. */
  close(): void;
  /** Messages held now, and how many keep their body in memory (a walk: not per message); none for an exchange that holds no messages. */
  counts?(): { held: number; bodiesInMemory: number };
}

/**
 * One exchange type: how it routes and what it checks. A new type is one file exporting one of
 * these and one line in types.ts; nothing in vhost.ts knows type names.
 */
export interface ExchangeTypeDef {
  /** The name clients declare (`direct`, `x-consistent-hash`, ...). */
  readonly name: string;
  /** A router for a new exchange of this type (its declare arguments, already validated). */
  createRouter(args: FieldTable): Router;
  /**
   * What the router looks at: 'key' types are routed once per routing key (the publish key and
   * each CC/BCC key), 'headers' and 'none' types once per message whatever CC says, and only
   * 'headers' types are handed the decoded `headers` property; 'message' types are routed once
   * per message and read what they need from the message passed to route().
   */
  readonly routesBy: 'key' | 'headers' | 'none' | 'message';
  /**
   * A type that routes by another type's rules (x-delayed-message by its x-delayed-type): that
   * type, whose router, routesBy and validateBinding the exchange uses.
   */
  rulesFor?(args: FieldTable): ExchangeTypeDef;
  /** A type with a say before routing (x-delayed-message, x-message-deduplication): its hold for `x`. */
  createHold?(x: Exchange, host: ExchangeHost): Hold;
  /** Arguments compared on re-declare besides alternate-exchange (406 inequivalent arg). */
  readonly equivalentArgs?: readonly string[];
  /**
   * The type's validate/1 at exchange.declare: throws RabbitMQ's error for bad arguments. `res`
   * names the exchange ("exchange 'x' in vhost '/'").
   */
  validateDeclare?(args: FieldTable, res: string): void;
  /** The type's validate_binding/2: RabbitMQ's 406 explanation for bad binding arguments, or null. */
  validateBinding?(routingKey: string, args: FieldTable): string | null;
}

/** An exchange: its declaration and its bindings (where it is the source), routed by a Router. */
export class Exchange implements Destination {
  readonly kind = 'exchange' as const;
  /** Bindings with this exchange as source, in declaration order. */
  readonly bindings: Binding[] = [];
  /** Exchange-to-exchange bindings with this exchange as destination. */
  readonly inbound = new Set<Binding>();
  readonly router: Router;
  /** The type whose rules route it: its own, or (x-delayed-message) its x-delayed-type. */
  readonly rules: ExchangeTypeDef;
  /** Set by the vhost for types that keep messages (x-delayed-message). */
  hold: Hold | null = null;
  /** The policy that applies (policy-set.ts), or null. */
  policy: Policy | null = null;
  /** The alternate exchange routing uses: the argument, else the policy's (rabbit_policy:get_arg). */
  alternate: string | null;

  constructor(
    readonly name: string,
    readonly typeDef: ExchangeTypeDef,
    readonly durable: boolean,
    readonly autoDelete: boolean,
    readonly internal: boolean,
    readonly args: FieldTable,
    /** publish_in (messages published into it) and publish_out (copies it routed to queues). */
    readonly stats: MessageStats,
  ) {
    this.rules = typeDef.rulesFor?.(args) ?? typeDef;
    this.router = this.rules.createRouter(args);
    this.alternate = effectiveAlternate(args, null);
  }

  applyPolicy(p: Policy | null): void {
    this.policy = p;
    this.alternate = effectiveAlternate(this.args, p);
  }

  /** The type's name, as declared and as stored. */
  get type(): string { return this.typeDef.name; }
}
