// The four framework recipes, importable by the tests and docs/use-with-your-framework.md.
export { connectAiSdk } from './ai-sdk.js';
export { connectLangChain } from './langchain.js';
export { connectMcpSdk } from './mcp-sdk.js';
export { connectOpenAiAgents } from './openai-agents.js';
export type { Recipe, RecipeClient } from './recipe.js';
export { textOf } from './recipe.js';
export { runRecipes } from './run-recipes.js';
