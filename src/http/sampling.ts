// What the rate sampler reads every interval: the same counters the views show, under the
// same keys (views.ts reads a rate as rates.rate(key, field)). One walk over every vhost,
// queue, exchange, channel and connection per interval; nothing per message.
import type { ManagementContext } from './context.js';
import type { Sampled } from './rates.js';
import { vhostChannelStats } from './routes/overview.js';
import { channelStatsValues, exchangeStatsValues, queueDepthValues, queueStatsValues } from './views.js';

type Visit = (obj: Sampled, values: Record<string, number>) => void;

export function collectRates(ctx: ManagementContext, visit: Visit): void {
  const totals: Record<string, number> = {};
  const add = (values: Record<string, number>) => {
    for (const [k, v] of Object.entries(values)) totals[k] = (totals[k] ?? 0) + v;
  };
  for (const v of ctx.vhosts.values()) {
    const vhost: Record<string, number> = { ...channelStatsValues(vhostChannelStats(v, ctx)), messages: 0, messages_ready: 0, messages_unacknowledged: 0 };
    for (const q of v.queues.values()) {
      visit(q, queueStatsValues(q.stats));
      const depth = queueDepthValues(q);
      visit(q.stats, depth);
      vhost.messages! += depth.messages!;
      vhost.messages_ready! += depth.messages_ready!;
      vhost.messages_unacknowledged! += depth.messages_unacknowledged!;
    }
    for (const x of v.exchanges.values()) visit(x, exchangeStatsValues(x.stats));
    let recv = 0;
    let send = 0;
    for (const c of ctx.connections) {
      if (!c.running || c.vhost !== v) continue;
      recv += c.stats.recvOct;
      send += c.stats.sendOct;
    }
    visit(v, { ...vhost, recv_oct: recv, send_oct: send });
    add(vhost);
  }
  for (const c of ctx.connections) {
    visit(c.stats, { recv_oct: c.stats.recvOct, send_oct: c.stats.sendOct });
    for (const ch of c.channels.values()) if (ch.session !== null) visit(ch.session.stats, channelStatsValues(ch.session.stats));
  }
  visit(ctx.totalsKey, totals);
}
