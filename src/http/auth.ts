// HTTP basic authentication against the broker's users, and the management plugin's user
// levels: a user needs one of the management tags to use the API at all, and some endpoints
// need more (monitoring for node-wide views, administrator for users, vhosts, definitions).
// Texts and codes as RabbitMQ 3.10.8 answers them.
import type { IncomingHttpHeaders } from 'node:http';
import { isLoopback, type User, type Users } from '../core/users.js';
import { HttpError } from './errors.js';

export type Level = 'management' | 'policymaker' | 'monitoring' | 'administrator';

/** Which tags grant which level (an administrator is also a monitor, and so on). */
const GRANTS: Record<Level, readonly string[]> = {
  management: ['management', 'policymaker', 'monitoring', 'administrator'],
  policymaker: ['policymaker', 'administrator'],
  monitoring: ['monitoring', 'administrator'],
  administrator: ['administrator'],
};

const REFUSAL: Record<Level, string> = {
  management: 'Not management user',
  policymaker: 'Not policymaker user',
  monitoring: 'Not monitor user',
  administrator: 'Not administrator user',
};

/** The user a request authenticates as; 401 without credentials or with wrong ones. */
export function authenticate(users: Users, headers: IncomingHttpHeaders, remoteAddress: string | undefined): User {
  const h = headers.authorization;
  if (h === undefined || !h.startsWith('Basic ')) throw HttpError.noCredentials();
  const decoded = Buffer.from(h.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw HttpError.loginFailed();
  const result = users.login(decoded.slice(0, colon), decoded.slice(colon + 1), isLoopback(remoteAddress));
  if ('refused' in result) throw HttpError.loginFailed();
  return result.user;
}

export function hasLevel(user: User, level: Level): boolean {
  return user.tags.some((t) => GRANTS[level].includes(t));
}

export function requireLevel(user: User, level: Level): void {
  if (!hasLevel(user, 'management')) throw HttpError.notAuthorised(REFUSAL.management);
  if (!hasLevel(user, level)) throw HttpError.notAuthorised(REFUSAL[level]);
}
