/**
 * Where accepted passport ids (`jti`) are remembered so that each passport is
 * accepted once. The default {@link MemoryReplayStore} protects one process;
 * several instances behind a load balancer need a shared store (Redis,
 * a database table with a unique key) or one passport could open a session on
 * each instance.
 *
 * @example
 * // Redis (ioredis / node-redis): SET NX with an absolute expiry is atomic.
 * const redisReplayStore: ReplayStore = {
 *   async consume(jti, expiresAt) {
 *     const ok = await redis.set(`lime:jti:${jti}`, '1', 'PXAT', expiresAt.getTime(), 'NX');
 *     return ok === 'OK';
 *   },
 * };
 * const site = new LimeSite({ replayStore: redisReplayStore });
 */
export interface ReplayStore {
  /**
   * Atomically record `jti` as used until `expiresAt` (after which the token
   * is refused as expired anyway). Return `true` when `jti` was not seen
   * before (accept), `false` when it was (refuse as replayed). Throwing makes
   * the verification fail closed.
   */
  consume(jti: string, expiresAt: Date): boolean | Promise<boolean>;
}

/**
 * Options of {@link MemoryReplayStore}.
 *
 * @example
 * new MemoryReplayStore({ maxEntries: 10_000 });
 */
export interface MemoryReplayStoreOptions {
  /**
   * Most ids held at once. When full, the oldest entry is dropped even if it
   * has not expired (bounded memory wins over a theoretical replay of a
   * token older than 100 000 newer ones; all of them live ≤ 120 s).
   * @default 100_000
   */
  maxEntries?: number;
  /** Clock, milliseconds since the epoch. @default Date.now */
  now?: () => number;
}

/**
 * In-process {@link ReplayStore}: an insertion-ordered map bounded in size,
 * whose entries leave when their token expires.
 *
 * @example
 * const store = new MemoryReplayStore({ maxEntries: 10_000 });
 * store.consume('jti-1', new Date(Date.now() + 60_000)); // true
 * store.consume('jti-1', new Date(Date.now() + 60_000)); // false: replay
 */
export class MemoryReplayStore implements ReplayStore {
  /**
   * Id → expiry, in whole seconds after `base` (rounded up: an id is kept at
   * most a second longer). Small integers are stored unboxed; millisecond
   * timestamps would be a heap number per entry.
   */
  private readonly entries = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly base: number;
  /** No sweep is needed before this instant (ms): at most the oldest entry's expiry. */
  private nextSweepAt = Number.POSITIVE_INFINITY;

  constructor(options: MemoryReplayStoreOptions = {}) {
    const maxEntries = options.maxEntries ?? 100_000;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError(`maxEntries must be a positive integer, got ${String(maxEntries)}`);
    }
    this.maxEntries = maxEntries;
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new TypeError('MemoryReplayStore: now must be a function returning milliseconds');
    }
    this.now = options.now ?? Date.now;
    const base = this.now();
    // A clock answering a Date or nothing would make every expiry NaN: no replay refused.
    if (typeof base !== 'number' || !Number.isFinite(base)) {
      throw new TypeError(
        `MemoryReplayStore: now() must return milliseconds since the epoch (a finite number), got ${typeof base}`,
      );
    }
    this.base = base;
  }

  /** Ids currently held. */
  get size(): number {
    return this.entries.size;
  }

  consume(jti: string, expiresAt: Date): boolean {
    const now = this.now();
    if (now >= this.nextSweepAt) this.sweep(now);
    const held = this.entries.get(jti);
    if (held !== undefined && this.base + held * 1000 > now) return false;
    if (held !== undefined) {
      this.entries.delete(jti);
      this.nextSweepAt = 0; // the oldest entry may have changed
    }
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
      this.nextSweepAt = 0;
    }
    const seconds = Math.ceil((expiresAt.getTime() - this.base) / 1000);
    this.entries.set(jti, seconds);
    const until = this.base + seconds * 1000;
    if (until < this.nextSweepAt) this.nextSweepAt = until;
    return true;
  }

  /**
   * Forget every id: each live token is then accepted once more. For tests
   * and benchmarks; in production it re-opens every replay.
   */
  clear(): void {
    this.entries.clear();
    this.nextSweepAt = Number.POSITIVE_INFINITY;
  }

  /**
   * Drop expired entries from the old end. Lifetimes are short and similar,
   * so insertion order is close to expiry order; a few stragglers are caught
   * by the size bound or by the lookup above. Afterwards `nextSweepAt` is the
   * expiry of the oldest entry: until then a sweep would stop at once, so
   * `consume` skips it (no iterator per call on the hot path).
   */
  private sweep(now: number): void {
    let budget = 64;
    for (const [jti, seconds] of this.entries) {
      const expiresAt = this.base + seconds * 1000;
      if (expiresAt > now) {
        this.nextSweepAt = expiresAt;
        return;
      }
      if (budget-- === 0) {
        this.nextSweepAt = now; // more to drop: continue on the next call
        return;
      }
      this.entries.delete(jti);
    }
    this.nextSweepAt = Number.POSITIVE_INFINITY;
  }
}
