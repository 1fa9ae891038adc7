// The Exchange record, the routing interface every exchange type's router implements, and the
// ExchangeTypeDef each type file exports (types.ts keeps the registry of them).
import type { FieldTable } from '../../protocol/field-table.js';
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
   */
  route(routingKey: string, headers: FieldTable | undefined, out: Destination[]): void;
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
   * 'headers' types are handed the decoded `headers` property.
   */
  readonly routesBy: 'key' | 'headers' | 'none';
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
    this.router = typeDef.createRouter(args);
  }

  /** The type's name, as declared and as stored. */
  get type(): string { return this.typeDef.name; }
}
