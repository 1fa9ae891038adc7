// basic.* methods (except publish, which arrives with content), tx.* and confirm.*.
import { ChannelError, ConnectionError } from '../protocol/errors.js';
import {
  M, type BasicCancel, type BasicConsume, type BasicGet, type BasicPublish, type BasicQos,
} from '../protocol/generated/amqp.js';
import { Message } from '../core/message.js';
import { generatedName, queueRes } from '../core/names.js';
import { Consumer } from '../core/queue/queue.js';
import { queueName } from './methods-definitions.js';
import type { Session } from './session.js';

export function basicPublish(s: Session, m: BasicPublish, properties: Buffer, body: Buffer): void {
  if (m.immediate) throw ConnectionError.notImplemented('immediate=true');
  const x = s.vhost.exchange(m.exchange);
  if (x.internal) {
    throw ChannelError.accessRefused(`cannot publish to internal exchange '${m.exchange}' in vhost '${s.vhost.name}'`);
  }
  s.publish(x, new Message(m.exchange, m.routingKey, properties, body), m.mandatory);
}

export function basicQos(s: Session, m: BasicQos): void {
  if (m.prefetchSize !== 0) throw ConnectionError.notImplemented(`prefetch_size!=0 (${m.prefetchSize})`);
  if (m.global) s.channelPrefetch = m.prefetchCount;
  else s.consumerPrefetch = m.prefetchCount;
  s.conn.send(s.id, M.BasicQosOk, {});
}

export function basicConsume(s: Session, m: BasicConsume): void {
  const q = s.vhost.queue(queueName(s, m.queue), s.conn);
  const tag = m.consumerTag === '' ? generatedName('amq.ctag') : m.consumerTag;
  if (s.consumers.has(tag)) throw ConnectionError.notAllowed(`attempt to reuse consumer tag '${tag}'`);
  if (q.hasExclusiveConsumer() || (m.exclusive && q.consumerCount > 0)) {
    throw ChannelError.accessRefused(`${queueRes(q.name, s.vhost.name)} in exclusive use`);
  }
  const c = new Consumer(tag, q, s, m.noAck, m.exclusive, s.consumerPrefetch, m.arguments);
  s.addConsumer(c);
  q.addConsumer(c);
  if (!m.noWait) s.conn.send(s.id, M.BasicConsumeOk, { consumerTag: tag });
  q.dispatch();
}

export function basicCancel(s: Session, m: BasicCancel): void {
  // Unknown tags are fine: RabbitMQ answers cancel-ok anyway.
  s.removeConsumer(m.consumerTag);
  if (!m.noWait) s.conn.send(s.id, M.BasicCancelOk, { consumerTag: m.consumerTag });
}

export function basicGet(s: Session, m: BasicGet): void {
  const q = s.vhost.queue(queueName(s, m.queue), s.conn);
  const e = q.take(m.noAck);
  if (!e) {
    s.conn.send(s.id, M.BasicGetEmpty, {});
    return;
  }
  s.deliverGet(q, e, m.noAck);
}

export function basicRecover(s: Session, requeue: boolean, async: boolean): void {
  if (!requeue) throw ConnectionError.notImplemented('requeue=false');
  s.recover();
  if (!async) s.conn.send(s.id, M.BasicRecoverOk, {});
}
