// Statistics as RabbitMQ's management API reports them (message_stats and the connection
// octet/frame counts). Every counter is a plain number field that the hot path bumps with one
// increment; nothing is pushed anywhere, computed or timed on the publish or deliver path.
// Whoever wants figures (the management API, Prometheus) reads the fields when asked and keeps
// its own samples to compute rates.
//
// Who bumps what:
// - core publish (vhost.ts): exchange publishIn per message, publishOut per queue reached;
// - a queue: publish per message it takes, deliver/get (and the no-ack variants), redeliver,
//   ack;
// - a channel (amqp/session.ts): publish, confirm, returnUnroutable / dropUnroutable, deliver /
//   get (and no-ack), redeliver, ack;
// - a connection (amqp/connection.ts): octets and frames, both directions.

/** RabbitMQ's message_stats counters; each object kind uses the ones that apply to it. */
export class MessageStats {
  publish = 0;
  /** Exchanges: messages published into this exchange. */
  publishIn = 0;
  /** Exchanges: copies this exchange routed onward to queues. */
  publishOut = 0;
  /** Channels: publisher confirms sent (acks and nacks). */
  confirm = 0;
  returnUnroutable = 0;
  dropUnroutable = 0;
  /** basic.deliver to an ack-mode consumer. */
  deliver = 0;
  deliverNoAck = 0;
  /** basic.get-ok in ack mode. */
  get = 0;
  getNoAck = 0;
  /** basic.get-empty. */
  getEmpty = 0;
  /** Deliveries (of any kind above) of messages marked redelivered. */
  redeliver = 0;
  ack = 0;
  /** Body bytes of the messages counted in `publish`. */
  publishBytes = 0;

  /** deliver_get: everything handed out, as RabbitMQ sums it. */
  get deliverGet(): number {
    return this.deliver + this.deliverNoAck + this.get + this.getNoAck;
  }
}

/** Octets and frames of one connection (RabbitMQ's recv_oct, recv_cnt, send_oct, send_cnt). */
export class ConnectionStats {
  recvOct = 0;
  /** Socket reads (RabbitMQ counts reads too, not frames). */
  recvCnt = 0;
  sendOct = 0;
  /** Socket writes. */
  sendCnt = 0;
}

/** Add every message counter of `from` into `into` (a channel's totals outliving the channel). */
export function addMessageStats(into: MessageStats, from: MessageStats): void {
  for (const k of Object.keys(from) as (keyof MessageStats)[]) {
    const v = from[k];
    if (typeof v === 'number') (into as unknown as Record<string, number>)[k] = (into[k] as number) + v;
  }
}
