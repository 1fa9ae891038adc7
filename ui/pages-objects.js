// Exchanges (list, page with bindings and publish), bindings, connections (client properties,
// close), channels.
import { useState } from 'preact/hooks';
import { Action, api, enc, Err, fmtBytes, Form, fmtNum, fmtRate, html, KV, PagedTable, qpath, rate, usePoll } from './lib.js';
import { Publish, VhostSelect } from './pages-queues.js';

const xName = (n) => (n === '' ? '(AMQP default)' : n);
const xLink = (vhost, n) => `#/exchanges/${enc(vhost)}/${enc(n === '' ? 'amq.default' : n)}`;

export function Exchanges() {
  const [vhost, setVhost] = useState('');
  const columns = [
    { label: 'vhost', key: 'vhost', sort: 'vhost', narrow: false },
    { label: 'name', sort: 'name', name: true, render: (x) => html`<a href=${xLink(x.vhost, x.name)}>${xName(x.name)}</a>` },
    { label: 'type', key: 'type', sort: 'type' },
    { label: 'features', narrow: false, render: (x) => [x.durable ? 'D' : '', x.auto_delete ? 'AD' : '', x.internal ? 'I' : ''].filter(Boolean).join(' ') },
    { label: 'in', num: true, sort: 'message_stats.publish_in_details.rate', render: (x) => fmtRate(rate(x.message_stats, 'publish_in')) },
    { label: 'out', num: true, sort: 'message_stats.publish_out_details.rate', render: (x) => fmtRate(rate(x.message_stats, 'publish_out')) },
  ];
  return html`<div><h1>Exchanges</h1>
    <div class="card"><${PagedTable} id="exchanges" path=${vhost ? `/exchanges/${enc(vhost)}` : '/exchanges'} columns=${columns}
      rowKey=${(x) => `${x.vhost}/${x.name}`} extra=${html`<${VhostSelect} value=${vhost} onChange=${setVhost} />`} /></div>
    <${AddExchange} /></div>`;
}

function AddExchange() {
  return html`<${Form} id="add-exchange" title="Add an exchange" button="Add exchange" run=${async (f) => {
    await api('PUT', `/exchanges/${qpath(f.get('vhost') || '/', f.get('name'))}`, { type: f.get('type'), durable: f.get('durable') === 'on' });
    return `exchange ${f.get('name')} declared`;
  }}>
    <label>vhost</label><input type="text" name="vhost" value="/" />
    <label>name</label><input type="text" name="name" required />
    <label>type</label><select name="type">${['direct', 'fanout', 'topic', 'headers'].map((t) => html`<option key=${t}>${t}</option>`)}</select>
    <label>durable</label><input type="checkbox" name="durable" checked />
  <//>`;
}

function BindingRows({ rows, vhost, own }) {
  return html`<div class="scroll"><table><thead><tr><th>${own ? 'to' : 'from'}</th><th>routing key</th><th>arguments</th><th></th></tr></thead><tbody>
    ${rows.map((b) => {
      const other = own ? b.destination : b.source;
      const link = own ? (b.destination_type === 'queue' ? `#/queues/${enc(vhost)}/${enc(other)}` : xLink(vhost, other)) : xLink(vhost, other);
      const del = `/bindings/${enc(vhost)}/e/${enc(b.source)}/${b.destination_type === 'queue' ? 'q' : 'e'}/${enc(b.destination)}/${enc(b.properties_key)}`;
      return html`<tr key=${other + b.properties_key}><td><a href=${link}>${xName(other)}</a> <span class="muted">${b.destination_type}</span></td>
        <td class="mono">${b.routing_key}</td><td class="mono">${Object.keys(b.arguments).length ? JSON.stringify(b.arguments) : ''}</td>
        <td>${b.source !== '' ? html`<${Action} label="Unbind" cls="danger" run=${() => api('DELETE', del)} />` : null}</td></tr>`;
    })}
  </tbody></table></div>`;
}

export function ExchangePage({ vhost, name }) {
  const path = `/exchanges/${qpath(vhost, name)}`;
  const [x, error] = usePoll(() => api('GET', path), [path]);
  const [out] = usePoll(() => api('GET', `${path}/bindings/source`), [path]);
  const [inb] = usePoll(() => api('GET', `${path}/bindings/destination`), [path]);
  const [deleted, setDeleted] = useState(false);
  const real = name === 'amq.default' ? '' : name;
  const bind = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    await api('POST', `/bindings/${enc(vhost)}/e/${enc(real)}/${f.get('kind')}/${enc(f.get('dest'))}`, { routing_key: f.get('routing_key'), arguments: {} });
  };
  const [bindError, setBindError] = useState(null);
  if (deleted) return html`<div><h1>Exchange ${name}</h1><p>Deleted. <a href="#/exchanges">All exchanges</a></p></div>`;
  return html`<div><h1>Exchange ${xName(real)} <span class="muted" style="font-size:13px">in vhost ${vhost}</span></h1>
    <${Err} error=${error} />
    <div class="grid2">
      <div class="card"><h2>Details</h2>${x ? html`<table class="kv"><tbody>
        <tr><td>type</td><td>${x.type}</td></tr><tr><td>durable</td><td>${String(x.durable)}</td></tr>
        <tr><td>auto delete</td><td>${String(x.auto_delete)}</td></tr><tr><td>internal</td><td>${String(x.internal)}</td></tr>
        <tr><td>publish in</td><td>${fmtRate(rate(x.message_stats, 'publish_in'))}</td></tr>
        <tr><td>publish out</td><td>${fmtRate(rate(x.message_stats, 'publish_out'))}</td></tr>
      </tbody></table>` : null}<h2 style="margin-top:10px">Arguments</h2><${KV} obj=${x?.arguments} /></div>
      <div class="card"><h2>Bindings from here</h2><${BindingRows} rows=${out ?? []} vhost=${vhost} own=${true} />
        ${real !== '' ? html`<h2 style="margin-top:10px">Add a binding</h2><form class="f" onSubmit=${(e) => bind(e).then(() => setBindError(null), setBindError)}>
          <label>to</label><select name="kind"><option value="q">queue</option><option value="e">exchange</option></select>
          <label>name</label><input type="text" name="dest" required />
          <label>routing key</label><input type="text" name="routing_key" />
          <span></span><div><button class="primary" type="submit">Bind</button></div></form><${Err} error=${bindError} />` : null}
        ${inb && inb.length ? html`<h2 style="margin-top:10px">Bindings to here</h2><${BindingRows} rows=${inb} vhost=${vhost} own=${false} />` : null}
      </div>
    </div>
    ${real !== '' ? html`<${Publish} vhost=${vhost} name=${name} exchange=${real} />` : null}
    ${real !== '' && !real.startsWith('amq.') ? html`<div class="card"><${Action} label="Delete exchange" cls="danger" confirm=${`Delete exchange ${real}?`}
      run=${() => api('DELETE', path)} done=${() => setDeleted(true)} /></div>` : null}
  </div>`;
}

export function Bindings() {
  const columns = [
    { label: 'vhost', key: 'vhost', sort: 'vhost', narrow: false },
    { label: 'source', sort: 'source', render: (b) => html`<a href=${xLink(b.vhost, b.source)}>${xName(b.source)}</a>` },
    { label: 'destination', sort: 'destination', name: true, render: (b) => html`<a href=${b.destination_type === 'queue' ? `#/queues/${enc(b.vhost)}/${enc(b.destination)}` : xLink(b.vhost, b.destination)}>${b.destination}</a> <span class="muted">${b.destination_type}</span>` },
    { label: 'routing key', sort: 'routing_key', render: (b) => html`<span class="mono">${b.routing_key}</span>` },
    { label: 'arguments', narrow: false, render: (b) => (Object.keys(b.arguments).length ? JSON.stringify(b.arguments) : '') },
  ];
  return html`<div><h1>Bindings</h1><div class="card"><${PagedTable} id="bindings" path="/bindings" columns=${columns}
    rowKey=${(b) => `${b.vhost}/${b.source}/${b.destination_type}/${b.destination}/${b.properties_key}`} /></div></div>`;
}

const connLink = (n) => `#/connections/${enc(n)}`;

export function Connections() {
  const columns = [
    { label: 'name', sort: 'name', name: true, render: (c) => html`<a href=${connLink(c.name)}>${c.name}</a>` },
    { label: 'user', key: 'user', sort: 'user' },
    { label: 'vhost', key: 'vhost', sort: 'vhost', narrow: false },
    { label: 'client', narrow: false, render: (c) => [c.client_properties?.product, c.client_properties?.version].filter(Boolean).join(' ') },
    { label: 'state', key: 'state', sort: 'state' },
    { label: 'channels', num: true, sort: 'channels', render: (c) => fmtNum(c.channels) },
    { label: 'from client', num: true, sort: 'recv_oct_details.rate', narrow: false, render: (c) => `${fmtBytes(c.recv_oct_details?.rate ?? 0)}/s` },
    { label: 'to client', num: true, sort: 'send_oct_details.rate', narrow: false, render: (c) => `${fmtBytes(c.send_oct_details?.rate ?? 0)}/s` },
  ];
  return html`<div><h1>Connections</h1><div class="card"><${PagedTable} id="connections" path="/connections" columns=${columns} rowKey=${(c) => c.name} /></div></div>`;
}

export function ConnectionPage({ name }) {
  const path = `/connections/${enc(name)}`;
  const [c, error] = usePoll(() => api('GET', path), [path]);
  const [chans] = usePoll(() => api('GET', `${path}/channels`), [path]);
  const [closed, setClosed] = useState(false);
  if (closed) return html`<div><h1>Connection</h1><p>Closed. <a href="#/connections">All connections</a></p></div>`;
  return html`<div><h1>Connection ${name}</h1><${Err} error=${error} />
    <div class="grid2">
      <div class="card"><h2>Details</h2>${c ? html`<table class="kv"><tbody>
        <tr><td>user</td><td>${c.user}</td></tr><tr><td>vhost</td><td>${c.vhost}</td></tr><tr><td>state</td><td>${c.state}</td></tr>
        <tr><td>peer</td><td>${c.peer_host}:${c.peer_port}</td></tr><tr><td>protocol</td><td>${c.protocol}</td></tr>
        <tr><td>auth mechanism</td><td>${c.auth_mechanism}</td></tr><tr><td>heartbeat</td><td>${c.timeout} s</td></tr>
        <tr><td>frame max</td><td>${fmtNum(c.frame_max)}</td></tr><tr><td>channel max</td><td>${fmtNum(c.channel_max)}</td></tr>
        <tr><td>connected at</td><td>${new Date(c.connected_at).toISOString()}</td></tr>
        <tr><td>received / sent</td><td>${fmtBytes(c.recv_oct)} / ${fmtBytes(c.send_oct)}</td></tr>
      </tbody></table>` : null}</div>
      <div class="card"><h2>Client properties</h2><${KV} obj=${c?.client_properties} /></div>
    </div>
    <div class="card"><h2>Channels</h2><${ChannelRows} rows=${chans ?? []} /></div>
    <${CloseConnection} path=${path} done=${() => setClosed(true)} />
  </div>`;
}

function CloseConnection({ path, done }) {
  const [reason, setReason] = useState('Closed via management UI');
  return html`<div class="card" id="close-connection"><h2>Close this connection</h2><div class="toolbar">
    <input type="text" value=${reason} onInput=${(e) => setReason(e.target.value)} aria-label="reason" />
    <${Action} label="Force close" cls="danger" run=${() => api('DELETE', path, undefined, { 'x-reason': reason })} done=${done} />
  </div></div>`;
}

function ChannelRows({ rows }) {
  return html`<div class="scroll"><table><thead><tr><th>channel</th><th>user</th><th>mode</th><th class="num">prefetch</th><th class="num">unacked</th>
    <th class="num">unconfirmed</th><th class="num">consumers</th><th class="num">publish</th><th class="num">deliver</th><th class="num">ack</th></tr></thead><tbody>
    ${rows.map((ch) => html`<tr key=${ch.name}><td>${ch.name}</td><td>${ch.user}</td><td>${[ch.confirm ? 'C' : '', ch.transactional ? 'T' : ''].join(' ')}</td>
      <td class="num">${ch.prefetch_count}</td><td class="num">${fmtNum(ch.messages_unacknowledged)}</td><td class="num">${fmtNum(ch.messages_unconfirmed)}</td>
      <td class="num">${ch.consumer_count}</td><td class="num">${fmtRate(rate(ch.message_stats, 'publish'))}</td>
      <td class="num">${fmtRate(rate(ch.message_stats, 'deliver_get'))}</td><td class="num">${fmtRate(rate(ch.message_stats, 'ack'))}</td></tr>`)}
  </tbody></table></div>`;
}

export function Channels() {
  const columns = [
    { label: 'channel', sort: 'name', name: true, render: (ch) => html`<a href=${connLink(ch.connection_details?.name ?? '')}>${ch.name}</a>` },
    { label: 'user', key: 'user', sort: 'user' },
    { label: 'vhost', key: 'vhost', narrow: false },
    { label: 'mode', narrow: false, render: (ch) => [ch.confirm ? 'confirm' : '', ch.transactional ? 'tx' : ''].join(' ') },
    { label: 'prefetch', num: true, key: 'prefetch_count', narrow: false },
    { label: 'unacked', num: true, sort: 'messages_unacknowledged', render: (ch) => fmtNum(ch.messages_unacknowledged) },
    { label: 'publish', num: true, sort: 'message_stats.publish_details.rate', render: (ch) => fmtRate(rate(ch.message_stats, 'publish')) },
    { label: 'deliver', num: true, sort: 'message_stats.deliver_get_details.rate', render: (ch) => fmtRate(rate(ch.message_stats, 'deliver_get')) },
    { label: 'ack', num: true, narrow: false, render: (ch) => fmtRate(rate(ch.message_stats, 'ack')) },
  ];
  return html`<div><h1>Channels</h1><div class="card"><${PagedTable} id="channels" path="/channels" columns=${columns} rowKey=${(c) => c.name} /></div></div>`;
}
