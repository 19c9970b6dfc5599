/**
 * JWT facts of docs/protocol.md §4 (site passport), §5 (binding passport) and §7
 * (MCP access token).
 */

export const AUDIENCE = {
  sitePassport: 'lime-site-login',
  bindingPassport: 'lime-binding',
  mcp: 'mcp',
} as const;

/** The only signature algorithm LIME uses. */
export const JWT_ALG = 'RS256';

export const LIFETIMES = {
  /** Seconds the Core makes a site passport live. */
  passportIssued: 60,
  /** Verifiers reject a site passport whose `exp − iat` exceeds this (seconds). */
  passportMax: 120,
  /** Binding passports: `exp − iat` at most this (seconds). */
  bindingMax: 60,
  /** Seconds an MCP access token lives (`expires_in`). */
  mcpToken: 300,
} as const;

/** Minimum RSA modulus size of a usable signing key (bits). */
export const MIN_RSA_BITS = 2048;
/** The only RSA public exponent accepted (`AQAB`). */
export const RSA_EXPONENT_B64U = 'AQAB';

/** Registered claims every LIME JWT carries. */
export interface RegisteredClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  iat: number;
  exp: number;
  jti: string;
}

/** docs/protocol.md §4: the site passport. `sub` is the agent id. */
export interface PassportClaims extends RegisteredClaims {
  aud: 'lime-site-login';
  request_id: string;
  site_id: string;
  user_id: string;
  user_kyc_level: number | string | null;
  agent_reputation: number | null;
  passport_version: number | string;
}

/**
 * A site passport as a verifier may receive it (docs/protocol.md §4 [hosted]):
 * only `aud`, `iat`, `exp` and `request_id` are certain. The hosted platform
 * may name the agent `agent_id` instead of `sub` and leave out `iss`, `jti`,
 * `site_id` and `passport_version`; claim values may have odd types
 * (`passport_version: "3"`, `user_id: null`).
 */
export interface ReceivedPassportClaims {
  aud: string | string[];
  iat: number;
  exp: number;
  request_id: string;
  sub?: string;
  agent_id?: string;
  iss?: string;
  jti?: string;
  site_id?: string;
  nbf?: number;
  user_id?: unknown;
  user_kyc_level?: unknown;
  agent_reputation?: unknown;
  passport_version?: unknown;
  [claim: string]: unknown;
}

/** A binding passport as a verifier may receive it (§5): `binding_id` is certain, little else. */
export interface ReceivedBindingPassportClaims {
  aud: string | string[];
  iat: number;
  exp: number;
  binding_id: string;
  sub?: string;
  agent_id?: string;
  iss?: string;
  jti?: string;
  site_id?: string;
  user_id?: unknown;
  [claim: string]: unknown;
}

/** docs/protocol.md §5: the binding passport. */
export interface BindingPassportClaims extends RegisteredClaims {
  aud: 'lime-binding';
  binding_id: string;
  site_id?: string;
  user_id?: string;
  [claim: string]: unknown;
}

/** docs/protocol.md §7: the MCP access token. */
export interface McpTokenClaims extends RegisteredClaims {
  aud: 'mcp' | ['mcp', string];
  domain?: string;
  client_id?: string;
  scope?: string;
}

/** Claims an MCP token must not carry: their presence means "not an MCP token". */
export const MCP_FORBIDDEN_CLAIMS = ['user_id', 'passport_version', 'request_id'] as const;

/** Default scope of MCP tokens (space separated). */
export const MCP_DEFAULT_SCOPE = 'mcp';

/**
 * What the Core's authorization server metadata names as
 * `authorization_endpoint` and `service_documentation` (docs/protocol.md §7):
 * LIME has no interactive authorization, so a generic OAuth client, or a
 * person it sends there, lands on the page that says how agents authenticate.
 */
export const MCP_AUTH_DOCS_URL =
  'https://github.com/lime-pics/lime-ts/blob/main/docs/use-with-your-framework.md';

/** Exact key set of a successful token endpoint answer (docs/protocol.md §7). */
export const OAUTH_TOKEN_RESPONSE_KEYS = ['access_token', 'token_type', 'expires_in'] as const;

export interface OAuthTokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

/** RFC 8414 document, as much of it as LIME uses. */
export interface AuthorizationServerMetadata {
  issuer: string;
  token_endpoint: string;
  jwks_uri: string;
  grant_types_supported: string[];
  [member: string]: unknown;
}

/** RFC 7517 RSA public JWK as LIME publishes it. */
export interface RsaPublicJwk {
  kty: 'RSA';
  kid: string;
  use?: 'sig';
  alg?: 'RS256';
  n: string;
  e: string;
}

/** A JWK Set, raw or in the legacy envelope (docs/protocol.md §6). */
export interface JwksDocument {
  keys: RsaPublicJwk[];
}

/**
 * Pull the `keys` array out of a JWKS document, raw (`{keys}`) or enveloped
 * (`{ok, data: {keys}}`). Returns `undefined` when neither shape is present.
 */
export function extractJwkSet(doc: unknown): unknown[] | undefined {
  if (typeof doc !== 'object' || doc === null) return undefined;
  const d = doc as { keys?: unknown; data?: { keys?: unknown } };
  if (Array.isArray(d.keys)) return d.keys;
  if (typeof d.data === 'object' && d.data !== null && Array.isArray(d.data.keys)) {
    return d.data.keys;
  }
  return undefined;
}
