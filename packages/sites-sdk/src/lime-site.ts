import {
  HEADERS,
  HttpClient,
  JwksCache,
  type JwksCacheStats,
  type LimeError,
  PATHS,
} from '@lime/wire';
import { StreamClosedError } from './errors.js';
import { DefaultTransport } from './internal/default-fetch.js';
import { LoginRequests } from './internal/login-requests.js';
import { LoginWaiters } from './internal/login-waiters.js';
import { PassportClaims } from './internal/passport-claims.js';
import { PassportVerifier } from './internal/passport-verifier.js';
import { type ResolvedOptions, resolveOptions } from './internal/resolve-options.js';
import { StreamDelivery } from './internal/stream-delivery.js';
import type { LimeSiteOptions } from './options.js';
import type { BindingPassport, Passport } from './passport.js';
import { MemoryReplayStore } from './replay-store.js';
import type { LoginHandler, SiteEvent } from './site-events.js';

/** Package version, sent in the `user-agent`. */
const VERSION = '0.1.0';
/** Largest SSE event accepted (characters): a passport event is ~1–2 KB. */
const MAX_EVENT_SIZE = 256 * 1024;
/** Longest `createLoginRequest()` waits for the stream to open first, ms. */
const OPEN_WAIT_MS = 5_000;
/**
 * After the Core reports a request approved, how long its passport may still
 * take to reach this instance before `waitForLogin()` says it never will, ms.
 */
const PASSPORT_GRACE_MS = 5_000;
/**
 * The same on a stream that resumes (it carries event ids): the passport is
 * in the Core's log and on its way, however slow the network, ms.
 */
const RESUMABLE_PASSPORT_GRACE_MS = 30_000;

/**
 * A login request created with {@link LimeSite.createLoginRequest}.
 *
 * @example
 * const { loginRequestId, expiresAt } = await site.createLoginRequest();
 */
export interface LoginRequest {
  /** Opaque id (`lr_…`): hand it to the agent, bind it to the browser session. */
  loginRequestId: string;
  /** `PENDING` when created. */
  status: string;
  /** When the request expires unapproved. */
  expiresAt: Date;
}

/**
 * One of your login requests as the Core reports it (PROTOCOL.md §3.1b).
 *
 * @example
 * const { status } = await site.getLoginRequest(loginRequestId); // 'PENDING', 'APPROVED', …
 */
export interface LoginRequestStatus {
  loginRequestId: string;
  /**
   * `PENDING`, `APPROVED` (an agent approved it; the passport is on its way),
   * `DELIVERED` (a connection of your site received the passport) or
   * `EXPIRED` — or whatever else the platform answers, as sent.
   */
  status: string;
  /** `expires_at`, when the answer carries a readable one. */
  expiresAt: Date | undefined;
  /** The answer's `data`, as received. */
  data: Record<string, unknown>;
}

/**
 * A binding request created with {@link LimeSite.createBindingRequest}.
 *
 * @example
 * const { connectUrl } = await site.createBindingRequest({ redirectUri });
 * res.redirect(connectUrl);
 */
export interface BindingRequest {
  /** Opaque id; the binding passport carries it as `binding_id`. */
  bindingId: string;
  /** Where to send the user's browser to pick an agent. */
  connectUrl: string;
  status: string;
  expiresAt: Date;
}

/**
 * Options of {@link LimeSite.createLoginRequest}.
 *
 * @example
 * await site.createLoginRequest({ signal: AbortSignal.timeout(5_000) });
 */
export interface CreateLoginRequestOptions {
  signal?: AbortSignal;
  /**
   * Start the event stream (if not running) and wait briefly for it to open
   * before creating the request, so the outcome cannot slip past unseen.
   * Set `false` when another process listens. @default true
   */
  listen?: boolean;
}

/**
 * Options of {@link LimeSite.createBindingRequest}.
 *
 * @example
 * await site.createBindingRequest({ redirectUri: 'https://example.com/lime/bound' });
 */
export interface CreateBindingRequestOptions {
  /** Absolute URL the user's browser returns to with `?passport=<JWT>`. */
  redirectUri: string;
  signal?: AbortSignal;
}

/**
 * What {@link LimeSite.stats} reports.
 *
 * @example
 * if (site.stats().longestGapMs > 30_000) alert('the login stream was down for 30 s');
 */
export interface LimeSiteStats {
  /** The stream is connected now. */
  connected: boolean;
  /** The resume position (`Last-Event-ID`). */
  lastEventId: string | undefined;
  /** Connections opened. */
  opens: number;
  /** Connections lost or refused. */
  failures: number;
  /** Longest time without a connection since the stream started, ms. */
  longestGapMs: number;
  /** Time without a connection right now, ms (0 while connected). */
  currentGapMs: number;
  /** Resume points given up after repeated failures (each reported as `resync`). */
  resumesAbandoned: number;
  /** The JWKS cache: fetches, failures, kids, last error. */
  jwks: JwksCacheStats;
}

/**
 * Options of {@link LimeSite.getLoginRequest}.
 *
 * @example
 * await site.getLoginRequest(id, { signal: AbortSignal.timeout(5_000) });
 */
export interface GetLoginRequestOptions {
  signal?: AbortSignal;
}

/**
 * Options of {@link LimeSite.waitForLogin}.
 *
 * @example
 * await site.waitForLogin(id, { timeout: 120_000, signal: req.signal });
 */
export interface WaitForLoginOptions {
  signal?: AbortSignal;
  /** Give up after this long, milliseconds. @default the `waitTimeout` option (330_000) */
  timeout?: number;
}

/**
 * Options of {@link LimeSite.verifyPassport}.
 *
 * @example
 * await site.verifyPassport(jwt, { expectedRequestId: req.session.loginRequestId });
 */
export interface VerifyPassportOptions {
  /** The login request you created for this session; `request_id` must equal it. */
  expectedRequestId: string;
  signal?: AbortSignal;
}

/**
 * Options of {@link LimeSite.verifyBindingPassport}.
 *
 * @example
 * await site.verifyBindingPassport(jwt, { expectedBindingId: req.session.bindingId });
 */
export interface VerifyBindingPassportOptions {
  /**
   * Required: the binding you created for the signed-in user (keep it in
   * their session); `binding_id` must equal it. Without it, a binding
   * passport for any binding of your site would link an agent to this
   * account (login CSRF).
   */
  expectedBindingId: string;
  signal?: AbortSignal;
}

/**
 * Options of {@link LimeSite.claimPassport}.
 *
 * @example
 * await site.claimPassport(passport, { signal: AbortSignal.timeout(2_000) });
 */
export interface ClaimPassportOptions {
  /**
   * Stop waiting for the replay store. The claim may still be recorded: an
   * aborted claim never binds, so treat the passport as spent.
   */
  signal?: AbortSignal;
}

/**
 * Options of {@link LimeSite.connect}.
 *
 * @example
 * await site.connect({ signal: AbortSignal.timeout(10_000) });
 */
export interface ConnectOptions {
  signal?: AbortSignal;
}

/**
 * Options of {@link LimeSite.events}.
 *
 * @example
 * for await (const event of site.events({ signal })) { … }
 */
export interface EventsOptions {
  /** Ends the iteration (as `done`) when it fires. */
  signal?: AbortSignal;
  /** Events buffered for a slow consumer before the oldest are dropped. @default 1_000 */
  bufferSize?: number;
}

/**
 * A LIME site backend: creates login and binding requests, receives
 * passports over one resumable event stream, and verifies passports fast and
 * strictly. Create one per process and reuse it.
 *
 * @example
 * import { LimeSite } from 'lime-sites-sdk';
 *
 * const site = new LimeSite(); // reads LIME_SITE_TOKEN
 * const { loginRequestId } = await site.createLoginRequest();
 * // … hand loginRequestId to the agent …
 * const passport = await site.waitForLogin(loginRequestId);
 * console.log(passport.agentId, passport.userId);
 * await site.close();
 */
export class LimeSite implements AsyncDisposable {
  /** The API base in use (with `/api/v1`). */
  readonly apiBase: string;
  private readonly options: ResolvedOptions;
  private readonly transport: DefaultTransport | undefined;
  private readonly keys: JwksCache;
  private readonly requests: LoginRequests;
  private readonly delivery: StreamDelivery;
  private readonly waiters: LoginWaiters;
  private readonly claims: PassportClaims;
  private closed = false;
  /** Fires on close(): cancels internal waits so nothing outlives the site. */
  private readonly closing = new AbortController();

  constructor(options: LimeSiteOptions = {}) {
    const resolved = resolveOptions(options);
    this.options = resolved;
    this.apiBase = resolved.apiBase;
    this.transport = resolved.fetch ? undefined : new DefaultTransport(resolved.timeout);
    const fetch = resolved.fetch ?? this.transport!.fetch;
    const http = new HttpClient({
      apiBase: resolved.apiBase,
      headers: {
        [HEADERS.siteToken]: resolved.siteToken,
        'user-agent': `lime-sites-sdk/${VERSION}`,
      },
      timeoutMs: resolved.timeout,
      maxRetries: resolved.maxRetries,
      fetch,
    });
    this.keys = new JwksCache({
      jwksUrl: resolved.jwks.url ?? http.url(PATHS.jwks),
      fetch,
      // Not the runtime's default (`node`): an edge filter may refuse it.
      headers: { 'user-agent': `lime-sites-sdk/${VERSION}` },
      cacheTtlMs: resolved.jwks.cacheTtl,
      minRefreshIntervalMs: resolved.jwks.minRefreshInterval,
      maxStaleMs: resolved.jwks.maxStale,
      timeoutMs: resolved.jwks.timeout,
      maxDocumentBytes: resolved.jwks.maxDocumentBytes,
    });
    this.requests = new LoginRequests(http);
    const isClosed = () => this.closed;
    const report = (error: LimeError) => this.report(error);
    // Settles on close(): one listener for every wait that must end with it.
    const closed = new Promise<void>((resolve) => {
      this.closing.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    this.claims = new PassportClaims({
      verifier: new PassportVerifier({
        keys: this.keys,
        issuer: resolved.issuer,
        siteId: resolved.siteId,
        requiredClaims: resolved.requiredPassportClaims,
        clockToleranceSeconds: resolved.clockTolerance,
        maxTokenLength: resolved.maxTokenLength,
        clock: Date.now,
      }),
      replayStore: resolved.replayStore ?? new MemoryReplayStore(),
      clockToleranceSeconds: resolved.clockTolerance,
      isClosed,
      closed,
    });
    this.delivery = new StreamDelivery({
      stream: {
        url: http.url(PATHS.loginEvents),
        headers: {
          [HEADERS.siteToken]: resolved.siteToken,
          'user-agent': `lime-sites-sdk/${VERSION}`,
        },
        fetch,
        minDelayMs: resolved.reconnectMinDelay,
        maxDelayMs: resolved.reconnectMaxDelay,
        watchdogMs: resolved.watchdogTimeout,
        connectTimeoutMs: resolved.timeout,
        authRetryMs: resolved.authRetryPeriod,
        maxEventSize: MAX_EVENT_SIZE,
        random: Math.random,
      },
      keys: this.keys,
      outcomeBufferSize: resolved.outcomeBufferSize,
      outcomeBufferTtl: resolved.outcomeBufferTtl,
      verify: (jwt, requestId) => this.claims.verifyStreamPassport(jwt, requestId),
      settle: (requestId, outcome) => this.waiters.settle(requestId, outcome),
      recheck: () => this.waiters.checkAll(),
      rejectAll: (error) => this.waiters.rejectAll(error),
      report,
      isClosed,
    });
    const stream = this.delivery.stream;
    this.waiters = new LoginWaiters(
      {
        outcome: (id) => this.delivery.outcome(id),
        stopError: () => this.delivery.stopError,
        isClosed,
        startStream: () => this.delivery.start(),
        claim: (passport, signal) => this.claims.claimPassport(passport, signal),
        clockToleranceSeconds: resolved.clockTolerance,
        status: {
          // No signal: one per check would pile listeners on `closing`; each
          // read is bounded by `timeout`, and close() drops its result.
          read: (id) => this.getLoginRequest(id),
          arrived: (id) => this.delivery.arrived(id),
          connected: () => stream.isConnected,
          resumable: () => stream.lastEventId !== undefined,
        },
      },
      {
        intervalMs: resolved.statusCheckInterval,
        graceMs: Math.min(PASSPORT_GRACE_MS, resolved.statusCheckInterval || PASSPORT_GRACE_MS),
        resumableGraceMs: RESUMABLE_PASSPORT_GRACE_MS,
      },
    );
  }

  /** True while the event stream is connected. */
  get connected(): boolean {
    return this.delivery.stream.isConnected;
  }

  /** The last event id received (sent as `Last-Event-ID` on reconnect). */
  get lastEventId(): string | undefined {
    return this.delivery.stream.lastEventId;
  }

  /**
   * Counters of the stream and the key cache, for monitoring: connections
   * opened and lost, the longest time without a connection (a passport
   * lives 60 s: a gap near that means logins may arrive expired), resume
   * points given up, and the JWKS cache's fetches and failures.
   *
   * @example
   * const { longestGapMs, connected } = site.stats();
   */
  stats(): LimeSiteStats {
    const stream = this.delivery.stream;
    return {
      connected: stream.isConnected,
      lastEventId: stream.lastEventId,
      ...stream.stats(),
      jwks: this.keys.stats(),
    };
  }

  /**
   * Create a headless login request (PROTOCOL.md §3.1). Hand the returned id
   * to the agent; the outcome arrives on the stream. Never retried (it is
   * not idempotent).
   *
   * @example
   * const { loginRequestId, expiresAt } = await site.createLoginRequest();
   */
  async createLoginRequest(options: CreateLoginRequestOptions = {}): Promise<LoginRequest> {
    this.assertOpen();
    if (options.listen ?? true) {
      this.delivery.start();
      await this.delivery.awaitOpen(Math.min(OPEN_WAIT_MS, this.options.timeout), options.signal);
    }
    return this.requests.create(options.signal);
  }

  /**
   * Read one of your login requests' status from the Core (PROTOCOL.md
   * §3.1b). `waitForLogin()` uses it to fail fast; call it yourself to show
   * progress or to reconcile after downtime. Throws
   * {@link LoginRequestNotFoundError} for an id the Core does not know (or
   * another site's).
   *
   * @example
   * const { status } = await site.getLoginRequest(loginRequestId);
   * if (status === 'EXPIRED') restartLogin();
   */
  async getLoginRequest(
    requestId: string,
    options: GetLoginRequestOptions = {},
  ): Promise<LoginRequestStatus> {
    this.assertOpen();
    return this.requests.get(requestId, options.signal);
  }

  /**
   * Create a binding request (PROTOCOL.md §5): send the user's browser to
   * `connectUrl`; it comes back to `redirectUri?passport=<JWT>`, which you
   * check with {@link LimeSite.verifyBindingPassport}.
   *
   * @example
   * const { bindingId, connectUrl } = await site.createBindingRequest({
   *   redirectUri: 'https://example.com/lime/bound',
   * });
   */
  async createBindingRequest(options: CreateBindingRequestOptions): Promise<BindingRequest> {
    this.assertOpen();
    return this.requests.createBinding(options?.redirectUri, options?.signal);
  }

  /**
   * Start the event stream now (it also starts on the first `onLogin`,
   * `waitForLogin`, `events` or `createLoginRequest`) and wait until it is
   * open. Restarts a stream stopped by a refused credential. Rejects when the
   * credential is refused (401/403) or `signal` fires.
   *
   * @example
   * await site.connect(); // at startup: fail fast on a bad token
   */
  async connect(options: ConnectOptions = {}): Promise<void> {
    this.assertOpen();
    await this.delivery.connect(options.signal);
  }

  /**
   * Call `handler` for every login outcome of this site: `(requestId,
   * passport, event)` with a verified passport, or `passport === null` when
   * the login will not complete: the request expired (`event.type ===
   * 'expired'`) or its passport arrived expired (`event.type === 'rejected'`,
   * reason `expired_in_transit`). Every instance's handlers get every passport, and
   * the passport is **not yet claimed**: call {@link LimeSite.claimPassport}
   * before binding it to a session. Handlers run independently: one that
   * throws (→ `onError`) or never settles does not delay the others. Returns
   * the unsubscribe function.
   *
   * @example
   * const off = site.onLogin(async (requestId, passport) => {
   *   if (!passport) return markExpired(requestId);
   *   await site.claimPassport(passport); // throws 'replayed' if already bound elsewhere
   *   await sessions.complete(requestId, passport.agentId);
   * });
   */
  onLogin(handler: LoginHandler): () => void {
    if (typeof handler !== 'function') throw new TypeError('onLogin: handler must be a function');
    this.assertOpen();
    return this.delivery.addHandler(handler);
  }

  /**
   * Wait for the outcome of one login request: resolves with the verified
   * passport, already claimed in the `replayStore` (see
   * {@link LimeSite.claimPassport}); rejects with {@link LoginExpiredError},
   * {@link InvalidPassportError}, `TimeoutError`, `AbortError`, the stream's
   * `AuthenticationError`, or {@link StreamClosedError}. Works whether the
   * event arrived before or after the call (recent outcomes are kept).
   *
   * A passport is handed out once: a second `waitForLogin` for the same
   * request on this instance, or on another instance sharing the
   * `replayStore`, rejects with `InvalidPassportError` reason `replayed`.
   *
   * @example
   * const { loginRequestId } = await site.createLoginRequest();
   * const passport = await site.waitForLogin(loginRequestId, { timeout: 120_000 });
   */
  waitForLogin(requestId: string, options: WaitForLoginOptions = {}): Promise<Passport> {
    if (typeof requestId !== 'string' || requestId.length === 0) {
      return Promise.reject(new TypeError('waitForLogin: requestId must be a non-empty string'));
    }
    return this.waiters.wait(
      requestId,
      options.timeout ?? this.options.waitTimeout,
      options.signal,
    );
  }

  /**
   * Every stream event as an async iterator: `login` (verified passport),
   * `expired`, `rejected` (passport refused), `resync` (warning: events may
   * have been lost), `error` (server frame), `connected`, `disconnected`.
   * Ends when the site closes, the signal fires or you `break`; throws the
   * stream's `AuthenticationError` when the credential is refused.
   *
   * @example
   * for await (const event of site.events()) {
   *   if (event.type === 'login') console.log(event.requestId, event.passport.agentId);
   * }
   */
  events(options: EventsOptions = {}): AsyncIterableIterator<SiteEvent> {
    return this.delivery.events(options);
  }

  /**
   * Verify a site passport you received outside the stream (stream
   * deliveries are already verified): RS256 with a published key, `aud`
   * `lime-site-login`, lifetime ≤ 120 s, not expired (with the clock
   * tolerance), `iss` when configured, `request_id` equal to
   * `expectedRequestId`, and `jti` not used before (the replay store).
   * Throws {@link InvalidPassportError} with a `reason`.
   *
   * @example
   * const passport = await site.verifyPassport(jwt, {
   *   expectedRequestId: req.session.loginRequestId,
   * });
   */
  verifyPassport(jwt: string, options: VerifyPassportOptions): Promise<Passport> {
    const expected = options?.expectedRequestId;
    if (typeof expected !== 'string' || expected.length === 0) {
      return Promise.reject(
        new TypeError(
          'verifyPassport: expectedRequestId must be the login request id you created for this session',
        ),
      );
    }
    return this.claims.verifyPassport(jwt, expected, options.signal);
  }

  /**
   * Verify a binding passport (the `passport` query parameter on your
   * `redirectUri`): RS256, `aud` `lime-binding`, lifetime ≤ 60 s, `binding_id`
   * equal to `expectedBindingId` (required: the binding you created for the
   * signed-in user), single-use `jti` (recorded in the `replayStore`).
   *
   * @example
   * const binding = await site.verifyBindingPassport(String(req.query.passport), {
   *   expectedBindingId: req.session.bindingId,
   * });
   */
  verifyBindingPassport(
    jwt: string,
    options: VerifyBindingPassportOptions,
  ): Promise<BindingPassport> {
    const expected = options?.expectedBindingId;
    if (typeof expected !== 'string' || expected.length === 0) {
      return Promise.reject(
        new TypeError(
          'verifyBindingPassport: expectedBindingId must be the binding id you created for the signed-in user',
        ),
      );
    }
    return this.claims.verifyBindingPassport(jwt, expected, options.signal);
  }

  /**
   * Claim a passport: record its `jti` in the configured `replayStore` until
   * it expires (`exp` + `clockTolerance`). Call it at the moment you bind
   * the passport to a session — in an `onLogin` handler or an `events()`
   * consumer, whose passports are verified but not claimed. Rejects with
   * {@link InvalidPassportError} reason `replayed` when the passport was
   * already claimed, by this instance or any instance sharing the store (so
   * exactly one of them binds it), `expired` when it is past its expiry, and
   * `replay_check_failed` when the store fails (fail closed). Resolves with
   * the same passport.
   *
   * `waitForLogin` and `verifyPassport` already claim what they return:
   * claiming that again rejects as `replayed`. It does not re-verify the
   * token: pass only passports this SDK handed you.
   *
   * @example
   * site.onLogin(async (requestId, passport) => {
   *   if (!passport) return;
   *   try {
   *     await site.claimPassport(passport);
   *   } catch (e) {
   *     if (e instanceof InvalidPassportError && e.reason === 'replayed') return; // bound elsewhere
   *     throw e;
   *   }
   *   await sessions.complete(requestId, passport.agentId);
   * });
   */
  claimPassport(passport: Passport, options: ClaimPassportOptions = {}): Promise<Passport> {
    return this.claims.claimPassport(passport, options?.signal);
  }

  /**
   * Stop the stream, reject pending `waitForLogin()` calls with
   * {@link StreamClosedError}, end `events()` iterators and release sockets.
   * Idempotent.
   *
   * @example
   * process.on('SIGTERM', () => site.close());
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    this.delivery.closeStream();
    this.waiters.close();
    const closedError = new StreamClosedError();
    this.waiters.rejectAll(closedError);
    this.delivery.close(closedError);
    await this.transport?.close();
  }

  /**
   * `await using site = new LimeSite()` closes it at the end of the scope.
   *
   * @example
   * await using site = new LimeSite();
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new StreamClosedError('this LimeSite was closed; create a new one');
  }

  private report(error: LimeError): void {
    const onError = this.options.onError;
    if (!onError) return;
    try {
      onError(error);
    } catch {
      // An onError hook that throws has nowhere left to report to.
    }
  }
}
