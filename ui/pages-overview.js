// The overview: live charts of message rates and queued messages, totals, node facts.
import { api, Chart, Err, fmtNum, fmtRate, html, rate, usePoll } from './lib.js';

export const RATE_SERIES = [
  { key: 'publish', label: 'publish', color: '#c2410c' },
  { key: 'deliver_get', label: 'deliver', color: '#0f766e' },
  { key: 'ack', label: 'ack', color: '#2563eb' },
  { key: 'redeliver', label: 'redeliver', color: '#a21caf' },
  { key: 'return_unroutable', label: 'return', color: '#ca8a04' },
];
export const DEPTH_SERIES = [
  { key: 'messages_ready', label: 'ready', color: '#c2410c' },
  { key: 'messages_unacknowledged', label: 'unacked', color: '#2563eb' },
];

export const ratesOf = (stats) => Object.fromEntries(RATE_SERIES.map((s) => [s.key, rate(stats, s.key)]));

export function Overview() {
  const [o, error] = usePoll(() => api('GET', '/overview'), []);
  const t = o?.object_totals ?? {};
  const q = o?.queue_totals ?? {};
  const ms = o?.message_stats ?? {};
  const totals = [
    ['connections', t.connections], ['channels', t.channels], ['exchanges', t.exchanges], ['queues', t.queues], ['consumers', t.consumers],
    ['ready', q.messages_ready], ['unacked', q.messages_unacknowledged], ['total messages', q.messages],
  ];
  return html`<div>
    <h1>Overview</h1>
    <${Err} error=${error} />
    <div class="totals" id="totals">${totals.map(([k, v]) => html`<div class="total" key=${k} data-total=${k}><b>${fmtNum(v ?? 0)}</b><span>${k}</span></div>`)}</div>
    <div class="grid2">
      <${Chart} id="chart-rates" title="Message rates (per second)" series=${RATE_SERIES} unit="/s" sample=${o ? ratesOf(ms) : null} />
      <${Chart} id="chart-depth" title="Queued messages" series=${DEPTH_SERIES} sample=${o ? q : null} />
    </div>
    <div class="grid2">
      <div class="card"><h2>Rates now</h2><table class="kv"><tbody>
        ${RATE_SERIES.map((s) => html`<tr key=${s.key}><td>${s.label}</td><td class="num" data-rate=${s.key}>${fmtRate(rate(ms, s.key))}</td></tr>`)}
        <tr><td>confirm</td><td class="num">${fmtRate(rate(ms, 'confirm'))}</td></tr>
      </tbody></table></div>
      <div class="card"><h2>Node</h2>${o ? html`<table class="kv"><tbody>
        <tr><td>node</td><td>${o.node}</td></tr>
        <tr><td>product</td><td>${o.product_name} ${o.product_version}</td></tr>
        <tr><td>management version</td><td>${o.management_version}</td></tr>
        <tr><td>listeners</td><td>${(o.listeners ?? []).map((l) => html`<span class="tag" key=${l.protocol + l.port}>${l.protocol} ${l.ip_address}:${l.port}</span>`)}</td></tr>
      </tbody></table>` : null}</div>
    </div>
  </div>`;
}
