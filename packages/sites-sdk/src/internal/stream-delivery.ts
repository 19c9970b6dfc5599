// The login event stream and what it delivers (PROTOCOL.md §3.5): frames are
// parsed, duplicates of a resumed stream dropped, passports verified
// concurrently but delivered in stream order — to the outcome buffer (late
// waitForLogin calls), to onLogin handlers and to events() iterators.
import {
  AbortError,
  ConnectionError,
  InvalidResponseError,
  type JwksCache,
  LimeError,
} from '@lime/wire';
import { InvalidPassportError } from '../errors.js';
import type { Passport } from '../passport.js';
import type {
  LoginEvent,
  LoginExpiredEvent,
  LoginHandler,
  LoginRejectedEvent,
  SiteEvent,
} from '../site-events.js';
import { EventQueue } from './event-queue.js';
import { EventStream, type EventStreamOptions, type RawStreamMessage } from './event-stream.js';
import { type LoginOutcome, OutcomeBuffer, SeenSet } from './outcome-buffer.js';

/** The stream's callbacks are ours; everything else is configuration. */
export type StreamConnectionOptions = Omit<
  EventStreamOptions,
  'onMessage' | 'onOpen' | 'onDisconnect' | 'onEnd' | 'onStop' | 'onResumeAbandoned'
>;

export interface StreamDeliveryOptions {
  stream: StreamConnectionOptions;
  /** Warmed up when the stream starts, so the first passport verifies at once. */
  keys: JwksCache;
  /** Outcomes kept for late `waitForLogin()` calls. */
  outcomeBufferSize: number;
  /** How long an outcome is kept, ms. */
  outcomeBufferTtl: number;
  /** Verify a passport that arrived on the stream. */
  verify: (jwt: string, requestId: string) => Promise<Passport>;
  /** An outcome was recorded: settle the request's waiters. */
  settle: (requestId: string, outcome: LoginOutcome) => void;
  /** Events may have been missed: ask the Core about every waiting request. */
  recheck: () => void;
  /** The stream stopped for good: reject every waiter. */
  rejectAll: (error: unknown) => void;
  /** The user's `onError`. */
  report: (error: LimeError) => void;
  /** The site was closed. */
  isClosed: () => boolean;
}

interface OpenWaiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Options of {@link StreamDelivery.events}. */
export interface StreamEventsOptions {
  signal?: AbortSignal;
  bufferSize?: number;
}

const DEFAULT_RESYNC_MESSAGE =
  'the server could not resume the event stream from our last event id (older than its retention, or another event log): login events may have been lost — pending logins are being re-checked';

/** One event stream per site, and everyone who listens to it. */
export class StreamDelivery {
  readonly stream: EventStream;
  private readonly options: StreamDeliveryOptions;
  private readonly outcomes: OutcomeBuffer;
  private readonly seen: SeenSet;
  /** The stream has been open before: the next open follows a gap. */
  private openedBefore = false;
  private readonly handlers = new Set<LoginHandler>();
  private readonly queues = new Set<EventQueue<SiteEvent>>();
  private readonly openWaiters = new Set<OpenWaiter>();
  private stopped: LimeError | undefined;
  /** Deliveries settle in stream order, although passports verify concurrently. */
  private delivery: Promise<void> = Promise.resolve();

  constructor(options: StreamDeliveryOptions) {
    this.options = options;
    this.outcomes = new OutcomeBuffer(options.outcomeBufferSize, options.outcomeBufferTtl, () =>
      Date.now(),
    );
    // Each request has exactly one outcome, so its id is the duplicate key: unlike the
    // event id, it stays right when a restarted server starts its sequence again.
    this.seen = new SeenSet(Math.max(10_000, options.outcomeBufferSize));
    this.stream = new EventStream({
      ...options.stream,
      onMessage: (message) => this.handleMessage(message),
      onOpen: () => this.handleOpen(),
      onDisconnect: (error) => {
        this.emit({ type: 'disconnected', error });
        this.options.report(error);
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
        this.options.recheck();
      },
    });
  }

  /** Why the stream stopped for good (a refused credential), if it did. */
  get stopError(): LimeError | undefined {
    return this.stopped;
  }

  /** The outcome received for a request, while it is buffered. */
  outcome(requestId: string): LoginOutcome | undefined {
    return this.outcomes.get(requestId);
  }

  /** The request's event arrived (delivered, or being verified). */
  arrived(requestId: string): boolean {
    return this.seen.has(requestId) || this.outcomes.get(requestId) !== undefined;
  }

  /** Start the stream unless it runs, stopped for good, or the site closed. */
  start(): void {
    if (this.options.isClosed() || this.stopped) return;
    if (this.stream.isRunning) return;
    this.stream.start();
    // Load the keys while the stream connects, so the first passport verifies at once
    // (once per start: warmup always fetches).
    const keys = this.options.keys;
    if (keys.stats().fetchedAt !== undefined) return;
    keys.warmup().catch((error: unknown) => {
      this.options.report(
        error instanceof LimeError
          ? error
          : new LimeError('JWKS_UNAVAILABLE', 'the signing keys could not be loaded', {
              cause: error,
            }),
      );
    });
  }

  /** `LimeSite.connect`: (re)start and wait until open, refused, or aborted. */
  async connect(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    this.stopped = undefined;
    this.start();
    if (this.stream.isConnected) return;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.openWaiters.delete(waiter);
        reject(new AbortError('connect() was aborted', { cause: signal?.reason }));
      };
      const waiter: OpenWaiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      this.openWaiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Resolves when the stream is open, it stops, `maxWaitMs` passes or `signal` fires. */
  awaitOpen(maxWaitMs: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.stream.isConnected || this.stopped || signal?.aborted) return Promise.resolve();
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

  /** Add a login handler (a fresh entry, so one function can be added twice); returns the remover. */
  addHandler(handler: LoginHandler): () => void {
    const entry: LoginHandler = (...args) => handler(...args);
    this.handlers.add(entry);
    this.start();
    return () => {
      this.handlers.delete(entry);
    };
  }

  /** `LimeSite.events`. */
  events(options: StreamEventsOptions): AsyncIterableIterator<SiteEvent> {
    const bufferSize = options.bufferSize ?? 1_000;
    if (!Number.isInteger(bufferSize) || bufferSize < 1) {
      throw new TypeError(`events: bufferSize must be a positive integer, got ${bufferSize}`);
    }
    const { signal } = options;
    const onAbort = () => void queue.return();
    const queue: EventQueue<SiteEvent> = new EventQueue<SiteEvent>(
      bufferSize,
      () =>
        this.options.report(
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
    if (this.options.isClosed() || signal?.aborted) {
      queue.end();
      return queue;
    }
    if (this.stopped) {
      queue.end(this.stopped);
      return queue;
    }
    this.queues.add(queue);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.start();
    return queue;
  }

  /** Stop the connection (first step of close). */
  closeStream(): void {
    this.stream.close();
  }

  /** End everyone still listening (close): open waits reject, iterators end, buffers empty. */
  close(error: unknown): void {
    for (const waiter of [...this.openWaiters]) waiter.reject(error);
    this.openWaiters.clear();
    for (const queue of [...this.queues]) queue.end();
    this.queues.clear();
    this.handlers.clear();
    this.outcomes.clear();
  }

  private handleOpen(): void {
    for (const waiter of [...this.openWaiters]) waiter.resolve();
    this.openWaiters.clear();
    this.emit({ type: 'connected' });
    // After a gap, what was approved meanwhile may never come (no resume on
    // the hosted platform): ask the Core about every waiting request.
    if (this.openedBefore) this.options.recheck();
    this.openedBefore = true;
  }

  private handleStop(error: LimeError): void {
    this.stopped = error;
    this.options.report(error);
    for (const waiter of [...this.openWaiters]) waiter.reject(error);
    this.openWaiters.clear();
    this.options.rejectAll(error);
    for (const queue of [...this.queues]) queue.end(error);
    this.queues.clear();
  }

  private handleMessage(message: RawStreamMessage): void {
    if (this.options.isClosed()) return;
    let event: unknown;
    try {
      event = JSON.parse(message.data);
    } catch {
      this.options.report(
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
          this.options.report(
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
        this.options.recheck();
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
          this.options.report(new LimeError(code, `event stream error frame: ${text}`));
        });
        return;
      }
      default:
        // keepalive and unknown types: nothing to do (bytes already fed the watchdog).
        return;
    }
  }

  private deliverResync(text = DEFAULT_RESYNC_MESSAGE): void {
    this.emit({ type: 'resync', message: text });
    this.options.report(new LimeError('STREAM_RESYNC', text));
  }

  /** Append a step to the in-order delivery chain; a failing step never breaks the chain. */
  private enqueue(step: () => void | Promise<void>): void {
    this.delivery = this.delivery
      .then(step)
      .catch((error: unknown) =>
        this.options.report(
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
      passport = await this.options.verify(jwt, requestId);
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
        if (this.options.isClosed()) return;
        this.record(requestId, { kind: 'rejected', error });
        const rejected: LoginRejectedEvent = { type: 'rejected', requestId, error, eventId };
        this.emit(rejected);
        this.options.report(error);
        // An approved login that arrived too late will not complete: handlers hear of it.
        if (error.reason === 'expired_in_transit') this.callHandlers(requestId, null, rejected);
      };
    }
    return () => {
      if (this.options.isClosed()) return;
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
    this.options.settle(requestId, outcome);
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
    this.options.report(
      new LimeError(
        'HANDLER_FAILED',
        `an onLogin handler failed for '${requestId}': ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      ),
    );
  }
}
