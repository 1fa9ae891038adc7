// The store's policies and operator policies (schema version 4): few, changed rarely, each
// change committed at once like users and permissions; read at startup only. The definition is
// kept as the JSON it was given, so keys Warren does not act on travel unchanged to an export.
import type Database from 'better-sqlite3';

/** The migration from version 3 (and part of a new file's tables). */
export const POLICY_TABLES = `
CREATE TABLE policies (
  kind TEXT NOT NULL, vhost TEXT NOT NULL, name TEXT NOT NULL, pattern TEXT NOT NULL, apply_to TEXT NOT NULL,
  priority REAL NOT NULL, definition TEXT NOT NULL,
  PRIMARY KEY (kind, vhost, name)) WITHOUT ROWID;
`;

/** A stored policy ('policy' or 'operator'). */
export interface PolicyRow {
  kind: string;
  vhost: string;
  name: string;
  pattern: string;
  applyTo: string;
  priority: number;
  definition: Record<string, unknown>;
}

function prepare(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    save: p('INSERT OR REPLACE INTO policies (kind, vhost, name, pattern, apply_to, priority, definition) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    remove: p('DELETE FROM policies WHERE kind = ? AND vhost = ? AND name = ?'),
    removeVhost: p('DELETE FROM policies WHERE vhost = ?'),
    load: p('SELECT kind, vhost, name, pattern, apply_to AS applyTo, priority, definition FROM policies ORDER BY kind, vhost, name'),
  };
}

export class PolicyStore {
  private readonly st: ReturnType<typeof prepare>;

  /** `write` opens (or joins) the turn's transaction, `commit` makes it durable now. */
  constructor(db: Database.Database, private readonly write: () => void, private readonly commit: () => void) {
    this.st = prepare(db);
  }

  save(r: PolicyRow): void {
    this.write();
    this.st.save.run(r.kind, r.vhost, r.name, r.pattern, r.applyTo, r.priority, JSON.stringify(r.definition));
    this.commit();
  }

  remove(kind: string, vhost: string, name: string): void {
    this.write();
    this.st.remove.run(kind, vhost, name);
    this.commit();
  }

  /** The vhost was deleted (called inside the store's write). */
  vhostDeleted(vhost: string): void {
    this.st.removeVhost.run(vhost);
  }

  load(): PolicyRow[] {
    type Row = Omit<PolicyRow, 'definition'> & { definition: string };
    return (this.st.load.all() as Row[]).map((r) => ({ ...r, definition: JSON.parse(r.definition) as Record<string, unknown> }));
  }
}
