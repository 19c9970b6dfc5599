// The verifier's fast canonical-base64url check (Node: decode with Buffer,
// re-encode, compare) must accept exactly what the portable strict checker
// accepts, and decode to the same bytes.
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeBase64urlPortable,
  encodeBase64url,
  isStrictBase64url,
} from '../src/jwt/base64url.js';
import { decodeCanonicalSegment } from '../src/jwt/crypto-backend.js';

// Base64url, the standard alphabet's extras, padding, whitespace, a dot, non-ASCII.
const CHARS = [
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
  ...'+/= \n\t.\u00e9\u20ac\0',
];
const anyText = fc
  .array(fc.constantFrom(...CHARS), { maxLength: 40 })
  .map((chars) => chars.join(''));

function portable(text: string): Uint8Array | null {
  return isStrictBase64url(text) ? decodeBase64urlPortable(text) : null;
}

describe('decodeCanonicalSegment', () => {
  it('accepts exactly the strict base64url strings, with the same bytes', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const fast = decodeCanonicalSegment(text);
        const strict = portable(text);
        expect(fast === null).toBe(strict === null);
        if (fast && strict) expect([...fast]).toEqual([...strict]);
      }),
      { numRuns: 5_000 },
    );
  });

  it('round-trips every byte string and refuses each single-character corruption', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), (bytes, at) => {
        const text = encodeBase64url(bytes);
        expect([...(decodeCanonicalSegment(text) ?? [])]).toEqual([...bytes]);
        const i = at % text.length;
        for (const bad of ['+', '/', '=', ' ', '.']) {
          expect(decodeCanonicalSegment(text.slice(0, i) + bad + text.slice(i + 1))).toBeNull();
        }
      }),
    );
  });

  it('refuses the empty string, a length of 1 mod 4 and set unused bits', () => {
    expect(decodeCanonicalSegment('')).toBeNull();
    expect(decodeCanonicalSegment('AAAAA')).toBeNull();
    expect(decodeCanonicalSegment('AB')).toBeNull(); // 4 unused bits set
    expect(decodeCanonicalSegment('AAB')).toBeNull(); // 2 unused bits set
    expect([...(decodeCanonicalSegment('AQAB') ?? [])]).toEqual([1, 0, 1]);
  });
});
