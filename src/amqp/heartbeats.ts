// Heartbeats as RabbitMQ sends and checks them: a heartbeat goes out when we have been silent
// for half the negotiated interval, and a peer silent for two whole intervals is dropped
// (without a close frame). A heartbeat we send does not count as traffic, so an idle
// connection gets one every half interval.
export class Heartbeats {
  private timer: NodeJS.Timeout | null = null;
  private receivedSinceTick = true;
  private sentSinceTick = false;
  private missed = 0;

  /**
   * `send` writes a heartbeat frame; `dead` drops the connection; `guard` runs timer work so
   * that an exception drops this connection, not the broker.
   */
  constructor(
    private readonly send: () => void,
    private readonly dead: () => void,
    private readonly guard: (work: () => void) => void,
  ) {}

  /** tune-ok settled the interval (seconds; 0 = none). */
  start(seconds: number): void {
    if (seconds === 0) return;
    this.timer = setInterval(() => this.guard(this.tick), (seconds * 1000) / 2);
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
    if (!this.sentSinceTick) this.send();
    this.sentSinceTick = false;
    if (this.receivedSinceTick) this.missed = 0;
    else if (++this.missed >= 4) this.dead();
    this.receivedSinceTick = false;
  };
}
