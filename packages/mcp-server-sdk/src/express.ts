// lime-mcp-server-sdk/express: LIME bearer auth for express MCP servers, on
// top of the MCP SDK's own `requireBearerAuth`. Node-only (express), hence a
// subpath of its own; the root entry stays runtime-neutral.
import { InvalidTokenError, ServerError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { headerSafe } from './internal/header-safe.js';
import { metadataUrlFor } from './internal/resource.js';
import { LimeMcpVerifier, type LimeMcpVerifierOptions } from './verifier.js';
import { createProtectedResourceMetadataHandler } from './web-handlers.js';

/**
 * Adapt a {@link LimeMcpVerifier} to the MCP SDK's `OAuthTokenVerifier`, for
 * `requireBearerAuth`. Refusals become the SDK's `InvalidTokenError` (401)
 * with a header-safe message; unreachable keys become `ServerError` (500).
 *
 * @example
 * app.use('/mcp', requireBearerAuth({ verifier: createOAuthTokenVerifier(verifier) }));
 */
export function createOAuthTokenVerifier(verifier: LimeMcpVerifier): OAuthTokenVerifier {
  if (typeof verifier?.verify !== 'function') {
    throw new TypeError('createOAuthTokenVerifier: verifier must be a LimeMcpVerifier');
  }
  return {
    async verifyAccessToken(token) {
      const result = await verifier.verify(token);
      if (result.valid) return result.authInfo;
      if (result.error.temporary) throw new ServerError(headerSafe(result.message));
      throw new InvalidTokenError(headerSafe(result.message));
    },
  };
}

/** Options of {@link limeBearerAuth}. */
export interface LimeBearerAuthOptions {
  /** The verifier (create it once per process). */
  verifier: LimeMcpVerifier;
  /** Scopes every request must carry; a shortfall answers 403 `insufficient_scope`. @default [] */
  requiredScopes?: string[];
  /** RFC 9728 metadata URL for `WWW-Authenticate`. @default derived from the verifier's `resource` */
  resourceMetadataUrl?: string;
}

/**
 * The MCP SDK's `requireBearerAuth`, wired to LIME. Sets `req.auth`, which the
 * streamable HTTP transport hands to tools as `extra.authInfo`.
 *
 * @example
 * app.post('/mcp', limeBearerAuth({ verifier }), mcpHandler);
 */
export function limeBearerAuth(options: LimeBearerAuthOptions): RequestHandler {
  const resourceMetadataUrl =
    options.resourceMetadataUrl ??
    (options.verifier?.resource !== undefined
      ? metadataUrlFor(options.verifier.resource)
      : undefined);
  return requireBearerAuth({
    verifier: createOAuthTokenVerifier(options.verifier),
    requiredScopes: options.requiredScopes ?? [],
    ...(resourceMetadataUrl ? { resourceMetadataUrl } : {}),
  }) as RequestHandler;
}

/** Options of {@link limeMcpAuth}: verifier options, or a ready `verifier`, plus what to serve. */
export interface LimeMcpAuthOptions extends LimeMcpVerifierOptions {
  /** This MCP server's canonical URL (e.g. `https://tools.example.com/mcp`); its path is protected. */
  resource: string | URL;
  /** Use this verifier instead of creating one from the other options. */
  verifier?: LimeMcpVerifier;
  /** Path to protect. @default the path of `resource` */
  path?: string;
  /** Scopes every request must carry (403 otherwise). @default [] */
  requiredScopes?: string[];
  /** `scopes_supported` in the metadata. @default ['mcp'] */
  scopesSupported?: string[];
  /** `resource_name` in the metadata. */
  resourceName?: string;
}

const PRM_ROOT = '/.well-known/oauth-protected-resource';

/**
 * One middleware for an express MCP server, mounted at the application root:
 * serves RFC 9728 protected resource metadata (naming the LIME Core as
 * authorization server) and requires a valid LIME bearer on the MCP path.
 *
 * @example
 * const app = express();
 * app.use(express.json());
 * app.use(limeMcpAuth({ resource: 'https://tools.example.com/mcp' }));
 * app.post('/mcp', (req, res) => transport.handleRequest(req, res, req.body));
 */
export function limeMcpAuth(options: LimeMcpAuthOptions): RequestHandler {
  if (typeof options !== 'object' || options === null || options.resource === undefined) {
    throw new TypeError('LimeMcpAuthOptions.resource is required (the URL of this MCP server)');
  }
  const { verifier: given, path, requiredScopes, scopesSupported, resourceName, ...rest } = options;
  const verifier = given ?? new LimeMcpVerifier(rest);
  const resource = String(options.resource);
  const protectedPath = (path ?? new URL(resource).pathname).replace(/\/$/, '') || '/';
  const metadataPath = new URL(metadataUrlFor(resource)).pathname;
  const bearer = limeBearerAuth({
    verifier,
    requiredScopes: requiredScopes ?? [],
    resourceMetadataUrl: metadataUrlFor(resource),
  });
  const metadata = createProtectedResourceMetadataHandler({
    verifier,
    resource,
    ...(scopesSupported ? { scopesSupported } : {}),
    ...(resourceName !== undefined ? { resourceName } : {}),
  });

  return function limeMcpAuthMiddleware(req: Request, res: Response, next: NextFunction) {
    const reqPath = req.path;
    if (
      (req.method === 'GET' || req.method === 'HEAD') &&
      (reqPath === metadataPath || reqPath === PRM_ROOT)
    ) {
      metadata().then(
        async (answer) => {
          res.status(answer.status);
          answer.headers.forEach((value, key) => {
            res.setHeader(key, value);
          });
          res.send(await answer.text());
        },
        (error: unknown) => next(error),
      );
      return;
    }
    if (
      req.method !== 'OPTIONS' &&
      (protectedPath === '/' ||
        reqPath === protectedPath ||
        reqPath.startsWith(`${protectedPath}/`))
    ) {
      bearer(req, res, next);
      return;
    }
    next();
  };
}
