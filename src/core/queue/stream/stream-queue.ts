// A stream queue (x-queue-type stream, RabbitMQ 3.10's over AMQP 0-9-1): a log, not a queue.
// Every message is appended to the segment log (segment-log.ts) with its offset spliced into
// its headers (offset-header.ts); reading removes nothing, so any number of consumers each read
// from where they attached (x-stream-offset) through a Cursor of their own. Acks only give
// credit back: a consumer has at most its prefetch of unacked deliveries. basic.get and purge
// are refused as RabbitMQ refuses them; deletion removes the files.
//
// Durability: appends go to the page cache at the end of the turn; the store's group fsync
// covers the active segment (Persistence.syncWith), and enqueue answers 'stored', so a
// publisher confirm waits for that fsync.
//
// Retention: x-max-age is checked by ONE timer per stream, armed for the moment the oldest
// segment ages out (and re-armed after each drop or roll-over), so a stream nobody publishes to
// still loses its old segments; x-max-length-bytes is checked when a segment rolls over.
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConnectionError } from '../../../protocol/errors.js';
import type { FieldTable } from '../../../protocol/field-table.js';
import type { Message } from '../../message.js';
import { Message as Msg } from '../../message.js';
import { queueRes } from '../../names.js';
import type { DurableFile, Persistence } from '../../persistence.js';
import { DueTimer } from '../../due-heap.js';
import type { Consumer } from '../consumer.js';
import { QueueBase } from '../queue-base.js';
import type { DeliveryHandle, Enqueued, GetOwner, MessageQueue, QueueOptions } from '../types.js';
import { checkStreamConsume, offsetSpec, streamLimits } from './args.js';
import { withOffsetHeader } from './offset-header.js';
import { CorruptSegment, Cursor, SegmentLog } from './segment-log.js';

/** Bytes one dispatch() reads from the log before the rest waits for the next turn. */
const READ_BUDGET = 4 * 1024 * 1024;
const MIN_SHARE = 256 * 1024;

/** Stream deliveries settle nothing: every one shares this handle. */
const HANDLE = Object.freeze({}) as DeliveryHandle;

/** A directory name for a vhost or queue name: any bytes, no '/', never '.' or '..', bounded. */
export function dirName(name: string): string {
  const safe = encodeURIComponent(name).replace(/\./g, '%2E').replace(/\*/g, '%2A');
  if (safe.length > 0 && safe.length <= 200) return safe;
  return `${safe.slice(0, 150)}~${createHash('sha256').update(name).digest('hex').slice(0, 32)}`;
}

export class StreamQueue extends QueueBase implements MessageQueue, DurableFile {
  readonly type = 'stream';
  readonly log: SegmentLog;
  private readonly persistence: Persistence | null;
  private readonly cursors = new Map<Consumer, Cursor>();
  /** The active segment was written since the store's last group fsync started. */
  private syncQueued = false;
  private readonly res: string;
  private readonly retention = new DueTimer(() => this.onRetention());
  /** In the turn it was made (policies found at declare or recovery give the segment size too). */
  private starting = true;
  /** dispatch() stopped at its budget and goes on next turn. */
  private readQueued = false;

  constructor(name: string, options: QueueOptions) {
    super(name, options);
    this.persistence = options.persistence ?? null;
    const vhost = options.vhost ?? '/';
    this.res = queueRes(name, vhost);
    const root = this.persistence !== null ? path.join(this.persistence.dataDir, 'streams') : mkdtempSync(path.join(tmpdir(), 'warren-stream-'));
    const report = (level: 'error' | 'warn', msg: string, meta: Record<string, unknown>) => this.persistence?.log(level, msg, { queue: this.res, ...meta });
    this.log = new SegmentLog(path.join(root, dirName(vhost), dirName(name)), streamLimits(options.args), report);
    this.log.onRoll = () => this.armTimer();
    this.armTimer();
    queueMicrotask(() => { this.starting = false; });
  }

  get messageCount(): number { return this.log.count; }
  get waitingCount(): number { return 0; }
  get messageBytes(): number { return this.log.totalBytes; }
  /**
   * Reading removes nothing, so every retained message is in messageCount already; consumers'
   * credit is per consumer (Consumer.unacked). RabbitMQ shows 0 unacknowledged for a stream too.
   */
  get unackedCount(): number { return 0; }
  get oldestReadySeq(): number { return -1; }
  get nextEnqueueSeq(): number { return this.log.nextOffset; }

  // ---- appending ----------------------------------------------------------------------------

  enqueue(msg: Message): Enqueued {
    if (this.deleted) return 'queued';
    const log = this.log;
    const offset = log.nextOffset;
    const props = withOffsetHeader(msg, offset);
    log.append(msg.exchange, msg.routingKey, props, msg.body, Date.now());
    if (!this.syncQueued && this.persistence !== null) {
      this.syncQueued = true;
      this.persistence.syncWith(this);
    }
    this.stats.publish++;
    // Consumers at the tail with credit take it from memory; the others read it from the log.
    let tail: Message | null = null;
    const cs = this.list.all;
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i]!;
      const cur = this.cursors.get(c)!;
      if (cur.next !== offset) continue;
      if (offset < cur.from) {
        cur.next = offset + 1;
        cur.seg = log.active;
        cur.pos = log.active.size;
        continue;
      }
      if (!c.owner.canTake(c)) continue;
      tail ??= new Msg(msg.exchange, msg.routingKey, props, msg.body);
      cur.next = offset + 1;
      cur.seg = log.active;
      cur.pos = log.active.size;
      this.hand(c, tail);
    }
    return this.persistence !== null ? 'stored' : 'queued';
  }

  // DurableFile: the store's group fsync.
  fsync(cb: (err: Error | null) => void): void {
    this.syncQueued = false;
    this.log.fsync(cb);
  }

  fsyncSync(): void {
    this.syncQueued = false;
    this.log.fsyncSync();
  }

  // ---- consuming ----------------------------------------------------------------------------

  /** basic.consume's checks before a consumer is made (RabbitMQ's texts). */
  checkConsume(noAck: boolean, prefetch: number, channelLimited: boolean, args: FieldTable): void {
    checkStreamConsume(noAck, prefetch, channelLimited, args, this.res);
  }

  override addConsumer(c: Consumer): void {
    const spec = offsetSpec(c.args, this.res);
    const log = this.log;
    let cur: Cursor;
    switch (spec.kind) {
      case 'first': cur = log.cursorAtFirst(); break;
      case 'next': cur = log.cursorAtNext(); break;
      case 'last': cur = log.cursorAt(log.nextOffset - 1); break;
      case 'offset':
        cur = log.cursorAt(spec.offset);
        if (spec.offset > log.nextOffset) cur.from = spec.offset;
        break;
      case 'time': cur = log.cursorAtTime(spec.ms); break;
    }
    this.cursors.set(c, cur);
    super.addConsumer(c);
  }

  override removeConsumer(c: Consumer): boolean {
    this.cursors.delete(c);
    return super.removeConsumer(c);
  }

  /**
   * Reads for consumers with credit, at most READ_BUDGET bytes per call shared among them, so
   * many consumers reading old data do not hold the event loop: what is left goes on in the
   * next turn (setImmediate, after I/O).
   */
  dispatch(): void {
    if (this.deleted) return;
    const cs = this.list.all;
    const log = this.log;
    const share = Math.max(READ_BUDGET / Math.max(cs.length, 1), MIN_SHARE);
    let more = false;
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i]!;
      const cur = this.cursors.get(c);
      if (cur === undefined) continue;
      let left = share;
      try {
        while (cur.next < log.nextOffset && c.owner.canTake(c)) {
          if (left <= 0) { more = true; break; }
          const m = log.read(cur);
          if (m === null) break;
          left -= m.body.length + m.properties.length;
          if (cur.next <= cur.from) continue; // attached at an offset not yet written
          this.hand(c, m);
        }
      } catch (e) {
        if (!(e instanceof CorruptSegment)) throw e;
        // As an osiris reader that fails its CRC check: this consumer ends (basic.cancel), the
        // log says where; nothing past the bad record is delivered.
        this.cursors.delete(c);
        this.list.remove(c);
        c.owner.cancelledByQueue(c);
        i--;
      }
    }
    if (more && !this.readQueued) {
      this.readQueued = true;
      setImmediate(this.readOn);
    }
  }

  private readonly readOn = (): void => {
    this.readQueued = false;
    this.dispatch();
  };

  private hand(c: Consumer, m: Message): void {
    c.unacked++;
    this.stats.deliver++;
    c.owner.deliver(c, this, HANDLE, m, false);
  }

  get(_to: GetOwner, _noAck: boolean): boolean {
    throw ConnectionError.notImplemented(`basic.get not supported by stream queues ${this.res}`);
  }

  // An ack only gives credit back; the broker's requeue (channel closed) too. The client's
  // nack and reject are refused as RabbitMQ refuses them.
  ack(_h: DeliveryHandle, c: Consumer | null): void { this.settle(c); }
  requeue(_h: DeliveryHandle, c: Consumer | null, byClient?: boolean): void {
    if (byClient === true) throw this.noNack();
    this.settle(c);
  }
  reject(_h: DeliveryHandle, _c: Consumer | null): void { throw this.noNack(); }

  private noNack(): ConnectionError {
    return ConnectionError.notImplemented(`basic.nack and basic.reject not supported by stream queues ${this.res}`);
  }

  private settle(c: Consumer | null): void {
    if (c !== null && c.unacked > 0) c.unacked--;
  }

  purge(): number {
    throw ConnectionError.notImplemented(`queue.purge not supported by stream queues ${this.res}`);
  }

  /** The retention timer, for when the oldest segment ages out (x-max-age). */
  protected armTimer(): void {
    if (!this.deleted) this.retention.arm(this.log.nextAgeDue);
  }

  private onRetention(): void {
    if (this.deleted) return;
    this.log.retain();
    this.armTimer();
  }
  /**
   * Policies (policy.ts: the lowest of argument and policy): max-length-bytes and max-age apply
   * at once, as osiris:update_retention evaluates retention when it is given; the segment size
   * only when the stream starts (declared, or recovered at boot), as RabbitMQ's writer takes
   * it only then.
   */
  protected settingsChanged(effective: FieldTable): void {
    if (this.deleted) return;
    const limits = streamLimits(effective);
    if (!this.starting) limits.segmentBytes = this.log.limits.segmentBytes;
    this.log.limits = limits;
    this.log.retain();
    this.retention.stop();
    this.armTimer();
  }

  markDeleted(): void {
    this.deleted = true;
    this.retention.stop();
    for (const c of this.list.clear()) c.owner.cancelledByQueue(c);
    this.cursors.clear();
    this.log.destroy();
  }

  close(): void {
    this.retention.stop();
    this.log.close();
  }

  // Nothing of a stream is in the store's message journal.
  restore(): void {}
  restored(): void {}
}
