// One vhost's policies and operator policies, and their application: setting or clearing one
// re-resolves every queue and exchange of the vhost at once, and a new queue or exchange is
// resolved when it is added (declare, recovery). A queue takes its effective settings once per
// change (queue-base.ts applyPolicy), so nothing here runs per message.
import type { Exchange } from './exchange/exchange.js';
import type { PolicyPersistence } from './persistence.js';
import { compilePolicy, effectiveQueueArgs, matchPolicy, type Policy, type PolicyKind, type PolicyRecord } from './policy.js';
import type { MessageQueue } from './queue/types.js';

export interface PolicyTables {
  readonly name: string;
  readonly queues: ReadonlyMap<string, MessageQueue>;
  readonly exchanges: ReadonlyMap<string, Exchange>;
}

export class VhostPolicies {
  private readonly byKind: Record<PolicyKind, Map<string, Policy>> = { policy: new Map(), operator: new Map() };
  /** Where set and cleared policies are written (the store), once attached. */
  persistence: PolicyPersistence | null = null;

  constructor(private readonly v: PolicyTables) {}

  list(kind: PolicyKind): Policy[] {
    return [...this.byKind[kind].values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  get(kind: PolicyKind, name: string): Policy | undefined {
    return this.byKind[kind].get(name);
  }

  get size(): number {
    return this.byKind.policy.size + this.byKind.operator.size;
  }

  /** Sets (validated) `r`; true when it is new. `save` false: restoring from the store. */
  put(kind: PolicyKind, r: PolicyRecord, save = true): boolean {
    const m = this.byKind[kind];
    const existed = m.has(r.name);
    m.set(r.name, compilePolicy(r));
    if (save) this.persistence?.savePolicy(kind, r);
    this.applyAll();
    return !existed;
  }

  /** Clears a policy; false when there was none. */
  delete(kind: PolicyKind, name: string): boolean {
    if (!this.byKind[kind].delete(name)) return false;
    this.persistence?.deletePolicy(kind, this.v.name, name);
    this.applyAll();
    return true;
  }

  applyAll(): void {
    for (const q of this.v.queues.values()) this.applyQueue(q);
    for (const x of this.v.exchanges.values()) this.applyExchange(x);
  }

  /** The policy and operator policy a queue's name matches now, applied if they changed. */
  applyQueue(q: MessageQueue): void {
    if (this.size === 0 && q.policy === null && q.operatorPolicy === null) return;
    const p = matchPolicy(this.byKind.policy.values(), 'queue', q.name);
    const op = matchPolicy(this.byKind.operator.values(), 'queue', q.name);
    if (p === q.policy && op === q.operatorPolicy) return;
    q.applyPolicy(p, op, effectiveQueueArgs(q.args, p, op, q.type));
  }

  applyExchange(x: Exchange): void {
    if (this.byKind.policy.size === 0 && x.policy === null) return;
    const p = matchPolicy(this.byKind.policy.values(), 'exchange', x.name);
    if (p !== x.policy) x.applyPolicy(p);
  }
}
