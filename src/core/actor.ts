// Who performs an operation: a user, through one connection, in one vhost. Core operations
// that care who asks (exclusive queues today; permissions, user_id and management views next)
// take an Actor instead of an opaque owner object.
//
// There is exactly one Actor per AMQP connection, made when connection.open succeeds, so its
// identity is the connection's: an exclusive queue's owner is the Actor that declared it, and
// `q.exclusiveOwner === actor` asks "same connection?".
import type { User } from './users.js';

export interface Actor {
  readonly user: User;
  /** The vhost the connection opened. */
  readonly vhost: string;
  /** The connection's name ("peer -> local" addresses), for logs and refusals. */
  readonly connection: string;
}
