// Recipe: LangChain.js MCP adapters (`@langchain/mcp-adapters`).
import { MultiServerMCPClient } from '@langchain/mcp-adapters';
import type { LimeAgent } from 'lime-agents-sdk';
import { type RecipeClient, textOf } from './recipe.js';

export async function connectLangChain(agent: LimeAgent, url: string): Promise<RecipeClient> {
  // recipe:start
  const auth = agent.mcpAuth(url);
  const client = new MultiServerMCPClient({
    mcpServers: { tools: { url: auth.url.href, authProvider: auth.authProvider } },
  });
  const tools = await client.getTools(); // pass to createAgent({ tools, … })
  // recipe:end
  const whoami = tools.find((t) => t.name.endsWith('whoami'));
  if (!whoami) throw new Error(`no whoami tool among ${tools.map((t) => t.name).join(', ')}`);
  return {
    framework: 'LangChain',
    whoami: async () => {
      const out: unknown = await whoami.invoke({});
      return typeof out === 'string' ? out : textOf(out);
    },
    close: () => client.close(),
  };
}
