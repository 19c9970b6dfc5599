import type { LimeAgent } from 'lime-agents-sdk';
import { connectAiSdk } from './ai-sdk.js';
import { connectLangChain } from './langchain.js';
import { connectMcpSdk } from './mcp-sdk.js';
import { connectOpenAiAgents } from './openai-agents.js';
import type { Recipe } from './recipe.js';

/** Every recipe, in the order of docs/use-with-your-framework.md. */
export const RECIPES: Recipe[] = [
  connectMcpSdk,
  connectAiSdk,
  connectOpenAiAgents,
  connectLangChain,
];

/** Options of {@link runRecipes}. */
export interface RunRecipesOptions {
  agent: LimeAgent;
  /** The MCP server (with a `whoami` tool). */
  url: string;
  /** Wait this long between the two calls of each client, ms (past the token's lifetime). @default 0 */
  waitMs?: number;
  log?: (line: string) => void;
}

/**
 * Connect each framework's client, call `whoami`, wait, call again on the
 * same client: the second call runs on a renewed token when `waitMs`
 * exceeds the token lifetime. Resolves with each framework's two answers.
 *
 * @example
 * await runRecipes({ agent, url: 'http://localhost:3001/mcp', waitMs: 5_000 });
 */
export async function runRecipes(
  options: RunRecipesOptions,
): Promise<Array<{ framework: string; answers: [string, string] }>> {
  const log = options.log ?? (() => {});
  const clients = await Promise.all(RECIPES.map((connect) => connect(options.agent, options.url)));
  try {
    const first = await Promise.all(clients.map((c) => c.whoami()));
    for (const [i, c] of clients.entries()) log(`${c.framework}: ${first[i]}`);
    if (options.waitMs) {
      log(`waiting ${options.waitMs} ms, past the MCP token's lifetime…`);
      await new Promise((r) => setTimeout(r, options.waitMs));
    }
    const second = await Promise.all(clients.map((c) => c.whoami()));
    for (const [i, c] of clients.entries()) log(`${c.framework}, after the wait: ${second[i]}`);
    return clients.map((c, i) => ({ framework: c.framework, answers: [first[i]!, second[i]!] }));
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
  }
}
