// What the Prometheus listener reads of the broker. Broker implements it.
import type { Connection } from '../amqp/connection.js';
import type { BrokerConfig } from '../config.js';
import type { VHost } from '../core/vhost.js';

export interface PrometheusContext {
  readonly config: Pick<BrokerConfig, 'dataDir' | 'memoryHighWatermark'>;
  readonly version: string;
  /** RabbitMQ's node name for this broker ("warren@host"). */
  readonly nodeName: string;
  readonly vhosts: ReadonlyMap<string, VHost>;
  readonly connections: ReadonlySet<Connection>;
  readonly memoryAlarm: boolean;
  /** Connections (accepted sockets) that have gone since start; opened = closed + open. */
  readonly connectionsClosed: number;
}
