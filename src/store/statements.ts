// Every SQL statement the store runs, prepared once at open.
import type Database from 'better-sqlite3';

export function prepareStatements(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    begin: p('BEGIN'),
    commit: p('COMMIT'),
    rollback: p('ROLLBACK'),

    saveVhost: p('INSERT OR REPLACE INTO vhosts (name, description, tags) VALUES (?, ?, ?)'),
    deleteVhost: p('DELETE FROM vhosts WHERE name = ?'),
    loadVhosts: p('SELECT name, description, tags FROM vhosts ORDER BY name'),
    saveUser: p('INSERT OR REPLACE INTO users (name, password_hash, tags, hashing_algorithm) VALUES (?, ?, ?, ?)'),
    deleteUser: p('DELETE FROM users WHERE name = ?'),
    loadUsers: p('SELECT name, password_hash AS passwordHash, tags, hashing_algorithm AS hashingAlgorithm FROM users ORDER BY name'),
    savePermission: p('INSERT OR REPLACE INTO permissions (user, vhost, configure, write, read) VALUES (?, ?, ?, ?, ?)'),
    deletePermission: p('DELETE FROM permissions WHERE user = ? AND vhost = ?'),
    loadPermissions: p('SELECT user, vhost, configure, write, read FROM permissions ORDER BY vhost, user'),
    saveTopicPermission: p('INSERT OR REPLACE INTO topic_permissions (user, vhost, exchange, write, read) VALUES (?, ?, ?, ?, ?)'),
    deleteTopicPermission: p('DELETE FROM topic_permissions WHERE user = ? AND vhost = ? AND exchange = ?'),
    loadTopicPermissions: p('SELECT user, vhost, exchange, write, read FROM topic_permissions ORDER BY vhost, user, exchange'),
    deleteUserPermissions: p('DELETE FROM permissions WHERE user = ?'),
    deleteUserTopicPermissions: p('DELETE FROM topic_permissions WHERE user = ?'),
    deleteVhostPermissions: p('DELETE FROM permissions WHERE vhost = ?'),
    deleteVhostTopicPermissions: p('DELETE FROM topic_permissions WHERE vhost = ?'),

    saveExchange: p(
      'INSERT OR REPLACE INTO exchanges (vhost, name, type, durable, auto_delete, internal, args) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    deleteExchange: p('DELETE FROM exchanges WHERE vhost = ? AND name = ?'),
    // Bindings go with either end (RabbitMQ removes them when the source or destination goes).
    deleteExchangeBindings: p(
      "DELETE FROM bindings WHERE vhost = ? AND (source = ? OR (dest_kind = 'exchange' AND destination = ?))",
    ),
    loadExchanges: p(
      'SELECT vhost, name, type, durable, auto_delete AS autoDelete, internal, args FROM exchanges ORDER BY vhost, name',
    ),

    // Upsert keeps the id (and so the messages) of a queue that is declared again.
    saveQueue: p(
      'INSERT INTO queues (vhost, name, auto_delete, args) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (vhost, name) DO UPDATE SET auto_delete = excluded.auto_delete, args = excluded.args ' +
        'RETURNING id, delivered_upto AS delivered',
    ),
    deleteQueue: p('DELETE FROM queues WHERE vhost = ? AND name = ?'),
    deleteQueueBindings: p("DELETE FROM bindings WHERE vhost = ? AND dest_kind = 'queue' AND destination = ?"),
    loadQueues: p('SELECT vhost, name, auto_delete AS autoDelete, args FROM queues ORDER BY id'),
    queueStates: p('SELECT id, vhost, name, delivered_upto AS delivered FROM queues'),
    setDelivered: p('UPDATE queues SET delivered_upto = ? WHERE id = ?'),
    countQueues: p('SELECT count(*) FROM queues').pluck(),

    saveBinding: p(
      'INSERT OR IGNORE INTO bindings (vhost, source, dest_kind, destination, routing_key, args) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    deleteBinding: p(
      'DELETE FROM bindings WHERE vhost = ? AND source = ? AND dest_kind = ? AND destination = ? AND routing_key = ? AND args = ?',
    ),
    loadBindings: p(
      'SELECT vhost, source, dest_kind AS destKind, destination, routing_key AS routingKey, args FROM bindings ' +
        'ORDER BY vhost, source, dest_kind, destination, routing_key',
    ),
    deleteVhostExchanges: p('DELETE FROM exchanges WHERE vhost = ?'),
    deleteVhostBindings: p('DELETE FROM bindings WHERE vhost = ?'),
    deleteVhostMessages: p('DELETE FROM messages WHERE queue_id IN (SELECT id FROM queues WHERE vhost = ?)'),
    deleteVhostQueues: p('DELETE FROM queues WHERE vhost = ?'),

    addMessage: p(
      'INSERT INTO messages (queue_id, seq, size, expires_at, priority, enqueued_at, death_count, exchange, routing_key, properties, body, ' +
        'delivery_count, retry_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    removeMessage: p('DELETE FROM messages WHERE queue_id = ? AND seq = ?'),
    removeRange: p('DELETE FROM messages WHERE queue_id = ? AND seq BETWEEN ? AND ?'),
    purgeQueue: p('DELETE FROM messages WHERE queue_id = ?'),
    readMessage: p(
      'SELECT exchange, routing_key AS routingKey, properties, body, enqueued_at AS enqueuedAt, death_count AS deathCount ' +
        'FROM messages WHERE queue_id = ? AND seq = ?',
    ),
    readRange: p(
      'SELECT seq, exchange, routing_key AS routingKey, properties, body, enqueued_at AS enqueuedAt, death_count AS deathCount ' +
        'FROM messages WHERE queue_id = ? AND seq BETWEEN ? AND ? ORDER BY seq',
    ),
    setProperties: p('UPDATE messages SET properties = ? WHERE queue_id = ? AND seq = ?'),
    setExpiresAt: p('UPDATE messages SET expires_at = ? WHERE queue_id = ? AND seq = ?'),
    setPriority: p('UPDATE messages SET priority = ? WHERE queue_id = ? AND seq = ?'),
    setDeathCount: p('UPDATE messages SET death_count = ? WHERE queue_id = ? AND seq = ?'),
    // Served from the covering index alone: no body is read during recovery.
    index: p('SELECT seq, size, expires_at, priority FROM messages WHERE queue_id = ? ORDER BY seq').raw(true),
    maxSeq: p('SELECT max(seq) FROM messages WHERE queue_id = ?').pluck(),
    countMessages: p('SELECT count(*) FROM messages').pluck(),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
