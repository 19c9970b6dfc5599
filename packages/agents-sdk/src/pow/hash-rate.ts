import type { KernelKind } from './internal/kernel.js';
import { mainThreadKernel } from './internal/main-kernel.js';

/**
 * Options of {@link hashRate}.
 *
 * @example
 * hashRate({ kernel: 'js', durationMs: 1_000 });
 */
export interface HashRateOptions {
  /**
   * Kernel to measure: `'wasm'` (4-lane WebAssembly SIMD) or `'js'` (pure JS).
   * @default 'wasm' where WebAssembly SIMD is available, else 'js'
   */
  kernel?: KernelKind;
  /**
   * How long to hash.
   * @default 500, milliseconds
   */
  durationMs?: number;
}

/**
 * A measured hash rate of one thread.
 *
 * @example
 * const { hashesPerSecond }: HashRateResult = hashRate();
 */
export interface HashRateResult {
  kernel: KernelKind;
  hashes: number;
  elapsedMs: number;
  hashesPerSecond: number;
}

/**
 * Measure the PoW kernel's hash rate on the calling thread (one core), with
 * the Core's challenge shape (64 hex characters). Blocks for `durationMs`.
 *
 * @example
 * const { hashesPerSecond, kernel } = hashRate({ durationMs: 200 });
 * console.log(`${kernel}: ${(hashesPerSecond / 1e6).toFixed(1)} M hashes/s`);
 */
export function hashRate(options: HashRateOptions = {}): HashRateResult {
  const kernel = mainThreadKernel();
  const kind = options.kernel ?? (kernel.simd ? 'wasm' : 'js');
  const durationMs = options.durationMs ?? 500;
  if (kind !== 'wasm' && kind !== 'js') {
    throw new TypeError(`options.kernel must be 'wasm' or 'js', got ${String(kind)}`);
  }
  if (kind === 'wasm' && !kernel.simd) {
    throw new TypeError("options.kernel is 'wasm' but WebAssembly SIMD is not available here");
  }
  if (!(typeof durationMs === 'number' && durationMs > 0 && Number.isFinite(durationMs))) {
    throw new TypeError(
      `options.durationMs must be a positive number of milliseconds, got ${String(durationMs)}`,
    );
  }
  const prep = kernel.prepare(new TextEncoder().encode('0123456789abcdef'.repeat(4)));
  // Difficulty 256 never matches, so every batch is pure hashing.
  const batch = kind === 'wasm' ? 200_000 : 50_000;
  let hashes = 0;
  let next = 1_000_000_000;
  const started = performance.now();
  let elapsedMs = 0;
  do {
    hashes += kernel.scan(prep, 256, next, next + batch, kind).hashes;
    next += batch;
    elapsedMs = performance.now() - started;
  } while (elapsedMs < durationMs);
  return { kernel: kind, hashes, elapsedMs, hashesPerSecond: (hashes / elapsedMs) * 1000 };
}
