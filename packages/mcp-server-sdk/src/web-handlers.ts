import { McpTokenError } from './errors.js';
import { createBearerCheck, refusalResponse } from './internal/bearer-check.js';
import { headerSafe } from './internal/header-safe.js';
import { metadataPathsFor, metadataUrlFor } from './internal/resource.js';
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
 * resource_metadata="…"`, 403 `insufficient_scope`, 503 (with `Retry-After`)
 * when the Core's metadata or keys cannot be fetched, 500 if the check itself
 * fails. It checks every request it is given, whatever its method or path: call
 * it first in the handler that serves MCP, or let {@link withLimeMcpAuth} do so.
 *
 * @example
 * const auth = createWebBearerAuth({ verifier });
 * const result = await auth(request);
 * if (result instanceof Response) return result;
 * return transport.handleRequest(request, { authInfo: result });
 */
export function createWebBearerAuth(options: WebBearerAuthOptions): WebBearerAuth {
  const check = createBearerCheck(options, 'createWebBearerAuth');
  return async function authenticate(request, callOptions) {
    const decision = await check(request.headers.get('authorization'), callOptions);
    return decision.ok ? decision.authInfo : refusalResponse(decision.refusal);
  };
}

/** Options of {@link withLimeMcpAuth}. */
export interface WithLimeMcpAuthOptions extends WebBearerAuthOptions {
  /**
   * Serve RFC 9728 metadata (GET/HEAD at exactly its two paths, see
   * {@link protectedResourceMetadataUrl}) without a bearer. Needs the
   * verifier's `resource`. @default true when the verifier has a `resource`
   */
  metadata?: boolean;
  /** `scopes_supported` in the metadata. @default ['mcp'] */
  scopesSupported?: readonly string[];
  /** `resource_name` in the metadata. */
  resourceName?: string;
}

/** A web-standard handler that only ever runs with a verified bearer. */
export type LimeProtectedHandler = (
  request: Request,
  authInfo: LimeAuthInfo,
) => Response | Promise<Response>;

/**
 * Wrap a web-standard MCP handler so that it runs only with a verified LIME
 * bearer: every request — any method, any path — is authenticated first,
 * except GET/HEAD of exactly the RFC 9728 metadata documents, which it answers
 * itself. Whatever routing happens inside `handler`, nothing reaches it
 * without `authInfo`. Errors inside the check answer 500, never the handler.
 *
 * @example
 * export default {
 *   fetch: withLimeMcpAuth({ verifier }, async (request, authInfo) => {
 *     const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
 *     await createServer().connect(transport);
 *     return transport.handleRequest(request, { authInfo });
 *   }),
 * };
 */
export function withLimeMcpAuth(
  options: WithLimeMcpAuthOptions,
  handler: LimeProtectedHandler,
): (request: Request) => Promise<Response> {
  if (typeof handler !== 'function') {
    throw new TypeError(
      'withLimeMcpAuth: handler must be a function (request, authInfo) => Response',
    );
  }
  const check = createBearerCheck(options, 'withLimeMcpAuth');
  const resource = options.verifier.resource;
  const serveMetadata = options.metadata ?? resource !== undefined;
  let metadataPaths: ReadonlySet<string> = new Set();
  let metadata: ((request?: Request) => Promise<Response>) | undefined;
  if (serveMetadata) {
    if (resource === undefined) {
      throw new TypeError("withLimeMcpAuth: metadata needs the verifier's `resource`");
    }
    metadataPaths = metadataPathsFor(resource);
    metadata = createProtectedResourceMetadataHandler({
      verifier: options.verifier,
      ...(options.scopesSupported ? { scopesSupported: options.scopesSupported } : {}),
      ...(options.resourceName !== undefined ? { resourceName: options.resourceName } : {}),
    });
  }
  return async function limeMcpAuthHandler(request) {
    if (metadata && (request.method === 'GET' || request.method === 'HEAD')) {
      let path: string | undefined;
      try {
        path = new URL(request.url).pathname;
      } catch {
        path = undefined;
      }
      if (path !== undefined && metadataPaths.has(path)) {
        const answer = await metadata(request);
        return request.method === 'HEAD'
          ? new Response(null, { status: answer.status, headers: answer.headers })
          : answer;
      }
    }
    const decision = await check(request.headers.get('authorization'), { signal: request.signal });
    if (!decision.ok) return refusalResponse(decision.refusal);
    return handler(request, decision.authInfo);
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
