// docs/use-with-your-framework.md shows the recipes of src/ line for line, so
// the page cannot drift from the code the recipe tests run.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

const page = readFileSync(
  new URL('../../../docs/use-with-your-framework.md', import.meta.url),
  'utf8',
);
const blocks = [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

/** The lines between `// recipe:start` and `// recipe:end`, dedented. */
function recipe(file: string): string[] {
  const text = readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8');
  const body = /\/\/ recipe:start\n([\s\S]*?)\n\s*\/\/ recipe:end/.exec(text)?.[1] ?? '';
  return body.split('\n').map((l) => l.replace(/^ {2}/, ''));
}

it.each([
  ['mcp-sdk.ts', '@modelcontextprotocol/sdk/client/index.js'],
  ['ai-sdk.ts', '@ai-sdk/mcp'],
  ['openai-agents.ts', '@openai/agents'],
  ['langchain.ts', '@langchain/mcp-adapters'],
])('the page shows the recipe of src/%s', (file, pkg) => {
  const block = blocks.find((b) => b.includes(`from '${pkg}'`));
  expect(block, `a ts block importing ${pkg}`).toBeDefined();
  const lines = recipe(file);
  expect(lines.length).toBeGreaterThan(1);
  // The block is the source's imports of that package, a blank line, the recipe.
  expect(block!.trimEnd().split('\n').slice(-lines.length)).toEqual(lines);
  const source = readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8');
  for (const line of block!.split('\n').filter((l) => l.startsWith('import '))) {
    expect(source).toContain(line);
  }
});
