// The user table. Passwords are compared in constant time; loopback-only users (RabbitMQ's
// loopback_users, by default just guest) are refused from any other address.
import { timingSafeEqual, createHash } from 'node:crypto';

export interface User { name: string; tags: string[] }

interface StoredUser extends User { passwordHash: Buffer }

const hash = (password: string) => createHash('sha256').update(password, 'utf8').digest();

export type LoginResult = { user: User } | { refused: string };

export class UserStore {
  private readonly users = new Map<string, StoredUser>();

  constructor(private readonly loopbackOnly: ReadonlySet<string>) {}

  add(name: string, password: string, tags: string[] = []): void {
    this.users.set(name, { name, tags, passwordHash: hash(password) });
  }

  /** `refused` says why, for the log; the client only learns that the login was refused. */
  login(name: string, password: string, fromLoopback: boolean): LoginResult {
    const u = this.users.get(name);
    if (!u || !timingSafeEqual(u.passwordHash, hash(password))) {
      return { refused: `user '${name}' - invalid credentials` };
    }
    return this.admit(u, fromLoopback);
  }

  /**
   * EXTERNAL (a verified client certificate named the user): the user must exist, no password
   * is checked, loopback_users still apply.
   */
  loginExternal(name: string, fromLoopback: boolean): LoginResult {
    const u = this.users.get(name);
    if (!u) return { refused: `user '${name}' - invalid credentials` };
    return this.admit(u, fromLoopback);
  }

  private admit(u: StoredUser, fromLoopback: boolean): LoginResult {
    if (!fromLoopback && this.loopbackOnly.has(u.name)) {
      return { refused: `user '${u.name}' can only connect via localhost` };
    }
    return { user: { name: u.name, tags: u.tags } };
  }
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}
