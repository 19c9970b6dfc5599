import { LimeError, type LimeErrorCode, type LimeErrorOptions } from '../errors.js';

/**
 * Why a JWT was refused. Stable strings: switch on them, log them, map them to
 * HTTP answers. Everything except `jwks_unavailable` means "this token is not
 * acceptable"; `jwks_unavailable` means "the keys could not be loaded, so no
 * token can be checked right now" (answer 503, not 401).
 */
export type JwtFailureReason =
  /** Not three strict base64url segments, or a segment is not a JSON object. */
  | 'malformed'
  /** Longer than the policy's `maxTokenLength` (checked before any parsing). */
  | 'too_large'
  /** `alg` is not RS256 (none, HS256, PS256, ES256 …). */
  | 'unsupported_alg'
  /** The header carries `jku`, `x5u`, `jwk`, `x5c` or `crit`, or an unexpected `typ`. */
  | 'forbidden_header'
  /** No `kid`, or a `kid` that is not a short printable string. */
  | 'missing_kid'
  /** The key set (after a permitted refresh) has no key with this `kid`. */
  | 'unknown_kid'
  /** The signature does not verify with the key named by `kid`. */
  | 'bad_signature'
  /** `exp` is in the past (beyond the clock tolerance). */
  | 'expired'
  /** `nbf` is in the future (beyond the clock tolerance). */
  | 'not_yet_valid'
  /** `iat` is in the future (beyond the clock tolerance). */
  | 'issued_in_future'
  /** `exp − iat` exceeds the policy's maximum lifetime. */
  | 'lifetime_too_long'
  /** `aud` is not the expected audience (or an array where none is allowed). */
  | 'wrong_audience'
  /** `iss` differs from the expected issuer. */
  | 'wrong_issuer'
  /** A required claim (`exp`, `iat`, `sub`, or one the policy names) is absent. */
  | 'missing_claim'
  /** A claim is present but has the wrong type or an impossible value. */
  | 'invalid_claim'
  /** A claim the policy forbids is present (e.g. `user_id` in an MCP token). */
  | 'forbidden_claim'
  /** The JWK Set could not be fetched or held no usable key, and nothing cached applies. */
  | 'jwks_unavailable';

/** Options of {@link JwtVerificationError}. */
export interface JwtVerificationErrorOptions extends LimeErrorOptions {
  /** Error code for `LimeError.code`. @default 'INVALID_TOKEN' */
  code?: LimeErrorCode;
}

/**
 * A JWT was refused. `reason` says why in a machine-readable way; the message
 * says what was expected and what was seen, never the token itself.
 *
 * @example
 * try { await verify(token) } catch (e) {
 *   if (e instanceof JwtVerificationError && e.reason === 'expired') …
 * }
 */
export class JwtVerificationError extends LimeError {
  /** Machine-readable cause of the refusal. */
  readonly reason: JwtFailureReason;

  constructor(
    reason: JwtFailureReason,
    message: string,
    options: JwtVerificationErrorOptions = {},
  ) {
    super(options.code ?? 'INVALID_TOKEN', message, options);
    this.reason = reason;
  }
}

/** Show an attacker-controlled value in a message: short, printable ASCII only. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'absent';
  let text: string;
  try {
    text = typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  text = text.replace(/[^\x20-\x7e]/g, '?');
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
