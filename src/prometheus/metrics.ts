// The metric families Warren serves, with rabbitmq_prometheus 3.10's names, types, HELP texts
// and labels (interop/prometheus.test.ts checks them against a recorded and a live RabbitMQ),
// plus Warren's own consumer-lag families under warren_. Two modes as RabbitMQ's:
// - aggregated (/metrics, the default): one unlabelled sample per family, the sum over queues,
//   channels or connections;
// - per-object (/metrics/per-object): one sample per queue, channel or connection.
// Everything is read from plain fields when asked (core/stats.ts); one pass per object kind
// renders each object's label set once, then each family is a loop over those objects, so a
// scrape is linear in the number of objects.
//
// Where Warren counts along fewer dimensions than RabbitMQ, a family keeps RabbitMQ's name and
// the subset of its labels Warren can fill truthfully: channel publish counters are per
// channel (RabbitMQ: per channel and exchange), delivery and ack counters are per queue
// (RabbitMQ: per channel and queue), rabbitmq_queue_messages_published_total is per queue
// (RabbitMQ: per channel, queue and exchange). As in RabbitMQ 3.10, a connection's label is
// named `channel`; its value is the connection's name as the management API shows it.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Connection } from '../amqp/connection.js';
import type { Session } from '../amqp/session.js';
import type { MessageQueue } from '../core/queue/types.js';
import { MessageStats, addMessageStats } from '../core/stats.js';
import type { PrometheusContext } from './context.js';
import { Exposition, labels, type Labels, type MetricType } from './exposition.js';
import type { LagTracker } from './lag.js';

/** The rabbitmq_prometheus release whose names and labels these are. */
const RABBITMQ_VERSION = '3.10.8';
const PROTOCOL = labels({ protocol: 'amqp091' });
const CLASSIC = labels({ protocol: 'amqp091', queue_type: 'rabbit_classic_queue' });

export type Mode = 'aggregated' | 'per-object';

interface Family<T> {
  name: string;
  type: MetricType;
  help: string;
  value: (o: T) => number;
}

const g = <T>(name: string, help: string, value: (o: T) => number): Family<T> => ({ name, type: 'gauge', help, value });
const c = <T>(name: string, help: string, value: (o: T) => number): Family<T> => ({ name, type: 'counter', help, value });

interface QueueRow { q: MessageQueue; vhost: string; labels: Labels }
interface ChannelRow { s: Session; labels: Labels }
interface ConnectionRow { c: Connection; labels: Labels }

const QUEUE_DEPTH: Family<QueueRow>[] = [
  g('rabbitmq_queue_messages_ready', 'Messages ready to be delivered to consumers', (r) => r.q.messageCount),
  g('rabbitmq_queue_messages_unacked', 'Messages delivered to consumers but not yet acknowledged', (r) => r.q.unackedCount),
  g('rabbitmq_queue_messages', 'Sum of ready and unacknowledged messages - total queue depth', (r) => r.q.messageCount + r.q.unackedCount),
  g('rabbitmq_queue_consumers', 'Consumers on a queue', (r) => r.q.consumerCount),
  g('rabbitmq_queue_messages_ready_bytes', 'Size in bytes of ready messages', (r) => r.q.messageBytes),
];

const CHANNEL_GAUGES: Family<ChannelRow>[] = [
  g('rabbitmq_channel_consumers', 'Consumers on a channel', (r) => r.s.consumers.size),
  g('rabbitmq_channel_messages_unacked', 'Delivered but not yet acknowledged messages', (r) => r.s.unacked.size),
  g('rabbitmq_channel_messages_unconfirmed', 'Published but not yet confirmed messages', (r) => r.s.confirms?.unconfirmed ?? 0),
  g('rabbitmq_channel_messages_uncommitted', 'Messages received in a transaction but not yet committed', (r) => r.s.tx?.publishes.length ?? 0),
  g('rabbitmq_channel_acks_uncommitted', 'Message acknowledgements in a transaction not yet committed',
    (r) => r.s.tx?.settles.reduce((n, t) => n + t.held.length, 0) ?? 0),
  g('rabbitmq_consumer_prefetch', 'Limit of unacknowledged messages for each consumer', (r) => r.s.consumerPrefetch),
  g('rabbitmq_channel_prefetch', 'Total limit of unacknowledged messages for all consumers on a channel', (r) => r.s.channelPrefetch),
];

/** RabbitMQ labels these by channel, vhost and exchange; Warren counts per channel. */
const CHANNEL_PUBLISH: Family<ChannelRow>[] = [
  c('rabbitmq_channel_messages_published_total', 'Total number of messages published into an exchange on a channel', (r) => r.s.stats.publish),
  c('rabbitmq_channel_messages_confirmed_total', 'Total number of messages published into an exchange and confirmed on the channel', (r) => r.s.stats.confirm),
  c('rabbitmq_channel_messages_unroutable_returned_total',
    'Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable', (r) => r.s.stats.returnUnroutable),
  c('rabbitmq_channel_messages_unroutable_dropped_total',
    'Total number of messages published as non-mandatory into an exchange and dropped as unroutable', (r) => r.s.stats.dropUnroutable),
];

/** RabbitMQ labels these by channel, vhost and queue; Warren counts per queue. */
const QUEUE_DELIVERY: Family<QueueRow>[] = [
  c('rabbitmq_channel_get_ack_total', 'Total number of messages fetched with basic.get in manual acknowledgement mode', (r) => r.q.stats.get),
  c('rabbitmq_channel_get_total', 'Total number of messages fetched with basic.get in automatic acknowledgement mode', (r) => r.q.stats.getNoAck),
  c('rabbitmq_channel_messages_delivered_ack_total', 'Total number of messages delivered to consumers in manual acknowledgement mode', (r) => r.q.stats.deliver),
  c('rabbitmq_channel_messages_delivered_total', 'Total number of messages delivered to consumers in automatic acknowledgement mode', (r) => r.q.stats.deliverNoAck),
  c('rabbitmq_channel_messages_redelivered_total', 'Total number of messages redelivered to consumers', (r) => r.q.stats.redeliver),
  c('rabbitmq_channel_messages_acked_total', 'Total number of messages acknowledged by consumers', (r) => r.q.stats.ack),
  c('rabbitmq_channel_get_empty_total', 'Total number of times basic.get operations fetched no message', (r) => r.q.stats.getEmpty),
];

const CONNECTION: Family<ConnectionRow>[] = [
  c('rabbitmq_connection_incoming_bytes_total', 'Total number of bytes received on a connection', (r) => r.c.stats.recvOct),
  c('rabbitmq_connection_outgoing_bytes_total', 'Total number of bytes sent on a connection', (r) => r.c.stats.sendOct),
  c('rabbitmq_connection_incoming_packets_total', 'Total number of packets received on a connection', (r) => r.c.stats.recvCnt),
  c('rabbitmq_connection_outgoing_packets_total', 'Total number of packets sent on a connection', (r) => r.c.stats.sendCnt),
  g('rabbitmq_connection_channels', 'Channels on a connection', (r) => r.c.channels.size),
];

const QUEUE_PUBLISHED: Family<QueueRow> = c('rabbitmq_queue_messages_published_total', 'Total number of messages published to queues', (r) => r.q.stats.publish);

/** Channel counters that only grow: the vhosts' closed channels plus the open ones. */
const GLOBAL: { name: string; help: string; labels: Labels; value: (s: MessageStats) => number }[] = [
  { name: 'rabbitmq_global_messages_acknowledged_total', help: 'Total number of messages acknowledged by consumers', labels: CLASSIC, value: (s) => s.ack },
  { name: 'rabbitmq_global_messages_confirmed_total', help: 'Total number of messages confirmed to publishers', labels: PROTOCOL, value: (s) => s.confirm },
  { name: 'rabbitmq_global_messages_delivered_consume_auto_ack_total', help: 'Total number of messages delivered to consumers using basic.consume with automatic acknowledgment', labels: CLASSIC, value: (s) => s.deliverNoAck },
  { name: 'rabbitmq_global_messages_delivered_consume_manual_ack_total', help: 'Total number of messages delivered to consumers using basic.consume with manual acknowledgment', labels: CLASSIC, value: (s) => s.deliver },
  { name: 'rabbitmq_global_messages_delivered_get_auto_ack_total', help: 'Total number of messages delivered to consumers using basic.get with automatic acknowledgment', labels: CLASSIC, value: (s) => s.getNoAck },
  { name: 'rabbitmq_global_messages_delivered_get_manual_ack_total', help: 'Total number of messages delivered to consumers using basic.get with manual acknowledgment', labels: CLASSIC, value: (s) => s.get },
  { name: 'rabbitmq_global_messages_delivered_total', help: 'Total number of messages delivered to consumers', labels: CLASSIC, value: (s) => s.deliverGet },
  { name: 'rabbitmq_global_messages_get_empty_total', help: 'Total number of times basic.get operations fetched no message', labels: CLASSIC, value: (s) => s.getEmpty },
  { name: 'rabbitmq_global_messages_received_total', help: 'Total number of messages received from publishers', labels: PROTOCOL, value: (s) => s.publish },
  { name: 'rabbitmq_global_messages_redelivered_total', help: 'Total number of messages redelivered to consumers', labels: CLASSIC, value: (s) => s.redeliver },
  { name: 'rabbitmq_global_messages_unroutable_dropped_total', help: 'Total number of messages published as non-mandatory into an exchange and dropped as unroutable', labels: PROTOCOL, value: (s) => s.dropUnroutable },
  { name: 'rabbitmq_global_messages_unroutable_returned_total', help: 'Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable', labels: PROTOCOL, value: (s) => s.returnUnroutable },
];

/** Every family (name, type) Warren may serve, in order; the README lists them and tests check them. */
export function familyNames(): { name: string; type: MetricType }[] {
  const text = render(emptyContext(), null, 'per-object', Date.now());
  return [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({ name: m[1]!, type: m[2] as MetricType }));
}

function emitRows<T>(out: Exposition, fams: readonly Family<T>[], rows: readonly (T & { labels: Labels })[], mode: Mode): void {
  for (const f of fams) {
    out.family(f.name, f.type, f.help);
    if (mode === 'aggregated') {
      let sum = 0;
      for (const r of rows) sum += f.value(r);
      out.sample(f.name, '', sum);
    } else {
      for (const r of rows) out.sample(f.name, r.labels, f.value(r));
    }
  }
}

/** One scrape's text. `lag` is null only for familyNames(). */
export function render(ctx: PrometheusContext, lag: LagTracker | null, mode: Mode, now: number): string {
  const out = new Exposition();
  const perObject = mode === 'per-object';
  const conns = [...ctx.connections].filter((x) => x.running || x.state === 'closing');

  const queues: QueueRow[] = [];
  const published: QueueRow[] = [];
  let consumers = 0;
  for (const v of ctx.vhosts.values()) {
    for (const q of v.queues.values()) {
      lag?.observe(q, now);
      queues.push({ q, vhost: v.name, labels: labels({ vhost: v.name, queue: q.name }) });
      if (perObject) published.push({ q, vhost: v.name, labels: labels({ queue_vhost: v.name, queue: q.name }) });
      consumers += q.consumerCount;
    }
  }
  const channels: ChannelRow[] = [];
  const connections: ConnectionRow[] = [];
  const global = new MessageStats();
  for (const v of ctx.vhosts.values()) addMessageStats(global, v.closedChannelStats);
  for (const x of conns) {
    connections.push({ c: x, labels: perObject ? labels({ channel: x.name }) : '' });
    for (const [n, ch] of x.channels) {
      if (ch.session === null) continue;
      channels.push({ s: ch.session, labels: perObject ? labels({ channel: `${x.name} (${n})` }) : '' });
      addMessageStats(global, ch.session.stats);
    }
  }

  out.single('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.', Math.floor(now / 1000 - process.uptime()));
  out.single('rabbitmq_alarms_file_descriptor_limit', 'untyped', 'is 1 if file descriptor limit alarm is in effect', 0);
  out.single('rabbitmq_alarms_free_disk_space_watermark', 'untyped', 'is 1 if free disk space watermark alarm is in effect', 0);
  out.single('rabbitmq_alarms_memory_used_watermark', 'untyped', 'is 1 if VM memory watermark alarm is in effect', ctx.memoryAlarm ? 1 : 0);
  out.single('rabbitmq_connections_opened_total', 'counter', 'Total number of connections opened', ctx.connectionsClosed + ctx.connections.size);
  out.single('rabbitmq_connections_closed_total', 'counter', 'Total number of connections closed or terminated', ctx.connectionsClosed);
  const fds = openFds();
  if (fds >= 0) out.single('rabbitmq_process_open_fds', 'gauge', 'Open file descriptors', fds);
  out.single('rabbitmq_process_open_tcp_sockets', 'gauge', 'Open TCP sockets', ctx.connections.size);
  out.single('rabbitmq_process_resident_memory_bytes', 'gauge', 'Memory used in bytes', process.memoryUsage.rss());
  const disk = diskFree(ctx.config.dataDir);
  if (disk >= 0) out.single('rabbitmq_disk_space_available_bytes', 'gauge', 'Disk space available in bytes', disk);
  const maxFds = fdLimit();
  if (maxFds >= 0) out.single('rabbitmq_process_max_fds', 'gauge', 'Open file descriptors limit', maxFds);
  out.single('rabbitmq_resident_memory_limit_bytes', 'gauge', 'Memory high watermark in bytes', ctx.config.memoryHighWatermark);

  emitRows(out, QUEUE_DEPTH, queues, mode);
  emitRows(out, CHANNEL_GAUGES, channels, mode);
  emitRows(out, CHANNEL_PUBLISH, channels, mode);
  emitRows(out, QUEUE_DELIVERY, queues, mode);
  emitRows(out, CONNECTION, connections, mode);
  emitRows(out, [QUEUE_PUBLISHED], perObject ? published : queues, mode);

  out.single('rabbitmq_connections', 'gauge', 'Connections currently open', conns.length);
  out.single('rabbitmq_channels', 'gauge', 'Channels currently open', channels.length);
  out.single('rabbitmq_consumers', 'gauge', 'Consumers currently connected', consumers);
  out.single('rabbitmq_queues', 'gauge', 'Queues available', queues.length);
  out.single('rabbitmq_build_info', 'untyped', 'RabbitMQ & Erlang/OTP version info', 1, labels({
    rabbitmq_version: RABBITMQ_VERSION, prometheus_plugin_version: RABBITMQ_VERSION,
    prometheus_client_version: 'none (Warren)', erlang_version: 'none (Node.js)',
  }));
  out.single('rabbitmq_identity_info', 'untyped', 'RabbitMQ node & cluster identity info', 1, labels({
    rabbitmq_node: ctx.nodeName, rabbitmq_cluster: ctx.nodeName, rabbitmq_cluster_permanent_id: clusterId(ctx),
  }));
  out.single('rabbitmq_global_consumers', 'gauge', 'Current number of consumers', consumers, PROTOCOL);
  for (const f of GLOBAL) out.single(f.name, 'counter', f.help, f.value(global), f.labels);

  // Warren's own: consumer lag per queue, in both modes (RabbitMQ has no per-queue figures in
  // its default, aggregated output).
  out.single('warren_build_info', 'untyped', 'Warren and Node.js version info', 1, labels({ version: ctx.version, nodejs_version: process.version }));
  out.family('warren_queue_oldest_message_age_seconds', 'gauge',
    'Seconds the oldest ready message of the queue has been waiting (a lower bound, at most 1 s short; 0 when none is ready)');
  if (lag !== null) for (const r of queues) out.sample('warren_queue_oldest_message_age_seconds', r.labels, lag.ageSeconds(r.q, now));
  out.family('warren_queue_messages_ready', 'gauge', 'Messages ready to be delivered to consumers (consumer lag in messages)');
  if (lag !== null) for (const r of queues) out.sample('warren_queue_messages_ready', r.labels, r.q.messageCount);
  out.family('warren_queue_messages_unacked', 'gauge', 'Messages delivered to consumers but not yet acknowledged');
  if (lag !== null) for (const r of queues) out.sample('warren_queue_messages_unacked', r.labels, r.q.unackedCount);
  return out.text();
}

/** RabbitMQ's cluster id is random and persisted; Warren's is derived from what names the broker: host and data directory. */
function clusterId(ctx: PrometheusContext): string {
  const h = createHash('sha256').update(`${ctx.nodeName}\0${resolve(ctx.config.dataDir)}`).digest('base64url');
  return `warren-cluster-id-${h.slice(0, 22)}`;
}

function diskFree(dir: string): number {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return -1;
  }
}

/** Linux only (/proc); elsewhere the families are left out. */
function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

let fdLimitCache: number | undefined;
function fdLimit(): number {
  if (fdLimitCache === undefined) {
    try {
      const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
      fdLimitCache = m ? Number(m[1]) : -1;
    } catch {
      fdLimitCache = -1;
    }
  }
  return fdLimitCache;
}

function emptyContext(): PrometheusContext {
  return {
    config: { dataDir: '.', memoryHighWatermark: 0 }, version: '', nodeName: '', vhosts: new Map(), connections: new Set(),
    memoryAlarm: false, connectionsClosed: 0,
  };
}
