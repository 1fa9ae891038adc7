// Dispatch of every non-connection, non-channel method to its handler.
import { ConnectionError } from '../protocol/errors.js';
import { M, type AnyMethod } from '../protocol/generated/amqp.js';
import * as basic from './methods-basic.js';
import * as defs from './methods-definitions.js';
import type { Session } from './session.js';

export function handleMethod(s: Session, m: AnyMethod): void {
  switch (m.id) {
    case M.ExchangeDeclare: return defs.exchangeDeclare(s, m);
    case M.ExchangeDelete: return defs.exchangeDelete(s, m);
    case M.ExchangeBind: return defs.exchangeBind(s, m);
    case M.ExchangeUnbind: return defs.exchangeUnbind(s, m);
    case M.QueueDeclare: return defs.queueDeclare(s, m);
    case M.QueueBind: return defs.queueBind(s, m);
    case M.QueueUnbind: return defs.queueUnbind(s, m);
    case M.QueuePurge: return defs.queuePurge(s, m);
    case M.QueueDelete: return defs.queueDelete(s, m);
    case M.BasicQos: return basic.basicQos(s, m);
    case M.BasicConsume: return basic.basicConsume(s, m);
    case M.BasicCancel: return basic.basicCancel(s, m);
    case M.BasicGet: return basic.basicGet(s, m);
    case M.BasicAck: return s.onSettle(m.deliveryTag, m.multiple, 'ack', false);
    case M.BasicNack: return s.onSettle(m.deliveryTag, m.multiple, 'reject', m.requeue);
    case M.BasicReject: return s.onSettle(m.deliveryTag, false, 'reject', m.requeue);
    case M.BasicRecover: return basic.basicRecover(s, m.requeue, false);
    case M.BasicRecoverAsync: return basic.basicRecover(s, m.requeue, true);
    case M.ConfirmSelect:
      s.selectConfirm();
      if (!m.nowait) s.conn.send(s.id, M.ConfirmSelectOk, {});
      return;
    case M.TxSelect:
      s.selectTx();
      return s.conn.send(s.id, M.TxSelectOk, {});
    case M.TxCommit:
      s.commit();
      return s.conn.send(s.id, M.TxCommitOk, {});
    case M.TxRollback:
      s.rollback();
      return s.conn.send(s.id, M.TxRollbackOk, {});
    default:
      // Methods only a server sends (deliver, get-ok, *-ok replies, ...). RabbitMQ's catch-all
      // clause in rabbit_channel:handle_method/3 answers them all with this one text.
      throw ConnectionError.commandInvalid('unimplemented method');
  }
}
