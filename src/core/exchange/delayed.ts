// Delayed-message exchange `x-delayed-message`, as the rabbitmq_delayed_message_exchange plugin
// documents it (README; rabbit_exchange_type_delayed_message.erl for the details):
// - `x-delayed-type` (required) names the type whose rules route its messages: direct, fanout,
//   topic, headers or x-consistent-hash; bindings are checked by that type too.
// - A message with header `x-delay` (ms; any integer type, or a numeric string or a float,
//   truncated) in 1 .. 2^32-1 is held; absent, 0, negative or unparsable: routed at once.
// - When the delay ends the message is routed through core's one publish entry point,
//   vhost.publish, against the bindings of that moment, with `x-delay: -<delay>` (which a
//   second look reads as "route now"). Properties, routing key and exchange are unchanged.
//   Held messages leave in due-time order (publish order on ties), not publish order.
// - Confirms come when the message is held (and, for a persistent message on a durable
//   exchange, written to the store). A mandatory message is not returned while held: where it
//   will go is not known yet (the plugin cannot tell either).
// - Held persistent messages of a durable exchange survive a restart (and SIGKILL once
//   confirmed) and are routed at their due time, or at once if it has passed.
// One timer per exchange, for the earliest due time; a held message costs a heap slot and its
// rewritten properties, nothing per message is scheduled.
import { ChannelError, ConnectionError } from '../../protocol/errors.js';
import type { FieldTable, FieldValue } from '../../protocol/field-table.js';
import { DueHeap, DueTimer } from '../due-heap.js';
import { headerOf, withHeader, type Message } from '../message.js';
import type { HeldJournal, Persistence } from '../persistence.js';
import { PublishResult } from '../publish.js';
import type { Exchange, ExchangeHost, ExchangeTypeDef, Hold } from './exchange.js';

export const DELAYED_TYPE = 'x-delayed-message';
/** The longest delay the plugin holds a message for (its timers take 32-bit milliseconds). */
export const MAX_DELAY = 2 ** 32 - 1;
/** Releases per timer turn; the rest follow on the next turn, so a burst does not stall the loop. */
const BATCH = 2000;
/**
 * Held messages past this many keep only their heap slot when they are in the store (persistent,
 * durable exchange): the body is read back when it is due, so a million held messages cost the
 * heap's three slots each, not their bodies. Transient ones have nowhere else to be.
 */
export const HOLD_IN_MEMORY = 4096;

// The plugin's own texts, typos included (the reply code is what clients act on).
const MISSING_TYPE = "Invalid argument, 'x-delayed-type' must bean existing exchnage type";
const SELF_TYPE = "Invalid argument, 'x-delayed-message' can't be used for 'x-delayed-type'";

type Lookup = (name: string) => ExchangeTypeDef | undefined;

function delayedTypeName(args: FieldTable): string | undefined {
  const v = Object.hasOwn(args, 'x-delayed-type') ? args['x-delayed-type']! : undefined;
  if (v?.type !== 'S') return undefined;
  return typeof v.value === 'string' ? v.value : v.value.toString('utf8');
}

/** The `x-delay` header as ms, or NaN when it does not say to hold the message. */
export function delayOf(v: FieldValue | undefined): number {
  if (v === undefined) return NaN;
  let n: number;
  if (v.type === 'S' || v.type === 'x') {
    const s = (typeof v.value === 'string' ? v.value : v.value.toString('latin1')).trim();
    n = s === '' ? NaN : Number(s);
  } else if (typeof v.value === 'number' || typeof v.value === 'bigint') {
    n = Number(v.value);
  } else {
    return NaN;
  }
  n = Math.trunc(n);
  return n > 0 && n <= MAX_DELAY ? n : NaN;
}

class DelayedHold implements Hold {
  /** null: the message is in the store only (see HOLD_IN_MEMORY). */
  private readonly heap = new DueHeap<Message | null>();
  private readonly timer = new DueTimer(() => this.release());
  private readonly result = new PublishResult();
  private nextSeq = 1;
  /** The store's side; looked up once the vhost has its store (after recovery). */
  private journalCache: HeldJournal | null | undefined = undefined;

  constructor(private readonly x: Exchange, private readonly host: ExchangeHost) {}

  private journal(): HeldJournal | null {
    if (this.journalCache === undefined) {
      const p = this.host.persistence;
      if (p === null) return null;
      this.journalCache = this.x.durable ? p.heldMessages(this.host.name, this.x.name) : null;
    }
    return this.journalCache;
  }

  /** How many messages are held now. */
  get size(): number { return this.heap.size; }

  counts(): { held: number; bodiesInMemory: number } {
    let bodies = 0;
    for (const m of this.heap.values()) if (m !== null) bodies++;
    return { held: this.heap.size, bodiesInMemory: bodies };
  }

  take(msg: Message, r: PublishResult): boolean {
    const delay = delayOf(headerOf(msg, 'x-delay'));
    if (Number.isNaN(delay)) return false;
    const due = Date.now() + delay;
    const held = withHeader(msg, 'x-delay', { type: delay < 2 ** 31 ? 'I' : 'l', value: -delay });
    const seq = this.nextSeq++;
    const j = msg.persistent ? this.journal() : null;
    let keep: Message | null = held;
    if (j !== null) {
      j.add(seq, due, held);
      r.stored = true;
      if (this.heap.size >= HOLD_IN_MEMORY) keep = null;
    }
    this.heap.push(due, seq, keep);
    this.timer.arm(due);
    r.held = true;
    return true;
  }

  recover(p: Persistence): number {
    if (!this.x.durable) return 0;
    let n = 0;
    p.heldMessages(this.host.name, this.x.name).forEach((seq, dueAt, msg) => {
      this.heap.push(dueAt, seq, this.heap.size >= HOLD_IN_MEMORY ? null : msg);
      if (seq >= this.nextSeq) this.nextSeq = seq + 1;
      n++;
    });
    this.timer.arm(this.heap.nextDue); // overdue ones go out at once
    return n;
  }

  /** The timer: every message now due is routed, in due order, by the bindings of now. */
  private release(): void {
    const now = Date.now();
    const heap = this.heap;
    for (let n = 0; heap.nextDue <= now; n++) {
      if (n === BATCH) {
        this.timer.arm(now); // the rest on the next turn
        return;
      }
      const seq = heap.nextSeq;
      let msg = heap.pop()!;
      if (msg === null) {
        // In the store only: read it back now that it is due.
        const j = this.journal();
        const stored = j?.read(seq);
        j?.remove(seq);
        if (stored === undefined) continue; // gone with its exchange meanwhile
        msg = stored;
      } else if (msg.persistent) {
        this.journal()?.remove(seq);
      }
      this.host.publish(this.x, msg, this.result);
    }
    this.timer.arm(heap.nextDue);
  }

  drop(): void {
    this.timer.stop();
    this.heap.clear(); // the store drops its rows with the exchange
  }

  close(): void {
    this.timer.stop();
  }
}

/** The type, given the registry to look x-delayed-type up in (types.ts passes its own). */
export function delayedMessageType(lookup: Lookup): ExchangeTypeDef {
  const rulesFor = (args: FieldTable): ExchangeTypeDef => {
    const def = lookup(delayedTypeName(args) ?? '');
    if (def === undefined || def.name === DELAYED_TYPE) throw new Error('x-delayed-message exchange without a valid x-delayed-type');
    return def;
  };
  return {
    name: DELAYED_TYPE,
    routesBy: 'none', // never used: rulesFor() names the type whose routesBy applies
    rulesFor,
    createRouter: (args) => rulesFor(args).createRouter(args),
    validateDeclare(args, res) {
      const name = delayedTypeName(args);
      if (name === undefined) throw ChannelError.preconditionFailed(MISSING_TYPE);
      if (name === DELAYED_TYPE) throw ChannelError.preconditionFailed(SELF_TYPE);
      const def = lookup(name);
      // rabbit_exchange:check_type, as for exchange.declare itself.
      if (def === undefined) throw ConnectionError.commandInvalid(`unknown exchange type '${name}'`);
      def.validateDeclare?.(args, res);
    },
    equivalentArgs: ['x-delayed-type'],
    createHold: (x, host) => new DelayedHold(x, host),
  };
}
