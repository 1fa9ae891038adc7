// /api/connections, /api/channels, /api/consumers: what is connected, read from the AMQP
// listener's live connections; DELETE on a connection closes it with 320 CONNECTION_FORCED and
// the X-Reason header's text, as RabbitMQ does.
import type { Connection } from '../../amqp/connection.js';
import type { ManagementContext } from '../context.js';
import { HttpError } from '../errors.js';
import { listReply } from '../list.js';
import { json, noContent, param, type Reply, type Req } from '../request.js';
import type { Router } from '../router.js';
import { channelName, channelView, connectionView, consumerView } from '../views.js';
import { vhostParam, visibleConnections } from './common.js';

type View = Record<string, unknown>;

function connectionsIn(req: Req, ctx: ManagementContext): Connection[] {
  const all = visibleConnections(req, ctx);
  if (req.params.vhost === undefined) return all;
  const v = vhostParam(req, ctx);
  return all.filter((c) => c.running && c.vhost === v);
}

function channelsOf(c: Connection, ctx: ManagementContext): View[] {
  const out: View[] = [];
  for (const [n, ch] of c.channels) if (ch.session !== null) out.push(channelView(c, n, ch.session, ctx));
  return out;
}

function connectionParam(req: Req, ctx: ManagementContext): Connection {
  const name = param(req, 'name');
  const c = visibleConnections(req, ctx).find((x) => x.name === name);
  if (c === undefined) throw HttpError.notFound();
  return c;
}

function close(req: Req, ctx: ManagementContext): Reply {
  const c = connectionParam(req, ctx);
  const reason = req.headers['x-reason'];
  c.forceClose(typeof reason === 'string' && reason !== '' ? reason : 'Closed via management plugin');
  ctx.log.info('closing connection at the request of the management API', { connection: c.name, user: req.user.name });
  return noContent();
}

export function consumersOf(req: Req, ctx: ManagementContext): View[] {
  const out: View[] = [];
  const vhost = req.params.vhost === undefined ? null : vhostParam(req, ctx);
  for (const c of visibleConnections(req, ctx)) {
    if (!c.running || (vhost !== null && c.vhost !== vhost)) continue;
    for (const [n, ch] of c.channels) {
      const s = ch.session;
      if (s === null) continue;
      for (const consumer of s.consumers.values()) out.push(consumerView(c, n, consumer, s.vhost.name, ctx));
    }
  }
  return out;
}

export function connectionRoutes(r: Router): void {
  r.get('/api/connections', (req, ctx) => listReply(req, connectionsIn(req, ctx).map((c) => connectionView(c, ctx))));
  r.get('/api/vhosts/:vhost/connections', (req, ctx) => listReply(req, connectionsIn(req, ctx).map((c) => connectionView(c, ctx))));
  r.get('/api/connections/:name', (req, ctx) => json(connectionView(connectionParam(req, ctx), ctx)));
  r.delete('/api/connections/:name', close);
  r.get('/api/connections/:name/channels', (req, ctx) => listReply(req, channelsOf(connectionParam(req, ctx), ctx)));
  r.get('/api/channels', (req, ctx) => listReply(req, connectionsIn(req, ctx).flatMap((c) => channelsOf(c, ctx))));
  r.get('/api/vhosts/:vhost/channels', (req, ctx) => listReply(req, connectionsIn(req, ctx).flatMap((c) => channelsOf(c, ctx))));
  r.get('/api/channels/:name', (req, ctx) => {
    const name = param(req, 'name');
    for (const c of visibleConnections(req, ctx)) {
      for (const [n, ch] of c.channels) if (ch.session !== null && channelName(c, n) === name) return json(channelView(c, n, ch.session, ctx));
    }
    throw HttpError.notFound();
  });
  r.get('/api/consumers', (req, ctx) => listReply(req, consumersOf(req, ctx)));
  r.get('/api/consumers/:vhost', (req, ctx) => listReply(req, consumersOf(req, ctx)));
}
