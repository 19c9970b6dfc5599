import {
  AbortError,
  ConnectionError,
  type CreateBindingRequestData,
  type CreateLoginRequestData,
  HEADERS,
  HttpClient,
  InvalidResponseError,
  JwksCache,
  type JwksCacheStats,
  LIFETIMES,
  LimeError,
  PATHS,
  sleep,
  TimeoutError,
} from '@lime/wire';
import {
  InvalidPassportError,
  LoginExpiredError,
  LoginRequestNotFoundError,
  StreamClosedError,
} from './errors.js';
import { DefaultTransport } from './internal/default-fetch.js';
import { EventQueue } from './internal/event-queue.js';
import { EventStream, type RawStreamMessage } from './internal/event-stream.js';
import {
  type ApprovedOutcome,
  type LoginOutcome,
  OutcomeBuffer,
  SeenSet,
} from './internal/outcome-buffer.js';
import { PassportVerifier } from './internal/passport-verifier.js';
import { type ResolvedOptions, resolveOptions } from './internal/resolve-options.js';
import { StatusChecks } from './internal/status-checks.js';
import type { LimeSiteOptions } from './options.js';
import type { BindingPassport, Passport } from './passport.js';
import { MemoryReplayStore, type ReplayStore } from './replay-store.js';
import type {
  LoginEvent,
  LoginExpiredEvent,
  LoginHandler,
  LoginRejectedEvent,
  SiteEvent,
} from './site-events.js';

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

interface Waiter {
  resolve: (passport: Passport) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
}

interface OpenWaiter {
  resolve: () => void;
  reject: (error: unknown) => void;
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
  private readonly http: HttpClient;
  private readonly transport: DefaultTransport | undefined;
  private readonly keys: JwksCache;
  private readonly verifier: PassportVerifier;
  private readonly replayStore: ReplayStore;
  /**
   * Stream deliveries are verified against a store of their own: every
   * instance receives every event, so verifying them against the shared
   * `replayStore` would make all but one instance refuse them. Single use
   * across instances is enforced when a passport is claimed
   * ({@link LimeSite.claimPassport}, `waitForLogin`) in `replayStore`.
   */
  private readonly streamReplayStore = new MemoryReplayStore();
  private readonly stream: EventStream;
  private readonly outcomes: OutcomeBuffer;
  private readonly seen: SeenSet;
  private readonly statusChecks: StatusChecks;
  /** The stream has been open before: the next open follows a gap. */
  private openedBefore = false;
  private readonly handlers = new Set<LoginHandler>();
  private readonly queues = new Set<EventQueue<SiteEvent>>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly openWaiters = new Set<OpenWaiter>();
  private stopError: LimeError | undefined;
  private closed = false;
  /** Fires on close(): cancels internal waits so nothing outlives the site. */
  private readonly closing = new AbortController();
  /** Settles on close(): one listener for every wait that must end with it. */
  private readonly closed$ = new Promise<void>((resolve) => {
    this.closing.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  /** Deliveries settle in stream order, although passports verify concurrently. */
  private delivery: Promise<void> = Promise.resolve();

  constructor(options: LimeSiteOptions = {}) {
    const resolved = resolveOptions(options);
    this.options = resolved;
    this.apiBase = resolved.apiBase;
    this.transport = resolved.fetch ? undefined : new DefaultTransport(resolved.timeout);
    const fetch = resolved.fetch ?? this.transport!.fetch;
    this.http = new HttpClient({
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
      jwksUrl: resolved.jwks.url ?? this.http.url(PATHS.jwks),
      fetch,
      // Not the runtime's default (`node`): an edge filter may refuse it.
      headers: { 'user-agent': `lime-sites-sdk/${VERSION}` },
      cacheTtlMs: resolved.jwks.cacheTtl,
      minRefreshIntervalMs: resolved.jwks.minRefreshInterval,
      maxStaleMs: resolved.jwks.maxStale,
      timeoutMs: resolved.jwks.timeout,
      maxDocumentBytes: resolved.jwks.maxDocumentBytes,
    });
    this.verifier = new PassportVerifier({
      keys: this.keys,
      issuer: resolved.issuer,
      siteId: resolved.siteId,
      requiredClaims: resolved.requiredPassportClaims,
      clockToleranceSeconds: resolved.clockTolerance,
      maxTokenLength: resolved.maxTokenLength,
      clock: Date.now,
    });
    this.replayStore = resolved.replayStore ?? new MemoryReplayStore();
    this.outcomes = new OutcomeBuffer(resolved.outcomeBufferSize, resolved.outcomeBufferTtl, () =>
      Date.now(),
    );
    // Each request has exactly one outcome, so its id is the duplicate key: unlike the
    // event id, it stays right when a restarted server starts its sequence again.
    this.seen = new SeenSet(Math.max(10_000, resolved.outcomeBufferSize));
    this.stream = new EventStream({
      url: this.http.url(PATHS.loginEvents),
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
      onMessage: (message) => this.handleMessage(message),
      onOpen: () => this.handleOpen(),
      onDisconnect: (error) => {
        this.emit({ type: 'disconnected', error });
        this.report(error);
        // A refused credential is retried in the background for a while, but
        // connect() was asked to tell now.
        if (error.status === 401 || error.status === 403) {
          for (const waiter of [...this.openWaiters]) waiter.reject(error);
          this.openWaiters.clear();
        }
      },
      onEnd: () =>
        this.emit({
          type: 'disconnected',
          error: new ConnectionError('the server ended the event stream; reconnecting'),
        }),
      onStop: (error) => this.handleStop(error),
      onResumeAbandoned: () => {
        this.enqueue(() =>
          this.deliverResync(
            'resuming the event stream failed the same way several times in a row, so it resumes from now: login events may have been lost — pending logins are being re-checked',
          ),
        );
        this.statusChecks.checkAll();
      },
    });
    this.statusChecks = new StatusChecks(
      {
        // No signal: one per check would pile listeners on `closing`; each
        // read is bounded by `timeout`, and close() drops its result.
        read: (id) => this.getLoginRequest(id),
        arrived: (id) => this.seen.has(id) || this.outcomes.get(id) !== undefined,
        connected: () => this.stream.isConnected,
        resumable: () => this.stream.lastEventId !== undefined,
        fail: (id, error) => this.failWaiters(id, error),
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
    return this.stream.isConnected;
  }

  /** The last event id received (sent as `Last-Event-ID` on reconnect). */
  get lastEventId(): string | undefined {
    return this.stream.lastEventId;
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
    return {
      connected: this.stream.isConnected,
      lastEventId: this.stream.lastEventId,
      ...this.stream.stats(),
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
      this.startStream();
      await this.awaitOpen(Math.min(OPEN_WAIT_MS, this.options.timeout), options.signal);
    }
    const { data } = await this.http.request<CreateLoginRequestData>(
      'POST',
      PATHS.createLoginRequest,
      { body: {}, signal: options.signal, idempotent: false },
    );
    const loginRequestId = requireString(data, 'login_request_id', PATHS.createLoginRequest);
    return {
      loginRequestId,
      status: typeof data.status === 'string' ? data.status : 'PENDING',
      expiresAt: requireDate(data, 'expires_at', PATHS.createLoginRequest),
    };
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
    if (typeof requestId !== 'string' || requestId.length === 0) {
      throw new TypeError('getLoginRequest: requestId must be a non-empty string');
    }
    let data: Record<string, unknown>;
    try {
      ({ data } = await this.http.request<Record<string, unknown>>(
        'GET',
        PATHS.loginRequest(requestId),
        { signal: options.signal },
      ));
    } catch (error) {
      // An unknown id, as the Core or the hosted platform spells it — not a
      // missing route (`NOT_FOUND`), which says nothing about the request.
      if (
        error instanceof LimeError &&
        error.status === 404 &&
        (error.code === 'REQUEST_NOT_FOUND' || error.code === 'SITE_LOGIN_REQUEST_NOT_FOUND')
      ) {
        throw new LoginRequestNotFoundError(requestId, { cause: error });
      }
      throw error;
    }
    const expires = typeof data.expires_at === 'string' ? new Date(data.expires_at) : undefined;
    return {
      loginRequestId:
        typeof data.login_request_id === 'string' && data.login_request_id.length > 0
          ? data.login_request_id
          : requestId,
      status: typeof data.status === 'string' && data.status.length > 0 ? data.status : 'UNKNOWN',
      expiresAt: expires && !Number.isNaN(expires.getTime()) ? expires : undefined,
      data,
    };
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
    const redirectUri = options?.redirectUri;
    if (typeof redirectUri !== 'string' || !/^https?:\/\/[^/]/i.test(redirectUri)) {
      throw new TypeError(
        `createBindingRequest: redirectUri must be an absolute https URL, got '${String(redirectUri).slice(0, 100)}'`,
      );
    }
    const { data } = await this.http.request<CreateBindingRequestData>(
      'POST',
      PATHS.createBindingRequest,
      { body: { redirect_uri: redirectUri }, signal: options.signal, idempotent: false },
    );
    return {
      bindingId: requireString(data, 'binding_id', PATHS.createBindingRequest),
      connectUrl: requireString(data, 'connect_url', PATHS.createBindingRequest),
      status: typeof data.status === 'string' ? data.status : 'PENDING',
      expiresAt: requireDate(data, 'expires_at', PATHS.createBindingRequest),
    };
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
    if (options.signal?.aborted) throw new AbortError(undefined, { cause: options.signal.reason });
    this.stopError = undefined;
    this.startStream();
    if (this.stream.isConnected) return;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.openWaiters.delete(waiter);
        reject(new AbortError('connect() was aborted', { cause: options.signal?.reason }));
      };
      const waiter: OpenWaiter = {
        resolve: () => {
          options.signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error) => {
          options.signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      this.openWaiters.add(waiter);
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
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
    // A fresh function per subscription, so the same handler can be added twice.
    const entry: LoginHandler = (...args) => handler(...args);
    this.handlers.add(entry);
    this.startStream();
    return () => {
      this.handlers.delete(entry);
    };
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
    const timeout = options.timeout ?? this.options.waitTimeout;
    if (!Number.isFinite(timeout) || timeout <= 0) {
      return Promise.reject(
        new TypeError(`waitForLogin: timeout must be a positive number of ms, got ${timeout}`),
      );
    }
    if (this.closed) return Promise.reject(new StreamClosedError());
    const { signal } = options;
    if (signal?.aborted) {
      return Promise.reject(new AbortError('waitForLogin() was aborted', { cause: signal.reason }));
    }
    const known = this.outcomes.get(requestId);
    if (known) return this.settleKnown(known, requestId, signal);
    if (this.stopError) return Promise.reject(this.stopError);
    this.startStream();
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
    const bufferSize = options.bufferSize ?? 1_000;
    if (!Number.isInteger(bufferSize) || bufferSize < 1) {
      throw new TypeError(`events: bufferSize must be a positive integer, got ${bufferSize}`);
    }
    const { signal } = options;
    const onAbort = () => void queue.return();
    const queue: EventQueue<SiteEvent> = new EventQueue<SiteEvent>(
      bufferSize,
      () =>
        this.report(
          new LimeError(
            'EVENTS_DROPPED',
            `an events() consumer fell ${bufferSize} events behind; the oldest was dropped — consume faster or raise bufferSize`,
          ),
        ),
      () => {
        this.queues.delete(queue);
        signal?.removeEventListener('abort', onAbort);
      },
    );
    if (this.closed || signal?.aborted) {
      queue.end();
      return queue;
    }
    if (this.stopError) {
      queue.end(this.stopError);
      return queue;
    }
    this.queues.add(queue);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.startStream();
    return queue;
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
    // One promise for the whole check: the verifier is synchronous on the hot path.
    try {
      return Promise.resolve(
        this.verifier.verifyPassport(jwt, expected, this.replayStore, options.signal),
      );
    } catch (error) {
      return Promise.reject(error);
    }
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
    try {
      return Promise.resolve(
        this.verifier.verifyBindingPassport(jwt, expected, this.replayStore, options.signal),
      );
    } catch (error) {
      return Promise.reject(error);
    }
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
    const signal = options?.signal;
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
    this.stream.close();
    this.statusChecks.close();
    const closedError = new StreamClosedError();
    this.rejectAll(closedError);
    for (const waiter of [...this.openWaiters]) waiter.reject(closedError);
    this.openWaiters.clear();
    for (const queue of [...this.queues]) queue.end();
    this.queues.clear();
    this.handlers.clear();
    this.outcomes.clear();
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

  // ——— internals ———

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
      const limit = outcome.passport.expiresAt.getTime() + this.options.clockTolerance * 1000;
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
    return this.claimPassport(outcome.passport, { signal }).catch((error: unknown) => {
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

  private assertOpen(): void {
    if (this.closed) throw new StreamClosedError('this LimeSite was closed; create a new one');
  }

  private startStream(): void {
    if (this.closed || this.stopError) return;
    if (this.stream.isRunning) return;
    this.stream.start();
    // Load the keys while the stream connects, so the first passport verifies at once
    // (once per start: warmup always fetches).
    if (this.keys.stats().fetchedAt !== undefined) return;
    this.keys.warmup().catch((error: unknown) => {
      this.report(
        error instanceof LimeError
          ? error
          : new LimeError('JWKS_UNAVAILABLE', 'the signing keys could not be loaded', {
              cause: error,
            }),
      );
    });
  }

  /** Resolves when the stream is open, it stops, `maxWaitMs` passes or `signal` fires. */
  private awaitOpen(maxWaitMs: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.stream.isConnected || this.stopError || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.openWaiters.delete(waiter);
        resolve();
      };
      const waiter: OpenWaiter = { resolve: done, reject: done };
      const timer = setTimeout(done, maxWaitMs);
      signal?.addEventListener('abort', done, { once: true });
      this.openWaiters.add(waiter);
    });
  }

  private handleOpen(): void {
    for (const waiter of [...this.openWaiters]) waiter.resolve();
    this.openWaiters.clear();
    this.emit({ type: 'connected' });
    // After a gap, what was approved meanwhile may never come (no resume on
    // the hosted platform): ask the Core about every waiting request.
    if (this.openedBefore) this.statusChecks.checkAll();
    this.openedBefore = true;
  }

  /** Reject every `waitForLogin()` of one request (status checks). */
  private failWaiters(requestId: string, error: LimeError): void {
    const set = this.waiters.get(requestId);
    if (!set) return;
    for (const waiter of [...set]) waiter.reject(error);
  }

  private handleStop(error: LimeError): void {
    this.stopError = error;
    this.report(error);
    for (const waiter of [...this.openWaiters]) waiter.reject(error);
    this.openWaiters.clear();
    this.rejectAll(error);
    for (const queue of [...this.queues]) queue.end(error);
    this.queues.clear();
  }

  private rejectAll(error: unknown): void {
    for (const set of [...this.waiters.values()]) {
      for (const waiter of [...set]) waiter.reject(error);
    }
    this.waiters.clear();
  }

  private handleMessage(message: RawStreamMessage): void {
    if (this.closed) return;
    let event: unknown;
    try {
      event = JSON.parse(message.data);
    } catch {
      this.report(
        new InvalidResponseError(
          `an event on the stream was not JSON (${message.data.length} characters); ignored`,
        ),
      );
      return;
    }
    if (typeof event !== 'object' || event === null || Array.isArray(event)) return;
    const e = event as Record<string, unknown>;
    switch (e.type) {
      case 'approved':
      case 'expired': {
        const requestId = e.login_request_id;
        if (typeof requestId !== 'string' || requestId.length === 0) {
          this.report(
            new InvalidResponseError(`a '${e.type}' event had no login_request_id; ignored`),
          );
          return;
        }
        if (!this.seen.add(requestId)) return; // already delivered (resumed stream repeat)
        const ready =
          e.type === 'expired'
            ? Promise.resolve(() => this.deliverExpired(requestId, message.id))
            : this.verifyApproved(requestId, e, message.id);
        this.enqueue(async () => (await ready)());
        return;
      }
      case 'resync': {
        this.enqueue(() => this.deliverResync());
        this.statusChecks.checkAll();
        return;
      }
      case 'keepalive':
        this.stream.noteKeepalive();
        return;
      case 'error': {
        const code = typeof e.code === 'string' ? e.code : 'STREAM_ERROR';
        const text =
          typeof e.message === 'string' ? e.message : 'the server reported a stream error';
        this.enqueue(() => {
          this.emit({ type: 'error', code, message: text });
          this.report(new LimeError(code, `event stream error frame: ${text}`));
        });
        return;
      }
      default:
        // keepalive and unknown types: nothing to do (bytes already fed the watchdog).
        return;
    }
  }

  private deliverResync(
    text = 'the server could not resume the event stream from our last event id (older than its retention, or another event log): login events may have been lost — pending logins are being re-checked',
  ): void {
    this.emit({ type: 'resync', message: text });
    this.report(new LimeError('STREAM_RESYNC', text));
  }

  /** Append a step to the in-order delivery chain; a failing step never breaks the chain. */
  private enqueue(step: () => void | Promise<void>): void {
    this.delivery = this.delivery
      .then(step)
      .catch((error: unknown) =>
        this.report(
          error instanceof LimeError
            ? error
            : new LimeError('INTERNAL', 'delivering a stream event failed', { cause: error }),
        ),
      );
  }

  private deliverExpired(requestId: string, eventId: string | undefined): void {
    this.record(requestId, { kind: 'expired' });
    const event: LoginExpiredEvent = { type: 'expired', requestId, eventId };
    this.emit(event);
    this.callHandlers(requestId, null, event);
  }

  /**
   * A passport that cannot be verified for lack of keys (the key endpoint
   * refused, a key not fetched yet after a rotation) is held and verified
   * again — 250 ms doubling to 5 s — until it expires, never dropped on the
   * first try. One that arrives already expired is `expired_in_transit`:
   * approved at the Core, late to reach us.
   */
  private async verifyStreamPassport(jwt: string, requestId: string): Promise<Passport> {
    let wait = 250;
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
          unverifiedExpiryMs(jwt) + this.options.clockTolerance * 1000,
          Date.now() + 2 * LIFETIMES.passportMax * 1000,
        );
        if (this.closed || Date.now() + wait > until) throw error;
        await Promise.race([sleep(wait), this.closed$]);
        if (this.closed) throw error;
        wait = Math.min(wait * 2, 5_000);
      }
    }
  }

  /** Verify now (concurrently); the returned function delivers, in stream order. */
  private async verifyApproved(
    requestId: string,
    frame: Record<string, unknown>,
    eventId: string | undefined,
  ): Promise<() => void> {
    const jwt = frame.agent_passport_jwt;
    const redirectUrl = typeof frame.redirect_url === 'string' ? frame.redirect_url : undefined;
    let passport: Passport;
    try {
      if (typeof jwt !== 'string') {
        throw new InvalidPassportError(
          'malformed',
          `the 'approved' event for '${requestId}' carried no agent_passport_jwt string`,
        );
      }
      passport = await this.verifyStreamPassport(jwt, requestId);
    } catch (caught) {
      const error =
        caught instanceof InvalidPassportError
          ? caught
          : new InvalidPassportError(
              'jwks_unavailable',
              `the passport for '${requestId}' could not be verified: ${caught instanceof Error ? caught.message : String(caught)}`,
              { cause: caught },
            );
      return () => {
        if (this.closed) return;
        this.record(requestId, { kind: 'rejected', error });
        const rejected: LoginRejectedEvent = { type: 'rejected', requestId, error, eventId };
        this.emit(rejected);
        this.report(error);
        // An approved login that arrived too late will not complete: handlers hear of it.
        if (error.reason === 'expired_in_transit') this.callHandlers(requestId, null, rejected);
      };
    }
    return () => {
      if (this.closed) return;
      this.record(requestId, { kind: 'approved', passport, taken: false });
      const event: LoginEvent = {
        type: 'login',
        requestId,
        passport,
        passportJwt: jwt,
        redirectUrl,
        eventId,
      };
      this.emit(event);
      this.callHandlers(requestId, passport, event);
    };
  }

  /** Keep the outcome for late waiters and settle the current ones. */
  private record(requestId: string, outcome: LoginOutcome): void {
    this.outcomes.set(requestId, outcome);
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

  private emit(event: SiteEvent): void {
    for (const queue of this.queues) queue.push(event);
  }

  /** Each handler runs on its own: a throw or a rejection goes to onError, a hang blocks no one. */
  private callHandlers(
    requestId: string,
    passport: Passport | null,
    event: LoginEvent | LoginExpiredEvent | LoginRejectedEvent,
  ): void {
    for (const handler of [...this.handlers]) {
      try {
        const result = handler(requestId, passport, event);
        if (result && typeof (result as Promise<void>).then === 'function') {
          (result as Promise<void>).then(undefined, (error: unknown) =>
            this.reportHandlerError(error, requestId),
          );
        }
      } catch (error) {
        this.reportHandlerError(error, requestId);
      }
    }
  }

  private reportHandlerError(error: unknown, requestId: string): void {
    this.report(
      new LimeError(
        'HANDLER_FAILED',
        `an onLogin handler failed for '${requestId}': ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      ),
    );
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

function outcomeError(outcome: LoginOutcome, requestId: string): Error {
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

function requireString(data: Record<string, unknown> | object, name: string, path: string): string {
  const value = (data as Record<string, unknown>)[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidResponseError(
      `POST ${path} answered without a '${name}' string — expected the PROTOCOL.md shape`,
    );
  }
  return value;
}

function requireDate(data: Record<string, unknown> | object, name: string, path: string): Date {
  const value = requireString(data, name, path);
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new InvalidResponseError(
      `POST ${path} answered '${name}' = '${value.slice(0, 40)}', expected an RFC 3339 time`,
    );
  }
  return date;
}

/** The passport's `exp` in ms, read without verification (only to bound a wait). */
function unverifiedExpiryMs(jwt: string): number {
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
