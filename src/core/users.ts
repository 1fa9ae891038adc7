// The internal user database, as rabbit_auth_backend_internal keeps it: users with tags and a
// salted password hash (password.ts), login over PLAIN/AMQPLAIN, and RabbitMQ's loopback_users
// rule (by default guest may only log in from loopback). Changes are written through
// AccessPersistence when the broker has a store; permissions live in access.ts.
import { ChannelError } from '../protocol/errors.js';
import type { AccessPersistence } from './persistence.js';
import { DEFAULT_HASHING, hashPassword, passwordMatches, type HashingAlgorithm } from './password.js';

/**
 * A user as operations see it (the Actor's user). One object per user name for its whole life,
 * so tag changes are seen by open connections, as RabbitMQ re-reads tags per check.
 */
export interface User {
  readonly name: string;
  tags: readonly string[];
}

/** A user as stored and exported: the hash is salt ++ digest (empty = no password). */
export interface UserRecord {
  name: string;
  passwordHash: Buffer;
  hashingAlgorithm: HashingAlgorithm;
  tags: string[];
}

export type LoginResult = { user: User } | { refused: string };

interface Entry {
  user: User;
  passwordHash: Buffer;
  hashingAlgorithm: HashingAlgorithm;
}

/** Called when a user goes (the broker closes its connections, access.ts drops its permissions). */
export type UserListener = (name: string) => void;

export class Users {
  private readonly byName = new Map<string, Entry>();
  persistence: AccessPersistence | null = null;
  /** Runs after a user is deleted. */
  onDeleted: UserListener = () => {};

  constructor(private readonly loopbackOnly: ReadonlySet<string>) {}

  get size(): number {
    return this.byName.size;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): User | undefined {
    return this.byName.get(name)?.user;
  }

  /** rabbit_auth_backend_internal:add_user: a new user with a password hashed the default way. */
  addUser(name: string, password: string, tags: readonly string[] = []): User {
    if (this.byName.has(name)) throw new Error(`user '${name}' already exists`);
    return this.put({ name, passwordHash: hashPassword(password), hashingAlgorithm: DEFAULT_HASHING, tags: [...tags] });
  }

  /** Creates or replaces a user from a stored or imported record (hash kept as it is). */
  put(rec: UserRecord): User {
    const existing = this.byName.get(rec.name);
    const user = existing?.user ?? { name: rec.name, tags: [] };
    user.tags = [...rec.tags];
    this.byName.set(rec.name, { user, passwordHash: rec.passwordHash, hashingAlgorithm: rec.hashingAlgorithm });
    this.persistence?.saveUser(rec);
    return user;
  }

  /** Startup: a user from the store (no write back). */
  restore(rec: UserRecord): void {
    const p = this.persistence;
    this.persistence = null;
    try {
      this.put(rec);
    } finally {
      this.persistence = p;
    }
  }

  /** Drops a user from memory only (no write, no listeners): Registry.reset(). */
  forget(name: string): void {
    this.byName.delete(name);
  }

  deleteUser(name: string): void {
    this.entry(name);
    this.byName.delete(name);
    this.persistence?.deleteUser(name);
    this.onDeleted(name);
  }

  /** rabbitmqctl change_password: rehashed with the default algorithm, as RabbitMQ does. */
  changePassword(name: string, password: string): void {
    const e = this.entry(name);
    this.save(name, { ...e, passwordHash: hashPassword(password), hashingAlgorithm: DEFAULT_HASHING });
  }

  /** rabbitmqctl clear_password: the user can no longer log in with a password. */
  clearPassword(name: string): void {
    const e = this.entry(name);
    this.save(name, { ...e, passwordHash: Buffer.alloc(0) });
  }

  setTags(name: string, tags: readonly string[]): void {
    const e = this.entry(name);
    e.user.tags = [...tags];
    this.save(name, e);
  }

  /** Every user as stored (for definitions export and the management API). */
  list(): UserRecord[] {
    return [...this.byName.values()].map((e) => this.record(e));
  }

  /**
   * PLAIN/AMQPLAIN login. `refused` says why, for the log; the client only learns that the login
   * was refused. Order as rabbit_auth_backend_internal then rabbit_access_control: credentials
   * (a blank password is refused outright), then the loopback rule.
   */
  login(name: string, password: string, fromLoopback: boolean): LoginResult {
    const e = this.byName.get(name);
    if (e === undefined) return { refused: `user '${name}' - invalid credentials (no such user)` };
    if (e.passwordHash.length === 0 || password === '') {
      return { refused: `user '${name}' attempted to log in with a blank password, which is prohibited by the internal authN backend` };
    }
    if (!passwordMatches(e.passwordHash, e.hashingAlgorithm, password)) {
      return { refused: `user '${name}' - invalid credentials (wrong password)` };
    }
    return this.admit(e, fromLoopback);
  }

  /**
   * EXTERNAL (a verified client certificate named the user): the user must exist, no password
   * is checked, loopback_users still apply.
   */
  loginExternal(name: string, fromLoopback: boolean): LoginResult {
    const e = this.byName.get(name);
    if (e === undefined) return { refused: `user '${name}' - invalid credentials (no such user)` };
    return this.admit(e, fromLoopback);
  }

  private admit(e: Entry, fromLoopback: boolean): LoginResult {
    if (!fromLoopback && this.loopbackOnly.has(e.user.name)) {
      return { refused: `user '${e.user.name}' can only connect via localhost` };
    }
    return { user: e.user };
  }

  private entry(name: string): Entry {
    const e = this.byName.get(name);
    if (e === undefined) throw ChannelError.notFound(`no user '${name}'`);
    return e;
  }

  private save(name: string, e: Entry): void {
    this.byName.set(name, e);
    this.persistence?.saveUser(this.record(e));
  }

  private record(e: Entry): UserRecord {
    return { name: e.user.name, passwordHash: e.passwordHash, hashingAlgorithm: e.hashingAlgorithm, tags: [...e.user.tags] };
  }
}


export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}
