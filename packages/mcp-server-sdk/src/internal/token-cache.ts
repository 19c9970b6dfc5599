/**
 * Verified bearers, so a session's repeated token costs a map lookup instead
 * of an RSA check. Bounded in size (oldest insertion evicted first) and by
 * each entry's own deadline (the token's `exp` plus leeway, the same instant
 * a fresh verification would start refusing it).
 */
export class VerifiedTokenCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(private readonly maxEntries: number) {}

  /** The cached value when present and `nowSeconds` is before its deadline. */
  get(token: string, nowSeconds: number): V | undefined {
    const hit = this.entries.get(token);
    if (hit === undefined) return undefined;
    if (nowSeconds < hit.until) return hit.value;
    this.entries.delete(token);
    return undefined;
  }

  set(token: string, value: V, untilSeconds: number): void {
    if (this.maxEntries === 0) return;
    if (this.entries.size >= this.maxEntries && !this.entries.has(token)) {
      // Evict the oldest insertion (Map keeps insertion order).
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { value, until: untilSeconds });
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
