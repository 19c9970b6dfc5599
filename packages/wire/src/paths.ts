/**
 * Wire addresses of docs/protocol.md §1, §3, §5, §6, §7. Paths are relative to the
 * API base (`{origin}/api/v1`) unless named `*_ORIGIN_PATH`.
 */

/** Hosted API base (docs/protocol.md §1). */
export const HOSTED_API_BASE = 'https://lime.pics/api/v1';
/** Hosted origin, the MCP-server SDK's default (`LIME_BASE_URL`). */
export const HOSTED_ORIGIN = 'https://lime.pics';
/** The API base is the origin plus this prefix. */
export const API_PREFIX = '/api/v1';

export const ENV = {
  apiBase: 'LIME_API_BASE',
  baseUrl: 'LIME_BASE_URL',
  agentToken: 'LIME_AGENT_TOKEN',
  siteToken: 'LIME_SITE_TOKEN',
  jwtVerifyLeeway: 'LIME_JWT_VERIFY_LEEWAY_SECONDS',
  /** MCP verifier: expected `aud` (Python default `mcp`). */
  oauthAudience: 'LIME_OAUTH_AUDIENCE',
  /** MCP verifier: metadata + JWKS cache lifetime, seconds (Python default 3600). */
  jwksCacheTtl: 'LIME_JWKS_CACHE_TTL_SECONDS',
  /** MCP verifier: least time between two forced JWKS refetches, seconds (Python default 60). */
  jwksMinRefresh: 'LIME_JWKS_MIN_REFRESH_SECONDS',
  /** MCP verifier: `User-Agent` of the metadata and JWKS requests (Python default `curl/8.5.0`). */
  verifyUserAgent: 'LIME_VERIFY_USER_AGENT',
} as const;

export const HEADERS = {
  agentToken: 'X-Agent-Token',
  siteToken: 'X-Site-Token',
  lastEventId: 'Last-Event-ID',
  retryAfter: 'Retry-After',
  requestId: 'X-Request-Id',
  /**
   * [core] Response header of a fresh event stream: the resume position at
   * the moment it opened, so a client cut before the first `id:` line can
   * still resume (docs/protocol.md §3.5).
   */
  resumePosition: 'X-Lime-Last-Event-Id',
} as const;

export const PATHS = {
  /** §3.1 POST, X-Site-Token. */
  createLoginRequest: '/modules/agent-login/requests',
  /** §3.1b GET, X-Site-Token: one of the site's own login requests and its status. */
  loginRequest: (id: string) => `/modules/agent-login/requests/${encodeURIComponent(id)}`,
  /** §3.2 GET, public. */
  loginChallenge: (id: string) => `/auth/requests/${encodeURIComponent(id)}`,
  /** §3.4 POST, X-Agent-Token. */
  approveLoginRequest: (id: string) =>
    `/modules/agent-login/requests/${encodeURIComponent(id)}/approve`,
  /** §3.5 GET text/event-stream, X-Site-Token. */
  loginEvents: '/modules/agent-login/events',
  /** §3.6 GET, X-Agent-Token. */
  agentProfile: '/core/agents/me/profile',
  /** §5 POST, X-Site-Token. */
  createBindingRequest: '/modules/bindings/requests',
  /** §6 GET, raw JWK Set (also enveloped). */
  jwks: '/core/.well-known/jwks.json',
  /** §7 POST, X-Agent-Token, raw RFC 6749 answer. */
  oauthToken: '/modules/oauth/token',
  /** §7 GET, raw RFC 8414 document. */
  oauthMetadata: '/modules/oauth/.well-known/oauth-authorization-server',
} as const;

/** Strip trailing slashes so `base + path` never doubles a slash. */
export function trimTrailingSlash(url: string): string {
  let end = url.length;
  while (end > 0 && url.charCodeAt(end - 1) === 47) end--;
  return url.slice(0, end);
}

/**
 * Accept either an origin (`https://lime.pics`) or an API base
 * (`https://lime.pics/api/v1`) and return the API base (docs/protocol.md §1).
 */
export function toApiBase(originOrApiBase: string): string {
  const base = trimTrailingSlash(originOrApiBase);
  return base.endsWith(API_PREFIX) ? base : base + API_PREFIX;
}

/** The inverse of {@link toApiBase}: the origin (or whatever precedes `/api/v1`). */
export function toOrigin(originOrApiBase: string): string {
  const base = trimTrailingSlash(originOrApiBase);
  return base.endsWith(API_PREFIX) ? base.slice(0, -API_PREFIX.length) : base;
}
