// The list of test projects: one per package (each has its own vitest.config.ts
// naming the project). vitest >= 4 no longer reads this file by itself, so the
// root vitest.config.ts imports it as `test.projects`. Run one project with
// `pnpm vitest run --project core`.
export default [
  'packages/wire',
  'packages/core',
  'packages/agents-sdk',
  'packages/sites-sdk',
  'packages/mcp-server-sdk',
  'examples',
  'examples/site-next',
];
