// Recipe: the official MCP SDK client (`@modelcontextprotocol/sdk`).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { LimeAgent } from 'lime-agents-sdk';
import { type RecipeClient, textOf } from './recipe.js';

export async function connectMcpSdk(agent: LimeAgent, url: string): Promise<RecipeClient> {
  // recipe:start
  const auth = agent.mcpAuth(url);
  const client = new Client({ name: 'my-agent', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(auth.url, { fetch: auth.fetch }));
  // recipe:end
  return {
    framework: 'MCP SDK',
    whoami: async () => textOf(await client.callTool({ name: 'whoami', arguments: {} })),
    close: () => client.close(),
  };
}
