// `pnpm --filter lime-example-mcp-clients start`: the four framework recipes,
// each calling `whoami` twice on one long-lived client with a token expiry in
// between. With MCP_URL (and LIME_AGENT_TOKEN, LIME_API_BASE) it uses your
// MCP server and Core; without, it starts a Core issuing 4-second MCP tokens
// and the example MCP server (verifier leeway 0) in this process.
import { LimeAgent } from 'lime-agents-sdk';
import { startCore } from 'lime-core';
import { runRecipes } from './run-recipes.js';

const log = (line: string) => console.log(line);
const mcpUrl = process.env.MCP_URL;

if (mcpUrl) {
  const agent = new LimeAgent();
  try {
    await runRecipes({ agent, url: mcpUrl, log });
  } finally {
    await agent.close();
  }
} else {
  process.env.LIME_JWT_VERIFY_LEEWAY_SECONDS = '0'; // expired means refused, at once
  const { startMcpServer } = await import('lime-example-mcp-server');
  const core = await startCore({ mcpTokenTtlSeconds: 4, powDifficulty: 0 });
  const mcp = await startMcpServer({ apiBase: core.apiBase });
  const { agentToken } = await core.admin.createAgent({ displayName: 'recipes bot' });
  const agent = new LimeAgent({ agentToken, apiBase: core.apiBase });
  try {
    await runRecipes({ agent, url: mcp.url, waitMs: 5_000, log });
  } finally {
    await agent.close();
    await mcp.close();
    await core.close();
  }
}
