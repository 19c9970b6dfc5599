import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidNonce, leadingZeroBits, meetsDifficulty } from '../src/pow.js';

function bigintZeroBits(digest: Uint8Array): number {
  const n = BigInt(`0x${Buffer.from(digest).toString('hex')}`);
  return n === 0n ? 256 : 256 - n.toString(2).length;
}

describe('PoW predicate', () => {
  it('counts leading zero bits like the 256-bit big-endian integer does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(40), (bytes, zeros) => {
        const d = Uint8Array.from(bytes);
        for (let i = 0; i < zeros && i < 256; i++) d[i >> 3]! &= ~(0x80 >> (i & 7));
        expect(leadingZeroBits(d)).toBe(bigintZeroBits(d));
      }),
    );
  });

  it('meetsDifficulty is digest < 2^(256 - difficulty)', () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(1000), fc.integer({ min: 0, max: 24 }), (c, n, diff) => {
        const digest = createHash('sha256')
          .update(c + String(n))
          .digest();
        const big = BigInt(`0x${digest.toString('hex')}`);
        expect(meetsDifficulty(digest, diff)).toBe(big < 2n ** BigInt(256 - diff));
      }),
    );
  });

  it('accepts only canonical decimal nonces up to 2^53 - 1', () => {
    for (const ok of ['0', '1', '10', '9007199254740991']) expect(isValidNonce(ok)).toBe(true);
    for (const bad of [
      '',
      '01',
      '-1',
      '+1',
      '1.0',
      ' 1',
      '1e3',
      '9007199254740992',
      '99999999999999999',
      7,
    ]) {
      expect(isValidNonce(bad)).toBe(false);
    }
  });
});
