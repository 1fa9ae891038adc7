// What the rest of core imports from exchange/: the record, the registry and the routers.
export { Exchange, type Binding, type Destination, type ExchangeTypeDef, type Router } from './exchange.js';
export { exchangeType, isExchangeType } from './types.js';
export { DirectRouter } from './direct.js';
export { FanoutRouter } from './fanout.js';
export { HeadersRouter, validateHeadersBindingArgs } from './headers.js';
export { TopicRouter } from './topic.js';
