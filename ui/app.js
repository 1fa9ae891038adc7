// Warren's management UI: login, layout, hash routes. Pages live in pages-*.js; everything
// they show comes from the management HTTP API (/api/), as any other client would call it.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, apiStatus, hasCredentials, html, isAdmin, session, setCredentials, usePoll, Err } from './lib.js';
import { Overview } from './pages-overview.js';
import { QueuePage, Queues } from './pages-queues.js';
import { Bindings, Channels, ConnectionPage, Connections, ExchangePage, Exchanges } from './pages-objects.js';
import { Definitions, Permissions, Users, Vhosts } from './pages-admin.js';

const NAV = [
  ['', 'Overview'], ['queues', 'Queues'], ['exchanges', 'Exchanges'], ['bindings', 'Bindings'],
  ['connections', 'Connections'], ['channels', 'Channels'],
  ['users', 'Users', true], ['vhosts', 'Virtual hosts', true], ['permissions', 'Permissions', true], ['definitions', 'Definitions', true],
];

function useHash() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash.replace(/^#\/?/, '').split('/').map((p) => decodeURIComponent(p));
}

function page(parts) {
  const [top, a, b] = parts;
  switch (top) {
    case '': case undefined: return html`<${Overview} />`;
    case 'queues': return a !== undefined && b !== undefined ? html`<${QueuePage} key=${a + '/' + b} vhost=${a} name=${b} />` : html`<${Queues} />`;
    case 'exchanges': return a !== undefined && b !== undefined ? html`<${ExchangePage} key=${a + '/' + b} vhost=${a} name=${b} />` : html`<${Exchanges} />`;
    case 'bindings': return html`<${Bindings} />`;
    case 'connections': return a !== undefined ? html`<${ConnectionPage} key=${a} name=${a} />` : html`<${Connections} />`;
    case 'channels': return html`<${Channels} />`;
    case 'users': return html`<${Users} />`;
    case 'vhosts': return html`<${Vhosts} />`;
    case 'permissions': return html`<${Permissions} />`;
    case 'definitions': return html`<${Definitions} />`;
    default: return html`<h1>Not found</h1><p><a href="#/">Overview</a></p>`;
  }
}

/** Alarms in effect (memory, disk), on every page: RabbitMQ's health check names them (503). */
function Alarms() {
  const [alarms] = usePoll(async () => {
    const b = await apiStatus('GET', '/health/checks/alarms');
    return b && b.status === 'failed' ? (b.alarms ?? []) : [];
  }, []);
  if (!alarms || alarms.length === 0) return null;
  return html`<div class="alarm" id="alarms" role="alert">
    ${alarms.map((a) => html`<div key=${a.resource}>⚠ ${a.resource} alarm in effect on ${a.node}: publishers are blocked</div>`)}
  </div>`;
}

function Layout({ onLogout }) {
  const parts = useHash();
  const top = parts[0] ?? '';
  return html`<div class="layout">
    <aside class="side">
      <div class="brand">Warren<small>AMQP 0-9-1 broker</small></div>
      <nav>${NAV.filter(([, , admin]) => !admin || isAdmin()).map(([k, label]) =>
        html`<a key=${k} href=${`#/${k}`} class=${top === k ? 'on' : ''}>${label}</a>`)}</nav>
      <div class="who">${session.user} <span class="muted">(${session.tags.join(', ') || 'no tags'})</span><br />
        <button onClick=${onLogout}>Log out</button></div>
    </aside>
    <main><${Alarms} />${page(parts)}</main>
  </div>`;
}

function Login({ onLogin }) {
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    setCredentials(f.get('username'), f.get('password'));
    try { await onLogin(); } catch (err) {
      setCredentials(null);
      setError(err instanceof ApiError && err.status === 401 ? new Error('Login failed: wrong user name or password') : err);
    }
  };
  return html`<div class="login card">
    <h1>Warren</h1>
    <form class="f" onSubmit=${submit} id="login">
      <label for="u">Username</label><input id="u" name="username" type="text" autocomplete="username" autofocus />
      <label for="p">Password</label><input id="p" name="password" type="password" autocomplete="current-password" />
      <span></span><button class="primary" type="submit">Log in</button>
    </form>
    <${Err} error=${error} />
  </div>`;
}

function App() {
  const [state, setState] = useState(hasCredentials() ? 'checking' : 'login');
  const check = async () => {
    const me = await api('GET', '/whoami');
    session.user = me.name;
    session.tags = Array.isArray(me.tags) ? me.tags : String(me.tags || '').split(',').filter(Boolean);
    setState('in');
  };
  useEffect(() => { if (state === 'checking') check().catch(() => { setCredentials(null); setState('login'); }); }, []);
  if (state === 'checking') return html`<div class="login muted">…</div>`;
  if (state === 'login') return html`<${Login} onLogin=${check} />`;
  return html`<${Layout} onLogout=${() => { setCredentials(null); session.user = null; session.tags = []; setState('login'); }} />`;
}

render(html`<${App} />`, document.getElementById('app'));
