// Queues: the paged list, and a queue's page (charts, arguments, bindings, consumers, get,
// publish, purge, delete, and dead-letter replay).
import { useState } from 'preact/hooks';
import { Action, api, ApiError, Chart, enc, Err, fmtAge, Form, fmtBytes, fmtNum, fmtRate, html, KV, PagedTable, qpath, rate, usePoll } from './lib.js';
import { MessageView } from './messages.js';
import { DEPTH_SERIES, RATE_SERIES, ratesOf } from './pages-overview.js';

const queueLink = (q) => `#/queues/${enc(q.vhost)}/${enc(q.name)}`;
const lag = (q) => (q.head_message_timestamp ? fmtAge(Date.now() - q.head_message_timestamp * 1000) : '');

export function VhostSelect({ value, onChange }) {
  const [vhosts] = usePoll(() => api('GET', '/vhosts?columns=name'), [], 0);
  return html`<select aria-label="vhost" value=${value} onChange=${(e) => onChange(e.target.value)}>
    <option value="">all vhosts</option>${(vhosts ?? []).map((v) => html`<option key=${v.name} value=${v.name}>${v.name}</option>`)}
  </select>`;
}

export function Queues() {
  const [vhost, setVhost] = useState('');
  const columns = [
    { label: 'vhost', key: 'vhost', sort: 'vhost', narrow: false },
    { label: 'name', sort: 'name', name: true, render: (q) => html`<a href=${queueLink(q)}>${q.name}</a>` },
    { label: 'type', key: 'type', narrow: false },
    { label: 'state', key: 'state', narrow: false },
    { label: 'ready', sort: 'messages_ready', num: true, render: (q) => html`<span data-ready>${fmtNum(q.messages_ready ?? 0)}</span>` },
    { label: 'unacked', sort: 'messages_unacknowledged', num: true, render: (q) => fmtNum(q.messages_unacknowledged ?? 0) },
    { label: 'consumers', sort: 'consumers', num: true, render: (q) => fmtNum(q.consumers) },
    { label: 'incoming', sort: 'message_stats.publish_details.rate', num: true, narrow: false, render: (q) => fmtRate(rate(q.message_stats, 'publish')) },
    { label: 'deliver', sort: 'message_stats.deliver_get_details.rate', num: true, narrow: false, render: (q) => fmtRate(rate(q.message_stats, 'deliver_get')) },
    { label: 'ack', sort: 'message_stats.ack_details.rate', num: true, narrow: false, render: (q) => fmtRate(rate(q.message_stats, 'ack')) },
    { label: 'oldest', sort: 'head_message_timestamp', num: true, narrow: false, render: lag },
  ];
  const fields = ['name', 'vhost', 'type', 'state', 'messages_ready', 'messages_unacknowledged', 'consumers', 'head_message_timestamp',
    'message_stats.publish_details', 'message_stats.deliver_get_details', 'message_stats.ack_details'];
  return html`<div>
    <h1>Queues</h1>
    <div class="card"><${PagedTable} id="queues" path=${vhost ? `/queues/${enc(vhost)}` : '/queues'} columns=${columns} fields=${fields}
      rowKey=${(q) => `${q.vhost}/${q.name}`} extra=${html`<${VhostSelect} value=${vhost} onChange=${setVhost} />`} /></div>
    <${AddQueue} />
  </div>`;
}

function AddQueue() {
  return html`<${Form} id="add-queue" title="Add a queue" button="Add queue" run=${async (f) => {
    const args = f.get('arguments').trim() === '' ? {} : JSON.parse(f.get('arguments'));
    await api('PUT', `/queues/${qpath(f.get('vhost') || '/', f.get('name'))}`, { durable: f.get('durable') === 'on', auto_delete: false, arguments: args });
    return `queue ${f.get('name')} declared`;
  }}>
    <label>vhost</label><input type="text" name="vhost" value="/" />
    <label>name</label><input type="text" name="name" required />
    <label>durable</label><input type="checkbox" name="durable" checked />
    <label>arguments (JSON)</label><textarea name="arguments" placeholder='{"x-dead-letter-exchange": "", "x-max-length": 1000}'></textarea>
  <//>`;
}

export function QueuePage({ vhost, name }) {
  const path = `/queues/${qpath(vhost, name)}`;
  const [q, error] = usePoll(() => api('GET', path), [path]);
  const [bindings] = usePoll(() => api('GET', `${path}/bindings`), [path]);
  const [consumers] = usePoll(() => api('GET', `/consumers/${enc(vhost)}`).then((cs) => cs.filter((c) => c.queue?.name === name)), [path]);
  const [sources] = usePoll(() => api('GET', `${path}/replay`).catch((e) => (e instanceof ApiError && e.status === 404 ? null : Promise.reject(e))), [path], 0);
  const [sawDeadLetters, setSawDeadLetters] = useState(false);
  const [deleted, setDeleted] = useState(false);
  if (deleted) return html`<div><h1>Queue ${name}</h1><p>Deleted. <a href="#/queues">All queues</a></p></div>`;
  if (error && !q) return html`<div><h1>Queue ${name}</h1><${Err} error=${error} /></div>`;
  const replayable = sources !== null && sources !== undefined && (sources.dead_letter_sources.length > 0 || sawDeadLetters);
  return html`<div>
    <h1>Queue <span id="queue-name">${name}</span> <span class="muted" style="font-size:13px">in vhost ${vhost}</span></h1>
    <${Err} error=${error} />
    ${q ? html`<div class="totals">
      <div class="total"><b id="queue-ready">${fmtNum(q.messages_ready ?? 0)}</b><span>ready</span></div>
      <div class="total"><b id="queue-unacked">${fmtNum(q.messages_unacknowledged ?? 0)}</b><span>unacked</span></div>
      <div class="total"><b>${fmtNum(q.consumers)}</b><span>consumers</span></div>
      <div class="total"><b>${fmtBytes(q.message_bytes ?? 0)}</b><span>ready bytes</span></div>
    </div>` : null}
    <div class="grid2">
      <${Chart} id="queue-chart-depth" title="Queued messages" series=${DEPTH_SERIES} sample=${q} />
      <${Chart} id="queue-chart-rates" title="Message rates (per second)" series=${RATE_SERIES.filter((s) => s.key !== 'return_unroutable')} unit="/s" sample=${q ? ratesOf(q.message_stats) : null} />
    </div>
    <div class="grid2">
      <div class="card"><h2>Details</h2>${q ? html`<table class="kv"><tbody>
        <tr><td>type</td><td>${q.type}</td></tr><tr><td>state</td><td>${q.state}</td></tr>
        <tr><td>durable</td><td>${String(q.durable)}</td></tr><tr><td>auto delete</td><td>${String(q.auto_delete)}</td></tr>
        <tr><td>exclusive</td><td>${String(q.exclusive)}</td></tr>
      </tbody></table>` : null}<h2 style="margin-top:10px">Arguments</h2><${KV} obj=${q?.arguments} /></div>
      <div class="card"><h2>Bindings</h2><div class="scroll"><table><thead><tr><th>from</th><th>routing key</th><th>arguments</th></tr></thead><tbody>
        ${(bindings ?? []).map((b) => html`<tr key=${b.source + b.properties_key}><td>${b.source === '' ? '(default exchange)' : html`<a href=${`#/exchanges/${enc(vhost)}/${enc(b.source)}`}>${b.source}</a>`}</td>
          <td class="mono">${b.routing_key}</td><td class="mono">${Object.keys(b.arguments).length ? JSON.stringify(b.arguments) : ''}</td></tr>`)}
      </tbody></table></div>
      <h2 style="margin-top:10px">Consumers</h2>
      ${consumers && consumers.length ? html`<div class="scroll"><table><thead><tr><th>tag</th><th>channel</th><th>ack</th><th>prefetch</th><th>active</th></tr></thead><tbody>
        ${consumers.map((c) => html`<tr key=${c.consumer_tag}><td class="mono">${c.consumer_tag}</td><td>${c.channel_details?.name}</td>
          <td>${String(c.ack_required)}</td><td class="num">${c.prefetch_count}</td><td>${String(c.active)}</td></tr>`)}
      </tbody></table></div>` : html`<div class="muted">no consumers</div>`}</div>
    </div>
    ${replayable ? html`<${Replay} vhost=${vhost} name=${name} sources=${sources.dead_letter_sources} />` : null}
    <${GetMessages} path=${path} onDeadLetters=${() => setSawDeadLetters(true)} />
    <${Publish} vhost=${vhost} name=${name} />
    <div class="card"><h2>Purge and delete</h2><div class="toolbar">
      <${Action} label="Purge messages" cls="danger" confirm=${`Purge every ready message of ${name}?`} run=${() => api('DELETE', `${path}/contents`)} />
      <${Action} label="Delete queue" cls="danger" confirm=${`Delete queue ${name}?`} run=${() => api('DELETE', path)} done=${() => setDeleted(true)} />
    </div></div>
  </div>`;
}

function GetMessages({ path, onDeadLetters }) {
  const [msgs, setMsgs] = useState(null);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    setError(null);
    try {
      const got = await api('POST', `${path}/get`, { count: Number(f.get('count')), ackmode: f.get('ackmode'), encoding: 'auto', truncate: 50000 });
      setMsgs(got);
      if (got.some((m) => !Array.isArray(m.properties) && m.properties.headers && m.properties.headers['x-death'])) onDeadLetters();
    } catch (err) { setError(err); }
  };
  return html`<div class="card" id="get-messages"><h2>Get messages</h2>
    <form class="f" onSubmit=${submit}>
      <label>ack mode</label><select name="ackmode">
        <option value="ack_requeue_true">Nack message requeue true (peek)</option>
        <option value="ack_requeue_false">Ack message requeue false (take)</option>
        <option value="reject_requeue_true">Reject requeue true</option>
        <option value="reject_requeue_false">Reject requeue false (dead-letter)</option>
      </select>
      <label>messages</label><input type="number" name="count" value="1" min="1" max="500" />
      <span></span><div><button class="primary" type="submit">Get messages</button></div>
    </form>
    <${Err} error=${error} />
    ${msgs ? (msgs.length === 0 ? html`<div class="muted" style="margin-top:8px">queue is empty</div>` : msgs.map((m, i) => html`<${MessageView} key=${i + m.payload} m=${m} index=${i} />`)) : null}
  </div>`;
}

/** Publish to the queue through the default exchange, as RabbitMQ's UI does. */
export function Publish({ vhost, name, exchange = '' }) {
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    setError(null); setResult(null);
    try {
      const properties = f.get('properties').trim() === '' ? {} : JSON.parse(f.get('properties'));
      const headers = f.get('headers').trim() === '' ? undefined : JSON.parse(f.get('headers'));
      if (headers) properties.headers = headers;
      properties.delivery_mode = Number(f.get('delivery_mode'));
      const x = exchange === '' ? 'amq.default' : exchange;
      const r = await api('POST', `/exchanges/${qpath(vhost, x)}/publish`,
        { properties, routing_key: exchange === '' ? name : f.get('routing_key'), payload: f.get('payload'), payload_encoding: 'string' });
      setResult(r.routed ? 'Message published.' : 'Message published, but not routed.');
    } catch (err) { setError(err); }
  };
  return html`<div class="card" id="publish"><h2>Publish a message${exchange === '' ? ' (through the default exchange)' : ''}</h2>
    <form class="f" onSubmit=${submit}>
      ${exchange !== '' ? html`<label>routing key</label><input type="text" name="routing_key" />` : null}
      <label>delivery mode</label><select name="delivery_mode"><option value="2">2 - persistent</option><option value="1">1 - non-persistent</option></select>
      <label>headers (JSON)</label><input type="text" name="headers" placeholder='{"kind": "test"}' />
      <label>properties (JSON)</label><input type="text" name="properties" placeholder='{"content_type": "application/json", "message_id": "1"}' />
      <label>payload</label><textarea name="payload"></textarea>
      <span></span><div><button class="primary" type="submit">Publish message</button></div>
    </form>
    <${Err} error=${error} />${result ? html`<div class="ok" data-role="published">${result}</div>` : null}
  </div>`;
}

/** Warren's dead-letter replay: back to where they died from, or moved to a named queue. */
function Replay({ vhost, name, sources }) {
  const [report, setReport] = useState(null);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    setError(null); setReport(null);
    const to = f.get('to').trim();
    try {
      setReport(await api('POST', `/queues/${qpath(vhost, name)}/replay`, { count: f.get('all') === 'on' ? 'all' : Number(f.get('count')), ...(to ? { to } : {}) }));
    } catch (err) { setError(err); }
  };
  return html`<div class="card" id="replay"><h2>Replay dead letters</h2>
    <p class="muted" style="margin-top:0">Publishes messages from the head of this queue again to the exchange and routing keys of their
      latest x-death entry (where they died from), or to the queue named below; each is removed from here only after it is safely
      stored where it went. They keep their x-death history and get an <code>x-warren-replayed</code> header.
      ${sources.length ? html` Dead letters arrive here from: ${sources.map((s) => html`<a class="tag" key=${s} href=${`#/queues/${enc(vhost)}/${enc(s)}`}>${s}</a>`)}` : null}</p>
    <form class="f" onSubmit=${submit}>
      <label>messages</label><div><input type="number" name="count" value="1" min="1" /> <label><input type="checkbox" name="all" /> all</label></div>
      <label>to queue (optional)</label><input type="text" name="to" placeholder="where they died from" />
      <span></span><div><button class="primary" type="submit">Replay</button></div>
    </form>
    <${Err} error=${error} />
    ${report ? html`<div class="ok" data-role="replayed">Replayed ${report.replayed}; ${report.remaining} left here.
      ${Object.entries(report.skipped).filter(([, n]) => n > 0).map(([k, n]) => html` <span class="tag">${k.replace(/_/g, ' ')}: ${n}</span>`)}</div>` : null}
  </div>`;
}
