import type { JwtFailureReason } from '@lime/wire';
import { LimeError, type LimeErrorOptions } from '@lime/wire';

/**
 * Why a passport was refused: every reason of the shared JWT verifier plus
 * the site-specific ones.
 *
 * - `replayed`: this `jti` was already accepted once (single use).
 * - `request_id_mismatch`: `request_id` is not the login request you expected.
 * - `binding_id_mismatch`: `binding_id` is not the binding you expected.
 * - `replay_check_failed`: the replay store threw, so single use could not be
 *   checked (fail closed; the token may be fine — retry later).
 *
 * An MCP access token or a binding passport sent to the wrong verifier fails
 * with `wrong_audience`, and the message names the likely mix-up.
 *
 * @example
 * const status = (r: InvalidPassportReason) => (r === 'jwks_unavailable' ? 503 : 401);
 */
export type InvalidPassportReason =
  | JwtFailureReason
  | 'replayed'
  | 'request_id_mismatch'
  | 'binding_id_mismatch'
  | 'replay_check_failed';

/**
 * A passport (site or binding) was refused. Switch on `reason`; the message
 * says what was expected and what was seen, never the token itself.
 *
 * `reason === 'jwks_unavailable'` is the one case where the token may be fine
 * but the signing keys could not be loaded: answer 503, not 401.
 *
 * @example
 * try {
 *   const passport = await site.verifyPassport(jwt, { expectedRequestId });
 * } catch (e) {
 *   if (e instanceof InvalidPassportError) console.warn(e.reason); // 'expired', 'replayed', …
 * }
 */
export class InvalidPassportError extends LimeError {
  /** Machine-readable cause of the refusal. */
  readonly reason: InvalidPassportReason;

  constructor(reason: InvalidPassportReason, message: string, options: LimeErrorOptions = {}) {
    super('INVALID_PASSPORT', message, options);
    this.reason = reason;
  }
}

/**
 * The login request expired before an agent approved it (the stream's
 * `expired` event). `waitForLogin()` rejects with this.
 *
 * @example
 * try { await site.waitForLogin(id) } catch (e) {
 *   if (e instanceof LoginExpiredError) showRetryButton(e.loginRequestId);
 * }
 */
export class LoginExpiredError extends LimeError {
  /** The login request that expired (`LimeError.requestId` stays the HTTP request id). */
  readonly loginRequestId: string;

  constructor(loginRequestId: string, options: LimeErrorOptions = {}) {
    super(
      'LOGIN_EXPIRED',
      `login request '${loginRequestId}' expired before an agent approved it — create a new request`,
      options,
    );
    this.loginRequestId = loginRequestId;
  }
}

/**
 * The `LimeSite` was closed (or its stream stopped) while a `waitForLogin()`
 * or `events()` consumer was still waiting.
 *
 * @example
 * const pending = site.waitForLogin(id);
 * await site.close(); // pending rejects with StreamClosedError
 */
export class StreamClosedError extends LimeError {
  constructor(message = 'the LimeSite was closed', options: LimeErrorOptions = {}) {
    super('STREAM_CLOSED', message, options);
  }
}
