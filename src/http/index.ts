// The management plugin's equivalent: the route table of RabbitMQ's HTTP API over the broker's
// management view, and the rate sampler. The broker starts it when a management port is set.
import type { ManagementContext } from './context.js';
import { accessRoutes } from './routes/access.js';
import { bindingRoutes } from './routes/bindings.js';
import { connectionRoutes } from './routes/connections.js';
import { definitionRoutes } from './routes/definitions.js';
import { exchangeRoutes } from './routes/exchanges.js';
import { overviewRoutes } from './routes/overview.js';
import { policyRoutes } from './routes/policies.js';
import { queueRoutes } from './routes/queues.js';
import { replayRoutes } from './routes/replay.js';
import { vhostLimitRoutes } from './routes/vhost-limits.js';
import { Router } from './router.js';
import { ManagementServer } from './server.js';

export { RateSampler } from './rates.js';
export { collectRates } from './sampling.js';
export type { ManagementContext } from './context.js';

export function managementRouter(): Router {
  const r = new Router();
  overviewRoutes(r);
  queueRoutes(r);
  replayRoutes(r);
  exchangeRoutes(r);
  bindingRoutes(r);
  connectionRoutes(r);
  accessRoutes(r);
  definitionRoutes(r);
  policyRoutes(r);
  vhostLimitRoutes(r);
  return r;
}

export function createManagementServer(ctx: ManagementContext): ManagementServer {
  return new ManagementServer(ctx, managementRouter());
}
