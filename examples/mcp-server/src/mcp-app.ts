import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import type { LimeAuthInfo, LimeMcpVerifier } from 'lime-mcp-server-sdk';
import { limeMcpAuth } from 'lime-mcp-server-sdk/express';

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
 * - `POST /mcp`: MCP, LIME bearer required (`limeMcpAuth` runs the MCP SDK's
 *   `requireBearerAuth` with a LIME verifier and sets `req.auth`, which the
 *   transport hands to tools as `extra.authInfo`)
 * - `GET /.well-known/oauth-protected-resource/mcp`: RFC 9728 metadata naming
 *   the LIME Core as authorization server
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
  app.use(express.json());
  app.use(limeMcpAuth({ resource, verifier, resourceName: 'LIME example MCP server' }));

  app.post(path, async (req, res) => {
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
  app.get(path, notAllowed);
  app.delete(path, notAllowed);
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
