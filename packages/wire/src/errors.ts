import { AUTHENTICATION_CODES, type WireErrorCode } from './error-codes.js';

/** Codes raised by the client side, not sent by a server. */
export type ClientErrorCode =
  | 'CONNECTION_ERROR'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'INVALID_RESPONSE'
  | 'CONFIGURATION_ERROR'
  | 'POW_TIMEOUT'
  | 'INVALID_PASSPORT'
  | 'INVALID_TOKEN'
  | 'MCP_AUTHENTICATION_FAILED'
  | 'LOGIN_EXPIRED'
  | 'STREAM_CLOSED'
  | 'STREAM_RESYNC'
  | 'JWKS_UNAVAILABLE'
  | 'UNEXPECTED_REDIRECT'
  | 'POW_WORKER_FAILED'
  | 'POW_EXHAUSTED';

/** Every code a {@link LimeError} may carry; unknown server codes pass through. */
export type LimeErrorCode = WireErrorCode | ClientErrorCode | (string & {});

export interface LimeErrorOptions {
  cause?: unknown;
  status?: number;
  headers?: Headers;
  requestId?: string;
  detail?: Record<string, unknown>;
}

/**
 * Base of every error the LIME SDKs raise. Switch on `code` or use
 * `instanceof`; both work.
 *
 * @example
 * try { await agent.login(id) } catch (e) {
 *   if (e instanceof LimeError && e.code === 'REQUEST_EXPIRED') …
 * }
 */
export class LimeError extends Error {
  /** Machine-readable code: a wire code (`REQUEST_EXPIRED`) or a client one (`TIMEOUT`). */
  readonly code: LimeErrorCode;
  /** HTTP status, when an HTTP answer caused this error. */
  readonly status: number | undefined;
  /** Response headers, when an HTTP answer caused this error. */
  readonly headers: Headers | undefined;
  /** The server's request id (`X-Request-Id`), when it sent one. */
  readonly requestId: string | undefined;
  /** The `detail` object of the error envelope, when present. */
  readonly detail: Record<string, unknown> | undefined;
  /**
   * Which step of a multi-step call failed, set by that call: for
   * `agent.login()`, `'challenge'` (reading the request), `'solve'` (the
   * proof of work) or `'approve'`. `undefined` for single-step calls.
   */
  step: string | undefined;

  constructor(code: LimeErrorCode, message: string, options: LimeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status;
    this.headers = options.headers;
    this.requestId = options.requestId;
    this.detail = options.detail;
    this.step = undefined;
  }
}

/** The server answered with an error envelope (or an OAuth error body). */
export class ApiError extends LimeError {}

/**
 * 401, or a credential code (`MISSING_AGENT_TOKEN`, `INVALID_AGENT_TOKEN`,
 * `SITE_TOKEN_MISSING`, `SITE_TOKEN_INVALID`, `SITE_SUSPENDED`) at any
 * status: the credential is missing, invalid or suspended. Retrying will not help.
 */
export class AuthenticationError extends ApiError {}

/** 403: the credential is valid but not allowed to do this. */
export class PermissionDeniedError extends ApiError {}

/** 404: unknown id. */
export class NotFoundError extends ApiError {}

/** 409: state conflict (e.g. the request was approved by another agent). */
export class ConflictError extends ApiError {}

/** 410: the login request (or binding) expired. */
export class ExpiredError extends ApiError {}

/** 400: the server refused the input (`VALIDATION_ERROR`, `INVALID_POW`). */
export class ValidationError extends ApiError {}

/** 429: rate limited. `retryAfter` is in seconds, when the server said. */
export class RateLimitError extends ApiError {
  readonly retryAfter: number | undefined;
  constructor(
    code: LimeErrorCode,
    message: string,
    options: LimeErrorOptions & { retryAfter?: number } = {},
  ) {
    super(code, message, options);
    this.retryAfter = options.retryAfter;
  }
}

/** 5xx after retries were used up. */
export class ServerError extends ApiError {}

/** The server answered something that is not the documented shape. */
export class InvalidResponseError extends LimeError {
  constructor(message: string, options: LimeErrorOptions = {}) {
    super('INVALID_RESPONSE', message, options);
  }
}

/** No HTTP answer: DNS, refused connection, reset, TLS. */
export class ConnectionError extends LimeError {
  constructor(message: string, options: LimeErrorOptions = {}) {
    super('CONNECTION_ERROR', message, options);
  }
}

/** An attempt (or the whole call) ran past its timeout. */
export class TimeoutError extends LimeError {
  constructor(message: string, options: LimeErrorOptions = {}) {
    super('TIMEOUT', message, options);
  }
}

/** The caller's `AbortSignal` fired. */
export class AbortError extends LimeError {
  constructor(message = 'the operation was aborted', options: LimeErrorOptions = {}) {
    super('ABORTED', message, options);
  }
}

/** Invalid options passed to a constructor or a call. */
export class ConfigurationError extends LimeError {
  constructor(message: string, options: LimeErrorOptions = {}) {
    super('CONFIGURATION_ERROR', message, options);
  }
}

/**
 * Map an HTTP status and error code to the right class. Rate limits first,
 * then the credential codes at any status (the Python SDKs' order: a
 * suspended site's 403 `SITE_SUSPENDED` is an {@link AuthenticationError}),
 * then the status.
 */
export function errorClassFor(status: number, code: string): typeof ApiError {
  if (status === 429 || code === 'RATE_LIMIT_EXCEEDED') return RateLimitError;
  if (status === 401 || AUTHENTICATION_CODES.has(code)) return AuthenticationError;
  if (status === 403) return PermissionDeniedError;
  if (status === 404) return NotFoundError;
  if (status === 409) return ConflictError;
  if (status === 410) return ExpiredError;
  if (status === 400 || status === 413 || status === 415 || status === 422) return ValidationError;
  if (status >= 500) return ServerError;
  return ApiError;
}

/** Show at most a few characters of a credential-like value in messages. */
export function redact(value: string): string {
  if (value.length <= 8) return '[redacted]';
  return `${value.slice(0, 3)}…[redacted ${value.length} chars]`;
}
