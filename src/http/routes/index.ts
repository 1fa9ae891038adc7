// The route table of RabbitMQ's HTTP API: every routes/*.ts file's routes on one Router. Loaded
// by the management listener on its first API request (http/index.ts says why), so nothing
// outside http/ imports this file or the route modules statically.
import { Router } from '../router.js';
import { accessRoutes } from './access.js';
import { bindingRoutes } from './bindings.js';
import { connectionRoutes } from './connections.js';
import { definitionRoutes } from './definitions.js';
import { exchangeRoutes } from './exchanges.js';
import { overviewRoutes } from './overview.js';
import { policyRoutes } from './policies.js';
import { queueRoutes } from './queues.js';
import { replayRoutes } from './replay.js';
import { vhostLimitRoutes } from './vhost-limits.js';

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
