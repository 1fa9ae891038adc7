// The broker's registry: vhosts, users and permissions, and the operations that span them
// (rabbit_vhost, rabbit_auth_backend_internal's set_permissions and friends). Each operation
// checks what it refers to exists, changes memory, then writes through AccessPersistence.
// Closing the connections of a deleted vhost or user is the broker's (onVhostDeleted,
// onUserDeleted): core knows no connections.
import { Permissions, type PermissionSet, type TopicPermission } from './access.js';
import type { AccessPersistence, Persistence, VhostMeta } from './persistence.js';
import { ignoredKeys, type PolicyKind } from './policy.js';
import { validatePolicy, type PolicyInput } from './policy-validate.js';
import { Users } from './users.js';
import { VHost } from './vhost.js';

export class Registry {
  readonly vhosts = new Map<string, VHost>();
  readonly users: Users;
  readonly permissions = new Permissions();
  private readonly meta = new Map<string, VhostMeta>();
  private access: AccessPersistence | null = null;
  /** The store for the vhosts' durable definitions (given to every vhost made from now on). */
  private definitions: Persistence | null = null;
  /** Runs after a vhost was removed (its connections are to be closed with 320). */
  onVhostDeleted: (name: string) => void = () => {};
  /** Runs after a user was removed (its connections are to be closed with 320). */
  onUserDeleted: (name: string) => void = () => {};

  constructor(loopbackOnly: ReadonlySet<string>) {
    this.users = new Users(loopbackOnly);
    this.users.onDeleted = (name) => {
      this.permissions.userDeleted(name);
      this.onUserDeleted(name);
    };
  }

  /** Called once the store is open: from now on changes are written to it. */
  attach(access: AccessPersistence | null, definitions: Persistence | null): void {
    this.access = access;
    this.definitions = definitions;
    this.users.persistence = access;
    this.permissions.persistence = access;
    for (const v of this.vhosts.values()) {
      v.persistence = definitions;
      v.policies.persistence = access;
      v.limits.persistence = access;
    }
  }

  /** Forgets everything (the broker's start replaces what it made before with the store's). */
  reset(): void {
    for (const v of this.vhosts.values()) v.destroy();
    this.vhosts.clear();
    this.meta.clear();
    for (const u of this.users.list()) this.users.forget(u.name);
    for (const p of this.permissions.list()) this.permissions.clear(p.user, p.vhost);
    for (const t of this.permissions.listTopic()) this.permissions.clearTopic(t.user, t.vhost);
  }

  vhost(name: string): VHost | undefined {
    return this.vhosts.get(name);
  }

  vhostMeta(name: string): VhostMeta | undefined {
    return this.meta.get(name);
  }

  /** rabbit_vhost:add: a new, empty vhost with the predeclared exchanges; an existing one is updated. */
  addVhost(name: string, meta: Partial<VhostMeta> = {}): VHost {
    if (name === '') throw new Error('a vhost name must not be empty');
    const m: VhostMeta = { description: meta.description ?? '', tags: [...(meta.tags ?? [])] };
    let v = this.vhosts.get(name);
    if (v === undefined) {
      v = new VHost(name);
      v.persistence = this.definitions;
      v.policies.persistence = this.access;
      v.limits.persistence = this.access;
      this.vhosts.set(name, v);
    }
    this.meta.set(name, m);
    this.access?.saveVhost(name, m);
    return v;
  }

  /** Startup: a vhost the store has (no write back). */
  restoreVhost(name: string, meta: VhostMeta): VHost {
    const access = this.access;
    this.access = null;
    try {
      return this.addVhost(name, meta);
    } finally {
      this.access = access;
    }
  }

  /**
   * rabbit_vhost:delete: the vhost's queues (with their messages) and exchanges go, then the
   * vhost and its permissions; connections to it are closed by the broker (onVhostDeleted).
   */
  deleteVhost(name: string): void {
    const v = this.vhosts.get(name);
    if (v === undefined) throw new Error(`no vhost '${name}'`);
    this.vhosts.delete(name);
    this.meta.delete(name);
    this.onVhostDeleted(name);
    // The store drops everything in one statement set; the queues only need to stop their timers.
    v.persistence = null;
    v.policies.persistence = null;
    v.limits.persistence = null;
    this.access?.deleteVhost(name);
    v.destroy();
    this.permissions.vhostDeleted(name);
  }

  setPermissions(user: string, vhost: string, p: PermissionSet): void {
    this.requireBoth(user, vhost);
    this.permissions.set(user, vhost, p);
  }

  clearPermissions(user: string, vhost: string): void {
    this.requireBoth(user, vhost);
    this.permissions.clear(user, vhost);
  }

  setTopicPermissions(user: string, vhost: string, t: TopicPermission): void {
    this.requireBoth(user, vhost);
    this.permissions.setTopic(user, vhost, t);
  }

  clearTopicPermissions(user: string, vhost: string, exchange?: string): void {
    this.requireBoth(user, vhost);
    this.permissions.clearTopic(user, vhost, exchange);
  }

  /**
   * rabbit_policy:set: validated (a PolicyError with RabbitMQ's text), stored, and applied at
   * once to the vhost's matching queues and exchanges. Returns whether it is new and the keys
   * of its definition Warren keeps but does not act on.
   */
  setPolicy(kind: PolicyKind, vhost: string, name: string, input: PolicyInput): { created: boolean; ignored: string[] } {
    const v = this.vhosts.get(vhost);
    if (v === undefined) throw new Error(`no vhost '${vhost}'`);
    const r = validatePolicy(kind, vhost, name, input);
    return { created: v.policies.put(kind, r), ignored: ignoredKeys(r.definition) };
  }

  /** False when there is no such policy (or vhost). */
  clearPolicy(kind: PolicyKind, vhost: string, name: string): boolean {
    return this.vhosts.get(vhost)?.policies.delete(kind, name) ?? false;
  }

  /** rabbit_auth_backend_internal: no_such_user / no_such_vhost. */
  private requireBoth(user: string, vhost: string): void {
    if (!this.users.has(user)) throw new Error(`no user '${user}'`);
    if (!this.vhosts.has(vhost)) throw new Error(`no vhost '${vhost}'`);
  }
}
