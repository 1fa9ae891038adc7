// basic.* methods (except publish, which arrives with content), tx.* and confirm.*.
import { ChannelError, ConnectionError } from '../protocol/errors.js';
import {
  M, type BasicCancel, type BasicConsume, type BasicGet, type BasicPublish, type BasicQos,
} from '../protocol/generated/amqp.js';
import type { Exchange } from '../core/exchange/exchange.js';
import { TYPE_ATOMS } from '../protocol/erlang-format.js';
import { typeClass, type FieldTable } from '../protocol/field-table.js';
import { generatedName, queueRes } from '../core/names.js';
import { Consumer } from '../core/queue/consumer.js';
import { queueName } from './methods-definitions.js';
import { checkedMessage } from './publish-checks.js';
import { consumeReplies, deliverReplies, REPLY_QUEUE, stopReplies } from './direct-reply-to.js';
import type { Session } from './session.js';

export function basicPublish(s: Session, m: BasicPublish, properties: Buffer, body: Buffer): void {
  const x = publishTarget(s, m);
  const msg = checkedMessage(s, m.exchange, m.routingKey, properties, body);
  // As rabbit_exchange:route, which hands replies over while routing, in a transaction too.
  if (m.exchange === '') deliverReplies(s, msg);
  s.publish(x, msg, m.mandatory);
}

/**
 * The checks RabbitMQ makes before it looks at the message itself, in rabbit_channel's order:
 * immediate, write on the exchange (cached per channel), the exchange exists, is not internal,
 * and the user's topic write pattern matches the routing key.
 */
export function publishTarget(s: Session, m: BasicPublish): Exchange {
  if (m.immediate) throw ConnectionError.notImplemented('immediate=true');
  s.permits.write(m.exchange);
  const x = s.vhost.exchange(m.exchange);
  if (x.internal) {
    throw ChannelError.accessRefused(`cannot publish to internal exchange '${m.exchange}' in vhost '${s.vhost.name}'`);
  }
  s.permits.topic(m.exchange, x.type, m.routingKey);
  return x;
}

export function basicQos(s: Session, m: BasicQos): void {
  if (m.prefetchSize !== 0) throw ConnectionError.notImplemented(`prefetch_size!=0 (${m.prefetchSize})`);
  if (m.global) {
    s.setChannelPrefetch(m.prefetchCount);
  } else {
    // As RabbitMQ 3.3+: a limit for each consumer created from now on, and (rabbit_channel's
    // unlimit_prefetch) any channel-wide limit is switched off.
    s.consumerPrefetch = m.prefetchCount;
    s.setChannelPrefetch(0);
  }
  s.conn.send(s.id, M.BasicQosOk, {});
  // A raised or removed channel limit may let held-back messages go.
  s.dispatchAll();
}

export function basicConsume(s: Session, m: BasicConsume): void {
  // RabbitMQ checks the tag before it looks at the queue: a reused tag is 530 even if the
  // queue is missing or locked. The reply consumer's tag does not count (nor in RabbitMQ).
  if (m.consumerTag !== '' && s.consumers.has(m.consumerTag)) {
    throw ConnectionError.notAllowed(`attempt to reuse consumer tag '${m.consumerTag}'`);
  }
  const name = queueName(s, m.queue);
  if (name === REPLY_QUEUE) {
    const replyTag = consumeReplies(s, m.consumerTag, m.noAck);
    if (!m.noWait) s.conn.send(s.id, M.BasicConsumeOk, { consumerTag: replyTag });
    return;
  }
  const q = s.vhost.queue(name, s.conn.actor, 'read');
  q.checkConsume?.(m.noAck, s.consumerPrefetch, s.channelPrefetch !== 0, m.arguments);
  checkConsumeArgs(m.arguments, queueRes(q.name, s.vhost.name));
  const tag = m.consumerTag === '' ? generatedName('amq.ctag') : m.consumerTag;
  if (q.hasExclusiveConsumer() || (m.exclusive && (q.consumerCount > 0 || q.singleActiveConsumer))) {
    throw ChannelError.accessRefused(`${queueRes(q.name, s.vhost.name)} in exclusive use`);
  }
  const c = new Consumer(tag, q, s, m.noAck, m.exclusive, s.consumerPrefetch, m.arguments);
  s.addConsumer(c);
  q.addConsumer(c);
  if (!m.noWait) s.conn.send(s.id, M.BasicConsumeOk, { consumerTag: tag });
  q.dispatch();
}

/** rabbit_amqqueue:check_consume_arguments: x-priority must be an integer, x-cancel-on-ha-failover a bool. */
function checkConsumeArgs(args: FieldTable, res: string): void {
  const prio = args['x-priority'];
  if (prio !== undefined && typeClass(prio.type) !== 'int') {
    throw ChannelError.preconditionFailed(`invalid arg 'x-priority' for ${res}: "expected integer, got ${TYPE_ATOMS[prio.type]}"`);
  }
  const cancel = args['x-cancel-on-ha-failover'];
  if (cancel !== undefined && cancel.type !== 't') {
    throw ChannelError.preconditionFailed(`invalid arg 'x-cancel-on-ha-failover' for ${res}: {unacceptable_type,${TYPE_ATOMS[cancel.type]}}`);
  }
}

export function basicCancel(s: Session, m: BasicCancel): void {
  // Unknown tags are fine: RabbitMQ answers cancel-ok anyway.
  if (s.reply?.tag === m.consumerTag) stopReplies(s);
  else s.removeConsumer(m.consumerTag);
  if (!m.noWait) s.conn.send(s.id, M.BasicCancelOk, { consumerTag: m.consumerTag });
}

export function basicGet(s: Session, m: BasicGet): void {
  const q = s.vhost.queue(queueName(s, m.queue), s.conn.actor, 'read');
  if (q.get(s, m.noAck)) return;
  s.stats.getEmpty++;
  s.conn.send(s.id, M.BasicGetEmpty, {});
}

export function basicRecover(s: Session, requeue: boolean, async: boolean): void {
  if (!requeue) throw ConnectionError.notImplemented('requeue=false');
  s.recover();
  if (!async) s.conn.send(s.id, M.BasicRecoverOk, {});
}
