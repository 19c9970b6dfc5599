import {
  AUDIENCE,
  type CryptoBackendName,
  type CryptoPreference,
  createJwtVerifier,
  domainProblem,
  ENV,
  type FetchLike,
  HOSTED_ORIGIN,
  JwksCache,
  JwtVerificationError,
  type JwtVerifyFunction,
  LimeError,
  MCP_DEFAULT_SCOPE,
  MCP_FORBIDDEN_CLAIMS,
  normalizeMcpDomain,
  toApiBase,
  warnOnce,
} from '@lime/wire';
import { McpTokenError, type McpTokenFailureReason } from './errors.js';
import { readEnv, readEnvSeconds } from './internal/env.js';
import { type AuthorizationServerInfo, MetadataSource } from './internal/metadata-source.js';
import { canonicalResource, comparableResource } from './internal/resource.js';
import { VerifiedTokenCache } from './internal/token-cache.js';
import { DEFAULT_VERIFY_USER_AGENT, withUserAgent } from './internal/user-agent.js';

/** Options of {@link LimeMcpVerifier}. Every field is optional. */
export interface LimeMcpVerifierOptions {
  /**
   * The LIME platform: an origin (`https://lime.pics`) or an API base
   * (`https://lime.pics/api/v1`). @default env `LIME_BASE_URL`, else env
   * `LIME_API_BASE` (what the agent and site SDKs and `npm run core` use), else
   * `https://lime.pics` — with a one-time process warning (`LIME_HOSTED_DEFAULT`)
   */
  baseUrl?: string;
  /** Expected `aud` (first element when `aud` is an array). @default env `LIME_OAUTH_AUDIENCE`, else 'mcp' */
  audience?: string;
  /**
   * Host name this MCP server is reached at (lowercase, no port). Tokens whose
   * `domain` claim names another host are refused. @default the host of `resource`, if it is a host name
   */
  expectedDomain?: string;
  /**
   * Canonical URL of this MCP server (RFC 8707 resource, e.g.
   * `https://tools.example.com/mcp`). Tokens whose `aud` names another resource
   * are refused. @default none
   */
  resource?: string | URL;
  /**
   * Accept tokens that carry neither a `domain` claim nor a resource in `aud`
   * although `expectedDomain`/`resource` is set. Such tokens come from a
   * platform without the binding extension (PROTOCOL.md §7 marks `domain` as
   * an extension: the hosted platform may not send it), so there is nothing
   * to check them against. A token that DOES carry a binding must always
   * match. Set `false` when your Core binds every token (the reference Core
   * does) to refuse unbound ones outright. @default true
   */
  allowUnboundTokens?: boolean;
  /** Clock skew tolerated on `exp`/`iat`/`nbf`, seconds (0–300). @default env `LIME_JWT_VERIFY_LEEWAY_SECONDS`, else 120 */
  leeway?: number;
  /** How long the JWKS and the RFC 8414 metadata stay fresh, seconds. @default env `LIME_JWKS_CACHE_TTL_SECONDS`, else 3600 */
  cacheTtl?: number;
  /** Least time between two fetches of the JWKS (or metadata), seconds — bounds unknown-kid refetches, also while failing. @default env `LIME_JWKS_MIN_REFRESH_SECONDS`, else 60 */
  minRefreshInterval?: number;
  /**
   * `User-Agent` of the metadata and JWKS requests. The Python verifier's
   * default, because an edge filter in front of the platform may treat
   * unknown clients differently; `''` sends the runtime's own. Where the
   * runtime refuses to set the header (browsers), requests go without it.
   * @default env `LIME_VERIFY_USER_AGENT`, else 'curl/8.5.0'
   */
  userAgent?: string;
  /** How long cached keys/metadata remain usable past `cacheTtl` while the Core is unreachable, seconds. @default 3600 */
  maxStale?: number;
  /** Timeout of one metadata or JWKS fetch, seconds. @default 5 */
  timeout?: number;
  /** Largest `exp − iat` accepted, seconds. @default 3600 */
  maxTokenLifetime?: number;
  /** Verified bearers remembered (size of the repeated-token cache); 0 disables it. @default 10_000 */
  tokenCacheSize?: number;
  /** `fetch` to use for metadata and JWKS. @default globalThis.fetch */
  fetch?: FetchLike;
  /** Signature implementation: `auto` uses Node's crypto when present, else WebCrypto. @default 'auto' */
  crypto?: CryptoPreference;
  /** Clock, milliseconds since the epoch (tests). @default Date.now */
  clock?: () => number;
}

/** PROTOCOL.md §7 MCP access token claims, as verified. */
export interface McpBearerClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  iat: number;
  exp: number;
  jti?: string;
  nbf?: number;
  domain?: string;
  client_id?: string;
  scope?: string;
  [claim: string]: unknown;
}

/** LIME-specific part of {@link LimeAuthInfo}. */
export interface LimeAuthExtra {
  [key: string]: unknown;
  /** The agent the token was issued to (`sub`). */
  agentId: string;
  /** The `domain` claim, when present. */
  domain: string | undefined;
  /** The `jti` claim, when present. */
  jti: string | undefined;
  /** The issuer (`iss`), equal to the Core's metadata `issuer`. */
  issuer: string;
  /** All verified claims. */
  claims: McpBearerClaims;
}

/**
 * What a verified bearer grants; structurally the MCP SDK's `AuthInfo`, so it
 * can be handed to transports and appears in tool handlers as `extra.authInfo`.
 */
export interface LimeAuthInfo {
  token: string;
  /** `client_id` claim, else the agent id. */
  clientId: string;
  /** `scope` claim split on spaces (`['mcp']` when absent). */
  scopes: string[];
  /** `exp`, seconds since the epoch. */
  expiresAt: number;
  /** The RFC 8707 resource the token names in `aud`, when it names one. */
  resource?: URL;
  extra: LimeAuthExtra;
}

/** A successful verification. */
export interface McpTokenInfo {
  valid: true;
  agentId: string;
  claims: McpBearerClaims;
  authInfo: LimeAuthInfo;
}

/** A refused (or uncheckable) token. */
export interface McpTokenRejection {
  valid: false;
  reason: McpTokenFailureReason;
  /** Human-readable, header-safe-able explanation (expected vs seen). */
  message: string;
  error: McpTokenError;
}

/** Result of {@link LimeMcpVerifier.verify}. */
export type McpVerifyResult = McpTokenInfo | McpTokenRejection;

const SCOPE_CACHE_SIZE = 64;

function secondsOption(name: string, value: number, min: number, max = Number.POSITIVE_INFINITY) {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new TypeError(
      `LimeMcpVerifierOptions.${name} must be a number of seconds in [${min}, ${max}], got ${String(value)}`,
    );
  }
  return value;
}

/**
 * A seconds option: the option when given, else the environment variable
 * (read as the Python verifier reads it), else the default; checked against
 * the range with a `TypeError` naming whichever was used.
 */
function secondsSetting(
  name: string,
  option: number | undefined,
  envName: string,
  fallback: number,
  min: number,
  max = Number.POSITIVE_INFINITY,
): number {
  if (option !== undefined) return secondsOption(name, option, min, max);
  const fromEnv = readEnvSeconds(envName);
  if (fromEnv === undefined) return secondsOption(name, fallback, min, max);
  if (fromEnv < min || fromEnv > max) {
    throw new TypeError(
      `${envName} must be a number of seconds in [${min}, ${max}], got ${String(fromEnv)}`,
    );
  }
  return fromEnv;
}

/** Printable header value: no control characters (they cannot go in a header). */
function userAgentSetting(option: string | undefined): string {
  const [value, name] =
    option !== undefined
      ? [option, 'LimeMcpVerifierOptions.userAgent']
      : [readEnv(ENV.verifyUserAgent) ?? DEFAULT_VERIFY_USER_AGENT, ENV.verifyUserAgent];
  if (typeof value !== 'string' || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new TypeError(`${name} must be a header value without control characters`);
  }
  return value.trim();
}

/**
 * Verifies LIME MCP bearers (PROTOCOL.md §7) for an MCP tool server: RS256
 * against the Core's JWKS (found through its RFC 8414 metadata), `iss` equal
 * to the metadata issuer, `aud` `mcp`, `sub` present, no site-passport claims,
 * and — when `expectedDomain`/`resource` is set — bound to this server.
 * Runtime-neutral (fetch + WebCrypto; Node's crypto when available).
 *
 * @example
 * const verifier = new LimeMcpVerifier({ resource: 'https://tools.example.com/mcp' });
 * const result = await verifier.verify(token);
 * if (result.valid) console.log(result.agentId);
 * else console.log(result.reason, result.message);
 */
export class LimeMcpVerifier {
  /** The API base the metadata is read from (`…/api/v1`). */
  readonly apiBase: string;
  /** Expected audience. */
  readonly audience: string;
  /** Required `domain` claim, if any. */
  readonly expectedDomain: string | undefined;
  /** This server's canonical resource URL, if configured. */
  readonly resource: string | undefined;
  /** Clock skew tolerance, seconds. */
  readonly leeway: number;
  /** `User-Agent` sent on the metadata and JWKS requests (`''`: the runtime's own). */
  readonly userAgent: string;
  private readonly allowUnbound: boolean;
  private readonly clock: () => number;
  private readonly metadata: MetadataSource;
  private readonly keys: JwksCache;
  private readonly jwt: JwtVerifyFunction<McpBearerClaims>;
  private readonly tokens: VerifiedTokenCache<McpTokenInfo>;
  private readonly tokenCacheEnabled: boolean;
  private readonly scopeLists = new Map<string, string[]>();

  constructor(options: LimeMcpVerifierOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('LimeMcpVerifier options must be an object');
    }
    const baseUrl =
      options.baseUrl ?? readEnv(ENV.baseUrl) ?? readEnv(ENV.apiBase) ?? hostedDefault();
    try {
      const u = new URL(baseUrl);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('protocol');
    } catch {
      throw new TypeError(
        `LimeMcpVerifierOptions.baseUrl (or ${ENV.baseUrl}) must be an http(s) URL, got '${String(baseUrl).slice(0, 100)}'`,
      );
    }
    this.apiBase = toApiBase(baseUrl);
    this.audience = options.audience ?? readEnv(ENV.oauthAudience)?.trim() ?? AUDIENCE.mcp;
    if (typeof this.audience !== 'string' || this.audience.length === 0) {
      throw new TypeError(
        `LimeMcpVerifierOptions.audience (or ${ENV.oauthAudience}) must be a non-empty string`,
      );
    }
    this.resource =
      options.resource === undefined
        ? undefined
        : canonicalResource(options.resource, 'LimeMcpVerifierOptions.resource');
    if (options.expectedDomain !== undefined) {
      const problem = domainProblem(options.expectedDomain);
      if (problem) {
        throw new TypeError(
          `LimeMcpVerifierOptions.expectedDomain ${problem} (got '${String(options.expectedDomain).slice(0, 100)}')`,
        );
      }
      this.expectedDomain = options.expectedDomain;
    } else if (this.resource !== undefined) {
      try {
        this.expectedDomain = normalizeMcpDomain(this.resource);
      } catch {
        this.expectedDomain = undefined; // an IP-addressed resource: bind by resource only
      }
    }
    this.allowUnbound = options.allowUnboundTokens ?? true;
    this.leeway = secondsSetting('leeway', options.leeway, ENV.jwtVerifyLeeway, 120, 0, 300);
    const cacheTtl = secondsSetting('cacheTtl', options.cacheTtl, ENV.jwksCacheTtl, 3600, 1);
    const minRefresh = secondsSetting(
      'minRefreshInterval',
      options.minRefreshInterval,
      ENV.jwksMinRefresh,
      60,
      0,
    );
    this.userAgent = userAgentSetting(options.userAgent);
    const maxStale = secondsOption('maxStale', options.maxStale ?? 3600, 0);
    const timeout = secondsOption('timeout', options.timeout ?? 5, 0.001);
    const maxLifetime = secondsOption('maxTokenLifetime', options.maxTokenLifetime ?? 3600, 1);
    const cacheSize = options.tokenCacheSize ?? 10_000;
    if (!Number.isInteger(cacheSize) || cacheSize < 0) {
      throw new TypeError('LimeMcpVerifierOptions.tokenCacheSize must be a non-negative integer');
    }
    if (options.fetch !== undefined && typeof options.fetch !== 'function') {
      throw new TypeError('LimeMcpVerifierOptions.fetch must be a function');
    }
    if (options.clock !== undefined && typeof options.clock !== 'function') {
      throw new TypeError('LimeMcpVerifierOptions.clock must be a function returning milliseconds');
    }
    this.clock = options.clock ?? Date.now;
    const fetchWithAgent = withUserAgent(options.fetch, this.userAgent);
    this.metadata = new MetadataSource({
      apiBase: this.apiBase,
      fetch: fetchWithAgent,
      ttlMs: cacheTtl * 1000,
      minRefreshMs: minRefresh * 1000,
      maxStaleMs: maxStale * 1000,
      timeoutMs: timeout * 1000,
      clock: this.clock,
    });
    this.keys = new JwksCache({
      resolveJwksUrl: async ({ signal }) => (await this.metadata.get({ signal })).jwksUri,
      fetch: fetchWithAgent,
      cacheTtlMs: cacheTtl * 1000,
      minRefreshIntervalMs: minRefresh * 1000,
      maxStaleMs: maxStale * 1000,
      timeoutMs: timeout * 1000,
      crypto: options.crypto ?? 'auto',
      clock: this.clock,
    });
    this.jwt = createJwtVerifier<McpBearerClaims>({
      keys: this.keys,
      audience: this.audience,
      audienceArray: 'first',
      maxLifetimeSeconds: maxLifetime,
      clockToleranceSeconds: this.leeway,
      forbiddenClaims: MCP_FORBIDDEN_CLAIMS,
      allowedTypes: ['JWT', 'at+jwt'],
      clock: this.clock,
    });
    this.tokens = new VerifiedTokenCache(cacheSize);
    this.tokenCacheEnabled = cacheSize > 0;
  }

  /** Signature backend in use (`node` or `webcrypto`). */
  get cryptoBackend(): CryptoBackendName {
    return this.keys.backend;
  }

  /**
   * Verify a bearer token. Never throws for a bad token: the result says
   * `valid: false` with a `reason` and a message. (Only a programming error,
   * such as a non-LIME exception from a custom `fetch`, is wrapped the same way.)
   *
   * @example
   * const r = await verifier.verify(token);
   * if (!r.valid) return new Response(r.message, { status: r.error.temporary ? 503 : 401 });
   */
  async verify(token: string, options: { signal?: AbortSignal } = {}): Promise<McpVerifyResult> {
    try {
      if (typeof token !== 'string' || token.length === 0) {
        throw new McpTokenError(
          'missing_token',
          'no bearer token was presented — expected a LIME MCP access token',
        );
      }
      if (this.tokenCacheEnabled) {
        const hit = this.tokens.get(token, this.clock() / 1000);
        if (hit) return hit;
      }
      // One async layer, no await on the hot path: metadata and key are cached
      // and Node's signature check is synchronous.
      const meta = this.metadata.peek() ?? (await this.metadata.get(options));
      const pending = this.jwt.verifyNow(token, options);
      // A thenable check, not instanceof: WebCrypto promises may come from another realm.
      const { claims } = 'then' in pending ? await pending : pending;
      return this.accept(token, claims, meta);
    } catch (error) {
      const e = toMcpTokenError(error);
      return { valid: false, reason: e.reason, message: e.message, error: e };
    }
  }

  /**
   * Like {@link verify} but throws {@link McpTokenError} for a bad token.
   *
   * @example
   * const { agentId, authInfo } = await verifier.verifyOrThrow(token);
   */
  async verifyOrThrow(
    token: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<McpTokenInfo> {
    const result = await this.verify(token, options);
    if (!result.valid) throw result.error;
    return result;
  }

  /**
   * Fetch the metadata and the JWKS now, so the first request does not wait.
   * Throws {@link McpTokenError} (`metadata_unavailable`/`jwks_unavailable`) on failure.
   *
   * @example
   * await verifier.warmup(); // at startup
   */
  async warmup(options: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      await this.metadata.get(options);
      await this.keys.warmup(options);
    } catch (error) {
      throw toMcpTokenError(error);
    }
  }

  /**
   * The Core's RFC 8414 metadata (issuer, jwks_uri …), discovered and cached.
   *
   * @example
   * const { issuer } = await verifier.authorizationServer();
   */
  async authorizationServer(
    options: { signal?: AbortSignal } = {},
  ): Promise<AuthorizationServerInfo> {
    try {
      return this.metadata.peek() ?? (await this.metadata.get(options));
    } catch (error) {
      throw toMcpTokenError(error);
    }
  }

  /** Fetch counters: `{ metadataFetches, jwksFetches, cachedTokens }` (monitoring, tests). */
  stats(): { metadataFetches: number; jwksFetches: number; cachedTokens: number } {
    return {
      metadataFetches: this.metadata.fetches,
      jwksFetches: this.keys.stats().fetches,
      cachedTokens: this.tokens.size,
    };
  }

  /** The checks after signature and claims: issuer, binding; then remember the token. */
  private accept(
    token: string,
    claims: McpBearerClaims,
    meta: AuthorizationServerInfo,
  ): McpTokenInfo {
    if (claims.iss === undefined) {
      throw new McpTokenError(
        'missing_claim',
        `token has no 'iss' claim — expected '${meta.issuer}'`,
      );
    }
    if (claims.iss !== meta.issuer) {
      throw new McpTokenError(
        'wrong_issuer',
        `token iss was '${String(claims.iss).slice(0, 80)}', expected '${meta.issuer}' (the issuer in ${this.metadata.url})`,
      );
    }
    const tokenResource = this.checkBinding(claims);
    const info = this.buildInfo(token, claims, meta, tokenResource);
    if (this.tokenCacheEnabled) this.tokens.set(token, info, claims.exp + this.leeway);
    return info;
  }

  /** Domain/resource binding; returns the resource named in `aud`, if any. */
  private checkBinding(claims: McpBearerClaims): string | undefined {
    const resources = Array.isArray(claims.aud) ? claims.aud.slice(1) : [];
    if (resources.length > 1) {
      throw new McpTokenError(
        'wrong_resource',
        `token aud names ${resources.length} resources, expected at most one`,
      );
    }
    const named = resources[0];
    let resourceMatched = false;
    if (this.resource !== undefined && named !== undefined) {
      if (comparableResource(named) !== this.resource) {
        throw new McpTokenError(
          'wrong_resource',
          `token was issued for resource '${named.slice(0, 120)}', expected '${this.resource}' — a token for another MCP server`,
        );
      }
      resourceMatched = true;
    }
    if (claims.domain !== undefined && typeof claims.domain !== 'string') {
      throw new McpTokenError('invalid_claim', 'token domain claim is not a string');
    }
    // Neither a domain claim nor a resource: minted by a platform that does
    // not bind tokens, so there is nothing to compare (allowUnboundTokens).
    const unbound = claims.domain === undefined && named === undefined;
    if (this.expectedDomain !== undefined) {
      if (claims.domain !== undefined) {
        if (claims.domain !== this.expectedDomain) {
          throw new McpTokenError(
            'wrong_domain',
            `token was issued for domain '${claims.domain.slice(0, 120)}', expected '${this.expectedDomain}' — a token for another MCP server`,
          );
        }
        return named;
      }
      if (resourceMatched || (unbound && this.allowUnbound)) return named;
      throw new McpTokenError(
        'wrong_domain',
        unbound
          ? `token carries no domain claim, expected '${this.expectedDomain}' (allowUnboundTokens is off)`
          : `token names resource '${String(named).slice(0, 120)}' but no domain, and this server has no resource configured to compare — expected domain '${this.expectedDomain}'`,
      );
    }
    if (this.resource !== undefined && !resourceMatched && !(unbound && this.allowUnbound)) {
      throw new McpTokenError(
        'wrong_resource',
        `token names no resource, expected '${this.resource}' (request it with resource, or set expectedDomain)`,
      );
    }
    return named;
  }

  /**
   * The frozen scope list of a `scope` string. Tokens share a handful of
   * scope strings, so each is split once (bounded map, cleared when full).
   */
  private scopesOf(scope: string): string[] {
    let scopes = this.scopeLists.get(scope);
    if (scopes === undefined) {
      scopes = Object.freeze(scope.split(' ').filter((s) => s.length > 0)) as string[];
      if (this.scopeLists.size >= SCOPE_CACHE_SIZE) this.scopeLists.clear();
      this.scopeLists.set(scope, scopes);
    }
    return scopes;
  }

  private buildInfo(
    token: string,
    claims: McpBearerClaims,
    meta: AuthorizationServerInfo,
    resource: string | undefined,
  ): McpTokenInfo {
    const scope = typeof claims.scope === 'string' ? claims.scope : MCP_DEFAULT_SCOPE;
    const scopes = this.scopesOf(scope);
    const clientId =
      typeof claims.client_id === 'string' && claims.client_id.length > 0
        ? claims.client_id
        : claims.sub;
    let resourceUrl: URL | undefined;
    if (resource !== undefined) {
      try {
        resourceUrl = new URL(resource);
      } catch {
        resourceUrl = undefined;
      }
    }
    const extra: LimeAuthExtra = Object.freeze({
      agentId: claims.sub,
      domain: claims.domain,
      jti: typeof claims.jti === 'string' ? claims.jti : undefined,
      issuer: meta.issuer,
      claims: Object.freeze(claims),
    });
    const authInfo: LimeAuthInfo = Object.freeze(
      resourceUrl
        ? { token, clientId, scopes, expiresAt: claims.exp, resource: resourceUrl, extra }
        : { token, clientId, scopes, expiresAt: claims.exp, extra },
    );
    return Object.freeze({ valid: true, agentId: claims.sub, claims, authInfo }) as McpTokenInfo;
  }
}

/** Normalise anything thrown during verification to an {@link McpTokenError}. */
export function toMcpTokenError(error: unknown): McpTokenError {
  if (error instanceof McpTokenError) return error;
  if (error instanceof JwtVerificationError) {
    return new McpTokenError(error.reason, error.message, { cause: error });
  }
  if (error instanceof LimeError && error.code === 'ABORTED') {
    return new McpTokenError(
      'jwks_unavailable',
      'verification was aborted before the keys were available',
      {
        cause: error,
      },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new McpTokenError('jwks_unavailable', `token could not be checked: ${message}`, {
    cause: error,
  });
}

/** The hosted origin, when nothing names another: said once, since a local setup usually meant otherwise. */
function hostedDefault(): string {
  warnOnce(
    'LIME_HOSTED_DEFAULT',
    `lime-mcp-server-sdk: neither baseUrl nor ${ENV.baseUrl} nor ${ENV.apiBase} is set — verifying tokens against the hosted platform (${HOSTED_ORIGIN}); set one of them to use another Core`,
  );
  return HOSTED_ORIGIN;
}
