import type { LimeError } from '@lime/wire';
import type { InvalidPassportError } from './errors.js';
import type { Passport } from './passport.js';

/**
 * An agent approved one of your login requests; the passport is verified.
 *
 * @example
 * for await (const event of site.events()) {
 *   if (event.type === 'login') console.log(event.requestId, event.passport.agentId);
 * }
 */
export interface LoginEvent {
  type: 'login';
  /** Your login request id (`login_request_id`). */
  requestId: string;
  /**
   * The verified passport, not yet claimed: call `site.claimPassport()`
   * before binding it to a session (every instance sees every event).
   */
  passport: Passport;
  /**
   * The passport as received (the signed JWT), for audit logs or to hand on
   * as Python users do. It is a bearer credential of this login: never log it
   * in clear, never send it to the agent.
   */
  passportJwt: string;
  /** `redirect_url` of the event, when the Core sent one. */
  redirectUrl: string | undefined;
  /** SSE event id (resumption sequence), when the server sent one. */
  eventId: string | undefined;
}

/**
 * A login request expired unapproved.
 *
 * @example
 * site.onLogin((requestId, passport, event) => {
 *   if (event.type === 'expired') markExpired(requestId);
 * });
 */
export interface LoginExpiredEvent {
  type: 'expired';
  requestId: string;
  eventId: string | undefined;
}

/**
 * An `approved` event arrived but its passport failed verification. It is
 * never handed to `onLogin`; `onError` receives the same error.
 *
 * @example
 * if (event.type === 'rejected') audit.warn(event.requestId, event.error.reason);
 */
export interface LoginRejectedEvent {
  type: 'rejected';
  requestId: string;
  error: InvalidPassportError;
  eventId: string | undefined;
}

/**
 * Warning: the Core could not resume from our `Last-Event-ID` (it was older
 * than its retention window), so events may have been lost. Pending logins
 * should be re-checked or restarted.
 *
 * @example
 * if (event.type === 'resync') log.warn(event.message);
 */
export interface ResyncEvent {
  type: 'resync';
  message: string;
}

/**
 * A stream-level `error` frame from the server (the connection may close
 * and will be reopened).
 *
 * @example
 * if (event.type === 'error') log.warn(event.code, event.message);
 */
export interface StreamErrorEvent {
  type: 'error';
  code: string;
  message: string;
}

/**
 * The stream connection opened (first time or after a reconnect).
 *
 * @example
 * if (event.type === 'connected') health.streamUp = true;
 */
export interface ConnectedEvent {
  type: 'connected';
}

/**
 * The stream connection dropped or could not be opened; it will reconnect.
 *
 * @example
 * if (event.type === 'disconnected') health.streamUp = false;
 */
export interface DisconnectedEvent {
  type: 'disconnected';
  error: LimeError;
}

/**
 * Everything `events()` yields.
 *
 * @example
 * for await (const event of site.events()) {
 *   switch (event.type) { case 'login': …; case 'expired': …; }
 * }
 */
export type SiteEvent =
  | LoginEvent
  | LoginExpiredEvent
  | LoginRejectedEvent
  | ResyncEvent
  | StreamErrorEvent
  | ConnectedEvent
  | DisconnectedEvent;

/**
 * `onLogin` handler: the request id, the verified passport or `null` when the
 * login will not complete — the request expired (as in the Python SDK), or
 * its passport arrived after its expiry (`event.type === 'rejected'`, reason
 * `expired_in_transit`) — and the typed event.
 *
 * @example
 * const handler: LoginHandler = async (requestId, passport) => {
 *   if (passport) await sessions.bind(requestId, passport.agentId);
 * };
 */
export type LoginHandler = (
  requestId: string,
  passport: Passport | null,
  event: LoginEvent | LoginExpiredEvent | LoginRejectedEvent,
) => void | Promise<void>;

/**
 * `onError` hook: every problem the SDK cannot throw at a caller (stream
 * drops, refused passports, throwing handlers). Never logged by the SDK.
 *
 * @example
 * new LimeSite({ onError: (e) => logger.warn({ code: e.code }, e.message) });
 */
export type ErrorHandler = (error: LimeError) => void;
