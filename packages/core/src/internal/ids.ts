import { randomBytes } from 'node:crypto';

// Ids and challenges draw from a pool refilled 4 KiB at a time: one
// randomBytes call per ~100 requests instead of several per request.
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

function take(n: number): Buffer {
  if (offset + n > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  // A copy, so a later refill never aliases bytes already handed out.
  const out = Buffer.from(pool.subarray(offset, offset + n));
  offset += n;
  return out;
}

/** Opaque identifiers: a prefix and 16 random bytes (base64url). */
export function newId(prefix: 'lr' | 'site' | 'agt' | 'usr' | 'bnd'): string {
  return `${prefix}_${take(16).toString('base64url')}`;
}

/** 64 lowercase hex characters (32 random bytes): the PoW challenge of §3.3. */
export function newChallenge(): string {
  return take(32).toString('hex');
}

/** Cheap unique request ids: a random boot prefix and a counter. */
export function requestIdFactory(): () => string {
  const boot = randomBytes(6).toString('hex');
  let n = 0;
  return () => `req_${boot}_${(++n).toString(36)}`;
}
