// A connection's output: the frames of one event-loop turn are collected in one FrameWriter and
// written at the end of the turn (setImmediate) in one write, or one corked batch when a large
// body went in by reference. Work that must happen just before (coalesced publisher confirms)
// is hooked with beforeNextFlush. When the peer stops reading and our writes pile up past the
// high-water mark, the read gate stops reading it too.
import type { Duplex } from 'node:stream';
import type { ConnectionStats } from '../core/stats.js';
import { FrameWriter } from './frame-writer.js';
import type { BeforeFlush } from './port.js';
import type { ReadGate } from './read-gate.js';

/** Above this many bytes queued on the socket, stop reading from this peer until it drains. */
const WRITE_HIGH_WATER = 1024 * 1024;

export class Outbox {
  readonly out = new FrameWriter();
  private scheduled = false;
  private readonly hooks: BeforeFlush[] = [];

  /** `wrote` is told of every write (heartbeats count it as traffic); `guard` wraps the timer work. */
  constructor(
    private readonly socket: Duplex,
    private readonly gate: ReadGate,
    private readonly stats: ConnectionStats,
    private readonly wrote: () => void,
    private readonly guard: (work: () => void) => void,
  ) {}

  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(flushOutbox, this);
  }

  beforeNextFlush(h: BeforeFlush): void {
    this.hooks.push(h);
    this.schedule();
  }

  flush(): void {
    this.scheduled = false;
    const s = this.socket;
    if (s.destroyed) {
      // Nobody will read it: drop the turn's frames and hooks.
      this.hooks.length = 0;
      this.out.take();
      return;
    }
    if (this.hooks.length > 0) {
      for (const h of this.hooks) h.beforeFlush();
      this.hooks.length = 0;
    }
    const parts = this.out.take();
    if (parts.length === 0) return;
    this.wrote();
    const st = this.stats;
    st.sendCnt++;
    if (parts.length === 1) {
      st.sendOct += parts[0]!.length;
      s.write(parts[0]);
    } else {
      s.cork();
      for (const p of parts) {
        st.sendOct += p.length;
        s.write(p);
      }
      s.uncork();
    }
    const gate = this.gate;
    if (!gate.writeBlocked && s.writableLength > WRITE_HIGH_WATER) {
      // The peer is not reading: stop reading from it too, so it cannot make us buffer more.
      gate.writeBlocked = true;
      gate.pause();
    }
  }

  /** The socket drained: true if it had been over the high-water mark. */
  drained(): boolean {
    if (!this.gate.writeBlocked) return false;
    this.gate.writeBlocked = false;
    this.gate.resume();
    return true;
  }

  /** Runs the flush under the connection's guard, so a failure drops only that connection. */
  runGuarded(): void {
    this.guard(() => this.flush());
  }
}

function flushOutbox(o: Outbox): void {
  o.runGuarded();
}
