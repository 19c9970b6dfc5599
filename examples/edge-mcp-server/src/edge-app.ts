import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { Hono } from 'hono';
import { type LimeAuthInfo, type LimeMcpVerifier, withLimeMcpAuth } from 'lime-mcp-server-sdk';

/** Who called `whoami`, as the verified bearer says. */
export interface EdgeToolCall {
  agentId: string;
  clientId: string;
  scopes: string[];
}

/** Options of {@link createEdgeMcpApp}. */
export interface EdgeMcpAppOptions {
  /** One verifier per process; its `resource` is this server's MCP URL. */
  verifier: LimeMcpVerifier;
  /** Called after each `whoami` call (for logs and the demo). */
  onToolCall?: (call: EdgeToolCall) => void;
}

/** A Worker-shaped app: `export default app` on Workers, `Deno.serve(app.fetch)`, `Bun.serve(app)`. */
export interface EdgeMcpApp {
  fetch(request: Request): Promise<Response>;
}

/**
 * An MCP tool server built only from web-standard pieces — `Request` in,
 * `Response` out — so the same code runs on Cloudflare Workers, Deno, Bun or
 * Vercel Edge; Node runs it through `@hono/node-server`.
 *
 * Fail closed by construction: the whole Hono app sits behind
 * `withLimeMcpAuth`, so every request — any path, any method, whatever Hono
 * routes — needs a verified LIME bearer before Hono sees it, except GET/HEAD
 * of exactly the RFC 9728 metadata documents, which the wrapper answers.
 *
 * - `POST|GET|DELETE /mcp`: MCP over streamable HTTP, LIME bearer required
 * - `GET /.well-known/oauth-protected-resource/mcp`: RFC 9728 metadata
 *
 * @example
 * const verifier = new LimeMcpVerifier({ resource: 'https://tools.example.com/mcp' });
 * export default createEdgeMcpApp({ verifier }); // a Worker's `fetch`
 */
export function createEdgeMcpApp(options: EdgeMcpAppOptions): EdgeMcpApp {
  const { verifier } = options;
  const resource = verifier.resource;
  if (resource === undefined) {
    throw new TypeError('createEdgeMcpApp: the verifier needs its `resource` (this server URL)');
  }
  // Hono routes only requests the guard let through; the verified bearer
  // rides along as the app's environment.
  const app = new Hono<{ Bindings: { authInfo: LimeAuthInfo } }>();
  app.all(new URL(resource).pathname, async (c) => {
    // Stateless: a fresh server and transport per request, nothing to clean up.
    const server = createWhoamiServer(options.onToolCall);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    return transport.handleRequest(c.req.raw, { authInfo: c.env.authInfo });
  });

  const fetch = withLimeMcpAuth(
    { verifier, resourceName: 'LIME example edge MCP server' },
    async (request, authInfo) => app.fetch(request, { authInfo }),
  );
  return { fetch };
}

/** The one tool: answers with the calling agent's identity from the verified bearer. */
function createWhoamiServer(onToolCall: EdgeMcpAppOptions['onToolCall']): McpServer {
  const server = new McpServer({ name: 'lime-example-edge-mcp-server', version: '0.0.0' });
  server.registerTool(
    'whoami',
    {
      title: 'Who am I?',
      description: 'Answers with the identity of the calling agent, as its LIME bearer proves it.',
    },
    (extra) => {
      const auth = extra.authInfo as LimeAuthInfo | undefined;
      if (!auth) {
        return { isError: true, content: [{ type: 'text', text: 'not authenticated' }] };
      }
      const call = { agentId: auth.extra.agentId, clientId: auth.clientId, scopes: auth.scopes };
      onToolCall?.(call);
      const answer = {
        ...call,
        domain: auth.extra.domain ?? null,
        expiresAt: new Date(auth.expiresAt * 1000).toISOString(),
        server: 'edge',
      };
      return { content: [{ type: 'text', text: JSON.stringify(answer) }] };
    },
  );
  return server;
}
