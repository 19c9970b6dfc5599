import type { LimeAgent } from 'lime-agents-sdk';

/** What each recipe hands back: one long-lived client of an MCP server. */
export interface RecipeClient {
  /** The framework's name, for logs. */
  framework: string;
  /** Call the server's `whoami` tool; resolves with the text it answered. */
  whoami(): Promise<string>;
  close(): Promise<void>;
}

/** A recipe: connect one framework's MCP client to `url` with the agent's LIME auth. */
export type Recipe = (agent: LimeAgent, url: string) => Promise<RecipeClient>;

/** The text of an MCP tool result (`content[0].text`), or a JSON dump of it. */
export function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content;
  const first = Array.isArray(content) ? content[0] : undefined;
  return first?.type === 'text' && typeof first.text === 'string'
    ? first.text
    : JSON.stringify(result);
}
