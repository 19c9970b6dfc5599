// lime-mcp-server-sdk/express: LIME bearer auth for express MCP servers
// (express 4 and 5; MCP SDK 1.x or 2.x, or none). Node-only (express), hence a
// subpath of its own; the root entry stays runtime-neutral.
//
// Fail closed by construction: the bearer guard protects every request that
// reaches it. It never decides by itself which paths need a token — express
// decides, by where the user mounts it (route, Router, app) — because any
// matching of our own (case, trailing slash, Router prefixes) differs from
// express's somewhere, and the difference is where a tool runs without a token.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { type BearerRefusal, createBearerCheck } from './internal/bearer-check.js';
import { headerSafe } from './internal/header-safe.js';
import { metadataPathsFor, metadataUrlFor } from './internal/resource.js';
import { type LimeAuthInfo, LimeMcpVerifier, type LimeMcpVerifierOptions } from './verifier.js';
import { createProtectedResourceMetadataHandler } from './web-handlers.js';

/**
 * The MCP SDK's `OAuthTokenVerifier` contract (1.x and 2.x alike): what
 * `requireBearerAuth` calls. Declared here so this module imports neither line.
 */
export interface LimeOAuthTokenVerifier {
  verifyAccessToken(token: string): Promise<LimeAuthInfo>;
}

/** Options of {@link createOAuthTokenVerifier}. */
export interface OAuthTokenVerifierOptions {
  /**
   * Which MCP SDK's `requireBearerAuth` will call the verifier: its error
   * classes differ (1.x `InvalidTokenError`/`ServerError` from
   * `@modelcontextprotocol/sdk`, 2.x `OAuthError` from
   * `@modelcontextprotocol/server`) and it recognises only its own.
   * @default 'auto': 1.x when `@modelcontextprotocol/sdk` is installed, else 2.x
   */
  sdk?: 'auto' | 'v1' | 'v2';
}

interface ErrorFactory {
  invalid(message: string): Error;
  unavailable(message: string): Error;
}

async function loadErrors(sdk: 'auto' | 'v1' | 'v2'): Promise<ErrorFactory> {
  const v1 = async (): Promise<ErrorFactory> => {
    const m = await import('@modelcontextprotocol/sdk/server/auth/errors.js');
    return {
      invalid: (message) => new m.InvalidTokenError(message),
      unavailable: (message) => new m.ServerError(message),
    };
  };
  const v2 = async (): Promise<ErrorFactory> => {
    const m = (await import('@modelcontextprotocol/server')) as unknown as {
      OAuthError: new (code: string, message: string) => Error;
      OAuthErrorCode: { InvalidToken: string; ServerError: string };
    };
    return {
      invalid: (message) => new m.OAuthError(m.OAuthErrorCode.InvalidToken, message),
      unavailable: (message) => new m.OAuthError(m.OAuthErrorCode.ServerError, message),
    };
  };
  if (sdk === 'v1') return v1();
  if (sdk === 'v2') return v2();
  try {
    return await v1();
  } catch {
    try {
      return await v2();
    } catch {
      throw new Error(
        'createOAuthTokenVerifier needs the MCP SDK: install @modelcontextprotocol/sdk (1.x) or @modelcontextprotocol/server (2.x) — or use limeBearerAuth, which needs neither',
      );
    }
  }
}

/**
 * Adapt a {@link LimeMcpVerifier} to the MCP SDK's `OAuthTokenVerifier`, for
 * its own `requireBearerAuth` (1.x `@modelcontextprotocol/sdk` or 2.x
 * `@modelcontextprotocol/express`). Refusals become the SDK's invalid-token
 * error (401) with a header-safe message; unreachable keys its server error
 * (500 — {@link limeBearerAuth} answers 503 instead). The SDK is loaded on the
 * first call, so this module imports neither line.
 *
 * @example
 * app.post('/mcp', requireBearerAuth({ verifier: createOAuthTokenVerifier(verifier) }), handler);
 */
export function createOAuthTokenVerifier(
  verifier: LimeMcpVerifier,
  options: OAuthTokenVerifierOptions = {},
): LimeOAuthTokenVerifier {
  if (typeof verifier?.verify !== 'function') {
    throw new TypeError('createOAuthTokenVerifier: verifier must be a LimeMcpVerifier');
  }
  const sdk = options.sdk ?? 'auto';
  if (!['auto', 'v1', 'v2'].includes(sdk)) {
    throw new TypeError("createOAuthTokenVerifier: sdk must be 'auto', 'v1' or 'v2'");
  }
  let errors: Promise<ErrorFactory> | undefined;
  return {
    async verifyAccessToken(token) {
      const result = await verifier.verify(token);
      if (result.valid) return result.authInfo;
      errors ??= loadErrors(sdk);
      const make = await errors;
      if (result.error.temporary) throw make.unavailable(headerSafe(result.message));
      throw make.invalid(headerSafe(result.message));
    },
  };
}

/** Options of {@link limeBearerAuth}. */
export interface LimeBearerAuthOptions {
  /** The verifier (create it once per process). */
  verifier: LimeMcpVerifier;
  /** Scopes every request must carry; a shortfall answers 403 `insufficient_scope`. @default [] */
  requiredScopes?: readonly string[];
  /** RFC 9728 metadata URL for `WWW-Authenticate`. @default derived from the verifier's `resource` */
  resourceMetadataUrl?: string;
  /** `Retry-After` sent with 503 when the Core's metadata or keys are unreachable, seconds. @default 30 */
  retryAfter?: number;
}

/** An express request after {@link limeBearerAuth}: `auth` is the verified bearer. */
export type LimeAuthenticatedRequest = Request & { auth: LimeAuthInfo };

function sendRefusal(res: Response, refusal: BearerRefusal): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.statusCode = refusal.status;
  for (const [name, value] of Object.entries(refusal.headers)) res.setHeader(name, value);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(refusal.body));
}

/**
 * Require a verified LIME bearer on every request that reaches this
 * middleware, whatever its method (OPTIONS and HEAD included) or path. On
 * success it sets `req.auth` — which the MCP SDK's streamable HTTP transport
 * hands to tools as `extra.authInfo` — and calls `next()`; otherwise it
 * answers 401 `invalid_token`, 403 `insufficient_scope`, 503 (with
 * `Retry-After`) when the Core's metadata or keys are unreachable, or 500 if
 * the check itself fails, each with `WWW-Authenticate`. It never calls
 * `next()` without `req.auth`.
 *
 * Put it on the route, before the handler, or on a Router that holds only
 * MCP routes. A CORS preflight (OPTIONS) must be answered by a middleware
 * placed before it.
 *
 * @example
 * app.post('/mcp', limeBearerAuth({ verifier }), express.json(), mcpHandler);
 * // or: const mcp = express.Router(); mcp.use(limeBearerAuth({ verifier })); app.use('/mcp', mcp);
 */
export function limeBearerAuth(options: LimeBearerAuthOptions): RequestHandler {
  const check = createBearerCheck(options, 'limeBearerAuth');
  return function limeBearerAuthMiddleware(req: Request, res: Response, next: NextFunction) {
    const target = req as Request & { auth?: LimeAuthInfo };
    // Whatever an earlier middleware put there is not ours to trust.
    target.auth = undefined;
    check(req.headers.authorization).then((decision) => {
      if (decision.ok) {
        target.auth = decision.authInfo;
        try {
          next();
        } catch (error) {
          next(error); // the handler's own failure, after auth: express's error path
        }
      } else {
        sendRefusal(res, decision.refusal);
      }
    });
  };
}

/** Options of {@link limeAuthMetadataRouter}. */
export interface LimeAuthMetadataOptions {
  /** The verifier; its discovered issuer is named as the authorization server. */
  verifier: LimeMcpVerifier;
  /** This MCP server's URL (`resource` member). @default the verifier's `resource` (required if it has none) */
  resource?: string | URL;
  /** `scopes_supported`. @default ['mcp'] */
  scopesSupported?: readonly string[];
  /** `resource_name`, shown to users by some clients. */
  resourceName?: string;
  /** `resource_documentation` URL. */
  resourceDocumentation?: string;
}

/** The metadata documents and the exact paths they are served at. */
function metadataServer(options: LimeAuthMetadataOptions, owner: string) {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${owner} options must be an object`);
  }
  const resource = String(options.resource ?? options.verifier?.resource ?? '');
  if (resource.length === 0) {
    throw new TypeError(`${owner}: resource is required (the URL of this MCP server)`);
  }
  const paths = metadataPathsFor(resource);
  const handler = createProtectedResourceMetadataHandler({
    verifier: options.verifier,
    resource,
    ...(options.scopesSupported ? { scopesSupported: options.scopesSupported } : {}),
    ...(options.resourceName !== undefined ? { resourceName: options.resourceName } : {}),
    ...(options.resourceDocumentation !== undefined
      ? { resourceDocumentation: options.resourceDocumentation }
      : {}),
  });
  /** Does this request ask for exactly one of the documents (path from the app's root)? */
  const wants = (req: Request) =>
    (req.method === 'GET' || req.method === 'HEAD') &&
    paths.has(`${req.baseUrl ?? ''}${req.path ?? ''}`);
  const serve = (req: Request, res: Response) => {
    handler().then(
      async (answer) => {
        res.statusCode = answer.status;
        answer.headers.forEach((value, key) => {
          res.setHeader(key, value);
        });
        res.end(req.method === 'HEAD' ? undefined : await answer.text());
      },
      () => {
        res.statusCode = 500;
        res.end();
      },
    );
  };
  return { wants, serve };
}

/**
 * Serve RFC 9728 protected resource metadata, naming the LIME Core as
 * authorization server, at exactly
 * `/.well-known/oauth-protected-resource/<path of resource>` and
 * `/.well-known/oauth-protected-resource` (GET and HEAD). Mount it on the
 * application (not under a prefix). It guards nothing: put
 * {@link limeBearerAuth} on the MCP routes.
 *
 * @example
 * app.use(limeAuthMetadataRouter({ verifier }));
 * app.post('/mcp', limeBearerAuth({ verifier }), express.json(), mcpHandler);
 */
export function limeAuthMetadataRouter(options: LimeAuthMetadataOptions): RequestHandler {
  const { wants, serve } = metadataServer(options, 'limeAuthMetadataRouter');
  return function limeAuthMetadata(req: Request, res: Response, next: NextFunction) {
    if (wants(req)) serve(req, res);
    else next();
  };
}

/** Options of {@link limeMcpAuth}: verifier options, or a ready `verifier`, plus what to serve. */
export interface LimeMcpAuthOptions extends LimeMcpVerifierOptions {
  /** This MCP server's canonical URL (e.g. `https://tools.example.com/mcp`). */
  resource: string | URL;
  /** Use this verifier instead of creating one from the other options. */
  verifier?: LimeMcpVerifier;
  /** Scopes every request must carry (403 otherwise). @default [] */
  requiredScopes?: readonly string[];
  /** `scopes_supported` in the metadata. @default ['mcp'] */
  scopesSupported?: readonly string[];
  /** `resource_name` in the metadata. */
  resourceName?: string;
  /** `Retry-After` sent with 503 when the Core is unreachable, seconds. @default 30 */
  retryAfter?: number;
}

/**
 * Metadata and bearer guard in one middleware, for an app (or Router) that
 * serves nothing but MCP: GET/HEAD of exactly the two RFC 9728 metadata paths
 * (from the application root, `req.baseUrl` included) are answered with the
 * metadata; **every other request** must carry a verified LIME bearer, as
 * with {@link limeBearerAuth}. Routes that need no token (health checks, CORS
 * preflight) must be registered before it.
 *
 * @example
 * const app = express();
 * app.use(limeMcpAuth({ resource: 'https://tools.example.com/mcp' }));
 * app.post('/mcp', express.json(), (req, res) => transport.handleRequest(req, res, req.body));
 */
export function limeMcpAuth(options: LimeMcpAuthOptions): RequestHandler {
  if (typeof options !== 'object' || options === null || options.resource === undefined) {
    throw new TypeError('LimeMcpAuthOptions.resource is required (the URL of this MCP server)');
  }
  if ('path' in options) {
    throw new TypeError(
      'LimeMcpAuthOptions.path was removed in 0.2: limeMcpAuth now guards every request except ' +
        'the metadata documents. Put limeBearerAuth({ verifier }) on your MCP route instead.',
    );
  }
  const {
    verifier: given,
    requiredScopes,
    scopesSupported,
    resourceName,
    retryAfter,
    ...rest
  } = options;
  const verifier = given ?? new LimeMcpVerifier(rest);
  const resource = String(options.resource);
  const { wants, serve } = metadataServer(
    {
      verifier,
      resource,
      ...(scopesSupported ? { scopesSupported } : {}),
      ...(resourceName !== undefined ? { resourceName } : {}),
    },
    'limeMcpAuth',
  );
  const guard = limeBearerAuth({
    verifier,
    requiredScopes: requiredScopes ?? [],
    resourceMetadataUrl: metadataUrlFor(resource),
    ...(retryAfter !== undefined ? { retryAfter } : {}),
  });
  return function limeMcpAuthMiddleware(req: Request, res: Response, next: NextFunction) {
    if (wants(req)) serve(req, res);
    else guard(req, res, next);
  };
}
