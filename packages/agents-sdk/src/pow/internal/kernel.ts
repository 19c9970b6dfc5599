/**
 * The PoW hash kernel of PROTOCOL.md §3.3: find a decimal nonce N such that
 * SHA-256(UTF-8(challenge + N)) has at least `difficulty` leading zero bits.
 *
 * Speed comes from three things:
 * - the SHA-256 state after the challenge's full 64-byte blocks (the midstate)
 *   is computed once per solve, so each nonce costs only its tail block(s) —
 *   one compression for the Core's 64-character challenges;
 * - the nonce is incremented in place as ASCII digits inside the message
 *   words (a carry touches one more byte), never re-encoded;
 * - the WebAssembly SIMD kernel (sha256-simd.wat) hashes 4 nonces per
 *   compression; the pure-JS kernel (8 rounds unrolled) is the fallback.
 *
 * IMPORTANT: `createPowKernel` is serialized with `Function.prototype.toString`
 * into the worker source (worker-source.ts). Everything it uses must be defined
 * inside it: no imports, no module-level constants, no classes.
 */

/** The SHA-256 input prepared once per challenge. */
export interface PreparedChallenge {
  /** State after the challenge's full 64-byte blocks. */
  readonly midstate: Int32Array;
  /** The challenge bytes after those blocks (0–63 bytes). */
  readonly rest: Uint8Array;
  /** Byte length of the whole UTF-8 challenge. */
  readonly length: number;
}

/** Outcome of a scan over a nonce range. */
export interface ScanResult {
  /** The nonce found, or -1 when none in the range meets the difficulty. */
  readonly nonce: number;
  /** Hashes computed. */
  readonly hashes: number;
}

/** Which kernel a scan uses. */
export type KernelKind = 'wasm' | 'js';

export interface PowKernel {
  /** True when the WebAssembly SIMD kernel is available. */
  readonly simd: boolean;
  /** Midstate and tail of a UTF-8 challenge. */
  prepare(challenge: Uint8Array): PreparedChallenge;
  /**
   * Search nonces in [start, end) (end ≤ 2^53) with the given kernel
   * (default: WASM when available). Returns any nonce of the range that meets
   * the difficulty, not necessarily the smallest.
   */
  scan(
    prep: PreparedChallenge,
    difficulty: number,
    start: number,
    end: number,
    kind?: KernelKind,
  ): ScanResult;
  /** SHA-256 state words (the digest, big-endian words) of challenge + nonce. */
  hashNonce(prep: PreparedChallenge, nonce: number): Int32Array;
  /** The §3.3 predicate on digest words: at least `difficulty` leading zero bits. */
  meetsTarget(state: Int32Array, difficulty: number): boolean;
  /** Mask of the first digest word whose bits must all be zero (the SIMD pre-filter). */
  firstWordMask(difficulty: number): number;
}

/**
 * Build a kernel. `wasmModule` is the compiled sha256-simd module, or null to
 * use the JS kernel only (also the outcome when instantiation fails).
 */
export function createPowKernel(wasmModule: WebAssembly.Module | null): PowKernel {
  const KT = new Int32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);
  const IV = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ];
  // Byte offsets in the WASM memory; must match scripts/build-pow-wasm.ts.
  const WASM_MID = 1024;
  const WASM_MSG = 1088;
  // Nonces per lane per WASM call: bounds the call (≈ 100 ms) without
  // costing anything measurable in call overhead.
  const WASM_MAX_ITERS = 1 << 18;
  const W = new Int32Array(64);

  // Ch and Maj are written inline; the rotations as tiny functions that
  // TurboFan inlines.
  const s0 = (x: number) =>
    ((x >>> 2) | (x << 30)) ^ ((x >>> 13) | (x << 19)) ^ ((x >>> 22) | (x << 10));
  const s1 = (x: number) =>
    ((x >>> 6) | (x << 26)) ^ ((x >>> 11) | (x << 21)) ^ ((x >>> 25) | (x << 7));

  /** One SHA-256 compression of m[off..off+16) into st, 8 rounds unrolled per turn. */
  function compress(st: Int32Array, m: Int32Array, off: number): void {
    // Local aliases: TurboFan keeps them in registers instead of reloading
    // the closure slots in every round.
    const w = W;
    const K = KT;
    for (let i = 0; i < 16; i++) w[i] = m[off + i]!;
    for (let i = 16; i < 64; i++) {
      const x = w[i - 2]!;
      const y = w[i - 15]!;
      w[i] =
        ((((x >>> 17) | (x << 15)) ^ ((x >>> 19) | (x << 13)) ^ (x >>> 10)) +
          w[i - 7]! +
          (((y >>> 7) | (y << 25)) ^ ((y >>> 18) | (y << 14)) ^ (y >>> 3)) +
          w[i - 16]!) |
        0;
    }
    let a = st[0]!;
    let b = st[1]!;
    let c = st[2]!;
    let d = st[3]!;
    let e = st[4]!;
    let f = st[5]!;
    let g = st[6]!;
    let h = st[7]!;
    let t1 = 0;
    for (let i = 0; i < 64; i += 8) {
      // Each round writes the new `a` into h's variable and the new `e` into
      // d's; names rotate by one per round and are back in place after 8.
      t1 = (h + s1(e) + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
      d = (d + t1) | 0;
      h = (t1 + s0(a) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      t1 = (g + s1(d) + ((d & e) ^ (~d & f)) + K[i + 1]! + w[i + 1]!) | 0;
      c = (c + t1) | 0;
      g = (t1 + s0(h) + ((h & a) ^ (h & b) ^ (a & b))) | 0;
      t1 = (f + s1(c) + ((c & d) ^ (~c & e)) + K[i + 2]! + w[i + 2]!) | 0;
      b = (b + t1) | 0;
      f = (t1 + s0(g) + ((g & h) ^ (g & a) ^ (h & a))) | 0;
      t1 = (e + s1(b) + ((b & c) ^ (~b & d)) + K[i + 3]! + w[i + 3]!) | 0;
      a = (a + t1) | 0;
      e = (t1 + s0(f) + ((f & g) ^ (f & h) ^ (g & h))) | 0;
      t1 = (d + s1(a) + ((a & b) ^ (~a & c)) + K[i + 4]! + w[i + 4]!) | 0;
      h = (h + t1) | 0;
      d = (t1 + s0(e) + ((e & f) ^ (e & g) ^ (f & g))) | 0;
      t1 = (c + s1(h) + ((h & a) ^ (~h & b)) + K[i + 5]! + w[i + 5]!) | 0;
      g = (g + t1) | 0;
      c = (t1 + s0(d) + ((d & e) ^ (d & f) ^ (e & f))) | 0;
      t1 = (b + s1(g) + ((g & h) ^ (~g & a)) + K[i + 6]! + w[i + 6]!) | 0;
      f = (f + t1) | 0;
      b = (t1 + s0(c) + ((c & d) ^ (c & e) ^ (d & e))) | 0;
      t1 = (a + s1(f) + ((f & g) ^ (~f & h)) + K[i + 7]! + w[i + 7]!) | 0;
      e = (e + t1) | 0;
      a = (t1 + s0(b) + ((b & c) ^ (b & d) ^ (c & d))) | 0;
    }
    st[0] = (st[0]! + a) | 0;
    st[1] = (st[1]! + b) | 0;
    st[2] = (st[2]! + c) | 0;
    st[3] = (st[3]! + d) | 0;
    st[4] = (st[4]! + e) | 0;
    st[5] = (st[5]! + f) | 0;
    st[6] = (st[6]! + g) | 0;
    st[7] = (st[7]! + h) | 0;
  }

  function readWords(bytes: Uint8Array, count: number): Int32Array {
    const out = new Int32Array(count);
    for (let j = 0; j < count; j++) {
      const o = j * 4;
      out[j] = (bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!;
    }
    return out;
  }

  function prepare(challenge: Uint8Array): PreparedChallenge {
    const full = challenge.length >>> 6;
    const midstate = Int32Array.from(IV);
    for (let blk = 0; blk < full; blk++) {
      compress(midstate, readWords(challenge.subarray(blk * 64, blk * 64 + 64), 16), 0);
    }
    return { midstate, rest: challenge.slice(full * 64), length: challenge.length };
  }

  /** The tail block(s) for one nonce: rest + digits + 0x80 + zeros + bit length. */
  function tail(prep: PreparedChallenge, digits: string): { words: Int32Array; nblocks: number } {
    const r = prep.rest.length;
    const bytes = new Uint8Array(128);
    bytes.set(prep.rest);
    for (let i = 0; i < digits.length; i++) bytes[r + i] = digits.charCodeAt(i);
    bytes[r + digits.length] = 0x80;
    const nblocks = r + digits.length + 9 <= 64 ? 1 : 2;
    const bits = (prep.length + digits.length) * 8;
    const end = nblocks * 64;
    const hi = Math.floor(bits / 0x100000000);
    const lo = bits >>> 0;
    bytes[end - 8] = hi >>> 24;
    bytes[end - 7] = (hi >>> 16) & 0xff;
    bytes[end - 6] = (hi >>> 8) & 0xff;
    bytes[end - 5] = hi & 0xff;
    bytes[end - 4] = lo >>> 24;
    bytes[end - 3] = (lo >>> 16) & 0xff;
    bytes[end - 2] = (lo >>> 8) & 0xff;
    bytes[end - 1] = lo & 0xff;
    return { words: readWords(bytes, 32), nblocks };
  }

  function meetsTarget(state: Int32Array, difficulty: number): boolean {
    let bits = 0;
    for (let i = 0; i < 8; i++) {
      const word = state[i]!;
      if (word !== 0) return bits + Math.clz32(word) >= difficulty;
      bits += 32;
      if (bits >= difficulty) return true;
    }
    return true;
  }

  function firstWordMask(difficulty: number): number {
    if (difficulty <= 0) return 0;
    if (difficulty >= 32) return -1;
    return -1 << (32 - difficulty);
  }

  function hashNonce(prep: PreparedChallenge, nonce: number): Int32Array {
    const t = tail(prep, String(nonce));
    const st = Int32Array.from(prep.midstate);
    compress(st, t.words, 0);
    if (t.nblocks === 2) compress(st, t.words, 16);
    return st;
  }

  function scanJs(
    prep: PreparedChallenge,
    difficulty: number,
    start: number,
    end: number,
  ): ScanResult {
    const mask = firstWordMask(difficulty);
    const r = prep.rest.length;
    const st = new Int32Array(8);
    let hashes = 0;
    let n = start;
    while (n < end) {
      // One digit count per segment: the layout (padding, length, block count)
      // only changes at 9→10, 99→100, …
      const digits = String(n);
      const len = digits.length;
      const segmentEnd = Math.min(end, 10 ** len);
      const { words, nblocks } = tail(prep, digits);
      const dig = new Uint8Array(len);
      for (let i = 0; i < len; i++) dig[i] = digits.charCodeAt(i) - 48;
      for (;;) {
        st.set(prep.midstate);
        compress(st, words, 0);
        if (nblocks === 2) compress(st, words, 16);
        hashes++;
        if ((st[0]! & mask) === 0 && meetsTarget(st, difficulty)) return { nonce: n, hashes };
        n++;
        if (n >= segmentEnd) break;
        // In-place decimal increment of the ASCII digits inside the words.
        let p = len - 1;
        while (dig[p] === 9) {
          dig[p] = 0;
          const pos = r + p;
          words[pos >> 2] = words[pos >> 2]! - (9 << ((3 - (pos & 3)) << 3));
          p--;
        }
        dig[p]!++;
        const pos = r + p;
        words[pos >> 2] = words[pos >> 2]! + (1 << ((3 - (pos & 3)) << 3));
      }
    }
    return { nonce: -1, hashes };
  }

  let wasmScan: ((nblocks: number, last: number, iters: number, mask: number) => number) | null =
    null;
  let mem32: Int32Array | null = null;
  if (wasmModule !== null) {
    try {
      const instance = new WebAssembly.Instance(wasmModule, {});
      const exports = instance.exports as {
        scan: (nblocks: number, last: number, iters: number, mask: number) => number;
        memory: WebAssembly.Memory;
      };
      wasmScan = exports.scan;
      mem32 = new Int32Array(exports.memory.buffer);
    } catch {
      wasmScan = null;
    }
  }

  function scanWasm(
    prep: PreparedChallenge,
    difficulty: number,
    start: number,
    end: number,
  ): ScanResult {
    const scan = wasmScan!;
    const mem = mem32!;
    const mask = firstWordMask(difficulty);
    mem.set(prep.midstate, WASM_MID >> 2);
    let hashes = 0;
    let n = start;
    while (n < end) {
      const len = String(n).length;
      const segmentEnd = Math.min(end, 10 ** len);
      // Lane k scans [n + k·iters, n + (k+1)·iters). iters is a multiple of 10
      // so all lanes share their last digit and carry on the same step.
      const iters = Math.min(WASM_MAX_ITERS, Math.floor((segmentEnd - n) / 40) * 10);
      if (iters === 0) {
        // Fewer than 40 nonces left in this digit count: not worth a layout.
        const rest = scanJs(prep, difficulty, n, segmentEnd);
        hashes += rest.hashes;
        if (rest.nonce >= 0) return { nonce: rest.nonce, hashes };
        n = segmentEnd;
        continue;
      }
      let nblocks = 1;
      for (let k = 0; k < 4; k++) {
        const t = tail(prep, String(n + k * iters));
        nblocks = t.nblocks;
        for (let j = 0; j < 32; j++) mem[(WASM_MSG >> 2) + j * 4 + k] = t.words[j]!;
      }
      const found = scan(nblocks, prep.rest.length + len - 1, iters, mask);
      if (found === -1) {
        hashes += 4 * iters;
        n += 4 * iters;
        continue;
      }
      const it = found >>> 4;
      hashes += 4 * (it + 1);
      for (let k = 0; k < 4; k++) {
        if ((found & (1 << k)) === 0) continue;
        const nonce = n + k * iters + it;
        if (meetsTarget(hashNonce(prep, nonce), difficulty)) return { nonce, hashes };
      }
      // Only above 32 bits can the first-word filter pass a miss: finish each
      // lane's range, then go on.
      for (let k = 0; k < 4; k++) {
        const rest = scanWasm(prep, difficulty, n + k * iters + it + 1, n + (k + 1) * iters);
        hashes += rest.hashes;
        if (rest.nonce >= 0) return { nonce: rest.nonce, hashes };
      }
      mem.set(prep.midstate, WASM_MID >> 2);
      n += 4 * iters;
    }
    return { nonce: -1, hashes };
  }

  return {
    simd: wasmScan !== null,
    prepare,
    scan(prep, difficulty, start, end, kind) {
      if ((kind ?? (wasmScan === null ? 'js' : 'wasm')) === 'wasm') {
        if (wasmScan === null) throw new Error('the WebAssembly SIMD kernel is not available here');
        return scanWasm(prep, difficulty, start, end);
      }
      return scanJs(prep, difficulty, start, end);
    },
    hashNonce,
    meetsTarget,
    firstWordMask,
  };
}
