import { LimeAgent } from 'lime-agents-sdk';

// One agent per process: it keeps a keep-alive connection pool, a cache of
// MCP tokens (one per MCP server) and one MCP session per server.
const agent = new LimeAgent(); // reads LIME_AGENT_TOKEN (and LIME_API_BASE, default hosted)

/** The site gave us a login request id: prove who we are, then use a tool. */
export async function logInAndUseTool(loginRequestId: string, mcpServerUrl: string) {
  // Fetches the challenge, solves the proof of work on worker threads and
  // approves the request. The passport goes to the site, not to us.
  const { siteId } = await agent.login(loginRequestId, { signal: AbortSignal.timeout(30_000) });

  // Gets (and caches, and renews) an MCP token for this server's host, then
  // speaks MCP over streamable HTTP with `Authorization: Bearer …`.
  const tools = await agent.mcp(mcpServerUrl).listTools();
  const answer = await agent.mcp(mcpServerUrl).callTool('whoami', {});
  return { siteId, tools: tools.tools.map((t) => t.name), answer };
}

/** On shutdown: ends MCP sessions and releases connections. */
export async function shutdown() {
  await agent.close();
}
