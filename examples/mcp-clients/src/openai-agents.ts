// Recipe: the OpenAI Agents SDK for JS (`@openai/agents`).
import { MCPServerStreamableHttp } from '@openai/agents';
import type { LimeAgent } from 'lime-agents-sdk';
import { type RecipeClient, textOf } from './recipe.js';

export async function connectOpenAiAgents(agent: LimeAgent, url: string): Promise<RecipeClient> {
  // recipe:start
  const auth = agent.mcpAuth(url);
  const server = new MCPServerStreamableHttp({ url: auth.url.href, fetch: auth.fetch });
  await server.connect(); // then new Agent({ mcpServers: [server], … })
  // recipe:end
  return {
    framework: 'OpenAI Agents',
    whoami: async () => textOf({ content: await server.callTool('whoami', {}) }),
    close: () => server.close(),
  };
}
