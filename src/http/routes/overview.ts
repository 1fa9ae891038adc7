// /api/overview, /api/whoami, /api/nodes, /api/vhosts (reading), /api/aliveness-test and
// /api/health/checks/*: the broker as a whole, with RabbitMQ 3.10's field names and answers.
import { statfsSync } from 'node:fs';
import os from 'node:os';
import { PublishResult } from '../../core/publish.js';
import { Message } from '../../core/message.js';
import { MessageStats, addMessageStats } from '../../core/stats.js';
import type { VHost } from '../../core/vhost.js';
import type { GetOwner } from '../../core/queue/types.js';
import { exchangeTypeNames } from '../../core/exchange/types.js';
import type { ManagementContext } from '../context.js';
import { HttpError } from '../errors.js';
import { listReply } from '../list.js';
import { json, param, type Reply, type Req } from '../request.js';
import type { Router } from '../router.js';
import { channelStatsValues, queueDepthValues } from '../views.js';
import { httpActor, vhostParam, visibleConnections, visibleVhosts } from './common.js';

/** The RabbitMQ release whose management API Warren answers as. */
const RABBITMQ_VERSION = '3.10.8';

const EXCHANGE_DESCRIPTIONS: Record<string, string> = {
  direct: 'AMQP direct exchange, as per the AMQP specification',
  fanout: 'AMQP fanout exchange, as per the AMQP specification',
  headers: 'AMQP headers exchange, as per the AMQP specification',
  topic: 'AMQP topic exchange, as per the AMQP specification',
};

/** A vhost's channel counters: those of its closed channels plus its open ones. */
export function vhostChannelStats(v: VHost, ctx: ManagementContext): MessageStats {
  const total = new MessageStats();
  addMessageStats(total, v.closedChannelStats);
  for (const c of ctx.connections) {
    if (!c.running || c.vhost !== v) continue;
    for (const ch of c.channels.values()) if (ch.session !== null) addMessageStats(total, ch.session.stats);
  }
  return total;
}

function detailed(values: Record<string, number>, rateOf: (k: string) => number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    out[k] = v;
    out[`${k}_details`] = { rate: rateOf(k) };
  }
  return out;
}

/** Totals over the given vhosts, sampled under `key` for rates. */
function totals(vhosts: VHost[], ctx: ManagementContext): { stats: Record<string, number>; depth: Record<string, number> } {
  const stats = new MessageStats();
  const depth = { messages: 0, messages_ready: 0, messages_unacknowledged: 0 };
  for (const v of vhosts) {
    addMessageStats(stats, vhostChannelStats(v, ctx));
    for (const q of v.queues.values()) {
      const d = queueDepthValues(q);
      depth.messages += d.messages;
      depth.messages_ready += d.messages_ready;
      depth.messages_unacknowledged += d.messages_unacknowledged;
    }
  }
  return { stats: channelStatsValues(stats), depth };
}

function listeners(ctx: ManagementContext): Record<string, unknown>[] {
  const l = [{ node: ctx.nodeName, protocol: 'amqp', ip_address: ctx.config.host, port: ctx.amqpPort, socket_opts: {} }];
  if (ctx.managementPort > 0) l.push({ node: ctx.nodeName, protocol: 'http', ip_address: ctx.config.managementHost ?? ctx.config.host, port: ctx.managementPort, socket_opts: {} });
  if (ctx.prometheusPort > 0) l.push({ node: ctx.nodeName, protocol: 'http/prometheus', ip_address: ctx.config.prometheusHost ?? ctx.config.host, port: ctx.prometheusPort, socket_opts: {} });
  return l;
}

function overview(req: Req, ctx: ManagementContext): Reply {
  const vhosts = visibleVhosts(req, ctx);
  const t = totals(vhosts, ctx);
  const conns = visibleConnections(req, ctx);
  let channels = 0;
  for (const c of conns) channels += c.channels.size;
  let exchanges = 0;
  let queues = 0;
  let consumers = 0;
  for (const v of vhosts) {
    exchanges += v.exchanges.size;
    queues += v.queues.size;
    for (const q of v.queues.values()) consumers += q.consumerCount;
  }
  const rateKey = ctx.rates;
  return json({
    management_version: RABBITMQ_VERSION,
    rates_mode: 'basic',
    sample_retention_policies: { global: [600, 3600, 28800, 86400], basic: [600, 3600], detailed: [600] },
    exchange_types: exchangeTypeNames().map((name) => ({ name, description: EXCHANGE_DESCRIPTIONS[name] ?? `${name} exchange`, enabled: true })),
    product_version: ctx.version,
    product_name: ctx.config.product,
    rabbitmq_version: RABBITMQ_VERSION,
    cluster_name: ctx.nodeName,
    erlang_version: 'none (Node.js)',
    erlang_full_version: `Node.js ${process.version}`,
    disable_stats: false,
    enable_queue_totals: false,
    message_stats: detailed(t.stats, (k) => rateKey.rate(ctx.totalsKey, k)),
    queue_totals: detailed(t.depth, (k) => rateKey.rate(ctx.totalsKey, k)),
    object_totals: { channels, connections: conns.length, consumers, exchanges, queues },
    statistics_db_event_queue: 0,
    node: ctx.nodeName,
    listeners: listeners(ctx),
    contexts: ctx.managementPort > 0 ? [{ node: ctx.nodeName, description: 'RabbitMQ Management', path: '/', port: String(ctx.managementPort) }] : [],
  });
}

function vhostView(v: VHost, ctx: ManagementContext): Record<string, unknown> {
  const stats = channelStatsValues(vhostChannelStats(v, ctx));
  const depth = { messages: 0, messages_ready: 0, messages_unacknowledged: 0 };
  for (const q of v.queues.values()) {
    const d = queueDepthValues(q);
    depth.messages += d.messages;
    depth.messages_ready += d.messages_ready;
    depth.messages_unacknowledged += d.messages_unacknowledged;
  }
  let recv = 0;
  let send = 0;
  for (const c of ctx.connections) {
    if (c.running && c.vhost === v) {
      recv += c.stats.recvOct;
      send += c.stats.sendOct;
    }
  }
  const meta = ctx.registry.vhostMeta(v.name) ?? { description: '', tags: [] };
  return {
    cluster_state: { [ctx.nodeName]: 'running' },
    default_queue_type: 'undefined',
    description: meta.description,
    message_stats: detailed(stats, (k) => ctx.rates.rate(v, k)),
    ...detailed(depth, (k) => ctx.rates.rate(v, k)),
    metadata: { description: meta.description, tags: meta.tags },
    name: v.name,
    ...detailed({ recv_oct: recv, send_oct: send }, (k) => ctx.rates.rate(v, k)),
    tags: meta.tags,
    tracing: false,
  };
}

function diskFree(dir: string): number {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return 0;
  }
}

function nodeView(ctx: ManagementContext): Record<string, unknown> {
  const mem = process.memoryUsage();
  return {
    name: ctx.nodeName,
    type: 'disc',
    running: true,
    os_pid: String(process.pid),
    mem_used: mem.rss,
    mem_limit: ctx.config.memoryHighWatermark,
    mem_alarm: ctx.memoryAlarm,
    disk_free: diskFree(ctx.config.dataDir),
    disk_free_alarm: ctx.diskAlarm,
    sockets_used: ctx.connections.size,
    processors: os.cpus().length,
    uptime: Date.now() - ctx.startedAt,
    run_queue: 0,
    partitions: [],
    rates_mode: 'basic',
    exchange_types: exchangeTypeNames().map((name) => ({ name, description: EXCHANGE_DESCRIPTIONS[name] ?? `${name} exchange`, enabled: true })),
    auth_mechanisms: [{ name: 'PLAIN', description: 'SASL PLAIN authentication mechanism', enabled: true }, { name: 'AMQPLAIN', description: 'QPid AMQPLAIN mechanism', enabled: true }],
    applications: [{ name: 'warren', description: 'Warren', version: ctx.version }],
    contexts: ctx.managementPort > 0 ? [{ description: 'RabbitMQ Management', path: '/', port: String(ctx.managementPort) }] : [],
    log_files: [],
    being_drained: false,
  };
}

/** /api/aliveness-test/v: declare queue aliveness-test, publish to it and get the message back. */
function aliveness(req: Req, ctx: ManagementContext): Reply {
  const v = vhostParam(req, ctx);
  const q = v.declareQueue('aliveness-test', { passive: false, durable: false, exclusive: false, autoDelete: false, args: {} }, httpActor(req, v, ctx));
  const x = v.exchange('');
  const body = Buffer.from('test_message');
  v.publish(x, new Message('', q.name, Buffer.from([0, 0]), body), new PublishResult());
  let ok = false;
  const into: GetOwner = { gotMessage: (queue, h, msg) => { ok = msg.body.equals(body); queue.ack(h, null); } };
  q.get(into, false);
  if (!ok) return json({ status: 'failed', reason: 'aliveness test message not received' }, 503);
  return json({ status: 'ok' });
}

function alarms(ctx: ManagementContext): Reply {
  const resources = [...(ctx.memoryAlarm ? ['memory'] : []), ...(ctx.diskAlarm ? ['disk space'] : [])];
  if (resources.length === 0) return json({ status: 'ok' });
  return json({ status: 'failed', reason: 'There are alarms in effect in the cluster', alarms: resources.map((resource) => ({ node: ctx.nodeName, resource })) }, 503);
}

function portListener(req: Req, ctx: ManagementContext): Reply {
  const port = Number(param(req, 'port'));
  const ports = listeners(ctx).map((l) => l.port as number);
  if (ports.includes(port)) return json({ status: 'ok', port });
  return json({ status: 'failed', reason: 'No active listener', missing: port, ports }, 503);
}

function protocolListener(req: Req, ctx: ManagementContext): Reply {
  const asked = param(req, 'protocol');
  const protocol = asked === 'amqp091' || asked === 'amqp0-9-1' ? 'amqp' : asked;
  const protocols = listeners(ctx).map((l) => l.protocol as string);
  if (protocols.includes(protocol)) return json({ status: 'ok', protocol });
  return json({ status: 'failed', reason: 'No active listener', missing: asked, protocols }, 503);
}

export function overviewRoutes(r: Router): void {
  r.get('/api/overview', overview);
  r.get('/api/whoami', (req) => json({ name: req.user.name, tags: req.user.tags }));
  r.get('/api/nodes', (_req, ctx) => json([nodeView(ctx)]), 'monitoring');
  r.get('/api/nodes/:node', (req, ctx) => {
    if (param(req, 'node') !== ctx.nodeName) throw HttpError.notFound();
    return json(nodeView(ctx));
  }, 'monitoring');
  r.get('/api/vhosts', (req, ctx) => listReply(req, visibleVhosts(req, ctx).map((v) => vhostView(v, ctx))));
  r.get('/api/vhosts/:vhost', (req, ctx) => json(vhostView(vhostParam(req, ctx), ctx)));
  r.get('/api/aliveness-test/:vhost', aliveness);
  r.get('/api/health/checks/alarms', (_req, ctx) => alarms(ctx));
  r.get('/api/health/checks/local-alarms', (_req, ctx) => alarms(ctx));
  r.get('/api/health/checks/virtual-hosts', () => json({ status: 'ok' }));
  r.get('/api/health/checks/port-listener/:port', portListener);
  r.get('/api/health/checks/protocol-listener/:protocol', protocolListener);
  r.get('/api/health/checks/certificate-expiration/:within/:unit', () => json({ status: 'ok' }));
  r.get('/api/health/checks/node-is-quorum-critical', () => json({ status: 'ok', reason: 'single node cluster' }));
  r.get('/api/health/checks/node-is-mirror-sync-critical', () => json({ status: 'ok', reason: 'single node cluster' }));
}
