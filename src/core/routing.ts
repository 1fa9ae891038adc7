// Routing: from the exchange a message was published to, through exchange-to-exchange bindings
// and alternate exchanges, to the de-duplicated list of queues it reaches. Pure lookups: no
// enqueueing, no statistics (vhost.publish does those).
import { headerRoutes } from './header-routes.js';
import type { Destination, Exchange } from './exchange/exchange.js';
import type { Message } from './message.js';
import type { MessageQueue } from './queue/types.js';

/** The registries routing reads. */
export interface RoutingTables {
  readonly exchanges: ReadonlyMap<string, Exchange>;
  readonly queues: ReadonlyMap<string, MessageQueue>;
}

/**
 * Route through `x` and any exchange-to-exchange bindings into `out`, each queue once.
 * Exchange loops are cut by visiting each exchange once. Besides its routing key, a message
 * is routed by the keys in its CC and BCC headers (sender-selected distribution), at every hop.
 * An exchange whose own bindings match nothing hands the message to its alternate exchange,
 * if it has one that exists (rabbit_exchange:route1 / process_alternate).
 */
export function route(t: RoutingTables, x: Exchange, msg: Message, out: MessageQueue[]): void {
  const keys = msg.routeKeys ?? headerRoutes(msg);
  if (x.name === '') {
    if (keys === null) {
      const q = t.queues.get(msg.routingKey);
      if (q) out.push(q);
      return;
    }
    for (const k of keys) {
      const q = t.queues.get(k);
      if (q && !out.includes(q)) out.push(q);
    }
    return;
  }
  const dests: Destination[] = [];
  routeOne(x, msg, keys, dests);
  if (dests.length === 0) {
    const ae = alternateOf(t, x);
    if (ae === undefined) return;
    dests.push(ae);
  } else if (dests.length === 1 && dests[0]!.kind === 'queue') {
    out.push(dests[0] as MessageQueue);
    return;
  }
  // Breadth-first through exchange-to-exchange bindings; `dests` grows as exchanges expand.
  const seen = new Set<Destination>([x]);
  for (let i = 0; i < dests.length; i++) {
    const d = dests[i]!;
    if (seen.has(d)) continue;
    seen.add(d);
    if (d.kind === 'queue') {
      out.push(d as MessageQueue);
      continue;
    }
    const before = dests.length;
    routeOne(d as Exchange, msg, keys, dests);
    if (dests.length === before) {
      const ae = alternateOf(t, d as Exchange);
      if (ae !== undefined) dests.push(ae);
    }
  }
}

/** `x`'s alternate exchange (its argument, else its policy's), if it exists. */
function alternateOf(t: RoutingTables, x: Exchange): Exchange | undefined {
  const ae = x.alternate;
  return ae === null ? undefined : t.exchanges.get(ae);
}

/** One exchange's own bindings, asked as its type says (by key, by headers, or not at all). */
function routeOne(x: Exchange, msg: Message, keys: string[] | null, out: Destination[]): void {
  const by = x.rules.routesBy;
  const headers = by === 'headers' && !msg.hasNoProperties ? msg.props.headers : undefined;
  // Types that ignore routing keys are routed once whatever CC says.
  if (keys === null || by !== 'key') x.router.route(msg.routingKey, headers, out, msg);
  else for (const k of keys) x.router.route(k, headers, out, msg);
}
