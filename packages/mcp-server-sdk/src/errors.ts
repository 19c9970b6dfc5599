import { type JwtFailureReason, LimeError, type LimeErrorOptions } from '@lime/wire';

/**
 * Why an MCP bearer was refused: every reason of the shared JWT verifier
 * (`expired`, `bad_signature`, `wrong_audience`, `forbidden_claim` …) plus
 * the MCP-specific ones.
 */
export type McpTokenFailureReason =
  | JwtFailureReason
  /** No bearer token was presented (empty or absent). */
  | 'missing_token'
  /** The token's `domain` claim names another MCP server (or none, when binding is required). */
  | 'wrong_domain'
  /** The token's `aud` names another resource (RFC 8707), or none when binding is required. */
  | 'wrong_resource'
  /** The scopes granted do not include those required (answer 403, not 401). */
  | 'insufficient_scope'
  /** The Core's RFC 8414 metadata could not be fetched and none is cached. */
  | 'metadata_unavailable';

const TEMPORARY: ReadonlySet<McpTokenFailureReason> = new Set([
  'jwks_unavailable',
  'metadata_unavailable',
]);

/**
 * An MCP bearer was refused, or could not be checked right now
 * (`temporary === true`: the Core's keys or metadata are unreachable — answer
 * 503, the token may well be fine).
 *
 * @example
 * try { await verifier.verifyOrThrow(token) } catch (e) {
 *   if (e instanceof McpTokenError && e.reason === 'expired') …
 * }
 */
export class McpTokenError extends LimeError {
  /** Machine-readable cause. */
  readonly reason: McpTokenFailureReason;
  /** True when the failure is on the verifying side (keys/metadata unreachable), not the token. */
  readonly temporary: boolean;

  constructor(reason: McpTokenFailureReason, message: string, options: LimeErrorOptions = {}) {
    super(
      reason === 'insufficient_scope' ? 'INSUFFICIENT_SCOPE' : 'INVALID_TOKEN',
      message,
      options,
    );
    this.reason = reason;
    this.temporary = TEMPORARY.has(reason);
  }
}
