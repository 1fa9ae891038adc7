// What the management API reads and calls: the broker's registries and settings. Broker
// implements it; the HTTP layer never touches sockets, frames or the store directly.
import type { Connection } from '../amqp/connection.js';
import type { BrokerConfig } from '../config.js';
import type { Registry } from '../core/registry.js';
import type { Users } from '../core/users.js';
import type { VHost } from '../core/vhost.js';
import type { Logger } from '../log.js';
import type { RateSampler } from './rates.js';

export interface ManagementContext {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly version: string;
  readonly users: Users;
  /** Vhosts, users and permissions, and the operations across them (core/registry.ts). */
  readonly registry: Registry;
  readonly vhosts: ReadonlyMap<string, VHost>;
  readonly connections: ReadonlySet<Connection>;
  /** RabbitMQ's node name for this broker ("warren@host"). */
  readonly nodeName: string;
  readonly memoryAlarm: boolean;
  readonly diskAlarm: boolean;
  readonly startedAt: number;
  /** The AMQP listener's address, once listening. */
  readonly amqpPort: number;
  readonly rates: RateSampler;
  /** The sampler's key for broker-wide totals (overview). */
  readonly totalsKey: object;
  /** The management listener's port once listening (0 when off). */
  readonly managementPort: number;
  /** The Prometheus listener's port once listening (0 when off). */
  readonly prometheusPort: number;
}
