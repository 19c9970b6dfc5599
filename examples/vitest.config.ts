import { configDefaults, defineConfig } from 'vitest/config';
import { projectConfig } from '../vitest.shared.js';

// One test project for every example: each example keeps its tests in
// `<example>/test/`, and the demo package also holds the end-to-end and
// packaging tests. `pnpm vitest run --project examples` runs them all, but
// site-next: a real Next.js build, in its own project (`--project site-next`).
const base = projectConfig('examples', { testTimeout: 60_000 });

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['*/test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'site-next/**'],
    hookTimeout: 120_000,
  },
});
