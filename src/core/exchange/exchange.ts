// The routing interface every exchange type implements, and the Exchange record itself.
// One small file per type (direct, fanout, topic, headers) implements Router.
import type { FieldTable } from '../../protocol/field-table.js';

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

/** Routing logic of one exchange type. Bindings are added/removed as the same objects. */
export interface Router {
  add(b: Binding): void;
  remove(b: Binding): void;
  /**
   * Push every destination the message matches onto `out`. May push a destination more than
   * once; the caller de-duplicates. Must not allocate per call beyond what matching needs.
   */
  route(routingKey: string, headers: FieldTable | undefined, out: Destination[]): void;
}

export type ExchangeType = 'direct' | 'fanout' | 'topic' | 'headers';

/** An exchange: its declaration and its bindings (where it is the source), routed by a Router. */
export class Exchange implements Destination {
  readonly kind = 'exchange' as const;
  /** Bindings with this exchange as source, in declaration order. */
  readonly bindings: Binding[] = [];
  /** Exchange-to-exchange bindings with this exchange as destination. */
  readonly inbound = new Set<Binding>();

  constructor(
    readonly name: string,
    readonly type: ExchangeType,
    readonly durable: boolean,
    readonly autoDelete: boolean,
    readonly internal: boolean,
    readonly args: FieldTable,
    readonly router: Router,
  ) {}
}
