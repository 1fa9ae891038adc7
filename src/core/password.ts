// RabbitMQ's password hashing (rabbit_password and the rabbit_password_hashing_* modules), so a
// password_hash taken from a RabbitMQ definitions export logs in here unchanged.
//
// rabbit_password:hash/2 makes a 4-byte random salt and stores salt ++ H(salt ++ utf8(password));
// definitions carry that base64-encoded. H is SHA-256 by default (password_hashing_module),
// SHA-512 or MD5 for users imported with those algorithms. An empty hash means "no password":
// rabbit_auth_backend_internal refuses every PLAIN/AMQPLAIN login for such a user.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const HASHING_ALGORITHMS = {
  rabbit_password_hashing_sha256: 'sha256',
  rabbit_password_hashing_sha512: 'sha512',
  rabbit_password_hashing_md5: 'md5',
} as const;

export type HashingAlgorithm = keyof typeof HASHING_ALGORITHMS;

/** rabbit_password:hashing_mod/0's default. */
export const DEFAULT_HASHING: HashingAlgorithm = 'rabbit_password_hashing_sha256';

export function isHashingAlgorithm(a: unknown): a is HashingAlgorithm {
  return typeof a === 'string' && Object.hasOwn(HASHING_ALGORITHMS, a);
}

const SALT_BYTES = 4;

function salted(algorithm: HashingAlgorithm, salt: Buffer, password: string): Buffer {
  return createHash(HASHING_ALGORITHMS[algorithm]).update(salt).update(password, 'utf8').digest();
}

/** rabbit_password:hash/2: salt ++ H(salt ++ password). */
export function hashPassword(password: string, algorithm: HashingAlgorithm = DEFAULT_HASHING): Buffer {
  const salt = randomBytes(SALT_BYTES);
  return Buffer.concat([salt, salted(algorithm, salt, password)]);
}

/** Digest length of each algorithm: a stored hash must be salt + exactly one digest. */
export function hashLength(algorithm: HashingAlgorithm): number {
  return SALT_BYTES + createHash(HASHING_ALGORITHMS[algorithm]).digest().length;
}

/**
 * rabbit_auth_backend_internal:user_login_authentication: the password matches the stored hash.
 * An empty hash (no password) never matches.
 */
export function passwordMatches(stored: Buffer, algorithm: HashingAlgorithm, password: string): boolean {
  if (stored.length <= SALT_BYTES) return false;
  const expected = salted(algorithm, stored.subarray(0, SALT_BYTES), password);
  const actual = stored.subarray(SALT_BYTES);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
