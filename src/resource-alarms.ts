// RabbitMQ's resource alarms (rabbit_alarm): memory (memory-monitor.ts) and disk
// (disk-monitor.ts). While any is set, a connection that publishes is blocked: not read any more,
// and told with connection.blocked if it asked for that capability, with rabbit_reader's reason
// ("low on memory", "low on disk", "low on memory & disk" as the alarms stand when it is blocked).
// When the last alarm clears, every blocked connection is unblocked (connection.unblocked).
// A second alarm arriving or one of two clearing changes nothing for a blocked connection.
export type Resource = 'memory' | 'disk';

const ORDER: readonly Resource[] = ['memory', 'disk'];

export class ResourceAlarms {
  private readonly active = new Set<Resource>();

  /** `allCleared` runs when the last alarm goes (the broker unblocks its connections). */
  constructor(private readonly allCleared: () => void) {}

  /** Any alarm in effect: publishing connections are blocked. Read on every publish: a size check. */
  get any(): boolean {
    return this.active.size > 0;
  }

  has(r: Resource): boolean {
    return this.active.has(r);
  }

  /** The alarms in effect, memory first (as the management API lists them). */
  list(): Resource[] {
    return ORDER.filter((r) => this.active.has(r));
  }

  set(r: Resource, on: boolean): void {
    if (on) {
      this.active.add(r);
      return;
    }
    if (this.active.delete(r) && this.active.size === 0) this.allCleared();
  }

  /** connection.blocked's reason text, as rabbit_reader:blocked_by_message. */
  get reason(): string {
    return `low on ${this.list().join(' & ')}`;
  }
}
