import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import type { LimeAuthInfo } from 'lime-mcp-server-sdk';
import { limeMcpAuth } from 'lime-mcp-server-sdk/express';
import { z } from 'zod';

/**
 * An MCP tool server that knows which agent calls it. `resource` is this
 * server's public MCP URL, e.g. `https://tools.example.com/mcp`; `baseUrl` is
 * the LIME Core (default: LIME_BASE_URL, else https://lime.pics).
 */
export function createToolServer(resource: string, baseUrl?: string) {
  const app = express();
  app.use(express.json());
  // Serves RFC 9728 metadata and requires a valid LIME bearer on /mcp:
  // signature, issuer, audience `mcp`, bound to this host, not expired.
  app.use(limeMcpAuth({ resource, ...(baseUrl ? { baseUrl } : {}) }));

  app.post('/mcp', async (req, res) => {
    const server = new McpServer({ name: 'my-tools', version: '1.0.0' });
    server.registerTool(
      'greet',
      { description: 'Greets the calling agent by its id', inputSchema: { greeting: z.string() } },
      ({ greeting }, extra) => {
        const auth = extra.authInfo as LimeAuthInfo; // set by limeMcpAuth
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
