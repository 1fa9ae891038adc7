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
// rewritten properties, nothing per message is scheduled. Past the paging thresholds (count or
// bytes of bodies held in memory, PagingSettings) a new held message keeps no body in memory: a
// persistent one of a durable exchange is read back from the store when due, any other is
// written to the exchange's page file (../page-file.ts) and read back from there.
import { ChannelError, ConnectionError } from '../../protocol/errors.js';
import type { FieldTable, FieldValue } from '../../protocol/field-table.js';
import { DueHeap, DueTimer } from '../due-heap.js';
import { headerOf, Message, withHeader } from '../message.js';
import { PageFile, pastThreshold, type PageRef } from '../page-file.js';
import type { HeldJournal, Persistence } from '../persistence.js';
import { PublishResult } from '../publish.js';
import type { Exchange, ExchangeHost, ExchangeTypeDef, Hold } from './exchange.js';

export const DELAYED_TYPE = 'x-delayed-message';
/** The longest delay the plugin holds a message for (its timers take 32-bit milliseconds). */
export const MAX_DELAY = 2 ** 32 - 1;
/** Releases per timer turn; the rest follow on the next turn, so a burst does not stall the loop. */
const BATCH = 2000;

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
  /** A held message: in memory, in the page file (PageRef), or only in the store (null). */
  private readonly heap = new DueHeap<Message | PageRef | null>();
  /** Transient bodies paged out, made at the first one. */
  private file: PageFile | null = null;
  /** Body bytes of the held messages kept in memory. */
  private memBytes = 0;
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
    for (const m of this.heap.values()) if (m instanceof Message) bodies++;
    return { held: this.heap.size, bodiesInMemory: bodies };
  }

  take(msg: Message, r: PublishResult): boolean {
    const delay = delayOf(headerOf(msg, 'x-delay'));
    if (Number.isNaN(delay)) return false;
    const due = Date.now() + delay;
    const held = withHeader(msg, 'x-delay', { type: delay < 2 ** 31 ? 'I' : 'l', value: -delay });
    const seq = this.nextSeq++;
    const j = msg.persistent ? this.journal() : null;
    if (j !== null) {
      j.add(seq, due, held);
      r.stored = true;
    }
    this.heap.push(due, seq, this.park(held, j !== null));
    this.timer.arm(due);
    r.held = true;
    return true;
  }

  recover(p: Persistence): number {
    if (!this.x.durable) return 0;
    let n = 0;
    p.heldMessages(this.host.name, this.x.name).forEach((seq, dueAt, msg) => {
      this.heap.push(dueAt, seq, this.park(msg, true, p.paging));
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
      const msg = this.unpark(seq, heap.pop()!);
      if (msg === undefined) continue; // in the store only, and gone with its exchange meanwhile
      if (msg.persistent) this.journal()?.remove(seq);
      this.host.publish(this.x, msg, this.result);
    }
    this.timer.arm(heap.nextDue);
  }

  /** What the heap keeps of `msg`: past the thresholds, no body (`stored`: the store has it). */
  private park(msg: Message, stored: boolean, paging = this.host.persistence?.paging ?? null): Message | PageRef | null {
    if (!pastThreshold(paging, this.heap.size, this.memBytes)) {
      this.memBytes += msg.body.length;
      return msg;
    }
    if (stored) return null;
    // A dead-lettered message's routing keys are not in a page record: it stays in memory.
    if (paging === null || msg.routeKeys !== null) return msg;
    const f = (this.file ??= new PageFile(paging.dir));
    const off = f.append(msg);
    return { seg: f.lastSeg, off, len: f.lastLen };
  }

  /** The message a heap item stands for, its body read back if it was paged out. */
  private unpark(seq: number, item: Message | PageRef | null): Message | undefined {
    if (item instanceof Message) {
      this.memBytes -= item.body.length;
      return item;
    }
    if (item === null) return this.journal()?.read(seq);
    const msg = this.file!.read(item.seg, item.off, item.len);
    this.file!.release(item.seg);
    return msg;
  }

  drop(): void {
    this.close();
    this.heap.clear(); // the store drops its rows with the exchange
    this.memBytes = 0;
  }

  close(): void {
    this.timer.stop();
    this.file?.close();
    this.file = null;
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
