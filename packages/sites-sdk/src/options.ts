import type { FetchLike } from '@lime/wire';
import type { ReplayStore } from './replay-store.js';
import type { ErrorHandler } from './site-events.js';

/**
 * JWKS cache settings of {@link LimeSiteOptions.jwks}.
 *
 * @example
 * new LimeSite({ jwks: { cacheTtl: 300_000, minRefreshInterval: 30_000 } });
 */
export interface LimeSiteJwksOptions {
  /** JWK Set URL. @default `${apiBase}/core/.well-known/jwks.json` */
  url?: string;
  /** How long a fetched key set is fresh, milliseconds. @default 600_000 */
  cacheTtl?: number;
  /**
   * Least time between two JWKS fetches (an unknown `kid` triggers one),
   * milliseconds — also while the endpoint fails, so a flood of tokens with
   * made-up `kid`s costs at most one fetch per interval. A stream passport
   * with an unknown `kid` is retried once after it. @default 10_000
   */
  minRefreshInterval?: number;
  /** How long keys stay usable past freshness while the endpoint is down, milliseconds. @default 3_600_000 */
  maxStale?: number;
  /** Timeout of one JWKS fetch, milliseconds. @default 5_000 */
  timeout?: number;
  /** Largest JWK Set document accepted, bytes. @default 131_072 */
  maxDocumentBytes?: number;
}

/**
 * Options of `new LimeSite()`. Every field is optional; environment variables
 * fill in the credential and the API base.
 *
 * @example
 * const site = new LimeSite({
 *   siteToken: process.env.LIME_SITE_TOKEN,
 *   onError: (e) => logger.warn(e.message),
 * });
 */
export interface LimeSiteOptions {
  /**
   * The site credential (`st_…`). Never an agent token (`at_…`): the lanes never mix.
   * @default process.env.LIME_SITE_TOKEN
   */
  siteToken?: string;
  /**
   * API base, with `/api/v1` (an origin is accepted too).
   * @default process.env.LIME_API_BASE ?? 'https://lime.pics/api/v1'
   */
  apiBase?: string;
  /** Per-attempt timeout of API calls and of opening the stream, milliseconds. @default 30_000 */
  timeout?: number;
  /** Retries of idempotent API calls (never of creating a request). @default 2 */
  maxRetries?: number;
  /** Smallest stream reconnect delay, milliseconds (the server's `retry:` raises it). @default 500 */
  reconnectMinDelay?: number;
  /**
   * Largest stream reconnect delay while the server cannot be reached,
   * milliseconds (backoff cap). While it answers at all — a status, or a
   * stream that then drops — reconnects come within 2 s, so passports (60 s)
   * cannot expire in transit; a `Retry-After` is always honoured.
   * @default 10_000
   */
  reconnectMaxDelay?: number;
  /**
   * Reconnect when no byte (keepalives included) arrived on the stream for
   * this long, milliseconds. The hosted platform's keepalive cadence is not
   * known and the Python listener tolerates 310 s, so that is the default;
   * once the stream has shown its own cadence (three keepalives N s apart:
   * the reference Core sends one every 15 s), the limit drops to 2.5 × N.
   * @default 310_000
   */
  watchdogTimeout?: number;
  /**
   * How long the stream keeps retrying when the server refuses the site
   * token (401/403), milliseconds — a deploy or an auth blip must not stop
   * logins for good. Retries back off from 5 s to 60 s; each refusal goes to
   * `onError` and `connect()` rejects on the first one. After this long the
   * stream stops with the typed error (`AuthenticationError` /
   * `PermissionDeniedError`). 0 stops at the first refusal.
   * @default 300_000
   */
  authRetryPeriod?: number;
  /**
   * While `waitForLogin()` waits, how often it asks the Core for the
   * request's status (PROTOCOL.md §3.1b, `getLoginRequest`), milliseconds. It
   * also asks once when the wait starts and after every stream gap. Fails
   * fast on an unknown or expired id, and tells "approved, but the passport
   * went to another connection or arrived while this one was down" from
   * "still pending". 0 checks only at the start and after gaps.
   * @default 30_000
   */
  statusCheckInterval?: number;
  /** JWKS cache settings. */
  jwks?: LimeSiteJwksOptions;
  /**
   * Clock skew allowed on `exp`/`iat`, seconds, 0–300.
   * @default process.env.LIME_JWT_VERIFY_LEEWAY_SECONDS ?? 30
   */
  clockTolerance?: number;
  /** Expected `iss` of passports, checked when a passport carries one. @default undefined (unchecked) */
  issuer?: string;
  /**
   * This site's id (`site_id`): a passport naming another site is refused
   * (`wrong_site`). @default undefined (unchecked)
   */
  siteId?: string;
  /**
   * Claims a passport must carry, beyond what every passport must (signature,
   * `aud`, `exp`, `iat`, `request_id`, an agent id). The hosted platform may
   * leave these out (PROTOCOL.md §4), so by default each is checked only when
   * present; single use is keyed on `jti`, else on `request_id`.
   * @default []
   */
  requiredPassportClaims?: readonly ('iss' | 'jti' | 'site_id' | 'typ')[];
  /**
   * Where `verifyPassport()`/`verifyBindingPassport()` record used `jti`s.
   * Share one across instances (Redis…) when several processes verify tokens.
   * @default new MemoryReplayStore()
   */
  replayStore?: ReplayStore;
  /**
   * `fetch` used for every request (API, stream, JWKS).
   * @default globalThis.fetch with an undici Agent (keep-alive) on Node
   */
  fetch?: FetchLike;
  /** Receives every error the SDK cannot throw at a caller. @default ignore */
  onError?: ErrorHandler;
  /** Login outcomes kept for late `waitForLogin()` calls (count). @default 1_000 */
  outcomeBufferSize?: number;
  /** How long a login outcome is kept for late `waitForLogin()` calls, milliseconds. @default 600_000 */
  outcomeBufferTtl?: number;
  /** Default `waitForLogin()` timeout, milliseconds. @default 330_000 */
  waitTimeout?: number;
  /** Longest passport accepted, characters; refused before parsing. @default 8_192 */
  maxTokenLength?: number;
}
