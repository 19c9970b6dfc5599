import type { RateLimitBucket } from '../options.js';

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets keyed by client IP or credential. `take` is O(1); full
 * buckets are forgotten by `prune` so the map does not grow without bound.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly config: RateLimitBucket,
    private readonly clock: () => number,
  ) {}

  /** Take one token. Returns 0 when allowed, else the seconds to wait. */
  take(key: string): number {
    const now = this.clock();
    const { burst, perSecond } = this.config;
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: burst, at: now };
      this.buckets.set(key, b);
    } else {
      const elapsed = Math.max(0, now - b.at) / 1000;
      b.tokens = Math.min(burst, b.tokens + elapsed * perSecond);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / perSecond));
  }

  /** Forget buckets that have refilled completely. */
  prune(): void {
    const now = this.clock();
    const { burst, perSecond } = this.config;
    for (const [key, b] of this.buckets) {
      if (b.tokens + (Math.max(0, now - b.at) / 1000) * perSecond >= burst)
        this.buckets.delete(key);
    }
  }
}
