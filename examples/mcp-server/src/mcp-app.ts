import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import type { LimeAuthInfo, LimeMcpVerifier } from 'lime-mcp-server-sdk';
import { limeAuthMetadataRouter, limeBearerAuth } from 'lime-mcp-server-sdk/express';

/** Who called `whoami`, as the verified bearer says. */
export interface ToolCall {
  agentId: string;
  clientId: string;
  scopes: string[];
}

/** Options of {@link createMcpApp}. */
export interface McpAppOptions {
  /** One verifier per process; its `resource` is this server's MCP URL. */
  verifier: LimeMcpVerifier;
  /** Called after each `whoami` call (for logs and the demo). */
  onToolCall?: (call: ToolCall) => void;
}

/**
 * An MCP tool server with the official MCP SDK (`McpServer`, streamable HTTP)
 * on express, protected by LIME:
 *
 * - `POST /mcp`: MCP, LIME bearer required. `limeBearerAuth` sits on the
 *   route itself, so whatever path variant express routes here (`/MCP`,
 *   `/mcp/`), the guard runs first; it sets `req.auth`, which the transport
 *   hands to tools as `extra.authInfo`. `GET`/`DELETE /mcp` are guarded too.
 * - `GET /.well-known/oauth-protected-resource/mcp`: RFC 9728 metadata naming
 *   the LIME Core as authorization server (`limeAuthMetadataRouter`; it
 *   guards nothing)
 *
 * @example
 * const verifier = new LimeMcpVerifier({ resource: 'https://tools.example.com/mcp' });
 * createMcpApp({ verifier }).listen(3001);
 */
export function createMcpApp(options: McpAppOptions): express.Express {
  const { verifier } = options;
  const resource = verifier.resource;
  if (resource === undefined) {
    throw new TypeError('createMcpApp: the verifier needs its `resource` (this server URL)');
  }
  const path = new URL(resource).pathname;
  const app = express();
  app.disable('x-powered-by');
  app.use(limeAuthMetadataRouter({ verifier, resourceName: 'LIME example MCP server' }));
  // Fail closed: the guard is on each MCP route, before any body parsing.
  const auth = limeBearerAuth({ verifier });

  app.post(path, auth, express.json(), async (req, res) => {
    // Stateless: a fresh server and transport per request.
    const server = createWhoamiServer(options.onToolCall);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch {
      if (!res.headersSent) {
        res.status(500).json({
          jsonrpc: '2.0',
          error: { code: -32603, message: 'Internal server error' },
          id: null,
        });
      }
    }
  });

  // Stateless server: no standalone SSE stream, no sessions to delete.
  const notAllowed: express.RequestHandler = (_req, res) => {
    res
      .status(405)
      .set('allow', 'POST')
      .json({
        jsonrpc: '2.0',
        error: { code: -32000, message: 'Method not allowed.' },
        id: null,
      });
  };
  app.get(path, auth, notAllowed);
  app.delete(path, auth, notAllowed);
  return app;
}

/** The one tool: answers with the calling agent's identity from the verified bearer. */
function createWhoamiServer(onToolCall: McpAppOptions['onToolCall']): McpServer {
  const server = new McpServer({ name: 'lime-example-mcp-server', version: '0.0.0' });
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
        server: 'express',
      };
      return { content: [{ type: 'text', text: JSON.stringify(answer) }] };
    },
  );
  return server;
}
