import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import { type LimeAuthInfo, LimeMcpVerifier } from 'lime-mcp-server-sdk';
import { limeAuthMetadataRouter, limeBearerAuth } from 'lime-mcp-server-sdk/express';
import { z } from 'zod';

/**
 * An MCP tool server that knows which agent calls it. `resource` is this
 * server's public MCP URL, e.g. `https://tools.example.com/mcp`; `baseUrl` is
 * the LIME Core (default: LIME_BASE_URL, else https://lime.pics).
 */
export function createToolServer(resource: string, baseUrl?: string): express.Express {
  const verifier = new LimeMcpVerifier({ resource, ...(baseUrl ? { baseUrl } : {}) });
  const app = express();
  // RFC 9728 metadata naming the LIME Core (it guards nothing).
  app.use(limeAuthMetadataRouter({ verifier }));
  // The guard sits on the route: whatever express routes here needs a valid
  // LIME bearer — signature, issuer, audience `mcp`, bound to this host, not expired.
  app.post('/mcp', limeBearerAuth({ verifier }), express.json(), async (req, res) => {
    const server = new McpServer({ name: 'my-tools', version: '1.0.0' });
    server.registerTool(
      'greet',
      { description: 'Greets the calling agent by its id', inputSchema: { greeting: z.string() } },
      ({ greeting }, extra) => {
        const auth = extra.authInfo as LimeAuthInfo; // set by limeBearerAuth
        return { content: [{ type: 'text', text: `${greeting}, ${auth.extra.agentId}` }] };
      },
    );
    // Stateless: one server and transport per request.
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => void transport.close());
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  return app;
}
