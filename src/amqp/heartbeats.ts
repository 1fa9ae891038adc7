// Heartbeats as RabbitMQ sends and checks them: a heartbeat goes out when we have been silent
// for half the negotiated interval, and a peer silent for two whole intervals is dropped
// (without a close frame). A heartbeat we send does not count as traffic, so an idle
// connection gets one every half interval.

/** What heartbeats need from their connection. */
export interface HeartbeatSide {
  sendHeartbeat(): void;
  /** The peer was silent for too long: drop it. */
  heartbeatTimeout(): void;
  /** Run timer work so that an exception drops this connection, not the broker. */
  guard(work: () => void): void;
}

export class Heartbeats {
  private timer: NodeJS.Timeout | null = null;
  private receivedSinceTick = true;
  private sentSinceTick = false;
  private missed = 0;

  constructor(private readonly side: HeartbeatSide) {}

  /** tune-ok settled the interval (seconds; 0 = none). */
  start(seconds: number): void {
    if (seconds === 0) return;
    this.timer = setInterval(() => this.side.guard(this.tick), (seconds * 1000) / 2);
    this.timer.unref();
  }

  /** Bytes arrived from the peer. */
  received(): void {
    this.receivedSinceTick = true;
  }

  /** Frames went out to the peer. */
  sent(): void {
    this.sentSinceTick = true;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private readonly tick = (): void => {
    if (!this.sentSinceTick) this.side.sendHeartbeat();
    this.sentSinceTick = false;
    if (this.receivedSinceTick) this.missed = 0;
    else if (++this.missed >= 4) this.side.heartbeatTimeout();
    this.receivedSinceTick = false;
  };
}
