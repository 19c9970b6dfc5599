// Verification and claiming, as LimeSite offers them: the public checks
// (verifyPassport, verifyBindingPassport, claimPassport) against the user's
// replay store, and the stream's own verification, which holds a passport
// whose key is not loaded yet and tries again until it expires.
import { AbortError, LIFETIMES, sleep } from '@lime/wire';
import { InvalidPassportError } from '../errors.js';
import type { BindingPassport, Passport } from '../passport.js';
import { MemoryReplayStore, type ReplayStore } from '../replay-store.js';
import type { PassportVerifier } from './passport-verifier.js';

export interface PassportClaimsOptions {
  verifier: PassportVerifier;
  /** The user's store: single use across instances. */
  replayStore: ReplayStore;
  /** Seconds of clock skew allowed on `exp`. */
  clockToleranceSeconds: number;
  /** The site was closed: stop holding stream passports. */
  isClosed: () => boolean;
  /** Settles when the site closes. */
  closed: Promise<void>;
}

/**
 * `run()` as one promise, its throw a rejection: the verifier answers
 * synchronously on the hot path, so no async layer per step.
 */
function oneSettlement<T>(run: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (error) {
    return Promise.reject(error);
  }
}

/** First wait before a held stream passport is verified again, ms (doubling). */
const FIRST_RETRY_MS = 250;
/** Longest wait between two tries of a held stream passport, ms. */
const MAX_RETRY_MS = 5_000;

/**
 * What LimeSite's verify and claim methods do, minus the facade's argument
 * checks on the public options.
 */
export class PassportClaims {
  private readonly verifier: PassportVerifier;
  private readonly replayStore: ReplayStore;
  /**
   * Stream deliveries are verified against a store of their own: every
   * instance receives every event, so verifying them against the shared
   * `replayStore` would make all but one instance refuse them. Single use
   * across instances is enforced when a passport is claimed
   * ({@link PassportClaims.claimPassport}) in `replayStore`.
   */
  private readonly streamReplayStore = new MemoryReplayStore();
  private readonly tolerance: number;
  private readonly isClosed: () => boolean;
  private readonly closed: Promise<void>;

  constructor(options: PassportClaimsOptions) {
    this.verifier = options.verifier;
    this.replayStore = options.replayStore;
    this.tolerance = options.clockToleranceSeconds;
    this.isClosed = options.isClosed;
    this.closed = options.closed;
  }

  /** `LimeSite.verifyPassport` once `expectedRequestId` is known to be a non-empty string. */
  verifyPassport(
    jwt: string,
    expectedRequestId: string,
    signal: AbortSignal | undefined,
  ): Promise<Passport> {
    return oneSettlement(() =>
      this.verifier.verifyPassport(jwt, expectedRequestId, this.replayStore, signal),
    );
  }

  /** `LimeSite.verifyBindingPassport` once `expectedBindingId` is known to be a non-empty string. */
  verifyBindingPassport(
    jwt: string,
    expectedBindingId: string,
    signal: AbortSignal | undefined,
  ): Promise<BindingPassport> {
    return oneSettlement(() =>
      this.verifier.verifyBindingPassport(jwt, expectedBindingId, this.replayStore, signal),
    );
  }

  /** `LimeSite.claimPassport`: the argument checks, then the replay store. */
  claimPassport(passport: Passport, signal: AbortSignal | undefined): Promise<Passport> {
    if (
      typeof passport !== 'object' ||
      passport === null ||
      typeof passport.requestId !== 'string' ||
      passport.requestId.length === 0 ||
      (passport.jti !== undefined && (typeof passport.jti !== 'string' || passport.jti === '')) ||
      !(passport.expiresAt instanceof Date) ||
      Number.isNaN(passport.expiresAt.getTime())
    ) {
      return Promise.reject(
        new TypeError(
          'claimPassport: passport must be a Passport from onLogin(), events() or waitForLogin() (with requestId and expiresAt)',
        ),
      );
    }
    if (signal?.aborted) {
      return Promise.reject(
        new AbortError('claimPassport() was aborted', { cause: signal.reason }),
      );
    }
    let claimed: Passport | Promise<Passport>;
    try {
      claimed = this.verifier.claim(passport, this.replayStore);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!signal || !(claimed instanceof Promise)) return Promise.resolve(claimed);
    return new Promise<Passport>((resolve, reject) => {
      const onAbort = () =>
        reject(new AbortError('claimPassport() was aborted', { cause: signal.reason }));
      signal.addEventListener('abort', onAbort, { once: true });
      claimed.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /**
   * Verify a passport that arrived on the stream (not claimed: see
   * {@link PassportClaims.streamReplayStore}). One that cannot be verified
   * for lack of keys (the key endpoint refused, a key not fetched yet after
   * a rotation) is held and verified again — 250 ms doubling to 5 s — until
   * it expires, never dropped on the first try. One that arrives already
   * expired is `expired_in_transit`: approved at the Core, late to reach us.
   */
  async verifyStreamPassport(jwt: string, requestId: string): Promise<Passport> {
    let wait = FIRST_RETRY_MS;
    for (;;) {
      try {
        return await this.verifier.verifyPassport(
          jwt,
          requestId,
          this.streamReplayStore,
          undefined,
        );
      } catch (error) {
        if (!(error instanceof InvalidPassportError)) throw error;
        if (error.reason === 'expired') throw inTransit(error, requestId);
        if (error.reason !== 'unknown_kid' && error.reason !== 'jwks_unavailable') throw error;
        // How long to keep trying: until the (unverified, so only a bound)
        // expiry plus tolerance, at most two passport lifetimes.
        const until = Math.min(
          unverifiedExpiryMs(jwt) + this.tolerance * 1000,
          Date.now() + 2 * LIFETIMES.passportMax * 1000,
        );
        if (this.isClosed() || Date.now() + wait > until) throw error;
        await Promise.race([sleep(wait), this.closed]);
        if (this.isClosed()) throw error;
        wait = Math.min(wait * 2, MAX_RETRY_MS);
      }
    }
  }
}

/** The passport's `exp` in ms, read without verification (only to bound a wait). */
export function unverifiedExpiryMs(jwt: string): number {
  try {
    const payload = jwt.split('.')[1] ?? '';
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : 0;
  } catch {
    return 0;
  }
}

/** A stream passport that expired before it reached us: late delivery, not a bad token. */
function inTransit(error: InvalidPassportError, requestId: string): InvalidPassportError {
  return new InvalidPassportError(
    'expired_in_transit',
    `the passport for '${requestId}' was approved but expired before it reached this site (the event stream was down or slow: see site.stats().longestGapMs) — create a new login request`,
    { cause: error },
  );
}
