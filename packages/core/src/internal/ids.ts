import { randomBytes } from 'node:crypto';

/** Opaque identifiers: a prefix and 16 random bytes (base64url). */
export function newId(prefix: 'lr' | 'site' | 'agt' | 'usr' | 'bnd'): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

/** 64 lowercase hex characters (32 random bytes): the PoW challenge of §3.3. */
export function newChallenge(): string {
  return randomBytes(32).toString('hex');
}

/** Cheap unique request ids: a random boot prefix and a counter. */
export function requestIdFactory(): () => string {
  const boot = randomBytes(6).toString('hex');
  let n = 0;
  return () => `req_${boot}_${(++n).toString(36)}`;
}
