// A message as the API's /get returns it: properties, headers, x-death as a table, and the
// body as text, JSON or hex.
import { useState } from 'preact/hooks';
import { fmtValue, html, KV } from './lib.js';

function bytesOf(m) {
  if (m.payload_encoding === 'base64') return Uint8Array.from(atob(m.payload), (c) => c.charCodeAt(0));
  return new TextEncoder().encode(m.payload);
}

function hexDump(bytes) {
  const lines = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = Array.from(bytes.subarray(i, i + 16));
    const hex = row.map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = row.map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${i.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines.join('\n');
}

function bodyAs(m, view) {
  const bytes = bytesOf(m);
  if (view === 'hex') return hexDump(bytes);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (view === 'json') {
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch (e) { return `not JSON: ${e.message}`; }
  }
  return text;
}

const time = (t) => (typeof t === 'number' ? new Date(t * 1000).toISOString().replace('T', ' ').replace('.000Z', ' UTC') : fmtValue(t));

export function XDeath({ deaths }) {
  return html`<div class="scroll"><table class="xdeath">
    <thead><tr><th>#</th><th>count</th><th>reason</th><th>queue</th><th>exchange</th><th>routing keys</th><th>time</th><th>original expiration</th></tr></thead>
    <tbody>${deaths.map((d, i) => html`<tr key=${i}><td>${i + 1}</td><td class="num">${d.count}</td><td>${d.reason}</td><td>${d.queue}</td>
      <td>${d.exchange === '' ? '(default)' : d.exchange}</td><td>${(d['routing-keys'] ?? []).join(', ')}</td><td>${time(d.time)}</td>
      <td>${d['original-expiration'] ?? ''}</td></tr>`)}</tbody>
  </table></div>`;
}

export function MessageView({ m, index }) {
  const props = Array.isArray(m.properties) ? {} : { ...m.properties };
  const headers = { ...(props.headers ?? {}) };
  delete props.headers;
  const deaths = Array.isArray(headers['x-death']) ? headers['x-death'] : null;
  delete headers['x-death'];
  const looksJson = /^\s*[[{]/.test(m.payload_encoding === 'string' ? m.payload : '');
  const [view, setView] = useState(m.payload_encoding === 'base64' ? 'hex' : looksJson ? 'json' : 'text');
  return html`<div class="msg" data-message=${index}>
    <h3>Message ${index + 1} <span class="muted">· exchange ${m.exchange === '' ? '(default)' : m.exchange} · routing key ${m.routing_key}
      · ${m.payload_bytes} bytes${m.redelivered ? ' · redelivered' : ''}</span>
      ${deaths ? html` <span class="tag dl">dead-lettered</span>` : null}${headers['x-warren-replayed'] ? html` <span class="tag">replayed ×${headers['x-warren-replayed']}</span>` : null}</h3>
    <div class="grid2">
      <div><h2>Properties</h2><${KV} obj=${props} /></div>
      <div><h2>Headers</h2><${KV} obj=${headers} /></div>
    </div>
    ${deaths ? html`<h2 style="margin-top:8px">x-death</h2><${XDeath} deaths=${deaths} />` : null}
    <div class="toolbar tabs" style="margin:8px 0 4px">
      ${['text', 'json', 'hex'].map((v) => html`<button key=${v} class=${view === v ? 'on' : ''} onClick=${() => setView(v)}>${v}</button>`)}
    </div>
    <pre class="body">${bodyAs(m, view)}</pre>
  </div>`;
}
