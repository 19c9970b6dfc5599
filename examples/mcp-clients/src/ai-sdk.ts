// Recipe: the Vercel AI SDK MCP client (`@ai-sdk/mcp`).
import { createMCPClient } from '@ai-sdk/mcp';
import type { LimeAgent } from 'lime-agents-sdk';
import { type RecipeClient, textOf } from './recipe.js';

export async function connectAiSdk(agent: LimeAgent, url: string): Promise<RecipeClient> {
  // recipe:start
  const auth = agent.mcpAuth(url);
  const client = await createMCPClient({
    transport: { type: 'http', url: auth.url.href, fetch: auth.fetch },
  });
  const tools = await client.tools(); // pass to generateText({ tools, … })
  // recipe:end
  const options = { toolCallId: 'recipe', messages: [] };
  return {
    framework: 'AI SDK',
    whoami: async () => textOf(await tools.whoami!.execute!({}, options)),
    close: () => client.close(),
  };
}
