// Importing a RabbitMQ definitions export (GET /api/definitions, rabbitmqctl export_definitions,
// load_definitions) at start, as rabbit_definitions does: vhosts, users (hashes as exported),
// permissions, topic permissions, policies, vhost limits (the `vhost-limits` parameters),
// exchanges, queues, bindings. Other runtime parameters (federation, shovels) are named in a
// warning and ignored.
//
// Two phases, so nothing is half-applied: everything is checked first (every problem is listed,
// each naming the file and the item), then applied. Applying is idempotent, as RabbitMQ's import
// at every boot is: users, vhosts and permissions are set again, and exchanges, queues and
// bindings that exist already are left as they are, messages included.
import { readFileSync } from 'node:fs';
import type { Logger } from './log.js';
import { compilePattern } from './core/access.js';
import type { Actor } from './core/actor.js';
import { exchangeType } from './core/exchange/types.js';
import { DEFAULT_HASHING, hashLength, hashPassword, isHashingAlgorithm, type HashingAlgorithm } from './core/password.js';
import { validateQueueArgs } from './core/queue/arguments.js';
import { PolicyError, validatePolicy } from './core/policy-validate.js';
import type { PolicyRecord } from './core/policy.js';
import type { Registry } from './core/registry.js';
import type { UserRecord } from './core/users.js';
import { LimitError, validateLimits } from './core/vhost-limits.js';
import { toTable, type FieldTable } from './protocol/field-table.js';

type Json = Record<string, unknown>;

const KNOWN = new Set([
  'rabbit_version', 'rabbitmq_version', 'product_name', 'product_version', 'users', 'vhosts', 'permissions',
  'topic_permissions', 'parameters', 'global_parameters', 'policies', 'queues', 'exchanges', 'bindings',
]);

interface Plan {
  vhosts: { name: string; description: string; tags: string[] }[];
  users: UserRecord[];
  permissions: { user: string; vhost: string; configure: string; write: string; read: string }[];
  topicPermissions: { user: string; vhost: string; exchange: string; write: string; read: string }[];
  exchanges: { vhost: string; name: string; type: string; durable: boolean; autoDelete: boolean; internal: boolean; args: FieldTable }[];
  queues: { vhost: string; name: string; durable: boolean; autoDelete: boolean; args: FieldTable }[];
  policies: PolicyRecord[];
  limits: { vhost: string; value: unknown }[];
  bindings: { vhost: string; source: string; destination: string; destKind: 'queue' | 'exchange'; routingKey: string; args: FieldTable }[];
}

/** Imports `source` (a file path, or parsed JSON) into the registry; throws before changing anything. */
export function importDefinitions(registry: Registry, source: string | Json, log: Logger): void {
  const file = typeof source === 'string' ? source : 'definitions';
  const json = typeof source === 'string' ? readJson(source) : source;
  const plan = check(registry, json, file, log);
  apply(registry, plan, log);
  log.info('imported definitions', {
    file, vhosts: plan.vhosts.length, users: plan.users.length, permissions: plan.permissions.length + plan.topicPermissions.length,
    policies: plan.policies.length, vhostLimits: plan.limits.length, exchanges: plan.exchanges.length, queues: plan.queues.length, bindings: plan.bindings.length,
  });
}

function readJson(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read definitions file ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as Json;
  } catch (e) {
    throw new Error(`definitions file ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Reads one list item's fields, recording what is wrong with them. */
class Item {
  constructor(readonly o: Json, readonly label: string, private readonly problems: string[]) {}
  fail(problem: string): void { this.problems.push(`${this.label}: ${problem}`); }
  str(key: string, fallback?: string): string {
    const v = this.o[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string') { this.fail(`'${key}' must be a string`); return fallback ?? ''; }
    return v;
  }
  name(key: string): string {
    const v = this.str(key);
    if (v === '' && typeof this.o[key] === 'string') this.fail(`'${key}' must not be empty`);
    return v;
  }
  bool(key: string, fallback: boolean): boolean {
    const v = this.o[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') { this.fail(`'${key}' must be true or false`); return fallback; }
    return v;
  }
  table(key: string): FieldTable {
    const v = this.o[key];
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) { this.fail(`'${key}' must be an object`); return {}; }
    return toTable(v as Json);
  }
  /** Tags as 3.10 exports them (a list) or as older versions did (a comma-separated string). */
  tags(key: string): string[] {
    const v = this.o[key];
    if (v === undefined) return [];
    if (typeof v === 'string') return v.split(',').map((t) => t.trim()).filter((t) => t !== '');
    if (Array.isArray(v) && v.every((t) => typeof t === 'string')) return v as string[];
    this.fail(`'${key}' must be a list of strings or a comma-separated string`);
    return [];
  }
  pattern(key: string): string {
    const p = this.str(key);
    try { compilePattern(p, key); } catch (e) { this.fail(`'${key}' is ${(e as Error).message}`); }
    return p;
  }
}

function list(json: Json, key: string, file: string, problems: string[], describe: (o: Json) => string): Item[] {
  const v = json[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) { problems.push(`${file}: '${key}' must be a list`); return []; }
  return v.map((o, i) => {
    const ok = typeof o === 'object' && o !== null && !Array.isArray(o);
    const item = new Item(ok ? (o as Json) : {}, `${file}: ${key}[${i}]${ok ? describe(o as Json) : ''}`, problems);
    if (!ok) item.fail('must be an object');
    return item;
  });
}

const named = (o: Json) => (typeof o.name === 'string' ? ` ('${o.name}')` : '');
const inVhost = (o: Json) => `${named(o)}${typeof o.vhost === 'string' ? ` in vhost '${o.vhost}'` : ''}`;

/** rabbit_password:hashing_mod/1: exports older than 3.6.0 carry no algorithm and were MD5. */
function defaultAlgorithm(version: unknown): HashingAlgorithm {
  if (typeof version !== 'string') return DEFAULT_HASHING;
  const [maj = 0, min = 0] = version.split('.').map(Number);
  return maj < 3 || (maj === 3 && min < 6) ? 'rabbit_password_hashing_md5' : DEFAULT_HASHING;
}

function check(registry: Registry, json: unknown, file: string, log: Logger): Plan {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${file}: definitions must be a JSON object`);
  const d = json as Json;
  const problems: string[] = [];
  for (const k of Object.keys(d)) if (!KNOWN.has(k)) log.warn('definitions: unknown key ignored', { file, key: k });
  const plan: Plan = { vhosts: [], users: [], permissions: [], topicPermissions: [], policies: [], limits: [], exchanges: [], queues: [], bindings: [] };
  for (const it of list(d, 'vhosts', file, problems, named)) {
    const meta = (typeof it.o.metadata === 'object' && it.o.metadata !== null ? it.o.metadata : {}) as Json;
    const m = new Item(meta, it.label, problems);
    plan.vhosts.push({ name: it.name('name'), description: it.o.description !== undefined ? it.str('description', '') : m.str('description', ''),
      tags: it.o.tags !== undefined ? it.tags('tags') : m.tags('tags') });
  }
  const algorithm = defaultAlgorithm(d.rabbit_version ?? d.rabbitmq_version);
  for (const it of list(d, 'users', file, problems, named)) plan.users.push(userOf(it, algorithm));
  const vhosts = new Set([...registry.vhosts.keys(), ...plan.vhosts.map((v) => v.name)]);
  const users = new Set([...registry.users.list().map((u) => u.name), ...plan.users.map((u) => u.name)]);
  const refs = (it: Item, user: string, vhost: string) => {
    if (!users.has(user)) it.fail(`no user '${user}' (neither defined here nor existing)`);
    if (!vhosts.has(vhost)) it.fail(`no vhost '${vhost}' (neither defined here nor existing)`);
  };
  const perm = (o: Json) => ` (user '${String(o.user)}' in vhost '${String(o.vhost)}')`;
  for (const it of list(d, 'permissions', file, problems, perm)) {
    const p = { user: it.str('user'), vhost: it.str('vhost'), configure: it.pattern('configure'), write: it.pattern('write'), read: it.pattern('read') };
    refs(it, p.user, p.vhost);
    plan.permissions.push(p);
  }
  for (const it of list(d, 'topic_permissions', file, problems, perm)) {
    const p = { user: it.str('user'), vhost: it.str('vhost'), exchange: it.str('exchange'), write: it.pattern('write'), read: it.pattern('read') };
    refs(it, p.user, p.vhost);
    plan.topicPermissions.push(p);
  }
  const has = (vhost: string) => vhosts.has(vhost);
  for (const it of list(d, 'policies', file, problems, inVhost)) {
    const vhost = it.str('vhost');
    const name = it.name('name');
    if (!has(vhost)) it.fail(`no vhost '${vhost}'`);
    try {
      plan.policies.push(validatePolicy('policy', vhost, name, { pattern: it.o.pattern, definition: it.o.definition, priority: it.o.priority, applyTo: it.o['apply-to'] }));
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
      it.fail(e.detail);
    }
  }
  const ignored: string[] = [];
  for (const it of list(d, 'parameters', file, problems, inVhost)) {
    const component = it.str('component');
    if (component !== 'vhost-limits') { ignored.push(`${component}/${String(it.o.name)}`); continue; }
    const vhost = it.str('vhost');
    if (!has(vhost)) it.fail(`no vhost '${vhost}'`);
    // An emptied limits parameter exports as [] (an empty Erlang proplist).
    const value = Array.isArray(it.o.value) && it.o.value.length === 0 ? {} : it.o.value;
    try {
      validateLimits(value);
      plan.limits.push({ vhost, value });
    } catch (e) {
      if (!(e instanceof LimitError)) throw e;
      it.fail(e.detail);
    }
  }
  if (ignored.length > 0) log.warn('definitions: runtime parameters other than vhost-limits are not supported and were ignored', { file, parameters: ignored });
  for (const it of list(d, 'exchanges', file, problems, inVhost)) {
    const x = { vhost: it.str('vhost'), name: it.name('name'), type: it.str('type'), durable: it.bool('durable', true),
      autoDelete: it.bool('auto_delete', false), internal: it.bool('internal', false), args: it.table('arguments') };
    if (!has(x.vhost)) it.fail(`no vhost '${x.vhost}'`);
    const def = exchangeType(x.type);
    if (def === undefined) it.fail(`unknown exchange type '${x.type}'`);
    else attempt(it, () => def.validateDeclare?.(x.args, `exchange '${x.name}' in vhost '${x.vhost}'`));
    // rabbit_definitions skips amq.* exchanges (they are the broker's own), with a warning.
    if (x.name.startsWith('amq.')) log.warn('definitions: skipping an exchange whose name begins with amq.', { file, exchange: x.name });
    else plan.exchanges.push(x);
  }
  for (const it of list(d, 'queues', file, problems, inVhost)) {
    const q = { vhost: it.str('vhost'), name: it.name('name'), durable: it.bool('durable', true), autoDelete: it.bool('auto_delete', false), args: it.table('arguments') };
    if (!has(q.vhost)) it.fail(`no vhost '${q.vhost}'`);
    if (q.name.startsWith('amq.')) it.fail("queue names beginning with 'amq.' are reserved");
    attempt(it, () => validateQueueArgs(q.args, q.name, q.vhost));
    plan.queues.push(q);
  }
  const exchanges = (v: string, n: string) => n === '' || registry.vhost(v)?.exchanges.has(n) === true || plan.exchanges.some((x) => x.vhost === v && x.name === n) || n.startsWith('amq.');
  const queues = (v: string, n: string) => registry.vhost(v)?.queues.has(n) === true || plan.queues.some((q) => q.vhost === v && q.name === n);
  const binding = (o: Json) => ` (${String(o.source)} -> ${String(o.destination)} in vhost '${String(o.vhost)}')`;
  for (const it of list(d, 'bindings', file, problems, binding)) {
    const kind = it.str('destination_type');
    const b = { vhost: it.str('vhost'), source: it.str('source'), destination: it.str('destination'),
      destKind: kind as 'queue' | 'exchange', routingKey: it.str('routing_key', ''), args: it.table('arguments') };
    if (kind !== 'queue' && kind !== 'exchange') it.fail(`'destination_type' must be queue or exchange, not '${kind}'`);
    if (b.source === '') it.fail('cannot bind to the default exchange');
    else if (!exchanges(b.vhost, b.source)) it.fail(`no source exchange '${b.source}'`);
    if (kind === 'queue' && !queues(b.vhost, b.destination)) it.fail(`no destination queue '${b.destination}'`);
    if (kind === 'exchange' && !exchanges(b.vhost, b.destination)) it.fail(`no destination exchange '${b.destination}'`);
    plan.bindings.push(b);
  }
  if (problems.length > 0) throw new Error(`invalid definitions, nothing was imported:\n  ${problems.join('\n  ')}`);
  return plan;
}

function userOf(it: Item, fallback: HashingAlgorithm): UserRecord {
  const name = it.name('name');
  const tags = it.tags('tags');
  const algo = it.o.hashing_algorithm === undefined ? fallback : it.str('hashing_algorithm');
  if (!isHashingAlgorithm(algo)) {
    it.fail(`unknown hashing_algorithm '${algo}' (rabbit_password_hashing_sha256, _sha512 or _md5)`);
    return { name, tags, passwordHash: Buffer.alloc(0), hashingAlgorithm: DEFAULT_HASHING };
  }
  // rabbit_auth_backend_internal:put_user takes a clear-text password too.
  if (typeof it.o.password === 'string' && it.o.password_hash === undefined) {
    return { name, tags, passwordHash: hashPassword(it.o.password, algo), hashingAlgorithm: algo };
  }
  const b64 = it.str('password_hash');
  const hash = Buffer.from(b64, 'base64');
  if (hash.toString('base64') !== b64.replace(/\s/g, '')) it.fail("'password_hash' is not valid base64");
  else if (hash.length !== 0 && hash.length !== hashLength(algo)) {
    it.fail(`'password_hash' is ${hash.length} bytes, but a ${algo} hash is ${hashLength(algo)} (4 salt bytes and the digest)`);
  }
  return { name, tags, passwordHash: hash, hashingAlgorithm: algo };
}

/** Runs a core validation that throws a channel error, recording its text as the item's problem. */
function attempt(it: Item, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    it.fail((e as Error).message);
  }
}

/** The broker itself: no permission applies (rabbit_definitions acts as ?INTERNAL_USER). */
const importer = (vhost: string): Actor => ({ user: { name: 'rmq-internal', tags: [] }, vhost, connection: 'definitions import', access: null });

function apply(registry: Registry, plan: Plan, log: Logger): void {
  for (const v of plan.vhosts) registry.addVhost(v.name, v);
  for (const u of plan.users) registry.users.put(u);
  for (const p of plan.permissions) registry.setPermissions(p.user, p.vhost, p);
  for (const t of plan.topicPermissions) registry.setTopicPermissions(t.user, t.vhost, t);
  for (const p of plan.policies) {
    const { ignored } = registry.setPolicy('policy', p.vhost, p.name, { pattern: p.pattern, definition: p.definition, priority: p.priority, applyTo: p.applyTo });
    if (ignored.length > 0) log.warn('definitions: policy keys kept but not acted on by Warren', { vhost: p.vhost, policy: p.name, ignored });
  }
  for (const x of plan.exchanges) {
    const v = registry.vhost(x.vhost)!;
    if (v.exchanges.has(x.name)) continue;
    v.declareExchange(x.name, x.type, { passive: false, durable: x.durable, autoDelete: x.autoDelete, internal: x.internal, args: x.args }, importer(x.vhost));
  }
  for (const q of plan.queues) {
    const v = registry.vhost(q.vhost)!;
    if (v.queues.has(q.name)) continue;
    v.declareQueue(q.name, { passive: false, durable: q.durable, exclusive: false, autoDelete: q.autoDelete, args: q.args }, importer(q.vhost));
  }
  for (const b of plan.bindings) {
    const v = registry.vhost(b.vhost)!;
    if (b.destKind === 'queue') v.bindQueue(b.destination, b.source, b.routingKey, b.args, importer(b.vhost));
    else v.bindExchange(b.destination, b.source, b.routingKey, b.args, importer(b.vhost));
  }
  // Limits last (RabbitMQ sets them before the queues): an export of a vhost at its max-queues
  // must import again, not fail half-way on its own queues.
  for (const l of plan.limits) registry.vhost(l.vhost)!.limits.setAll(l.value);
}
