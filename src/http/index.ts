// The management plugin's equivalent: the listener over the broker's management view, its route
// table (routes/index.ts) and the rate sampler. The broker starts it when a management port is set.
//
// The route table, with the views, the definitions import/export and dead-letter replay behind
// it, is a third of the bundle and idle until someone asks the API something: it is imported
// on the first API request (the listener and the web UI's files do not need it): that request
// takes ~10 ms longer, once, and a broker nobody queries keeps ~0.3 MiB of heap less.
import type { ManagementContext } from './context.js';
import { ManagementServer } from './server.js';

export { RateSampler } from './rates.js';
export { collectRates } from './sampling.js';
export type { ManagementContext } from './context.js';

export function createManagementServer(ctx: ManagementContext): ManagementServer {
  return new ManagementServer(ctx, async () => (await import('./routes/index.js')).managementRouter());
}
