import {
  AbortError,
  ConnectionError,
  errorClassFor,
  type FetchLike,
  HEADERS,
  InvalidResponseError,
  isFailureEnvelope,
  LimeError,
  parseRetryAfter,
  RateLimitError,
  readBodyLimited,
  sameOriginRedirectsOnly,
  TimeoutError,
} from '@lime/wire';
import { SseDecoder, SseOverflowError } from './sse-decoder.js';

/** One SSE message as the stream hands it on: the `id:` (if any) and the `data:`. */
export interface RawStreamMessage {
  id: string | undefined;
  data: string;
}

export interface EventStreamOptions {
  /** Absolute URL of the event stream. */
  url: string;
  /** Headers of every connection (the site credential). */
  headers: Record<string, string>;
  fetch: FetchLike;
  /** Extra `RequestInit` members (undici `dispatcher`). */
  init?: Record<string, unknown>;
  /** Smallest reconnect delay, ms. */
  minDelayMs: number;
  /** Largest reconnect delay, ms (also caps the server's `retry:`). */
  maxDelayMs: number;
  /**
   * Reconnect when no byte arrived for this long, ms — the upper bound: once
   * keepalives have shown the server's cadence, 2.5 × that cadence.
   */
  watchdogMs: number;
  /** How long 401/403 refusals are retried before the stream stops, ms (0: stop at once). */
  authRetryMs: number;
  /** How long the response headers may take, ms. */
  connectTimeoutMs: number;
  /** Largest SSE event (characters) buffered before the connection is dropped. */
  maxEventSize: number;
  random: () => number;
  onMessage: (message: RawStreamMessage) => void;
  onOpen: () => void;
  /** A connection failed or dropped; the stream will reconnect. */
  onDisconnect: (error: LimeError) => void;
  /** The server ended the stream cleanly (restart, deploy); it will reconnect. */
  onEnd: () => void;
  /** The stream stopped for good (401/403 past `authRetryMs`, a redirect): no more reconnects. */
  onStop: (error: LimeError) => void;
  /**
   * Resuming from `Last-Event-ID` failed the same way several times in a
   * row; the stream resumes from "now" instead (events may have been lost).
   */
  onResumeAbandoned: (lastEventId: string) => void;
}

/** Counters of one stream, for {@link EventStream.stats}. */
export interface EventStreamStats {
  /** Connections opened (a 200 with a stream). */
  opens: number;
  /** Connections lost or refused since the start. */
  failures: number;
  /** Longest time without a connection between two opens (or since the start), ms. */
  longestGapMs: number;
  /** Time without a connection right now, ms (0 while connected). */
  currentGapMs: number;
  /** Times a resume point was given up (see `onResumeAbandoned`). */
  resumesAbandoned: number;
}

/**
 * While the server answers at all (a status line, or a stream that then
 * drops), reconnect within this, ms: a passport lives 60 s, and one that
 * waits out a long backoff arrives expired.
 */
const ANSWERED_MAX_DELAY_MS = 2_000;
/**
 * Resumes from one `Last-Event-ID` that fail this many times in a row, over
 * at least {@link RESUME_FAILURE_SPAN_MS}, are given up. Both bounds: a
 * refusal window of a flaky network also fails a few resumes in a row, and
 * giving up a resume point loses the events of the gap.
 */
const RESUME_FAILURES_ALLOWED = 5;
const RESUME_FAILURE_SPAN_MS = 20_000;

/** Delays between retries of a refused credential, ms: 5 s doubling to 60 s. */
const AUTH_RETRY_FIRST_MS = 5_000;
const AUTH_RETRY_MAX_MS = 60_000;
/** Keepalive intervals remembered to learn the server's cadence. */
const CADENCE_SAMPLES = 3;
/** The silence limit never drops below this, however fast the keepalives, ms. */
const MIN_LEARNED_SILENCE_MS = 1_000;

/** Longest `Retry-After` honoured on the stream, ms: beyond it, the server is being odd. */
const MAX_RETRY_AFTER_MS = 10 * 60_000;
/**
 * Smallest step of the exponential backoff after a failure, ms: with
 * `reconnectMinDelay: 0` and no `retry:`, doubling zero would reconnect in a
 * tight loop against a failing server.
 */
const MIN_BACKOFF_STEP_MS = 50;
/** A connection open this long counts as healthy even without events, ms. */
const HEALTHY_CONNECTION_MS = 5_000;
/** Largest error body read from a refused stream request, bytes. */
const MAX_ERROR_BODY = 64 * 1024;

type State = 'idle' | 'running' | 'stopped' | 'closed';

/**
 * One resumable SSE connection that reconnects forever: capped exponential
 * backoff with jitter, the server's `retry:` as the base delay, `Last-Event-ID`
 * on every reconnect, a watchdog for silent connections, and a hard stop on
 * 401/403 (a bad credential never gets better by hammering).
 */
export class EventStream {
  /** The last `id:` seen, sent as `Last-Event-ID` on reconnect. */
  lastEventId: string | undefined;
  private state: State = 'idle';
  private serverRetryMs: number | undefined;
  /** Events received on the current connection. */
  private messages = 0;
  private current: AbortController | undefined;
  private wake: (() => void) | undefined;
  private connected = false;
  /** When the current run of 401/403 refusals began. */
  private refusedSince: number | undefined;
  private lastKeepaliveAt: number | undefined;
  private readonly cadence: number[] = [];
  /** The last failure came with an answer from the server (it is up). */
  private serverAnswered = false;
  /** Failed attempts in a row that asked to resume from the current `lastEventId`. */
  private resumeFailures = 0;
  private resumeFailingSince: number | undefined;
  private readonly counters = { opens: 0, failures: 0, longestGapMs: 0, resumesAbandoned: 0 };
  /** Since when there is no connection (undefined while connected). */
  private downSince: number | undefined;

  /** The stream carries the site token: redirects never leave the origin. */
  private readonly fetch: FetchLike;

  constructor(private readonly options: EventStreamOptions) {
    this.fetch = sameOriginRedirectsOnly(() => options.fetch);
  }

  /** True while a connection is open and streaming. */
  get isConnected(): boolean {
    return this.connected;
  }

  /** True while the reconnect loop runs (connected or not). */
  get isRunning(): boolean {
    return this.state === 'running';
  }

  /** True once stopped by a credential failure (until `start()` again). */
  get isStopped(): boolean {
    return this.state === 'stopped';
  }

  /**
   * A keepalive arrived (a `keepalive` event or a comment line): the
   * intervals teach the watchdog the server's cadence (PROTOCOL.md §3.5).
   */
  noteKeepalive(): void {
    const now = Date.now();
    if (this.lastKeepaliveAt !== undefined) {
      this.cadence.push(now - this.lastKeepaliveAt);
      if (this.cadence.length > CADENCE_SAMPLES) this.cadence.shift();
    }
    this.lastKeepaliveAt = now;
  }

  /**
   * How long silence is tolerated now, ms: `watchdogMs` (310 s by default,
   * as the Python listener) until three keepalives have shown the cadence,
   * then 2.5 × the longest recent interval, never above `watchdogMs`.
   */
  get silenceLimitMs(): number {
    if (this.cadence.length < 2) return this.options.watchdogMs;
    const learned = Math.ceil(2.5 * Math.max(...this.cadence));
    return Math.min(this.options.watchdogMs, Math.max(MIN_LEARNED_SILENCE_MS, learned));
  }

  /** Counters: opens, failures, the longest time without a connection. */
  stats(): EventStreamStats {
    const now = Date.now();
    const current = this.downSince === undefined ? 0 : now - this.downSince;
    return {
      opens: this.counters.opens,
      failures: this.counters.failures,
      longestGapMs: Math.max(this.counters.longestGapMs, current),
      currentGapMs: current,
      resumesAbandoned: this.counters.resumesAbandoned,
    };
  }

  /** Start (or restart after a stop); a no-op while running. */
  start(): void {
    if (this.state === 'running' || this.state === 'closed') return;
    this.state = 'running';
    this.downSince ??= Date.now();
    void this.run();
  }

  /** Stop for good and drop the connection. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.current?.abort();
    this.wake?.();
  }

  private get running(): boolean {
    return this.state === 'running';
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (this.running) {
      let delay: number;
      let openedAt: number | undefined;
      this.messages = 0;
      try {
        const response = await this.connect();
        openedAt = Date.now();
        this.connected = true;
        this.refusedSince = undefined;
        this.counters.opens++;
        if (this.downSince !== undefined) {
          this.counters.longestGapMs = Math.max(
            this.counters.longestGapMs,
            openedAt - this.downSince,
          );
          this.downSince = undefined;
        }
        // A resume position in the response head: a cut before the first
        // `id:` line still resumes from here.
        const head = response.headers.get(HEADERS.resumePosition);
        if (this.lastEventId === undefined && head) this.lastEventId = head;
        // An interval across a reconnect is not a keepalive cadence.
        this.lastKeepaliveAt = undefined;
        this.options.onOpen();
        await this.consume(response);
        if (!this.running) break;
        // The server ended the stream cleanly (restart, deploy): come back after `retry:`.
        this.connected = false;
        this.downSince ??= Date.now();
        this.counters.failures++;
        this.options.onEnd();
        this.serverAnswered = true;
        this.noteResumeOutcome(true);
        if (this.wasHealthy(openedAt)) attempt = 0;
        delay = this.delay(attempt++);
      } catch (error) {
        this.connected = false;
        this.downSince ??= Date.now();
        if (!this.running) break;
        this.counters.failures++;
        const limeError = toLimeError(error);
        // Did the server answer at all? A refused or unanswered connection
        // (it is down) backs off to reconnectMaxDelay; anything else is
        // retried within ANSWERED_MAX_DELAY_MS.
        this.serverAnswered = openedAt !== undefined || !unreachable(limeError);
        this.noteResumeOutcome(this.serverAnswered);
        const retryRefusal = this.retryRefusal(limeError);
        if (retryRefusal !== undefined) {
          this.options.onDisconnect(limeError);
          delay = retryRefusal;
          this.connected = false;
          if (!this.running) break;
          await this.pause(delay);
          continue;
        }
        if (isFatal(limeError)) {
          this.state = 'stopped';
          this.options.onStop(finalRefusal(limeError, this.options.authRetryMs));
          return;
        }
        // The server refused our resume point (a malformed or foreign id): asking
        // again with it would be refused forever, so resume from "now"; the
        // site de-duplicates by request id, and onDisconnect reports the gap.
        if (limeError.status === 400) this.lastEventId = undefined;
        this.options.onDisconnect(limeError);
        // A connection that delivered nothing does not reset the backoff: a
        // server (or proxy) that accepts and drops at once is not hammered.
        if (openedAt !== undefined && this.wasHealthy(openedAt)) attempt = 0;
        delay = this.delay(attempt++, limeError);
      }
      this.connected = false;
      if (!this.running) break;
      await this.pause(delay);
    }
    this.connected = false;
  }

  /**
   * A 401/403 may be a deploy or an auth blip (PROTOCOL.md §3.5): retry it
   * with a long backoff (5 s doubling to 60 s, `Retry-After` honoured) for
   * `authRetryMs` before stopping. The delay to wait, or undefined to stop.
   */
  private retryRefusal(error: LimeError): number | undefined {
    const status = error.status ?? 0;
    if (status !== 401 && status !== 403) return undefined;
    const now = Date.now();
    this.refusedSince ??= now;
    const left = this.refusedSince + this.options.authRetryMs - now;
    if (left <= 0) return undefined;
    const failures = Math.max(
      0,
      Math.round(Math.log2((now - this.refusedSince) / AUTH_RETRY_FIRST_MS + 1)),
    );
    let delay = Math.min(AUTH_RETRY_MAX_MS, AUTH_RETRY_FIRST_MS * 2 ** failures);
    const retryAfter = error.headers
      ? parseRetryAfter(error.headers.get(HEADERS.retryAfter))
      : undefined;
    if (retryAfter !== undefined) delay = Math.max(delay, retryAfter * 1000);
    // The last try happens when the period ends, not a whole backoff after it.
    return Math.min(delay, left);
  }

  /**
   * A resume that fails the same way again and again (the server resets
   * the connection, or drops it before the first event — e.g. a backlog it
   * cannot send) is given up after a few tries: better "from now" with a
   * `resync` than a loop that delivers nothing.
   */
  private noteResumeOutcome(answered: boolean): void {
    if (!answered || this.lastEventId === undefined) return;
    if (this.messages > 0) {
      this.resumeFailures = 0;
      this.resumeFailingSince = undefined;
      return;
    }
    this.resumeFailures++;
    this.resumeFailingSince ??= Date.now();
    if (
      this.resumeFailures < RESUME_FAILURES_ALLOWED ||
      Date.now() - this.resumeFailingSince < RESUME_FAILURE_SPAN_MS
    ) {
      return;
    }
    const abandoned = this.lastEventId;
    this.lastEventId = undefined;
    this.resumeFailures = 0;
    this.resumeFailingSince = undefined;
    this.counters.resumesAbandoned++;
    this.options.onResumeAbandoned(abandoned);
  }

  /** A connection that delivered an event or stayed up a while proves the server is fine. */
  private wasHealthy(openedAt: number): boolean {
    return this.messages > 0 || Date.now() - openedAt >= HEALTHY_CONNECTION_MS;
  }

  /**
   * Reconnect delay: base `retry:` (clamped), doubled per failure, capped —
   * at 2 s while the server answers at all, else at `maxDelayMs` — plus up
   * to 25% jitter; a `Retry-After` is honoured.
   */
  private delay(attempt: number, error?: LimeError): number {
    const { minDelayMs, random } = this.options;
    // While the server answers, its own `retry:` still counts (it asked for it).
    const maxDelayMs = this.serverAnswered
      ? Math.min(
          this.options.maxDelayMs,
          Math.max(ANSWERED_MAX_DELAY_MS, minDelayMs, this.serverRetryMs ?? 0),
        )
      : this.options.maxDelayMs;
    const base = Math.min(maxDelayMs, Math.max(minDelayMs, this.serverRetryMs ?? minDelayMs));
    const step =
      attempt === 0
        ? base
        : Math.min(maxDelayMs, Math.max(base, MIN_BACKOFF_STEP_MS) * 2 ** Math.min(attempt, 30));
    let delay = Math.min(maxDelayMs, Math.round(step * (1 + random() / 4)));
    const retryAfter = error?.headers
      ? parseRetryAfter(error.headers.get(HEADERS.retryAfter))
      : undefined;
    if (retryAfter !== undefined)
      delay = Math.max(delay, Math.min(MAX_RETRY_AFTER_MS, retryAfter * 1000));
    return delay;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** Open one connection; resolves with a 200 `text/event-stream` response. */
  private async connect(): Promise<Response> {
    const controller = new AbortController();
    this.current = controller;
    const headers: Record<string, string> = {
      ...this.options.headers,
      accept: 'text/event-stream',
      'cache-control': 'no-cache',
    };
    if (this.lastEventId !== undefined && this.lastEventId !== '') {
      headers[HEADERS.lastEventId] = this.lastEventId;
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.options.connectTimeoutMs);
    try {
      let response: Response;
      try {
        response = await this.fetch(this.options.url, {
          ...this.options.init,
          method: 'GET',
          headers,
          signal: controller.signal,
        });
      } catch (error) {
        if (timedOut) {
          throw new TimeoutError(
            `the event stream answered no headers within ${this.options.connectTimeoutMs} ms; reconnecting`,
            { cause: error },
          );
        }
        if (!this.running) throw new AbortError('the event stream was closed');
        throw new ConnectionError(`the event stream could not connect: ${describe(error)}`, {
          cause: error,
        });
      }
      // Still under the connect timer, so a refusal whose body stalls cannot hang us.
      if (response.status !== 200) throw await refusal(response, this.options.authRetryMs);
      // Any content type is taken (a missing one, `text/event-stream; charset=…`,
      // a proxy's `text/plain`), as the Python listener does — except a page or a
      // JSON document, which means the API base points somewhere else.
      const type = response.headers.get('content-type') ?? '';
      if (/^\s*(text\/html|application\/(xhtml\+xml|json|problem\+json))/i.test(type)) {
        await response.body?.cancel().catch(() => {});
        throw new InvalidResponseError(
          `the event stream answered 200 with content-type '${type.slice(0, 60)}', expected 'text/event-stream' — is the API base right?`,
          { status: 200, headers: response.headers },
        );
      }
      if (!response.body) {
        throw new InvalidResponseError('the event stream answered 200 without a body', {
          status: 200,
          headers: response.headers,
        });
      }
      return response;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Read the stream until it ends (resolves) or fails (throws). */
  private async consume(response: Response): Promise<void> {
    const controller = this.current!;
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let failure: LimeError | undefined;
    const decoder2 = new SseDecoder(
      {
        onMessage: (message) => {
          this.messages++;
          this.options.onMessage(message);
        },
        onId: (id) => {
          this.lastEventId = id;
        },
        onRetry: (ms) => {
          this.serverRetryMs = ms;
        },
        onComment: () => this.noteKeepalive(),
      },
      this.options.maxEventSize,
    );
    const feed = (text: string) => {
      try {
        decoder2.feed(text);
      } catch (error) {
        if (!(error instanceof SseOverflowError)) throw error;
        failure = new InvalidResponseError(`${error.message}; reconnecting`, { cause: error });
        controller.abort();
      }
    };
    let silent = false;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      if (watchdog !== undefined) clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        silent = true;
        controller.abort();
      }, this.silenceLimitMs);
    };
    const onAbort = () => {
      void reader.cancel().catch(() => {});
    };
    controller.signal.addEventListener('abort', onAbort, { once: true });
    arm();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (failure) throw failure;
        if (silent) throw silence(this.silenceLimitMs);
        if (done) break;
        feed(decoder.decode(value, { stream: true }));
        if (failure) throw failure;
        // Re-armed after the bytes are read: a keepalive in them may have
        // just taught the watchdog a shorter limit.
        arm();
      }
      if (!this.running) return;
      feed(decoder.decode());
      decoder2.end();
    } catch (error) {
      if (failure) throw failure;
      if (silent) throw silence(this.silenceLimitMs);
      if (!this.running) throw new AbortError('the event stream was closed');
      if (error instanceof LimeError) throw error;
      throw new ConnectionError(`the event stream dropped: ${describe(error)}; reconnecting`, {
        cause: error,
      });
    } finally {
      clearTimeout(watchdog);
      controller.signal.removeEventListener('abort', onAbort);
      reader.releaseLock?.();
    }
  }
}

function silence(ms: number): TimeoutError {
  return new TimeoutError(
    `no byte (not even a keepalive) arrived on the event stream for ${ms} ms; reconnecting`,
  );
}

/**
 * 401 and 403 stop the stream once they outlast `authRetryMs`: the credential
 * is wrong, revoked or the site suspended. So does a redirect off the API
 * origin (`UNEXPECTED_REDIRECT`) at once: the API base is misconfigured, and
 * reconnecting will not fix it.
 */
function isFatal(error: LimeError): boolean {
  const status = error.status ?? 0;
  return status === 401 || status === 403 || (status >= 300 && status < 400);
}

/** The server could not be reached at all (refused, unresolvable, no answer in time). */
function unreachable(error: LimeError): boolean {
  if (error instanceof TimeoutError) return true;
  for (let e: unknown = error, depth = 0; e && depth < 6; depth++) {
    const code = (e as { code?: unknown }).code;
    if (
      typeof code === 'string' &&
      [
        'ECONNREFUSED',
        'EHOSTUNREACH',
        'ENETUNREACH',
        'ENOTFOUND',
        'EAI_AGAIN',
        'UND_ERR_CONNECT_TIMEOUT',
      ].includes(code)
    ) {
      return true;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

function toLimeError(error: unknown): LimeError {
  if (error instanceof LimeError) return error;
  return new ConnectionError(`the event stream failed: ${describe(error)}`, { cause: error });
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    return error.cause instanceof Error ? error.cause.message : error.message;
  }
  return String(error);
}

/** The error that stops the stream: a refusal that outlasted the retry period says so. */
function finalRefusal(error: LimeError, authRetryMs: number): LimeError {
  const status = error.status ?? 0;
  if ((status !== 401 && status !== 403) || authRetryMs <= 0) return error;
  const Cls = errorClassFor(status, error.code);
  const message = error.message.replace(
    /; retrying for up to \d+ s$/,
    `; still refused after ${Math.round(authRetryMs / 1000)} s of retries — the stream stopped: check LIME_SITE_TOKEN (rotated, revoked or suspended?)`,
  );
  return new Cls(error.code, message, {
    status,
    ...(error.headers ? { headers: error.headers } : {}),
    ...(error.requestId ? { requestId: error.requestId } : {}),
    cause: error,
  });
}

/** Turn a non-200 answer into the typed error of its status and envelope. */
async function refusal(response: Response, authRetryMs: number): Promise<LimeError> {
  const { status, headers } = response;
  let code = status >= 500 ? 'SERVER_ERROR' : `HTTP_${status}`;
  let message = `the event stream answered ${status}`;
  let detail: Record<string, unknown> | undefined;
  try {
    const text = await readBodyLimited(response, MAX_ERROR_BODY);
    const json: unknown = JSON.parse(text);
    if (isFailureEnvelope(json)) {
      code = json.error.code;
      message = json.error.message;
      detail = json.error.detail;
    }
  } catch {
    // Not an envelope: keep the status-derived code.
  }
  const requestId = headers.get(HEADERS.requestId) ?? undefined;
  const what =
    status === 401 || status === 403
      ? authRetryMs > 0
        ? `the site token was refused; retrying for up to ${Math.round(authRetryMs / 1000)} s`
        : 'the site token was refused; the stream stopped — check LIME_SITE_TOKEN (rotated, revoked or suspended?)'
      : status >= 300 && status < 400
        ? 'the stream stopped'
        : 'reconnecting with backoff';
  const full = `${message} (HTTP ${status} ${code} from GET events): ${what}`;
  const Cls = errorClassFor(status, code);
  if (Cls === RateLimitError) {
    const retryAfter = parseRetryAfter(headers.get(HEADERS.retryAfter));
    return new RateLimitError(code, full, { status, headers, requestId, detail, retryAfter });
  }
  return new Cls(code, full, { status, headers, requestId, detail });
}
