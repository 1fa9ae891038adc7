// Who performs an operation: a user, through one connection, in one vhost. Core operations
// that care who asks (exclusive queues, permissions, user_id, management views) take an Actor
// instead of an opaque owner object.
//
// There is exactly one Actor per AMQP connection, made when connection.open succeeds, so its
// identity is the connection's: an exclusive queue's owner is the Actor that declared it, and
// `q.exclusiveOwner === actor` asks "same connection?".
import type { Permissions } from './access.js';
import type { User } from './users.js';

export interface Actor {
  readonly user: User;
  /** The vhost the connection opened. */
  readonly vhost: string;
  /** The connection's name ("peer -> local" addresses), for logs and refusals. */
  readonly connection: string;
  /**
   * The permissions the actor's operations are checked against (access.ts); null or absent for
   * operations the broker does for itself (definitions import) and for callers that make their
   * own checks (the management API checks its user's tags and vhost access).
   */
  readonly access?: Permissions | null;
}
