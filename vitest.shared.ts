import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));
const src = (p: string) => `${root}packages/${p}`;

/**
 * Tests import the packages by name (as users do) but run against their
 * TypeScript sources, so no build is needed before `vitest`. The packaging
 * test (examples/) is what checks the built tarballs.
 */
export const sourceAliases = [
  { find: /^@lime\/wire$/, replacement: src('wire/src/index.ts') },
  { find: /^@lime\/wire\/(.+)$/, replacement: src('wire/src/$1.ts') },
  { find: /^lime-core$/, replacement: src('core/src/index.ts') },
  { find: /^lime-agents-sdk$/, replacement: src('agents-sdk/src/index.ts') },
  { find: /^lime-agents-sdk\/(.+)$/, replacement: src('agents-sdk/src/$1.ts') },
  { find: /^lime-sites-sdk$/, replacement: src('sites-sdk/src/index.ts') },
  { find: /^lime-sites-sdk\/(.+)$/, replacement: src('sites-sdk/src/$1.ts') },
  { find: /^lime-mcp-server-sdk$/, replacement: src('mcp-server-sdk/src/index.ts') },
  { find: /^lime-mcp-server-sdk\/(.+)$/, replacement: src('mcp-server-sdk/src/$1.ts') },
];

/** Per-project config: `name` is what `--project` selects. */
export function projectConfig(name: string, extra: { testTimeout?: number } = {}) {
  return defineConfig({
    resolve: { alias: sourceAliases },
    test: {
      name,
      include: ['test/**/*.test.ts'],
      environment: 'node',
      testTimeout: extra.testTimeout ?? 20_000,
      hookTimeout: 20_000,
    },
  });
}
