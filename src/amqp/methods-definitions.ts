// exchange.* and queue.* methods: declare, delete, bind, unbind, purge.
import { ChannelError } from '../protocol/errors.js';
import {
  M, type ExchangeBind, type ExchangeDeclare, type ExchangeDelete, type ExchangeUnbind,
  type QueueBind, type QueueDeclare, type QueueDelete, type QueuePurge, type QueueUnbind,
} from '../protocol/generated/amqp.js';
import { queueRes, stripCrLf } from '../core/names.js';
import { REPLY_QUEUE, replyQueueExists } from './direct-reply-to.js';
import type { Session } from './session.js';

export function exchangeDeclare(s: Session, m: ExchangeDeclare): void {
  s.vhost.declareExchange(stripCrLf(m.exchange), m.type, {
    passive: m.passive, durable: m.durable, autoDelete: m.autoDelete, internal: m.internal, args: m.arguments,
  }, s.conn.actor);
  if (!m.noWait) s.conn.send(s.id, M.ExchangeDeclareOk, {});
}

export function exchangeDelete(s: Session, m: ExchangeDelete): void {
  s.vhost.deleteExchange(stripCrLf(m.exchange), m.ifUnused, s.conn.actor);
  if (!m.noWait) s.conn.send(s.id, M.ExchangeDeleteOk, {});
}

export function exchangeBind(s: Session, m: ExchangeBind): void {
  s.vhost.bindExchange(stripCrLf(m.destination), stripCrLf(m.source), m.routingKey, m.arguments, s.conn.actor);
  if (!m.noWait) s.conn.send(s.id, M.ExchangeBindOk, {});
}

export function exchangeUnbind(s: Session, m: ExchangeUnbind): void {
  s.vhost.unbindExchange(stripCrLf(m.destination), stripCrLf(m.source), m.routingKey, m.arguments, s.conn.actor);
  if (!m.noWait) s.conn.send(s.id, M.ExchangeUnbindOk, {});
}

export function queueDeclare(s: Session, m: QueueDeclare): void {
  // rabbit_channel: any declare (passive or not) of a name with this prefix asks direct reply-to.
  if (m.queue.startsWith(REPLY_QUEUE)) return declareReplyQueue(s, m);
  const q = s.vhost.declareQueue(stripCrLf(m.queue), {
    passive: m.passive, durable: m.durable, exclusive: m.exclusive, autoDelete: m.autoDelete, args: m.arguments,
  }, s.conn.actor);
  s.lastQueue = q.name;
  if (!m.noWait) {
    s.conn.send(s.id, M.QueueDeclareOk, { queue: q.name, messageCount: q.messageCount, consumerCount: q.consumerCount });
  }
}

/** The pseudo queue, or a live reply consumer's name: declare-ok with 0 messages, 1 consumer. */
function declareReplyQueue(s: Session, m: QueueDeclare): void {
  const name = stripCrLf(m.queue);
  if (!replyQueueExists(s, name)) throw ChannelError.notFound(`no ${queueRes(name, s.vhost.name)}`);
  s.lastQueue = name;
  if (!m.noWait) s.conn.send(s.id, M.QueueDeclareOk, { queue: name, messageCount: 0, consumerCount: 1 });
}

/**
 * An empty queue name means "the last queue declared on this channel" (AMQP 0-9-1, as
 * RabbitMQ implements it).
 */
export function queueName(s: Session, name: string): string {
  if (name !== '') return name;
  if (s.lastQueue === null) throw ChannelError.notFound('no previously declared queue');
  return s.lastQueue;
}

export function queueBind(s: Session, m: QueueBind): void {
  const queue = queueName(s, m.queue);
  const key = m.queue === '' && m.routingKey === '' ? queue : m.routingKey;
  // The empty-name shortcut looks at the name as sent, so "\n" is the queue '' (404), as RabbitMQ.
  s.vhost.bindQueue(stripCrLf(queue), stripCrLf(m.exchange), key, m.arguments, s.conn.actor);
  if (!m.noWait) s.conn.send(s.id, M.QueueBindOk, {});
}

export function queueUnbind(s: Session, m: QueueUnbind): void {
  const queue = queueName(s, m.queue);
  const key = m.queue === '' && m.routingKey === '' ? queue : m.routingKey;
  s.vhost.unbindQueue(stripCrLf(queue), stripCrLf(m.exchange), key, m.arguments, s.conn.actor);
  s.conn.send(s.id, M.QueueUnbindOk, {});
}

export function queuePurge(s: Session, m: QueuePurge): void {
  const q = s.vhost.queue(queueName(s, m.queue), s.conn.actor, 'read');
  const messageCount = q.purge();
  if (!m.noWait) s.conn.send(s.id, M.QueuePurgeOk, { messageCount });
}

export function queueDelete(s: Session, m: QueueDelete): void {
  const messageCount = s.vhost.deleteQueue(queueName(s, stripCrLf(m.queue)), m.ifUnused, m.ifEmpty, s.conn.actor);
  if (!m.noWait) s.conn.send(s.id, M.QueueDeleteOk, { messageCount });
}
