// Router factory: one Router per exchange, chosen by the exchange's type.
import { DirectRouter } from './direct.js';
import type { ExchangeType, Router } from './exchange.js';
import { FanoutRouter } from './fanout.js';
import { HeadersRouter } from './headers.js';
import { TopicRouter } from './topic.js';

export { DirectRouter, FanoutRouter, HeadersRouter, TopicRouter };
export { validateHeadersBindingArgs } from './headers.js';

export function isExchangeType(s: string): s is ExchangeType {
  return s === 'direct' || s === 'fanout' || s === 'topic' || s === 'headers';
}

export function createRouter(type: ExchangeType): Router {
  switch (type) {
    case 'direct': return new DirectRouter();
    case 'fanout': return new FanoutRouter();
    case 'topic': return new TopicRouter();
    case 'headers': return new HeadersRouter();
  }
}
