// Direct exchange: a binding matches when its key equals the routing key exactly. One hash
// lookup per publish, whatever the number of bindings.
import type { FieldTable } from '../../protocol/field-table.js';
import type { Binding, Destination, ExchangeTypeDef, Router } from './exchange.js';

export class DirectRouter implements Router {
  /** routing key -> bindings with that key (a Set so that remove is O(1)). */
  private readonly byKey = new Map<string, Set<Binding>>();

  add(b: Binding): void {
    let set = this.byKey.get(b.routingKey);
    if (!set) this.byKey.set(b.routingKey, (set = new Set()));
    set.add(b);
  }

  remove(b: Binding): void {
    const set = this.byKey.get(b.routingKey);
    if (set?.delete(b) && set.size === 0) this.byKey.delete(b.routingKey);
  }

  route(routingKey: string, _headers: FieldTable | undefined, out: Destination[]): void {
    const set = this.byKey.get(routingKey);
    if (set) for (const b of set) out.push(b.destination);
  }
}

export const directType: ExchangeTypeDef = { name: 'direct', routesBy: 'key', createRouter: () => new DirectRouter() };
