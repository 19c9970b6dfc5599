/**
 * The proof-of-work predicate of docs/protocol.md §3.3, shared by the Core (which
 * checks) and the agent SDK (which solves). Hashing itself is left to the
 * caller: the Core uses node:crypto, the solver its own kernel.
 */

/** A nonce: decimal, no sign, no leading zeros, at most 16 digits. */
export const NONCE_PATTERN = /^(0|[1-9][0-9]{0,15})$/;

/** Largest nonce value accepted (2^53 − 1). */
export const MAX_NONCE = Number.MAX_SAFE_INTEGER;

/** Difficulty the hosted platform uses by default. */
export const DEFAULT_POW_DIFFICULTY = 15;

/** Largest difficulty the reference Core accepts in configuration. */
export const MAX_POW_DIFFICULTY = 64;

/** True when `nonce` is well-formed per §3.3 (syntax and range). */
export function isValidNonce(nonce: unknown): nonce is string {
  return typeof nonce === 'string' && NONCE_PATTERN.test(nonce) && Number(nonce) <= MAX_NONCE;
}

/** Number of leading zero bits of a digest read as a big-endian integer. */
export function leadingZeroBits(digest: Uint8Array): number {
  let bits = 0;
  for (let i = 0; i < digest.length; i++) {
    const byte = digest[i]!;
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

/**
 * §3.3: the digest, read as a 256-bit big-endian integer, is below
 * 2^(256 − difficulty), i.e. it has at least `difficulty` leading zero bits.
 */
export function meetsDifficulty(digest: Uint8Array, difficulty: number): boolean {
  if (difficulty <= 0) return true;
  return leadingZeroBits(digest) >= difficulty;
}

/** The exact bytes that are hashed: UTF-8 of `challenge + nonce`. */
export function powPreimage(challenge: string, nonce: string): Uint8Array {
  return new TextEncoder().encode(challenge + nonce);
}

/** Expected number of hashes to solve a difficulty (2^difficulty). */
export function expectedHashes(difficulty: number): number {
  return 2 ** Math.max(0, difficulty);
}
