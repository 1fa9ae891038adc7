// Permissions, as rabbit_auth_backend_internal keeps them and rabbit_access_control checks them:
// per user and vhost three regular expressions (configure, write, read) matched against a queue
// or exchange name, and topic permissions (write, read) per exchange matched against routing
// keys of topic exchanges. Which AMQP method needs which permission is decided where the method
// is handled (vhost.ts, amqp/methods-*.ts), in rabbit_channel's order; this file answers yes or
// no and phrases the refusal.
//
// Decisions are looked up per operation, except on the publish path: PublishPermits caches
// "write on this exchange" per channel and exchange name, invalidated by a generation number
// that every change here bumps, so a revoked permission is refused on the next publish (RabbitMQ
// 3.10 likewise refuses at once on an open channel).
import { ChannelError } from '../protocol/errors.js';
import type { Actor } from './actor.js';
import type { AccessPersistence } from './persistence.js';

export type Perm = 'configure' | 'write' | 'read';
export type ResourceKind = 'queue' | 'exchange';

export interface PermissionSet { configure: string; write: string; read: string }
export interface TopicPermission { exchange: string; write: string; read: string }

export interface PermissionRecord extends PermissionSet { user: string; vhost: string }
export interface TopicPermissionRecord extends TopicPermission { user: string; vhost: string }

interface Grant { set: PermissionSet; configure: RegExp; write: RegExp; read: RegExp }
interface TopicGrant { set: TopicPermission; write: RegExp; read: RegExp }

/**
 * rabbit_auth_backend_internal: an empty pattern means "^$" (nothing); patterns are PCRE in
 * RabbitMQ, JavaScript RegExp here (the same for the patterns people write: anchors, classes,
 * alternations, quantifiers). A bad pattern is refused when it is set.
 */
export function compilePattern(p: string, what: string): RegExp {
  try {
    return new RegExp(p === '' ? '^$' : p);
  } catch (e) {
    throw new Error(`invalid regular expression for ${what}: '${p}' (${(e as Error).message})`);
  }
}

/** rabbit_access_control: the default exchange is checked under the name amq.default. */
const permName = (kind: ResourceKind, name: string) => (kind === 'exchange' && name === '' ? 'amq.default' : name);

/** rabbit_access_control:check_resource_access's refusal (rabbit_misc:rs for the resource). */
export function refused(kind: ResourceKind, name: string, vhost: string, user: string): ChannelError {
  return ChannelError.accessRefused(`access to ${kind} '${permName(kind, name)}' in vhost '${vhost}' refused for user '${user}'`);
}

/**
 * rabbit_auth_backend_internal:expand_topic_permission: {username} and {vhost} in a topic
 * pattern stand for the user's name and the vhost (client_id is MQTT's and never set here).
 */
function expandTopic(p: string, user: string, vhost: string): string {
  if (!p.includes('{')) return p;
  return p.replaceAll('{username}', user).replaceAll('{vhost}', vhost);
}

export class Permissions {
  /** vhost -> user -> grant. */
  private readonly grants = new Map<string, Map<string, Grant>>();
  /** vhost -> user -> exchange -> topic grant. */
  private readonly topics = new Map<string, Map<string, Map<string, TopicGrant>>>();
  /** Bumped by every change, so cached decisions (PublishPermits) can tell they are stale. */
  generation = 1;
  persistence: AccessPersistence | null = null;

  set(user: string, vhost: string, p: PermissionSet, save = true): void {
    const g: Grant = {
      set: { configure: p.configure, write: p.write, read: p.read },
      configure: compilePattern(p.configure, `configure permission of user '${user}' in vhost '${vhost}'`),
      write: compilePattern(p.write, `write permission of user '${user}' in vhost '${vhost}'`),
      read: compilePattern(p.read, `read permission of user '${user}' in vhost '${vhost}'`),
    };
    inner(this.grants, vhost).set(user, g);
    this.generation++;
    if (save) this.persistence?.savePermission({ user, vhost, ...g.set });
  }

  clear(user: string, vhost: string): void {
    if (this.grants.get(vhost)?.delete(user)) {
      this.generation++;
      this.persistence?.deletePermission(user, vhost);
    }
  }

  get(user: string, vhost: string): PermissionSet | undefined {
    return this.grants.get(vhost)?.get(user)?.set;
  }

  setTopic(user: string, vhost: string, t: TopicPermission, save = true): void {
    const what = `topic permission of user '${user}' in vhost '${vhost}' on exchange '${t.exchange}'`;
    const g: TopicGrant = { set: { ...t }, write: compilePattern(t.write, what), read: compilePattern(t.read, what) };
    inner(inner(this.topics, vhost), user).set(t.exchange, g);
    this.generation++;
    if (save) this.persistence?.saveTopicPermission({ user, vhost, ...g.set });
  }

  /** Clears the user's topic permissions in the vhost: on one exchange, or all of them. */
  clearTopic(user: string, vhost: string, exchange?: string): void {
    const byX = this.topics.get(vhost)?.get(user);
    if (byX === undefined) return;
    for (const x of exchange === undefined ? [...byX.keys()] : [exchange]) {
      if (byX.delete(x)) this.persistence?.deleteTopicPermission(user, vhost, x);
    }
    this.generation++;
  }

  list(): PermissionRecord[] {
    const out: PermissionRecord[] = [];
    for (const [vhost, byUser] of this.grants) for (const [user, g] of byUser) out.push({ user, vhost, ...g.set });
    return out;
  }

  listTopic(): TopicPermissionRecord[] {
    const out: TopicPermissionRecord[] = [];
    for (const [vhost, byUser] of this.topics) {
      for (const [user, byX] of byUser) for (const g of byX.values()) out.push({ user, vhost, ...g.set });
    }
    return out;
  }

  /** A user went: so do its permissions (rabbit_auth_backend_internal:delete_user). */
  userDeleted(user: string): void {
    for (const byUser of this.grants.values()) byUser.delete(user);
    for (const byUser of this.topics.values()) byUser.delete(user);
    this.generation++;
  }

  /** A vhost went: so do the permissions in it. */
  vhostDeleted(vhost: string): void {
    this.grants.delete(vhost);
    this.topics.delete(vhost);
    this.generation++;
  }

  /** rabbit_auth_backend_internal:check_vhost_access: any permission entry in the vhost will do. */
  canOpen(user: string, vhost: string): boolean {
    return this.grants.get(vhost)?.has(user) === true;
  }

  /** rabbit_access_control:check_resource_access: 403 unless the pattern matches. */
  check(actor: Actor, perm: Perm, kind: ResourceKind, name: string): void {
    const g = this.grants.get(actor.vhost)?.get(actor.user.name);
    if (g === undefined || !g[perm].test(permName(kind, name))) throw refused(kind, name, actor.vhost, actor.user.name);
  }

  /** The user's topic grant on this exchange, if any (none means every routing key is allowed). */
  topicGrant(actor: Actor, exchange: string): TopicGrant | undefined {
    return this.topics.get(actor.vhost)?.get(actor.user.name)?.get(exchange);
  }

  /**
   * rabbit_channel:check_topic_authorisation, for topic exchanges only: the routing key must
   * match the user's topic pattern for the exchange, if there is one.
   */
  checkTopic(actor: Actor, perm: 'write' | 'read', exchange: string, exchangeType: string, routingKey: string): void {
    if (exchangeType !== 'topic') return;
    const g = this.topicGrant(actor, exchange);
    if (g !== undefined) topicAllowed(g, perm, actor, exchange, routingKey);
  }
}

function topicAllowed(g: TopicGrant, perm: 'write' | 'read', actor: Actor, exchange: string, routingKey: string): void {
  const user = actor.user.name;
  const re = g.set[perm].includes('{') ? compilePattern(expandTopic(g.set[perm], user, actor.vhost), 'topic permission') : g[perm];
  if (re.test(routingKey)) return;
  // rabbit_access_control:check_topic_access's text; the resource is printed by rabbit_misc:rs.
  throw ChannelError.accessRefused(
    `access to topic '${routingKey}' in exchange '${exchange}' in vhost '${actor.vhost}' refused for user '${user}'`);
}

function inner<K, V>(m: Map<K, Map<string, V>>, k: K): Map<string, V> {
  let v = m.get(k);
  if (v === undefined) m.set(k, (v = new Map()));
  return v;
}

/** Checks the actor's permission on a resource of its vhost (no access control: allowed). */
export function permit(actor: Actor | undefined, perm: Perm, kind: ResourceKind, name: string): void {
  actor?.access?.check(actor, perm, kind, name);
}

/**
 * One channel's cache of basic.publish decisions: exchange name -> the generation at which write
 * was granted, plus the topic grant to match routing keys against (null: none needed). A hit
 * costs one Map lookup and a compare; a miss or a stale entry asks Permissions again.
 */
export class PublishPermits {
  private readonly cache = new Map<string, { generation: number; topic: TopicGrant | null }>();

  constructor(private readonly actor: Actor) {}

  /** rabbit_channel's basic.publish: check_write_permitted on the exchange (before it is looked up). */
  write(exchange: string): void {
    const access = this.actor.access;
    if (access === null || access === undefined) return;
    const hit = this.cache.get(exchange);
    if (hit !== undefined && hit.generation === access.generation) return;
    access.check(this.actor, 'write', 'exchange', exchange);
    this.cache.set(exchange, { generation: access.generation, topic: access.topicGrant(this.actor, exchange) ?? null });
  }

  /** check_write_permitted_on_topic, after the exchange was found (and is not internal). */
  topic(exchange: string, exchangeType: string, routingKey: string): void {
    if (exchangeType !== 'topic') return;
    const topic = this.cache.get(exchange)?.topic;
    if (topic) topicAllowed(topic, 'write', this.actor, exchange, routingKey);
  }
}
