// What every classic queue has besides its messages: its declaration, statistics, bindings,
// consumers (consumer.ts picks among them) and the life-cycle rules that hang on them:
// auto-delete once the last consumer goes, and x-expires counting from the last use.
// ClassicQueue (classic.ts) extends it with the message flow.
import type { FieldTable } from '../../protocol/field-table.js';
import type { Actor } from '../actor.js';
import type { Binding } from '../exchange/exchange.js';
import type { QueueJournal } from '../persistence.js';
import type { Policy } from '../policy.js';
import { MessageStats } from '../stats.js';
import { queueFeatures, type QueueFeatures } from './arguments.js';
import { ConsumerList, type Consumer } from './consumer.js';
import type { MessageQueue, QueueHost, QueueOptions } from './types.js';

export abstract class QueueBase {
  readonly kind = 'queue' as const;
  readonly stats = new MessageStats();
  readonly features: QueueFeatures;
  protected readonly host: QueueHost | null;
  readonly journal: QueueJournal | null;
  protected readonly list: ConsumerList;
  /** Bindings whose destination is this queue, so deleting it can remove them. */
  readonly bindings = new Set<Binding>();
  deleted = false;
  /** x-expires: last consumer gone, basic.get or declare. */
  protected lastUsed = 0;
  /** x-expires in ms, 0 = never (also without a host to delete the queue). */
  protected expires: number;
  /** The policies that apply (policy-set.ts); their values are folded into `features`. */
  policy: Policy | null = null;
  operatorPolicy: Policy | null = null;
  /** Auto-delete queues go only after they have had a consumer. */
  private hadConsumer = false;
  private dispatchQueued = false;

  constructor(readonly name: string, readonly options: QueueOptions) {
    const f = (this.features = queueFeatures(options.args));
    this.host = options.host ?? null;
    this.journal = options.journal ?? null;
    this.list = new ConsumerList(f.singleActiveConsumer);
    this.expires = f.expires > 0 && this.host !== null ? f.expires : 0;
  }

  abstract dispatch(): void;
  /**
   * The run-time settings in `features` changed (a policy): limits, TTL and timers follow.
   * `effective` is the declared arguments with the policies' values folded in.
   */
  protected abstract settingsChanged(effective: FieldTable): void;

  /**
   * Policies changed: the settings a policy can give are taken from `effective` (the declared
   * arguments with the policies' values folded in), once, so the message path reads the same
   * fields as before. Priorities, single active consumer, retry and dedup stay as declared.
   */
  applyPolicy(p: Policy | null, op: Policy | null, effective: FieldTable): void {
    this.policy = p;
    this.operatorPolicy = op;
    const f = queueFeatures(effective);
    const cur = this.features;
    cur.messageTtl = f.messageTtl;
    cur.expires = f.expires;
    cur.maxLength = f.maxLength;
    cur.maxBytes = f.maxBytes;
    cur.overflow = f.overflow;
    cur.dlx = f.dlx;
    cur.dlxRoutingKey = f.dlxRoutingKey;
    const before = this.expires;
    this.expires = f.expires > 0 && this.host !== null ? f.expires : 0;
    // As rabbit_amqqueue_process:init_exp, a new expiry counts from now.
    if (this.expires > 0 && this.expires !== before) this.touch();
    this.settingsChanged(effective);
  }
  /** Arm the queue's one timer for its next deadline (x-expires among them). */
  protected abstract armTimer(): void;

  get durable(): boolean { return this.options.durable; }
  get autoDelete(): boolean { return this.options.autoDelete; }
  get exclusiveOwner(): Actor | null { return this.options.owner; }
  get args(): FieldTable { return this.options.args; }
  get consumerCount(): number { return this.list.length; }
  get consumers(): readonly Consumer[] { return this.list.all; }
  get singleActiveConsumer(): boolean { return this.features.singleActiveConsumer; }
  get deadLetterExchange(): string | null { return this.features.dlx; }
  get deadLetterRoutingKey(): string | null { return this.features.dlxRoutingKey; }
  /** x-single-active-consumer: the consumer being served. */
  get activeConsumer(): Consumer | null { return this.list.active; }

  /** x-expires: the queue was used (basic.get, declare); its deadline starts again. */
  touch(): void {
    if (this.expires === 0) return;
    this.lastUsed = Date.now();
    if (this.list.length === 0) this.armTimer();
  }

  addConsumer(c: Consumer): void {
    this.list.add(c);
    this.hadConsumer = true;
  }

  /** Returns true if removed. Triggers auto-delete when the last consumer goes. */
  removeConsumer(c: Consumer): boolean {
    const removed = this.list.remove(c);
    if (removed === 'absent') return false;
    // Not at once: when a channel goes, its unacked messages are requeued first.
    if (removed === 'handed-over') this.queueDispatch();
    if (this.list.length === 0) {
      if (this.expires > 0) this.touch();
      if (this.autoDelete && this.hadConsumer) this.host?.queueUnused(this as unknown as MessageQueue); // every subclass is one
    }
    return true;
  }

  private queueDispatch(): void {
    if (this.dispatchQueued) return;
    this.dispatchQueued = true;
    queueMicrotask(() => {
      this.dispatchQueued = false;
      this.dispatch();
    });
  }

  hasExclusiveConsumer(): boolean {
    return this.list.hasExclusive();
  }
}
