// `waitForLogin()`: the callers waiting for one login request's outcome, what
// they are handed (a passport goes to one waiter, claimed in the replay
// store), and the status checks that fail a wait early when the Core knows
// the outcome will never come (./status-checks.ts).
import { AbortError, LimeError, TimeoutError } from '@lime/wire';
import { InvalidPassportError, LoginExpiredError, StreamClosedError } from '../errors.js';
import type { Passport } from '../passport.js';
import type { ApprovedOutcome, LoginOutcome } from './outcome-buffer.js';
import { type StatusCheckHost, type StatusCheckOptions, StatusChecks } from './status-checks.js';

export interface LoginWaitersHost {
  /** The outcome already received for a request, if any. */
  outcome(requestId: string): LoginOutcome | undefined;
  /** Why the stream stopped for good (a refused credential), if it did. */
  stopError(): LimeError | undefined;
  /** The site was closed. */
  isClosed(): boolean;
  /** Start the stream if it is not running. */
  startStream(): void;
  /** Claim a passport in the replay store (`claimPassport`). */
  claim(passport: Passport, signal: AbortSignal | undefined): Promise<Passport>;
  /** Seconds of clock skew allowed on `exp`. */
  clockToleranceSeconds: number;
  /** The status checks' view of the stream and the Core (all but `fail`, which is ours). */
  status: Omit<StatusCheckHost, 'fail'>;
}

interface Waiter {
  resolve: (passport: Passport) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
}

/** Pending `waitForLogin()` calls by login request id. */
export class LoginWaiters {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly statusChecks: StatusChecks;

  constructor(
    private readonly host: LoginWaitersHost,
    statusOptions: StatusCheckOptions,
  ) {
    this.statusChecks = new StatusChecks(
      { ...host.status, fail: (id, error) => this.fail(id, error) },
      statusOptions,
    );
  }

  /** `LimeSite.waitForLogin` once `timeout` is resolved. */
  wait(requestId: string, timeout: number, signal: AbortSignal | undefined): Promise<Passport> {
    if (typeof requestId !== 'string' || requestId.length === 0) {
      return Promise.reject(new TypeError('waitForLogin: requestId must be a non-empty string'));
    }
    if (!Number.isFinite(timeout) || timeout <= 0) {
      return Promise.reject(
        new TypeError(`waitForLogin: timeout must be a positive number of ms, got ${timeout}`),
      );
    }
    if (this.host.isClosed()) return Promise.reject(new StreamClosedError());
    if (signal?.aborted) {
      return Promise.reject(new AbortError('waitForLogin() was aborted', { cause: signal.reason }));
    }
    const known = this.host.outcome(requestId);
    if (known) return this.settleKnown(known, requestId, signal);
    const stopped = this.host.stopError();
    if (stopped) return Promise.reject(stopped);
    this.host.startStream();
    return new Promise<Passport>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const set = this.waiters.get(requestId);
        set?.delete(waiter);
        if (set?.size === 0) {
          this.waiters.delete(requestId);
          this.statusChecks.unwatch(requestId);
        }
      };
      const waiter: Waiter = {
        resolve: (passport) => {
          cleanup();
          resolve(passport);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
        signal,
      };
      const onAbort = () =>
        waiter.reject(new AbortError('waitForLogin() was aborted', { cause: signal?.reason }));
      const timer = setTimeout(
        () =>
          waiter.reject(
            new TimeoutError(
              `no outcome for login request '${requestId}' within ${timeout} ms — was it handed to an agent? is the stream connected?`,
            ),
          ),
        timeout,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      let set = this.waiters.get(requestId);
      if (!set) {
        set = new Set();
        this.waiters.set(requestId, set);
      }
      set.add(waiter);
      this.statusChecks.watch(requestId);
    });
  }

  /** A request's outcome was recorded: settle its current waiters. */
  settle(requestId: string, outcome: LoginOutcome): void {
    const set = this.waiters.get(requestId);
    if (!set) return;
    const [first, ...rest] = set;
    if (outcome.kind !== 'approved' || first === undefined) {
      for (const waiter of [...set]) waiter.reject(outcomeError(outcome, requestId));
      return;
    }
    // One passport, one waiter: the first call claims it, the others are refused now.
    for (const waiter of rest) waiter.reject(takenError(requestId));
    this.take(outcome, requestId, first.signal).then(first.resolve, first.reject);
  }

  /** Reject every waiter of one request (status checks). */
  fail(requestId: string, error: LimeError): void {
    const set = this.waiters.get(requestId);
    if (!set) return;
    for (const waiter of [...set]) waiter.reject(error);
  }

  /** Reject every waiter (the stream stopped, or the site closed). */
  rejectAll(error: unknown): void {
    for (const set of [...this.waiters.values()]) {
      for (const waiter of [...set]) waiter.reject(error);
    }
    this.waiters.clear();
  }

  /** Ask the Core about every waiting request (after a gap, a resync). */
  checkAll(): void {
    this.statusChecks.checkAll();
  }

  /** Stop the status checks (close). */
  close(): void {
    this.statusChecks.close();
  }

  /**
   * A buffered outcome for a late `waitForLogin()`. A passport that has
   * expired since it arrived is not handed out any more: the login must be
   * completed within the passport's lifetime. One already taken by another
   * `waitForLogin()` is refused at once.
   */
  private settleKnown(
    outcome: LoginOutcome,
    requestId: string,
    signal: AbortSignal | undefined,
  ): Promise<Passport> {
    if (outcome.kind === 'approved') {
      if (outcome.taken) return Promise.reject(takenError(requestId));
      const limit = outcome.passport.expiresAt.getTime() + this.host.clockToleranceSeconds * 1000;
      if (Date.now() >= limit) {
        return Promise.reject(
          new InvalidPassportError(
            'expired',
            `the passport for '${requestId}' arrived but expired at ${outcome.passport.expiresAt.toISOString()} before waitForLogin() was called — create a new login request`,
          ),
        );
      }
      return this.take(outcome, requestId, signal);
    }
    return Promise.reject(outcomeError(outcome, requestId));
  }

  /**
   * Hand a passport to one `waitForLogin()`: mark it taken on this instance,
   * then claim it in the replay store (one instance wins). A store failure
   * puts it back, so a later call can try again.
   */
  private take(
    outcome: ApprovedOutcome,
    requestId: string,
    signal: AbortSignal | undefined,
  ): Promise<Passport> {
    outcome.taken = true;
    return this.host.claim(outcome.passport, signal).catch((error: unknown) => {
      if (error instanceof InvalidPassportError && error.reason === 'replay_check_failed') {
        outcome.taken = false;
      } else if (error instanceof InvalidPassportError && error.reason === 'replayed') {
        throw new InvalidPassportError(
          'replayed',
          `the passport for '${requestId}' was already claimed by another instance sharing the replay store (or by claimPassport()) — only one waitForLogin() binds it`,
          { cause: error },
        );
      }
      throw error;
    });
  }
}

/** The error a waiter gets for an outcome that is not a passport. */
export function outcomeError(outcome: LoginOutcome, requestId: string): Error {
  if (outcome.kind === 'expired') return new LoginExpiredError(requestId);
  if (outcome.kind === 'rejected') return outcome.error;
  return new LimeError('INTERNAL', 'unreachable');
}

function takenError(requestId: string): InvalidPassportError {
  return new InvalidPassportError(
    'replayed',
    `the passport for '${requestId}' was already handed to another waitForLogin() call on this LimeSite — a passport binds one session; wait for each login request once`,
  );
}
