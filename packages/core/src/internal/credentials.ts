import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Prefixes of the credentials the Core issues. */
export const TOKEN_PREFIX = { agent: 'at_', site: 'st_', admin: 'adm_' } as const;

/** A fresh credential: prefix + 32 random bytes, base64url. */
export function newToken(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

/**
 * A credential without any prefix (the hosted profile: production tokens
 * without `st_`/`at_` exist). Hex, so it can never start with `st_`/`at_`.
 */
export function newUnprefixedToken(): string {
  return randomBytes(32).toString('hex');
}

/** Hex SHA-256 of a credential: the only form the Core stores. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Constant-time comparison of two hex SHA-256 hashes. Lookups find the
 * record by hash; this confirms it without a timing side channel.
 */
export function hashesEqual(a: string, b: string): boolean {
  if (a.length !== 64 || b.length !== 64) return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

/** A credential header value worth hashing: printable ASCII, bounded length. */
export function plausibleToken(value: string): boolean {
  return value.length > 0 && value.length <= 512;
}
