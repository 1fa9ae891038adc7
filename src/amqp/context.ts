// What a connection needs from the broker that accepted it (Broker implements it).
import type { BrokerConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { Permissions } from '../core/access.js';
import type { Users } from '../core/users.js';
import type { VHost } from '../core/vhost.js';
import type { ChannelServices } from './port.js';

export interface BrokerContext extends ChannelServices {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly users: Users;
  readonly permissions: Permissions;
  readonly version: string;
  vhost(name: string): VHost | undefined;
  /** Bytes arrived from a client (the memory monitor checks more often under load). */
  bytesRead(n: number): void;
  /** The connection's socket closed: forget it. */
  connectionClosed(c: object): void;
}
