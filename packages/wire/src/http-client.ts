import { isOAuthErrorBody, isSuccessEnvelope } from './envelope.js';
import { RETRYABLE_STATUSES } from './error-codes.js';
import {
  AbortError,
  ConnectionError,
  errorClassFor,
  InvalidResponseError,
  LimeError,
  RateLimitError,
  TimeoutError,
} from './errors.js';
import { HEADERS, trimTrailingSlash } from './paths.js';
import { sameOriginRedirectsOnly } from './redirect-guard.js';

/** A `fetch`-compatible function. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface HttpClientOptions {
  /** API base (`https://lime.pics/api/v1`). */
  apiBase: string;
  /** Headers sent on every request (credential, user agent). */
  headers: Record<string, string>;
  /** Per-attempt timeout, milliseconds. */
  timeoutMs: number;
  /** Retries after the first attempt, for idempotent calls only. */
  maxRetries: number;
  /** `fetch` to use. @default globalThis.fetch */
  fetch?: FetchLike;
  /** Extra `RequestInit` members (undici `dispatcher`). */
  init?: Record<string, unknown>;
  /** First backoff delay, ms. @default 500 */
  retryBaseDelayMs?: number;
  /** Largest backoff delay, ms (also caps `Retry-After`). @default 8_000 */
  retryMaxDelayMs?: number;
  /** Largest response body read, bytes. @default 1_048_576 */
  maxResponseBytes?: number;
  /** Random source for jitter, [0, 1). Injectable for tests. */
  random?: () => number;
}

export interface RequestOptions {
  /** JSON body. */
  body?: unknown;
  /** Caller's cancellation. */
  signal?: AbortSignal | undefined;
  /** Retry on connection errors and retryable statuses. @default method === 'GET' */
  idempotent?: boolean;
  /** Extra headers for this call. */
  headers?: Record<string, string>;
  /** `envelope` (default): unwrap `{ok, data}`; `raw`: return the JSON body as is. */
  shape?: 'envelope' | 'raw';
  /** Override the per-attempt timeout (ms). */
  timeoutMs?: number;
}

export interface HttpResult<T> {
  data: T;
  status: number;
  headers: Headers;
}

/** Parse `Retry-After` (delta seconds or HTTP date) into seconds. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value == null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - now) / 1000);
}

/** Sleep that rejects with {@link AbortError} when the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError(undefined, { cause: signal.reason }));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError(undefined, { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Exponential backoff with jitter in [50%, 100%] of the step. */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const step = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(step * (0.5 + random() / 2));
}

/** Read a body up to `limit` bytes; throws when larger. */
export async function readBodyLimited(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    response.body?.cancel().catch(() => {});
    throw new InvalidResponseError(
      `response body of ${declared} bytes exceeds the ${limit} byte limit`,
    );
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      reader.cancel().catch(() => {});
      throw new InvalidResponseError(`response body exceeds the ${limit} byte limit`);
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

/**
 * The one small HTTP client each SDK uses for platform calls: per-attempt
 * timeout combined with the caller's signal, retries with backoff + jitter
 * honouring `Retry-After` (idempotent calls only), typed errors from the
 * envelope. Requests go through `fetch`, so msw and custom fetches work.
 */
export class HttpClient {
  readonly apiBase: string;
  private readonly options: Required<
    Pick<HttpClientOptions, 'retryBaseDelayMs' | 'retryMaxDelayMs' | 'maxResponseBytes' | 'random'>
  > &
    HttpClientOptions;

  /** Every request carries a credential: redirects never leave the origin. */
  private readonly fetch: FetchLike;

  constructor(options: HttpClientOptions) {
    this.apiBase = trimTrailingSlash(options.apiBase);
    this.fetch = sameOriginRedirectsOnly(() => this.options.fetch ?? globalThis.fetch);
    this.options = {
      retryBaseDelayMs: 500,
      retryMaxDelayMs: 8_000,
      maxResponseBytes: 1_048_576,
      random: Math.random,
      ...options,
    };
  }

  /** Absolute URL of an API path. */
  url(path: string): string {
    return this.apiBase + path;
  }

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<HttpResult<T>> {
    const idempotent = options.idempotent ?? method === 'GET';
    const maxRetries = idempotent ? this.options.maxRetries : 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt<T>(method, path, options);
      } catch (error) {
        if (attempt >= maxRetries || !isRetryable(error)) throw error;
        const delay = this.retryDelay(error, attempt);
        if (delay === undefined) throw error;
        await sleep(delay, options.signal);
      }
    }
  }

  /**
   * Milliseconds to wait before the next attempt, or `undefined` when the
   * server asked for a longer pause (`Retry-After`) than `retryMaxDelayMs`:
   * retrying earlier would only be refused again, so the error goes to the
   * caller, whose `RateLimitError.retryAfter` says how long to wait.
   */
  private retryDelay(error: unknown, attempt: number): number | undefined {
    const { retryBaseDelayMs, retryMaxDelayMs, random } = this.options;
    if (error instanceof LimeError && error.headers) {
      const after = parseRetryAfter(error.headers.get(HEADERS.retryAfter));
      if (after !== undefined) {
        return after * 1000 <= retryMaxDelayMs ? Math.ceil(after * 1000) : undefined;
      }
    }
    return backoffDelay(attempt, retryBaseDelayMs, retryMaxDelayMs, random);
  }

  private async attempt<T>(
    method: string,
    path: string,
    options: RequestOptions,
  ): Promise<HttpResult<T>> {
    const { signal } = options;
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...this.options.headers,
      ...options.headers,
    };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    let response: Response;
    try {
      response = await this.fetch(this.url(path), {
        ...this.options.init,
        method,
        headers,
        body,
        signal: combined,
      });
    } catch (error) {
      throw transportError(error, method, path, timeoutMs, signal, timeout);
    }
    let text: string;
    try {
      text = await readBodyLimited(response, this.options.maxResponseBytes);
    } catch (error) {
      if (error instanceof LimeError) throw error;
      throw transportError(error, method, path, timeoutMs, signal, timeout);
    }
    return parseResponse<T>(response, text, method, path, options.shape ?? 'envelope');
  }
}

function transportError(
  error: unknown,
  method: string,
  path: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  timeout: AbortSignal,
): LimeError {
  if (signal?.aborted)
    return new AbortError(`${method} ${path} was aborted`, { cause: signal.reason });
  if (timeout.aborted) {
    return new TimeoutError(`${method} ${path} got no answer within ${timeoutMs} ms`, {
      cause: error,
    });
  }
  const reason =
    error instanceof Error
      ? error.cause instanceof Error
        ? error.cause.message
        : error.message
      : String(error);
  return new ConnectionError(`${method} ${path} failed before an answer: ${reason}`, {
    cause: error,
  });
}

function parseResponse<T>(
  response: Response,
  text: string,
  method: string,
  path: string,
  shape: 'envelope' | 'raw',
): HttpResult<T> {
  const { status, headers } = response;
  const requestId = headers.get(HEADERS.requestId) ?? undefined;
  let json: unknown;
  let parsed = false;
  if (text.length > 0) {
    try {
      json = JSON.parse(text);
      parsed = true;
    } catch {
      parsed = false;
    }
  }
  if (status >= 200 && status < 300) {
    if (!parsed) {
      throw new InvalidResponseError(
        `${method} ${path} answered ${status} with a body that is not JSON — expected a LIME API response`,
        { status, headers, requestId },
      );
    }
    if (shape === 'raw') return { data: json as T, status, headers };
    if (!isSuccessEnvelope(json)) {
      throw new InvalidResponseError(
        `${method} ${path} answered ${status} without the {"ok": true, "data": {…}} envelope`,
        { status, headers, requestId },
      );
    }
    return { data: json.data as T, status, headers };
  }
  let code: string;
  let message: string;
  let detail: Record<string, unknown> | undefined;
  const failure = parsed ? readFailureEnvelope(json) : undefined;
  if (failure) {
    code = failure.code ?? (status >= 500 ? 'SERVER_ERROR' : `HTTP_${status}`);
    message =
      failure.message ??
      (failure.code === undefined
        ? `${method} ${path} answered ${status} with an error envelope holding neither code nor message`
        : `${failure.code.toLowerCase().replaceAll('_', ' ')} (the server sent no message)`);
    detail = failure.detail;
  } else if (parsed && isOAuthErrorBody(json)) {
    code = json.error;
    message = json.error_description ?? json.error;
  } else {
    code = status >= 500 ? 'SERVER_ERROR' : `HTTP_${status}`;
    message = `${method} ${path} answered ${status} without an error envelope`;
  }
  const Cls = errorClassFor(status, code);
  const full = `${message} (HTTP ${status} ${code} from ${method} ${path})`;
  if (Cls === RateLimitError) {
    const retryAfter = parseRetryAfter(headers.get(HEADERS.retryAfter));
    throw new RateLimitError(code, full, { status, headers, requestId, detail, retryAfter });
  }
  throw new Cls(code, full, { status, headers, requestId, detail });
}

/**
 * The `error` object of a failure envelope, read as loosely as the Python
 * SDKs read it (docs/protocol.md §2): the hosted platform may leave out `message`
 * (the `code` still counts), and a numeric `code` is used as text.
 */
function readFailureEnvelope(json: unknown):
  | {
      code: string | undefined;
      message: string | undefined;
      detail: Record<string, unknown> | undefined;
    }
  | undefined {
  if (!isRecord(json) || json.ok !== false || !isRecord(json.error)) return undefined;
  const { code, message, detail } = json.error;
  return {
    code:
      typeof code === 'string' && code.trim() !== ''
        ? code
        : typeof code === 'number'
          ? String(code)
          : undefined,
    message: typeof message === 'string' && message.trim() !== '' ? message : undefined,
    detail: isRecord(detail) ? detail : undefined,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Connection errors, timeouts and retryable statuses; never aborts. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof AbortError) return false;
  if (error instanceof ConnectionError || error instanceof TimeoutError) return true;
  if (error instanceof LimeError && error.status !== undefined) {
    return RETRYABLE_STATUSES.has(error.status);
  }
  return false;
}
