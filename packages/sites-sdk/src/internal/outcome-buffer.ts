import type { InvalidPassportError } from '../errors.js';
import type { Passport } from '../passport.js';

/**
 * An approved request. `taken` once a `waitForLogin()` has it: a passport is
 * handed out (and claimed) once.
 */
export interface ApprovedOutcome {
  kind: 'approved';
  passport: Passport;
  taken: boolean;
}

/** How a login request ended, as far as this stream saw. */
export type LoginOutcome =
  | ApprovedOutcome
  | { kind: 'expired' }
  | { kind: 'rejected'; error: InvalidPassportError };

/**
 * Recent outcomes by login request id, so `waitForLogin()` works when the
 * event arrived before the call. Bounded in count (oldest dropped first) and
 * in age.
 */
export class OutcomeBuffer {
  private readonly entries = new Map<string, { outcome: LoginOutcome; until: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** True when an outcome for this request is held (a later event for it is a duplicate). */
  has(requestId: string): boolean {
    return this.get(requestId) !== undefined;
  }

  get(requestId: string): LoginOutcome | undefined {
    const entry = this.entries.get(requestId);
    if (!entry) return undefined;
    if (entry.until <= this.now()) {
      this.entries.delete(requestId);
      return undefined;
    }
    return entry.outcome;
  }

  set(requestId: string, outcome: LoginOutcome): void {
    this.entries.delete(requestId);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    this.entries.set(requestId, { outcome, until: this.now() + this.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * Ids already seen, to drop duplicates a resumed stream may repeat. Bounded:
 * the oldest ids fall out first.
 */
export class SeenSet {
  private readonly ids = new Set<string>();

  constructor(private readonly maxEntries: number) {}

  /** Was `id` recorded (and not yet evicted)? */
  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Record `id`; false when it was already there. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    if (this.ids.size >= this.maxEntries) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
    this.ids.add(id);
    return true;
  }
}
