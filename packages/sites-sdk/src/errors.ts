import type { JwtFailureReason } from '@lime/wire';
import { LimeError, type LimeErrorOptions } from '@lime/wire';

/**
 * Why a passport was refused: every reason of the shared JWT verifier plus
 * the site-specific ones.
 *
 * - `replayed`: this passport (its `jti`, else its request) was already accepted once (single use).
 * - `request_id_mismatch`: `request_id` is not the login request you expected.
 * - `binding_id_mismatch`: `binding_id` is not the binding you expected.
 * - `wrong_site`: `site_id` names another site than the `siteId` you configured.
 * - `expired_in_transit`: a passport from the stream that expired before it
 *   reached this site — the agent's approval succeeded, but the event
 *   arrived too late (the stream was down or slow). `onLogin` handlers get
 *   `(requestId, null, event)` with `event.type === 'rejected'` for it.
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
  | 'wrong_site'
  | 'expired_in_transit'
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

/**
 * The Core does not know this login request (PROTOCOL.md §3.1b: 404
 * `REQUEST_NOT_FOUND`, or the hosted `SITE_LOGIN_REQUEST_NOT_FOUND`): it was
 * never created, belongs to another site, or was forgotten. `waitForLogin()`
 * rejects with this at once instead of waiting out its timeout.
 *
 * @example
 * try { await site.waitForLogin(id) } catch (e) {
 *   if (e instanceof LoginRequestNotFoundError) return res.status(404).end();
 * }
 */
export class LoginRequestNotFoundError extends LimeError {
  /** The login request the Core does not know. */
  readonly loginRequestId: string;

  constructor(loginRequestId: string, options: LimeErrorOptions = {}) {
    super(
      'LOGIN_REQUEST_NOT_FOUND',
      `the Core does not know login request '${printable(loginRequestId)}' (never created, another site's, or expired and forgotten) — create a new request`,
      options,
    );
    this.loginRequestId = loginRequestId;
  }
}

/**
 * The Core says the request was approved (status `APPROVED` or `DELIVERED`),
 * but this instance never received its passport: it went to another
 * connection of the site, or arrived while this stream was down and could not
 * be replayed (the hosted platform promises neither broadcast nor resume).
 * The login cannot be completed here; start a new login request.
 *
 * @example
 * try { await site.waitForLogin(id) } catch (e) {
 *   if (e instanceof PassportNotReceivedError) return restartLogin();
 * }
 */
export class PassportNotReceivedError extends LimeError {
  /** The login request that was approved elsewhere. */
  readonly loginRequestId: string;
  /** The status the Core reported (`APPROVED`, `DELIVERED`…). */
  readonly loginStatus: string;

  constructor(loginRequestId: string, status: string, options: LimeErrorOptions = {}) {
    super(
      'PASSPORT_NOT_RECEIVED',
      `login request '${printable(loginRequestId)}' is ${printable(status)} at the Core, but its passport never reached this instance (delivered to another connection of the site, or sent while this stream was down) — create a new login request`,
      options,
    );
    this.loginRequestId = loginRequestId;
    this.loginStatus = status;
  }
}

function printable(value: string): string {
  const text = value.replace(/[^\x20-\x7e]/g, '?');
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
