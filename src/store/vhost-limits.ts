// The store's vhost limits (schema version 5): one row per vhost that has a limits parameter,
// the limits as a JSON list of [name, value] pairs so RabbitMQ's order survives a restart (an
// empty list is a parameter whose limits were all cleared). Changed rarely, committed at once.
import type Database from 'better-sqlite3';

/** The migration from version 4 (and part of a new file's tables). */
export const VHOST_LIMIT_TABLES = `
CREATE TABLE vhost_limits (vhost TEXT PRIMARY KEY, limits TEXT NOT NULL) WITHOUT ROWID;
`;

export interface VhostLimitsRow {
  vhost: string;
  limits: [string, number][];
}

export class VhostLimitStore {
  private readonly st;

  /** `write` opens (or joins) the turn's transaction, `commit` makes it durable now. */
  constructor(db: Database.Database, private readonly write: () => void, private readonly commit: () => void) {
    this.st = {
      save: db.prepare('INSERT OR REPLACE INTO vhost_limits (vhost, limits) VALUES (?, ?)'),
      remove: db.prepare('DELETE FROM vhost_limits WHERE vhost = ?'),
      load: db.prepare('SELECT vhost, limits FROM vhost_limits ORDER BY vhost'),
    };
  }

  /** null removes the vhost's row (no limits parameter any more). */
  save(vhost: string, limits: readonly (readonly [string, number])[] | null): void {
    this.write();
    if (limits === null) this.st.remove.run(vhost);
    else this.st.save.run(vhost, JSON.stringify(limits));
    this.commit();
  }

  /** The vhost was deleted (called inside the store's write). */
  vhostDeleted(vhost: string): void {
    this.st.remove.run(vhost);
  }

  load(): VhostLimitsRow[] {
    return (this.st.load.all() as { vhost: string; limits: string }[]).map((r) => ({ vhost: r.vhost, limits: JSON.parse(r.limits) as [string, number][] }));
  }
}
