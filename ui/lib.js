// Shared pieces of the UI: the API client (basic auth from the login), polling, formatting,
// and components used on several pages (paged server-side table, key/value table, chart).
import { h } from 'preact';
import { useEffect, useRef, useState, useCallback } from 'preact/hooks';
import htm from 'htm';

export const html = htm.bind(h);
const params = new URLSearchParams(location.search);
/** How often pages poll, in ms (?poll=1000 for a faster one; RabbitMQ's UI default is 5 s). */
export const POLL = Math.max(250, Number(params.get('poll')) || 5000);
/** Points kept in a chart (10 minutes at the default poll). */
const POINTS = 120;

export class ApiError extends Error {
  constructor(status, reason) { super(reason || `HTTP ${status}`); this.status = status; }
}

let auth = sessionStorage.getItem('warren.auth');
export const session = { user: null, tags: [] };
export const isAdmin = () => session.tags.includes('administrator');
export const isMonitor = () => isAdmin() || session.tags.includes('monitoring');

export function setCredentials(user, pass) {
  auth = user === null ? null : btoa(unescape(encodeURIComponent(`${user}:${pass}`)));
  if (auth === null) sessionStorage.removeItem('warren.auth'); else sessionStorage.setItem('warren.auth', auth);
}
export const hasCredentials = () => auth !== null;

/** A request to the management API; JSON in and out, ApiError on anything but 2xx. */
export async function api(method, path, body, headers = {}) {
  const init = { method, headers: { 'x-requested-with': 'XMLHttpRequest', ...headers } };
  if (auth) init.headers.authorization = `Basic ${auth}`;
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(`/api${path}`, init);
  const text = await res.text();
  let data = text;
  try { data = text === '' ? null : JSON.parse(text); } catch { /* text */ }
  if (!res.ok) throw new ApiError(res.status, data && data.reason ? `${data.error}: ${data.reason}` : `HTTP ${res.status}`);
  return data;
}

/** The body of a request whatever its status (health checks answer 503 with a JSON body). */
export async function apiStatus(method, path) {
  const res = await fetch(`/api${path}`, { method, headers: { 'x-requested-with': 'XMLHttpRequest', ...(auth ? { authorization: `Basic ${auth}` } : {}) } });
  try { return await res.json(); } catch { return null; }
}

export const enc = encodeURIComponent;
export const qpath = (vhost, name) => `${enc(vhost)}/${enc(name)}`;

/** Calls `load` now and every POLL ms while mounted; returns [data, error, reload]. */
export function usePoll(load, deps = [], every = POLL) {
  const [state, set] = useState({ data: null, error: null });
  const seq = useRef(0);
  const run = useCallback(() => {
    const my = ++seq.current;
    load().then((data) => { if (my === seq.current) set({ data, error: null }); },
      (error) => { if (my === seq.current) set((s) => ({ data: s.data, error })); });
  }, deps);
  useEffect(() => {
    run();
    if (!every) return undefined;
    const t = setInterval(() => { if (!document.hidden) run(); }, every);
    return () => { clearInterval(t); seq.current++; };
  }, [run]);
  return [state.data, state.error, run];
}

export function fmtNum(n) {
  if (n === undefined || n === null) return '';
  return typeof n === 'number' ? n.toLocaleString('en-US', { maximumFractionDigits: n < 10 && n % 1 ? 1 : 0 }) : String(n);
}
export const rate = (stats, key) => stats?.[`${key}_details`]?.rate ?? 0;
export function fmtRate(r) { return r === undefined || r === null ? '' : `${r < 10 && r % 1 ? r.toFixed(1) : Math.round(r).toLocaleString('en-US')}/s`; }
export function fmtBytes(b) {
  if (b === undefined || b === null) return '';
  const u = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
  return `${i === 0 ? b : b.toFixed(1)} ${u[i]}`;
}
export function fmtAge(ms) {
  if (ms === null || ms === undefined) return '';
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}
export const fmtValue = (v) => (v === null || v === undefined ? '' : v === '' ? '""' : typeof v === 'object' ? JSON.stringify(v) : String(v));

export function Err({ error }) {
  if (!error) return null;
  return html`<div class="error" role="alert">${error.message || String(error)}</div>`;
}

/** A JSON object as a two-column table (nested values as JSON). */
export function KV({ obj, empty = 'none' }) {
  const keys = obj && typeof obj === 'object' ? Object.keys(obj) : [];
  if (keys.length === 0) return html`<div class="muted">${empty}</div>`;
  return html`<div class="scroll"><table class="kv"><tbody>${keys.map((k) => html`<tr key=${k}><td>${k}</td><td class="mono">${fmtValue(obj[k])}</td></tr>`)}</tbody></table></div>`;
}

/**
 * A list endpoint of the API as a table, paginated, sorted and filtered by the server (the
 * API's page, page_size, name, sort, sort_reverse), polled. `columns`: [{ key, label, sort,
 * num, render(item) }]; `fields`: what to ask for (the API's columns=).
 */
export function PagedTable({ path, columns, fields, rowKey, pageSize = 50, id, extra }) {
  const [page, setPage] = useState(1);
  const [filter, setFilter] = useState('');
  const [regex, setRegex] = useState(false);
  const [sort, setSort] = useState(null);
  const [reverse, setReverse] = useState(false);
  const q = new URLSearchParams({ page: String(page), page_size: String(pageSize), name: filter, use_regex: String(regex) });
  if (sort) { q.set('sort', sort); q.set('sort_reverse', String(reverse)); }
  if (fields) q.set('columns', fields.join(','));
  const sep = path.includes('?') ? '&' : '?';
  const [data, error] = usePoll(() => api('GET', `${path}${sep}${q}`), [path, page, filter, regex, sort, reverse]);
  const items = data?.items ?? [];
  const onSort = (c) => {
    if (!c.sort) return;
    if (sort === c.sort) setReverse(!reverse); else { setSort(c.sort); setReverse(!!c.num); }
    setPage(1);
  };
  return html`<div id=${id}>
    <div class="toolbar">
      <input type="text" placeholder="Filter by name" value=${filter} aria-label="filter"
        onInput=${(e) => { setFilter(e.target.value); setPage(1); }} />
      <label class="muted"><input type="checkbox" checked=${regex} onChange=${(e) => setRegex(e.target.checked)} /> regex</label>
      <span class="grow"></span>
      ${extra}
      <span class="muted" data-role="count">${data ? `${fmtNum(data.filtered_count)} of ${fmtNum(data.total_count)}` : ''}</span>
    </div>
    <${Err} error=${error} />
    <div class="scroll"><table>
      <thead><tr>${columns.map((c) => html`<th key=${c.label} class=${`${c.sort ? 'sortable' : ''} ${c.num ? 'num' : ''} ${c.narrow === false ? 'hide-narrow' : ''}`}
        onClick=${() => onSort(c)}>${c.label}${sort && sort === c.sort ? (reverse ? ' ▼' : ' ▲') : ''}</th>`)}</tr></thead>
      <tbody>${items.map((it) => html`<tr key=${rowKey(it)}>${columns.map((c) => html`<td key=${c.label}
        class=${`${c.num ? 'num' : ''} ${c.name ? 'name' : ''} ${c.narrow === false ? 'hide-narrow' : ''}`}>${c.render ? c.render(it) : fmtValue(it[c.key])}</td>`)}</tr>`)}</tbody>
    </table></div>
    ${data && data.filtered_count === 0 ? html`<div class="muted">nothing here</div>` : null}
    <div class="pager">
      <button disabled=${page <= 1} onClick=${() => setPage(page - 1)}>‹ prev</button>
      <span>page ${data?.page ?? page} of ${data?.page_count ?? 1}</span>
      <button disabled=${!data || page >= data.page_count} onClick=${() => setPage(page + 1)}>next ›</button>
    </div>
  </div>`;
}

/**
 * A live time-series chart (uPlot): `sample` is the latest {label: value} (one per poll);
 * points accumulate while the page is open. data-points on the element counts them.
 */
export function Chart({ title, sample, series, unit = '', id }) {
  const el = useRef(null);
  const plot = useRef(null);
  const data = useRef([[], ...series.map(() => [])]);
  const [points, setPoints] = useState(0);
  useEffect(() => {
    const width = () => Math.max(200, el.current ? el.current.clientWidth : 200);
    const opts = {
      width: width(), height: 180,
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, value: (_u, v) => (v === null ? '' : `${fmtNum(v)}${unit}`) }))],
      axes: [{}, { size: 60, values: (_u, vals) => vals.map((v) => fmtNum(v)) }],
      scales: { x: { time: true, range: (_u, min, max) => [Math.min(min ?? 0, (max ?? 0) - 30), max ?? 0] } },
      legend: { live: true },
    };
    plot.current = new uPlot(opts, data.current, el.current);
    const ro = new ResizeObserver(() => { if (el.current && plot.current) plot.current.setSize({ width: width(), height: 180 }); });
    ro.observe(el.current);
    return () => { ro.disconnect(); plot.current.destroy(); };
  }, []);
  useEffect(() => {
    if (!sample || !plot.current) return;
    const d = data.current;
    d[0].push(Date.now() / 1000);
    series.forEach((s, i) => d[i + 1].push(sample[s.key] ?? 0));
    if (d[0].length > POINTS) for (const a of d) a.shift();
    plot.current.setData(d);
    setPoints(d[0].length);
  }, [sample]);
  return html`<div class="card"><h2>${title}</h2><div class="chart" ref=${el} id=${id} data-points=${points}></div></div>`;
}

/** A button that runs an async action, shows its error, and confirms first when `confirm` is set. */
export function Action({ label, run, confirm: ask, cls = '', done }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const click = async () => {
    if (ask && !window.confirm(ask)) return;
    setBusy(true); setError(null);
    try { await run(); done?.(); } catch (e) { setError(e); } finally { setBusy(false); }
  };
  return html`<span><button class=${cls} disabled=${busy} onClick=${click}>${label}</button><${Err} error=${error} /></span>`;
}

/** A form whose submit runs `run(FormData)`, showing an error or `ok`. */
export function Form({ id, title, run, children, button }) {
  const [error, setError] = useState(null);
  const [ok, setOk] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null); setOk(null);
    try { setOk(await run(new FormData(e.target))); e.target.reset(); } catch (err) { setError(err); }
  };
  return html`<div class="card"><h2>${title}</h2><form class="f" id=${id} onSubmit=${submit}>${children}
    <span></span><div><button class="primary" type="submit">${button}</button></div></form>
    <${Err} error=${error} />${ok ? html`<div class="ok">${ok}</div>` : null}</div>`;
}

