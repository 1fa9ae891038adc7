// Whether a connection's socket is read: the one owner of every reason to stop reading a peer.
// Reading stops while any reason holds and resumes when the last one goes:
// - writeBlocked: our writes to the peer are over the high-water mark (it is not reading us);
// - throttledBy: congested queues this connection published into (flow.ts);
// - blockedByAlarm: a resource alarm (memory, disk) is on and this connection published
//   (RabbitMQ's "blocked").
import type { Duplex } from 'node:stream';
import type { MessageQueue } from '../core/queue/types.js';

export class ReadGate {
  /** True while the socket's write buffer is over the high-water mark. */
  writeBlocked = false;
  /** Congested queues this connection published into; it is not read while any remain. */
  readonly throttledBy = new Set<MessageQueue>();
  /** flow.ts's re-check timer for this connection. */
  flowTimer: NodeJS.Timeout | null = null;
  /** Not read while resource alarms last, because it published. */
  blockedByAlarm = false;
  /** The connection is gone: never read again. */
  private closed = false;

  constructor(private readonly stream: Duplex) {}

  /** One reason to stop reading now holds (the caller has recorded which). */
  pause(): void {
    this.stream.pause();
  }

  /** Read again, unless another reason to hold back remains. */
  resume(): void {
    if (this.writeBlocked || this.throttledBy.size > 0 || this.blockedByAlarm || this.closed) return;
    this.stream.resume();
  }

  /** True while any reason holds. */
  get held(): boolean {
    return this.writeBlocked || this.throttledBy.size > 0 || this.blockedByAlarm;
  }

  /** An alarm is on and the connection published: true when this starts the block. */
  blockForAlarm(): boolean {
    if (this.blockedByAlarm) return false;
    this.blockedByAlarm = true;
    this.pause();
    return true;
  }

  /** The last alarm cleared: true when the connection had been blocked. */
  unblockAfterAlarm(): boolean {
    if (!this.blockedByAlarm) return false;
    this.blockedByAlarm = false;
    this.resume();
    return true;
  }

  close(): void {
    this.closed = true;
  }
}
