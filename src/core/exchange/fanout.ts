// Fanout exchange: every binding matches; routing key and headers are ignored.
import type { FieldTable } from '../../protocol/field-table.js';
import type { Binding, Destination, ExchangeTypeDef, Router } from './exchange.js';

export class FanoutRouter implements Router {
  private readonly bindings = new Set<Binding>();

  add(b: Binding): void {
    this.bindings.add(b);
  }

  remove(b: Binding): void {
    this.bindings.delete(b);
  }

  route(_routingKey: string, _headers: FieldTable | undefined, out: Destination[]): void {
    for (const b of this.bindings) out.push(b.destination);
  }
}

export const fanoutType: ExchangeTypeDef = { name: 'fanout', routesBy: 'none', createRouter: () => new FanoutRouter() };
