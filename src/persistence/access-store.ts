// Users, vhosts and permissions between core's Registry and the store: AccessPersistence over
// src/store/, and their recovery at startup (before the vhosts' exchanges and queues, which
// recovery.ts restores into the vhosts made here).
import type { AccessPersistence, VhostMeta } from '../core/persistence.js';
import type { PermissionRecord, TopicPermissionRecord } from '../core/access.js';
import { compilePolicy, type PolicyKind, type PolicyRecord } from '../core/policy.js';
import { isHashingAlgorithm } from '../core/password.js';
import type { Registry } from '../core/registry.js';
import type { LimitEntries } from '../core/vhost-limits.js';
import type { UserRecord } from '../core/users.js';
import type { Store } from '../store/store.js';

export class StoreAccess implements AccessPersistence {
  constructor(private readonly store: Store) {}

  saveVhost(name: string, meta: VhostMeta): void {
    this.store.saveVhost({ name, description: meta.description, tags: meta.tags });
  }

  deleteVhost(name: string): void {
    this.store.deleteVhost(name);
  }

  saveUser(u: UserRecord): void {
    this.store.saveUser(u);
  }

  deleteUser(name: string): void {
    this.store.deleteUser(name);
  }

  savePermission(p: PermissionRecord): void {
    this.store.savePermission(p);
  }

  deletePermission(user: string, vhost: string): void {
    this.store.deletePermission(user, vhost);
  }

  saveTopicPermission(p: TopicPermissionRecord): void {
    this.store.saveTopicPermission(p);
  }

  deleteTopicPermission(user: string, vhost: string, exchange: string): void {
    this.store.deleteTopicPermission(user, vhost, exchange);
  }

  savePolicy(kind: PolicyKind, r: PolicyRecord): void {
    this.store.policies.save({ kind, vhost: r.vhost, name: r.name, pattern: r.pattern, applyTo: r.applyTo, priority: r.priority, definition: r.definition });
  }

  deletePolicy(kind: PolicyKind, vhost: string, name: string): void {
    this.store.policies.remove(kind, vhost, name);
  }

  saveVhostLimits(vhost: string, limits: LimitEntries | null): void {
    this.store.vhostLimits.save(vhost, limits);
  }
}

/** Restores the stored vhost limits (before clients connect); returns how many vhosts have some. */
export function recoverVhostLimits(store: Store, registry: Registry, warn: Warn): number {
  let n = 0;
  for (const r of store.vhostLimits.load()) {
    const v = registry.vhost(r.vhost);
    if (v === undefined) continue;
    try {
      v.limits.restore(r.limits);
      n++;
    } catch (e) {
      warn('stored vhost limits are not valid; not restored', { vhost: r.vhost, error: (e as Error).message });
    }
  }
  return n;
}

/**
 * Restores the stored policies into their vhosts (before the vhosts' queues and exchanges, which
 * take them as they are restored); returns how many.
 */
export function recoverPolicies(store: Store, registry: Registry, warn: Warn): number {
  let n = 0;
  for (const r of store.policies.load()) {
    const v = registry.vhost(r.vhost);
    const kind = r.kind === 'operator' ? 'operator' : 'policy';
    const rec: PolicyRecord = { vhost: r.vhost, name: r.name, pattern: r.pattern, applyTo: r.applyTo as PolicyRecord['applyTo'], priority: r.priority, definition: r.definition };
    try {
      compilePolicy(rec);
    } catch (e) {
      warn('stored policy does not compile; not restored', { vhost: r.vhost, policy: r.name, error: (e as Error).message });
      continue;
    }
    if (v === undefined) continue;
    v.policies.put(kind, rec, false);
    n++;
  }
  return n;
}

export interface RecoveredAccess {
  users: number;
  vhosts: number;
  permissions: number;
}

type Warn = (msg: string, meta: Record<string, unknown>) => void;

/** Restores what the store holds into the registry (which writes nothing back while doing so). */
export function recoverAccess(store: Store, registry: Registry, warn: Warn): RecoveredAccess {
  const a = store.loadAccess();
  for (const v of a.vhosts) registry.restoreVhost(v.name, { description: v.description, tags: v.tags });
  for (const u of a.users) {
    if (!isHashingAlgorithm(u.hashingAlgorithm)) {
      warn('stored user has an unknown hashing algorithm; it cannot log in', { user: u.name, algorithm: u.hashingAlgorithm });
      registry.users.restore({ ...u, passwordHash: Buffer.alloc(0), hashingAlgorithm: 'rabbit_password_hashing_sha256' });
      continue;
    }
    registry.users.restore({ ...u, hashingAlgorithm: u.hashingAlgorithm });
  }
  for (const p of a.permissions) registry.permissions.set(p.user, p.vhost, p, false);
  for (const t of a.topicPermissions) registry.permissions.setTopic(t.user, t.vhost, t, false);
  return { users: a.users.length, vhosts: a.vhosts.length, permissions: a.permissions.length + a.topicPermissions.length };
}
