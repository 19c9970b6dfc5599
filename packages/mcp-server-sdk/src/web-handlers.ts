import { McpTokenError } from './errors.js';
import { headerSafe } from './internal/header-safe.js';
import { metadataUrlFor } from './internal/resource.js';
import type { LimeAuthInfo, LimeMcpVerifier } from './verifier.js';

/** Options of {@link createWebBearerAuth}. */
export interface WebBearerAuthOptions {
  /** The verifier (create it once per process). */
  verifier: LimeMcpVerifier;
  /** Scopes every request must carry; a shortfall answers 403 `insufficient_scope`. @default [] */
  requiredScopes?: readonly string[];
  /**
   * URL of this server's RFC 9728 metadata, advertised in `WWW-Authenticate`.
   * @default derived from the verifier's `resource` (`/.well-known/oauth-protected-resource/<path>`)
   */
  resourceMetadataUrl?: string;
  /** `Retry-After` sent with 503 when the Core's keys are unreachable, seconds. @default 30 */
  retryAfter?: number;
}

/** Authenticates one web-standard `Request`: its auth info, or the `Response` to send instead. */
export type WebBearerAuth = (
  request: Request,
  options?: { signal?: AbortSignal },
) => Promise<LimeAuthInfo | Response>;

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The challenge parameters of RFC 6750 §3, values already header-safe. */
function challenge(params: Record<string, string | undefined>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params))
    if (v !== undefined) parts.push(`${k}="${headerSafe(v)}"`);
  return `Bearer ${parts.join(', ')}`;
}

function oauthErrorResponse(
  status: number,
  error: string,
  description: string,
  headers: Record<string, string>,
): Response {
  return new Response(JSON.stringify({ error, error_description: headerSafe(description) }), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  });
}

/**
 * Bearer authentication for web-standard servers (Hono, Cloudflare Workers,
 * Next.js route handlers, Deno, Bun): returns the {@link LimeAuthInfo} to pass
 * to the MCP transport, or the `Response` to send — 401 with
 * `WWW-Authenticate: Bearer error="invalid_token", error_description="…",
 * resource_metadata="…"`, 403 `insufficient_scope`, or 503 when the Core's
 * keys cannot be fetched.
 *
 * @example
 * const auth = createWebBearerAuth({ verifier });
 * const result = await auth(request);
 * if (result instanceof Response) return result;
 * return transport.handleRequest(request, { authInfo: result });
 */
export function createWebBearerAuth(options: WebBearerAuthOptions): WebBearerAuth {
  const { verifier } = options;
  if (typeof verifier?.verify !== 'function') {
    throw new TypeError('WebBearerAuthOptions.verifier must be a LimeMcpVerifier');
  }
  const requiredScopes = [...(options.requiredScopes ?? [])];
  const metadataUrl =
    options.resourceMetadataUrl ??
    (verifier.resource !== undefined ? metadataUrlFor(verifier.resource) : undefined);
  const retryAfter = options.retryAfter ?? 30;
  const scope = requiredScopes.length > 0 ? requiredScopes.join(' ') : undefined;

  const unauthorized = (description: string) =>
    oauthErrorResponse(401, 'invalid_token', description, {
      'www-authenticate': challenge({
        error: 'invalid_token',
        error_description: description,
        scope,
        resource_metadata: metadataUrl,
      }),
    });

  return async function authenticate(request, callOptions) {
    const header = request.headers.get('authorization');
    if (!header) return unauthorized('Missing Authorization header, expected Bearer <token>');
    const match = BEARER.exec(header);
    if (!match) return unauthorized("Invalid Authorization header, expected 'Bearer <token>'");
    const result = await verifier.verify(match[1]!, callOptions);
    if (!result.valid) {
      if (result.error.temporary) {
        return oauthErrorResponse(503, 'temporarily_unavailable', result.message, {
          'retry-after': String(retryAfter),
        });
      }
      return unauthorized(result.message);
    }
    const granted = result.authInfo.scopes;
    const missing = requiredScopes.filter((s) => !granted.includes(s));
    if (missing.length > 0) {
      const description = `token scope '${granted.join(' ')}' lacks '${missing.join(' ')}'`;
      return oauthErrorResponse(403, 'insufficient_scope', description, {
        'www-authenticate': challenge({
          error: 'insufficient_scope',
          error_description: description,
          scope,
          resource_metadata: metadataUrl,
        }),
      });
    }
    return result.authInfo;
  };
}

/** Options of {@link createProtectedResourceMetadataHandler}. */
export interface ProtectedResourceMetadataOptions {
  /** The verifier; its discovered issuer is named as the authorization server. */
  verifier: LimeMcpVerifier;
  /** This MCP server's URL (`resource` member). @default the verifier's `resource` (required if it has none) */
  resource?: string;
  /** `scopes_supported`. @default ['mcp'] */
  scopesSupported?: readonly string[];
  /** `resource_name`, shown to users by some clients. */
  resourceName?: string;
  /** `resource_documentation` URL. */
  resourceDocumentation?: string;
}

/**
 * RFC 9728 protected resource metadata for this MCP server, naming the LIME
 * Core (its discovered `issuer`) as the authorization server. Serve it at
 * {@link protectedResourceMetadataUrl}.
 *
 * @example
 * const metadata = createProtectedResourceMetadataHandler({ verifier });
 * app.get('/.well-known/oauth-protected-resource/mcp', (c) => metadata(c.req.raw));
 */
export function createProtectedResourceMetadataHandler(
  options: ProtectedResourceMetadataOptions,
): (request?: Request) => Promise<Response> {
  const resource = options.resource ?? options.verifier?.resource;
  if (typeof resource !== 'string' || resource.length === 0) {
    throw new TypeError(
      'ProtectedResourceMetadataOptions.resource is required when the verifier has no resource',
    );
  }
  const scopes = [...(options.scopesSupported ?? ['mcp'])];
  return async function protectedResourceMetadata() {
    let issuer: string;
    try {
      issuer = (await options.verifier.authorizationServer()).issuer;
    } catch (error) {
      const message =
        error instanceof McpTokenError ? error.message : 'authorization server unknown';
      return oauthErrorResponse(503, 'temporarily_unavailable', message, { 'retry-after': '30' });
    }
    const body: Record<string, unknown> = {
      resource,
      authorization_servers: [issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: scopes,
    };
    if (options.resourceName !== undefined) body.resource_name = options.resourceName;
    if (options.resourceDocumentation !== undefined) {
      body.resource_documentation = options.resourceDocumentation;
    }
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: {
        'content-type': 'application/json',
        'cache-control': 'public, max-age=300',
        'access-control-allow-origin': '*',
      },
    });
  };
}

/**
 * Where RFC 9728 metadata of `resource` lives:
 * `https://host/path` → `https://host/.well-known/oauth-protected-resource/path`.
 *
 * @example
 * protectedResourceMetadataUrl('https://tools.example.com/mcp')
 * // 'https://tools.example.com/.well-known/oauth-protected-resource/mcp'
 */
export function protectedResourceMetadataUrl(resource: string | URL): string {
  return metadataUrlFor(resource);
}
