/** Error codes of docs/protocol.md §2 that the SDKs map to typed errors. */
export const WIRE_ERROR_CODES = [
  'MISSING_AGENT_TOKEN',
  'INVALID_AGENT_TOKEN',
  'SITE_TOKEN_MISSING',
  'SITE_TOKEN_INVALID',
  'SITE_SUSPENDED',
  'RATE_LIMIT_EXCEEDED',
  'REQUEST_NOT_FOUND',
  'REQUEST_EXPIRED',
  'REQUEST_ALREADY_APPROVED',
  'INVALID_POW',
  'VALIDATION_ERROR',
  'OAUTH_CAPABILITY_DENIED',
  /** [hosted] the platform's spelling of `REQUEST_NOT_FOUND` (404, unknown login request). */
  'SITE_LOGIN_REQUEST_NOT_FOUND',
  /** [hosted] approve without a `pow_nonce` (400); the Core says `VALIDATION_ERROR`. */
  'MISSING_POW_NONCE',
] as const;

export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number];

/**
 * Codes the reference Core uses beyond the list above (docs/protocol.md allows
 * others to pass through as-is).
 */
export const CORE_ERROR_CODES = [
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'INTERNAL_ERROR',
  'UNAUTHORIZED',
] as const;

export type CoreErrorCode = (typeof CORE_ERROR_CODES)[number];

/** HTTP statuses that an idempotent platform call may retry (docs/protocol.md §2). */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/**
 * Credential codes that mean "authentication failed" whatever the HTTP status
 * (as the Python SDKs map them: e.g. `SITE_SUSPENDED` arrives with 403).
 */
export const AUTHENTICATION_CODES: ReadonlySet<string> = new Set([
  'MISSING_AGENT_TOKEN',
  'INVALID_AGENT_TOKEN',
  'SITE_TOKEN_MISSING',
  'SITE_TOKEN_INVALID',
  'SITE_SUSPENDED',
]);
