import { createHash } from 'node:crypto';
import { AbortError, isValidNonce, LimeError, MAX_NONCE, meetsDifficulty } from '@lime/wire';
import { PowTimeoutError } from './errors.js';
import type { KernelKind } from './internal/kernel.js';
import { mainThreadKernel } from './internal/main-kernel.js';
import { defaultPowWorkers, type PoolSolve, powPool } from './internal/pool.js';

/**
 * Options of {@link solvePow}.
 *
 * @example
 * const options: SolveOptions = { timeoutMs: 30_000, workers: 2, signal: controller.signal };
 */
export interface SolveOptions {
  /** Cancels the solve; it rejects with an `AbortError` and the workers stop. */
  signal?: AbortSignal;
  /**
   * Give up after this long; rejects with a `PowTimeoutError`. Values above
   * 2^31 − 1 (about 24.8 days), `Infinity` included, mean no limit.
   * @default undefined (no limit), milliseconds
   */
  timeoutMs?: number;
  /**
   * Worker threads sharing the nonce space of this solve.
   * @default os.availableParallelism()
   */
  workers?: number;
  /**
   * Called about every `progressInterval` while the solve runs on the pool,
   * and once when it is solved (with `done: true`). A callback that throws
   * does not stop the solve.
   */
  onProgress?: (progress: PowProgress) => void;
  /**
   * Time between two `onProgress` calls, milliseconds.
   * @default 250
   */
  progressInterval?: number;
}

/**
 * How far a proof-of-work solve has come, for {@link SolveOptions.onProgress}.
 *
 * @example
 * solvePow(challenge, 24, {
 *   onProgress: (p) => console.log(`${p.hashes} hashes, ~${Math.round(p.estimatedRemainingMs ?? 0)} ms left`),
 * });
 */
export interface PowProgress {
  /** Hashes done so far (all threads, whole chunks). */
  hashes: number;
  /** Expected hashes for this difficulty: 2^difficulty. */
  expectedHashes: number;
  /** Wall time since the solve started, milliseconds. */
  elapsedMs: number;
  /** Measured rate, hashes per second (`undefined` before any hash was counted). */
  hashRate: number | undefined;
  /**
   * Time until the expected work is done at the measured rate, milliseconds
   * (0 once past it; `undefined` before a rate is known). An estimate: each
   * hash is an independent try, so a solve can end well before or after.
   */
  estimatedRemainingMs: number | undefined;
  /** True on the last call, when a nonce was found. */
  done: boolean;
}

/**
 * A nonce that meets the difficulty, and what it cost.
 *
 * @example
 * const { nonce, hashes, elapsedMs } = await solvePow(challenge, 15);
 * console.log(`${nonce} after ${hashes} hashes in ${elapsedMs.toFixed(1)} ms`);
 */
export interface PowSolution {
  /** Decimal nonce to send as `pow_nonce` (PROTOCOL.md §3.3). */
  nonce: string;
  /** Hashes computed (all workers, whole chunks). */
  hashes: number;
  /** Wall time of the solve, milliseconds. */
  elapsedMs: number;
  /**
   * True when found on the calling thread (tiny difficulties, or while a cold
   * pool was starting), false when a worker found it.
   */
  inline: boolean;
}

/**
 * Expected work (2^difficulty hashes) up to which a solve runs inline on the
 * calling thread instead of in the pool.
 *
 * Measured with `scripts/measure-inline-threshold.ts` (200 runs each, random
 * 64-hex challenges, warm pool of 2 workers, Node 20.20 on the 2-core dev
 * machine shared with other jobs; two runs, at load ≈ 8 and ≈ 2):
 *
 *                                         run 1 (median, p95)   run 2 (median, p95)
 *   warm pool round trip (difficulty 1)   0.162 ms, 0.318 ms    0.115 ms, 0.254 ms
 *   inline, difficulty 10 (2^10 hashes)   0.074 ms, 0.331 ms    0.097 ms, 0.302 ms
 *   inline, difficulty 11 (2^11 hashes)   0.136 ms, 0.648 ms    0.160 ms, 0.621 ms
 *   pool,   difficulty 11                 0.244 ms, 1.714 ms    0.251 ms, 0.753 ms
 *   inline, difficulty 12 (2^12 hashes)   0.298 ms, 1.227 ms    0.291 ms, 1.215 ms
 *   pool,   difficulty 12                 0.394 ms, 1.537 ms    0.347 ms, 1.332 ms
 *
 * Difficulty 11 is where the expected inline work (midstate included) equals
 * one round trip, and inline still beats the pool's total by ≈ 0.1 ms. From
 * 12 on the inline work costs two round trips or more, gains at most tens of
 * microseconds over the pool, and blocks the caller's event loop for over a
 * millisecond at p95, so it goes to the pool. A cold pool (≈ 30 ms to start a
 * worker) is not counted here: it is paid once per process, and the calling
 * thread helps while it starts (see ASSIST_BASE).
 *
 * @example
 * const inline = 2 ** difficulty <= INLINE_MAX_EXPECTED_HASHES; // true up to difficulty 11
 */
export const INLINE_MAX_EXPECTED_HASHES = 2 ** 11;

/**
 * An inline solve tries at most this many times its expected work before
 * handing the rest of the nonce space to the pool: with the threshold above it
 * bounds the time the caller's thread is blocked (P(miss) = e^-32).
 */
const INLINE_WORK_FACTOR = 32;

/** Nonces per chunk: ≈ 1.5 ms of SIMD work, the poll interval of the stop flag. */
const SIMD_CHUNK = 16_000;
/** Same poll interval for the slower JS kernel. */
const JS_CHUNK = 4_000;

/**
 * While a cold pool starts (booting a worker thread takes ≈ 25–40 ms here),
 * the calling thread hashes too, one chunk (≈ 1.5 ms) at a time with a yield
 * to the event loop after each, in its own corner of the nonce space (from
 * 2^52, which no worker reaches). A cold first solve then costs about what a
 * warm one does, and the default difficulty 15 (≈ 3 ms of hashing) is usually
 * done before the workers are up. It stops once the workers are loaded.
 */
const ASSIST_BASE = 2 ** 52;

/** Longest delay setTimeout honours (2^31 − 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface InternalSolveOptions extends SolveOptions {
  /** Force a kernel (tests, bench). */
  kind?: KernelKind;
  /** Never solve inline (tests, bench). */
  noInline?: boolean;
  /** Do not hash on the calling thread while the pool starts (tests, bench). */
  noAssist?: boolean;
}

/**
 * Solve a LIME proof-of-work challenge (PROTOCOL.md §3.3): find a decimal
 * nonce N such that SHA-256(UTF-8(challenge + N)) has at least `difficulty`
 * leading zero bits. Runs in a shared pool of worker threads (started on first
 * use, one per core, never keeping the process alive); difficulties of at
 * most 11 bits are solved on the calling thread, where that is faster than a
 * round trip to the pool, and while the pool starts the calling thread helps
 * in ≈ 1.5 ms slices. Difficulty 0 returns `"0"` without hashing.
 *
 * Throws a `TypeError` for a difficulty outside 0..256 (or not an integer)
 * and for invalid options, before any work; rejects with `PowTimeoutError`
 * after `timeoutMs`, and with `AbortError` when `signal` aborts.
 *
 * @example
 * const { nonce } = await solvePow(request.pow_challenge, request.pow_difficulty, {
 *   timeoutMs: 30_000,
 * });
 */
export function solvePow(
  challenge: string,
  difficulty: number,
  options: SolveOptions = {},
): Promise<PowSolution> {
  return solveWith(challenge, difficulty, options);
}

/** {@link solvePow} with the internal knobs used by tests and the benchmark. */
export async function solveWith(
  challenge: string,
  difficulty: number,
  options: InternalSolveOptions,
): Promise<PowSolution> {
  if (typeof challenge !== 'string') {
    throw new TypeError(`challenge must be a string, got ${typeof challenge}`);
  }
  if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > 256) {
    throw new TypeError(`difficulty must be an integer from 0 to 256, got ${String(difficulty)}`);
  }
  const { signal, timeoutMs } = options;
  const workers = options.workers ?? defaultPowWorkers();
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) {
    throw new TypeError(`options.workers must be an integer from 1 to 256, got ${String(workers)}`);
  }
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0)) {
    throw new TypeError(
      `options.timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}`,
    );
  }
  const { progressInterval } = options;
  if (
    progressInterval !== undefined &&
    !(
      typeof progressInterval === 'number' &&
      progressInterval > 0 &&
      progressInterval < MAX_TIMER_MS
    )
  ) {
    throw new TypeError(
      `options.progressInterval must be a positive number of milliseconds, got ${String(progressInterval)}`,
    );
  }
  if (signal?.aborted) throw abortError(signal);

  const started = performance.now();
  if (difficulty === 0) {
    return { nonce: '0', hashes: 0, elapsedMs: performance.now() - started, inline: true };
  }
  const bytes = new TextEncoder().encode(challenge);
  let start = 0;
  // Hashes done on the calling thread (inline, then while the pool starts).
  const caller = { hashes: 0 };
  if (!options.noInline && 2 ** difficulty <= INLINE_MAX_EXPECTED_HASHES) {
    const kernel = mainThreadKernel();
    const limit = INLINE_WORK_FACTOR * 2 ** difficulty;
    const result = kernel.scan(kernel.prepare(bytes), difficulty, 0, limit, options.kind);
    if (result.nonce >= 0) {
      const found = solution(challenge, difficulty, result.nonce, result.hashes, started, true);
      progressReporter(options, difficulty, started, () => 0).stop(found.hashes);
      return found;
    }
    start = limit;
    caller.hashes = result.hashes;
  }

  const kind = options.kind ?? (mainThreadKernel().simd ? 'wasm' : 'js');
  const pool = powPool();
  const cold = !options.noAssist && !pool.isReady(workers);
  const pooled = pool.solve({
    challenge: bytes,
    difficulty,
    start,
    maxNonce: MAX_NONCE,
    workers,
    chunk: kind === 'wasm' ? SIMD_CHUNK : JS_CHUNK,
    kind: options.kind,
  });
  const onAbort = () => pooled.cancel(abortError(signal!));
  signal?.addEventListener('abort', onAbort, { once: true });
  // setTimeout would turn a delay above 2^31 − 1 ms (Infinity included) into
  // 1 ms; such a limit (≥ 24.8 days) means no limit.
  const timer =
    timeoutMs === undefined || timeoutMs > MAX_TIMER_MS
      ? undefined
      : setTimeout(() => {
          const hashes = caller.hashes + pooled.hashes();
          pooled.cancel(
            new PowTimeoutError(
              `no nonce meeting difficulty ${difficulty} was found within ${timeoutMs} ms ` +
                `(${hashes} hashes tried); raise the PoW timeout, or check that the ` +
                'difficulty is what the server intends',
              { detail: { difficulty, timeoutMs, hashes } },
            ),
          );
        }, timeoutMs);
  const progress = progressReporter(
    options,
    difficulty,
    started,
    () => caller.hashes + pooled.hashes(),
  );
  let solved: PowSolution | undefined;
  try {
    if (cold) {
      const nonce = await Promise.race([
        assistWhileStarting(
          pooled,
          pool.whenReady(workers),
          bytes,
          difficulty,
          options.kind,
          caller,
        ),
        pooled.done.then(() => -1),
      ]);
      if (nonce >= 0) {
        const hashes = caller.hashes + pooled.hashes();
        pooled.done.catch(() => {});
        pooled.cancel(new AbortError('solved on the calling thread'));
        solved = solution(challenge, difficulty, nonce, hashes, started, true);
        return solved;
      }
    }
    const found = await pooled.done;
    solved = solution(
      challenge,
      difficulty,
      found.nonce,
      caller.hashes + found.hashes,
      started,
      false,
    );
    return solved;
  } finally {
    progress.stop(solved?.hashes);
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Hash on the calling thread while the pool starts (see ASSIST_BASE). Returns
 * a nonce, or -1 once the workers are ready or the solve is over.
 */
async function assistWhileStarting(
  pooled: PoolSolve,
  ready: Promise<void>,
  bytes: Uint8Array,
  difficulty: number,
  kind: KernelKind | undefined,
  counter: { hashes: number },
): Promise<number> {
  let isReady = false;
  void ready.then(() => {
    isReady = true;
  });
  const kernel = mainThreadKernel();
  const prep = kernel.prepare(bytes);
  const chunk = (kind ?? (kernel.simd ? 'wasm' : 'js')) === 'wasm' ? SIMD_CHUNK : JS_CHUNK;
  for (let next = ASSIST_BASE; !isReady && !pooled.settled(); next += chunk) {
    const result = kernel.scan(prep, difficulty, next, next + chunk, kind);
    counter.hashes += result.hashes;
    if (result.nonce >= 0) return result.nonce;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return -1;
}

/** Calls `onProgress` every `intervalMs` with what `hashes()` reports; `stop()` ends it. */
function progressReporter(
  options: SolveOptions,
  difficulty: number,
  started: number,
  hashes: () => number,
): { stop(done: number | undefined): void } {
  const { onProgress } = options;
  if (!onProgress) return { stop() {} };
  const expectedHashes = 2 ** difficulty;
  const report = (count: number, done: boolean) => {
    const elapsedMs = performance.now() - started;
    const hashRate = count > 0 && elapsedMs > 0 ? (count * 1000) / elapsedMs : undefined;
    const estimatedRemainingMs =
      hashRate === undefined ? undefined : (Math.max(0, expectedHashes - count) * 1000) / hashRate;
    try {
      onProgress({
        hashes: count,
        expectedHashes,
        elapsedMs,
        hashRate,
        estimatedRemainingMs,
        done,
      });
    } catch {
      // A failing progress callback must not fail the solve.
    }
  };
  const timer = setInterval(() => report(hashes(), false), options.progressInterval ?? 250);
  timer.unref?.();
  return {
    stop(done) {
      clearInterval(timer);
      if (done !== undefined) report(done, true);
    },
  };
}

function abortError(signal: AbortSignal): AbortError {
  return new AbortError('the proof-of-work solve was aborted', { cause: signal.reason });
}

/**
 * Check the kernel's answer with node:crypto and the shared predicate before
 * it leaves the SDK: one hash, and the Core checks exactly this.
 */
function solution(
  challenge: string,
  difficulty: number,
  value: number,
  hashes: number,
  started: number,
  inline: boolean,
): PowSolution {
  const nonce = String(value);
  const digest = createHash('sha256')
    .update(challenge + nonce, 'utf8')
    .digest();
  if (!isValidNonce(nonce) || !meetsDifficulty(digest, difficulty)) {
    throw new LimeError(
      'POW_INTERNAL_ERROR',
      `the proof-of-work kernel returned nonce ${nonce}, which does not meet difficulty ` +
        `${difficulty}; this is a bug in lime-agents-sdk, please report it`,
    );
  }
  return { nonce, hashes, elapsedMs: performance.now() - started, inline };
}
