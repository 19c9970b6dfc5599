import { createHash } from 'node:crypto';
import { isValidNonce, leadingZeroBits, MAX_NONCE, meetsDifficulty } from '@lime/wire';
import fc from 'fast-check';
import { createPowKernel, type KernelKind } from 'lime-agents-sdk/pow/internal/kernel';
import { powWasmModule } from 'lime-agents-sdk/pow/internal/main-kernel';
import { describe, expect, it } from 'vitest';

const wasm = createPowKernel(powWasmModule());
const jsOnly = createPowKernel(null);
const KINDS: KernelKind[] = ['wasm', 'js'];
const utf8 = new TextEncoder();

const digest = (challenge: string, nonce: number) =>
  createHash('sha256')
    .update(challenge + String(nonce), 'utf8')
    .digest();
const ok = (challenge: string, nonce: number, difficulty: number) =>
  meetsDifficulty(digest(challenge, nonce), difficulty);

/** Every nonce of [start, end) that meets the difficulty, by node:crypto. */
function solutions(challenge: string, difficulty: number, start: number, end: number): number[] {
  const out: number[] = [];
  for (let n = start; n < end; n++) if (ok(challenge, n, difficulty)) out.push(n);
  return out;
}

/** A string of exactly `bytes` UTF-8 bytes mixing 1-, 2-, 3- and 4-byte characters. */
function stringOfBytes(bytes: number, seed: number): string {
  const chars = ['a', 'é', '€', '😀', '0', 'ß', '中', '𝄞'];
  let s = '';
  let left = bytes;
  let i = seed;
  while (left > 0) {
    const c = chars[i++ % chars.length]!;
    const size = utf8.encode(c).length;
    if (size <= left) {
      s += c;
      left -= size;
    } else {
      s += 'x';
      left -= 1;
    }
  }
  return s;
}

/** Check one scan against node:crypto over the same range. */
function checkScan(
  kind: KernelKind,
  challenge: string,
  difficulty: number,
  start: number,
  end: number,
) {
  const kernel = kind === 'wasm' ? wasm : jsOnly;
  const prep = kernel.prepare(utf8.encode(challenge));
  const result = kernel.scan(prep, difficulty, start, end, kind);
  const expected = solutions(challenge, difficulty, start, end);
  if (expected.length === 0) {
    expect(result.nonce).toBe(-1);
    expect(result.hashes).toBe(end - start);
  } else if (kind === 'js') {
    // Sequential: exactly the first solution, after exactly that many hashes.
    expect(result.nonce).toBe(expected[0]);
    expect(result.hashes).toBe(expected[0]! - start + 1);
  } else {
    // 4 lanes scan 4 sub-ranges at once: any solution of the range.
    expect(expected).toContain(result.nonce);
  }
  if (result.nonce >= 0) expect(isValidNonce(String(result.nonce))).toBe(true);
}

describe('PoW kernel', () => {
  it('has the WebAssembly SIMD kernel on this Node', () => {
    expect(wasm.simd).toBe(true);
    expect(jsOnly.simd).toBe(false);
    expect(() => jsOnly.scan(jsOnly.prepare(new Uint8Array()), 1, 0, 10, 'wasm')).toThrow(/SIMD/);
  });

  it('hashes challenge + nonce exactly like node:crypto (arbitrary UTF-8, any nonce)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 150 }),
        fc.integer({ min: 0, max: MAX_NONCE }),
        (challenge, nonce) => {
          const words = wasm.hashNonce(wasm.prepare(utf8.encode(challenge)), nonce);
          const hex = Array.from(words, (w) => (w >>> 0).toString(16).padStart(8, '0')).join('');
          expect(hex).toBe(digest(challenge, nonce).toString('hex'));
        },
      ),
      { numRuns: 500 },
    );
  });

  for (const kind of KINDS) {
    it(`${kind}: agrees with node:crypto for every challenge length 0–200 bytes (multi-byte UTF-8)`, () => {
      for (let bytes = 0; bytes <= 200; bytes++) {
        const challenge = stringOfBytes(bytes, bytes);
        expect(utf8.encode(challenge).length).toBe(bytes);
        // Difficulty 8 over 300 nonces: about a third of the ranges have no
        // solution, so both "found" and "none in range" are checked.
        const start = bytes * 997 + 5;
        checkScan(kind, challenge, 8, start, start + 300);
      }
    });

    it(`${kind}: agrees with node:crypto for arbitrary challenges, ranges and difficulties`, () => {
      fc.assert(
        fc.property(
          fc.string({ unit: 'grapheme', maxLength: 120 }),
          fc.integer({ min: 0, max: 10 ** 12 }),
          fc.integer({ min: 1, max: 600 }),
          fc.integer({ min: 1, max: 10 }),
          (challenge, start, width, difficulty) => {
            checkScan(kind, challenge, difficulty, start, start + width);
          },
        ),
        { numRuns: 150 },
      );
    });

    it(`${kind}: crosses every digit-count rollover (9→10 … 10^15−1→10^15) and reaches 2^53−1`, () => {
      for (let digits = 1; digits <= 15; digits++) {
        const edge = 10 ** digits;
        for (const challenge of ['', 'a'.repeat(50), 'é'.repeat(30)]) {
          checkScan(kind, challenge, 7, Math.max(0, edge - 150), edge + 150);
        }
      }
      checkScan(kind, 'top', 6, MAX_NONCE - 400, MAX_NONCE + 1);
    });

    it(`${kind}: difficulty 0 and 1`, () => {
      const kernel = kind === 'wasm' ? wasm : jsOnly;
      const prep = kernel.prepare(utf8.encode('abc'));
      // Every nonce meets difficulty 0; the SIMD kernel hashes 4 lanes at once.
      expect(kernel.scan(prep, 0, 12345, 99999, kind)).toEqual({
        nonce: 12345,
        hashes: kind === 'wasm' ? 4 : 1,
      });
      for (let start = 0; start < 2000; start += 97) checkScan(kind, 'abc', 1, start, start + 50);
    });

    it(`${kind}: finds nothing above 32 bits where there is nothing (no false positive)`, () => {
      const kernel = kind === 'wasm' ? wasm : jsOnly;
      const prep = kernel.prepare(utf8.encode('f'.repeat(64)));
      for (const difficulty of [31, 32, 33, 64, 256]) {
        const width = kind === 'wasm' ? 200_000 : 20_000;
        expect(kernel.scan(prep, difficulty, 10 ** 9, 10 ** 9 + width, kind)).toEqual({
          nonce: -1,
          hashes: width,
        });
      }
    });
  }

  // Found once by this kernel (≈ 2^32 hashes, minutes of CPU) and checked with
  // node:crypto: SHA-256 = 00000000 2982543d …, i.e. 34 leading zero bits.
  const VECTOR = { challenge: 'lime-agents-sdk pow test vector', nonce: 2368018242, zeros: 34 };

  it('known 34-bit vector: digest as node:crypto says', () => {
    expect(leadingZeroBits(digest(VECTOR.challenge, VECTOR.nonce))).toBe(VECTOR.zeros);
  });

  for (const kind of KINDS) {
    it(`${kind}: finds the known vector at difficulty 31–34 and rejects it at 35 (first-word filter passes it)`, () => {
      const kernel = kind === 'wasm' ? wasm : jsOnly;
      const prep = kernel.prepare(utf8.encode(VECTOR.challenge));
      const start = VECTOR.nonce - 2_000;
      const end = VECTOR.nonce + 2_000;
      for (const difficulty of [31, 32, 33, 34]) {
        checkScan(kind, VECTOR.challenge, difficulty, start, end);
        expect(kernel.scan(prep, difficulty, start, end, kind).nonce).toBe(VECTOR.nonce);
      }
      // Above 32 bits the SIMD filter only sees the first word (zero here): the
      // driver must verify, reject, and scan the rest of every lane.
      expect(kernel.scan(prep, 35, start, end, kind)).toEqual({ nonce: -1, hashes: end - start });
      expect(kernel.scan(prep, 256, start, end, kind)).toEqual({ nonce: -1, hashes: end - start });
    });
  }

  it('applies the §3.3 predicate exactly like @lime/wire on constructed digests (0–256 zero bits)', () => {
    const difficulties = [0, 1, 2, 7, 8, 31, 32, 33, 40, 63, 64, 65, 128, 255, 256];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 256 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (zeros, noise) => {
          // A digest with exactly `zeros` leading zero bits.
          const bytes = Uint8Array.from(noise);
          for (let bit = 0; bit < 256; bit++) {
            const mask = 0x80 >> (bit & 7);
            if (bit < zeros) bytes[bit >> 3]! &= ~mask;
            else if (bit === zeros) bytes[bit >> 3]! |= mask;
          }
          expect(leadingZeroBits(bytes)).toBe(zeros);
          const words = new Int32Array(8);
          const view = new DataView(bytes.buffer);
          for (let i = 0; i < 8; i++) words[i] = view.getInt32(i * 4);
          for (const d of difficulties) {
            const expected = meetsDifficulty(bytes, d);
            expect(wasm.meetsTarget(words, d)).toBe(expected);
            // The SIMD pre-filter never rejects a solution, and is exact up to 32 bits.
            const passes = (words[0]! & wasm.firstWordMask(d)) === 0;
            if (expected) expect(passes).toBe(true);
            if (d <= 32) expect(passes).toBe(expected);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
