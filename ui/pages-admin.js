// Administration: users, virtual hosts, permissions, definitions (administrators only; the
// navigation hides them from everyone else). Built on RabbitMQ 3.10's endpoints; a broker that
// answers 404 there gets a notice instead of a form.
import { useState } from 'preact/hooks';
import { Action, api, ApiError, enc, Err, fmtNum, Form, html, usePoll } from './lib.js';

function Missing({ what }) {
  return html`<div class="notice" data-role="missing">This broker does not offer <code>${what}</code> (it answered 404).</div>`;
}
const missing = (e) => e instanceof ApiError && e.status === 404;
const tagList = (t) => (Array.isArray(t) ? t : String(t ?? '').split(',').filter(Boolean));

export function Users() {
  const [users, error, reload] = usePoll(() => api('GET', '/users'), []);
  if (missing(error)) return html`<div><h1>Users</h1><${Missing} what="/api/users" /></div>`;
  const put = async (f, verb) => {
    const body = { tags: f.get('tags') };
    if (f.get('password')) body.password = f.get('password');
    await api('PUT', `/users/${enc(f.get('name'))}`, body);
    reload();
    return `user ${f.get('name')} ${verb}`;
  };
  return html`<div><h1>Users</h1><${Err} error=${error} />
    <div class="card"><div class="scroll"><table id="users"><thead><tr><th>name</th><th>tags</th><th>can access</th><th></th></tr></thead><tbody>
      ${(users ?? []).map((u) => html`<tr key=${u.name}><td class="name">${u.name}</td><td>${tagList(u.tags).map((t) => html`<span class="tag" key=${t}>${t}</span>`)}</td>
        <td><a href="#/permissions">permissions</a></td>
        <td><${Action} label="Delete" cls="danger" confirm=${`Delete user ${u.name}?`} run=${() => api('DELETE', `/users/${enc(u.name)}`)} done=${reload} /></td></tr>`)}
    </tbody></table></div></div>
    <div class="grid2">
      <${Form} id="add-user" title="Add a user" button="Add user" run=${(f) => put(f, 'added')}>
        <label>name</label><input type="text" name="name" required />
        <label>password</label><input type="password" name="password" required />
        <label>tags</label><input type="text" name="tags" placeholder="administrator, monitoring, management" />
      <//>
      <${Form} id="change-user" title="Change a user" button="Update user" run=${(f) => put(f, 'updated')}>
        <label>name</label><select name="name">${(users ?? []).map((u) => html`<option key=${u.name}>${u.name}</option>`)}</select>
        <label>new password</label><input type="password" name="password" placeholder="unchanged when empty" />
        <label>tags</label><input type="text" name="tags" />
      <//>
    </div>
  </div>`;
}

export function Vhosts() {
  const [vhosts, error, reload] = usePoll(() => api('GET', '/vhosts'), []);
  return html`<div><h1>Virtual hosts</h1><${Err} error=${error} />
    <div class="card"><div class="scroll"><table id="vhosts"><thead><tr><th>name</th><th class="num">ready</th><th class="num">unacked</th><th class="num">total</th><th></th></tr></thead><tbody>
      ${(vhosts ?? []).map((v) => html`<tr key=${v.name}><td class="name">${v.name}</td><td class="num">${fmtNum(v.messages_ready ?? 0)}</td>
        <td class="num">${fmtNum(v.messages_unacknowledged ?? 0)}</td><td class="num">${fmtNum(v.messages ?? 0)}</td>
        <td><${Action} label="Delete" cls="danger" confirm=${`Delete vhost ${v.name} and everything in it?`} run=${() => api('DELETE', `/vhosts/${enc(v.name)}`)} done=${reload} /></td></tr>`)}
    </tbody></table></div></div>
    <${Form} id="add-vhost" title="Add a virtual host" button="Add virtual host" run=${async (f) => {
      try { await api('PUT', `/vhosts/${enc(f.get('name'))}`, { description: f.get('description') || '' }); } catch (e) {
        if (e instanceof ApiError && (e.status === 404 || e.status === 405)) throw new Error('This broker cannot create virtual hosts yet (PUT /api/vhosts answered ' + e.status + ').');
        throw e;
      }
      reload();
      return `vhost ${f.get('name')} added`;
    }}>
      <label>name</label><input type="text" name="name" required />
      <label>description</label><input type="text" name="description" />
    <//>
  </div>`;
}

export function Permissions() {
  const [perms, error, reload] = usePoll(() => api('GET', '/permissions'), []);
  const [users] = usePoll(() => api('GET', '/users').catch(() => []), [], 0);
  const [vhosts] = usePoll(() => api('GET', '/vhosts?columns=name'), [], 0);
  if (missing(error)) return html`<div><h1>Permissions</h1><${Missing} what="/api/permissions" /></div>`;
  return html`<div><h1>Permissions</h1><${Err} error=${error} />
    <div class="card"><div class="scroll"><table id="permissions"><thead><tr><th>user</th><th>vhost</th><th>configure</th><th>write</th><th>read</th><th></th></tr></thead><tbody>
      ${(perms ?? []).map((p) => html`<tr key=${p.user + '/' + p.vhost}><td>${p.user}</td><td>${p.vhost}</td><td class="mono">${p.configure}</td>
        <td class="mono">${p.write}</td><td class="mono">${p.read}</td>
        <td><${Action} label="Clear" cls="danger" run=${() => api('DELETE', `/permissions/${enc(p.vhost)}/${enc(p.user)}`)} done=${reload} /></td></tr>`)}
    </tbody></table></div></div>
    <${Form} id="set-permission" title="Set permissions" button="Set permissions" run=${async (f) => {
      await api('PUT', `/permissions/${enc(f.get('vhost'))}/${enc(f.get('user'))}`, { configure: f.get('configure'), write: f.get('write'), read: f.get('read') });
      reload();
      return `permissions of ${f.get('user')} in ${f.get('vhost')} set`;
    }}>
      <label>user</label><select name="user">${(users ?? []).map((u) => html`<option key=${u.name}>${u.name}</option>`)}</select>
      <label>vhost</label><select name="vhost">${(vhosts ?? []).map((v) => html`<option key=${v.name}>${v.name}</option>`)}</select>
      <label>configure regexp</label><input type="text" name="configure" value=".*" />
      <label>write regexp</label><input type="text" name="write" value=".*" />
      <label>read regexp</label><input type="text" name="read" value=".*" />
    <//>
  </div>`;
}

export function Definitions() {
  const [error, setError] = useState(null);
  const [ok, setOk] = useState(null);
  const download = async () => {
    setError(null);
    try {
      const defs = await api('GET', '/definitions');
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([JSON.stringify(defs, null, 2)], { type: 'application/json' }));
      a.download = `warren-definitions-${new Date().toISOString().slice(0, 10)}.json`;
      a.click();
      setOk('definitions downloaded');
    } catch (e) { setError(missing(e) ? new Error('This broker does not offer /api/definitions yet (404).') : e); }
  };
  const upload = async (e) => {
    e.preventDefault();
    setError(null); setOk(null);
    const file = new FormData(e.target).get('file');
    try {
      const text = await file.text();
      JSON.parse(text);
      await api('POST', '/definitions', text);
      setOk(`definitions from ${file.name} imported`);
    } catch (err) { setError(missing(err) ? new Error('This broker does not offer /api/definitions yet (404).') : err); }
  };
  return html`<div><h1>Definitions</h1>
    <div class="card"><h2>Export</h2><p class="muted">Users, vhosts, permissions, exchanges, queues and bindings as one JSON file (RabbitMQ's format).</p>
      <button class="primary" id="download-definitions" onClick=${download}>Download definitions</button></div>
    <div class="card"><h2>Import</h2><form onSubmit=${upload} id="upload-definitions" class="toolbar">
      <input type="file" name="file" accept="application/json,.json" required /><button class="primary" type="submit">Upload definitions</button></form></div>
    <${Err} error=${error} />${ok ? html`<div class="ok">${ok}</div>` : null}
  </div>`;
}
