import { defineConfig } from 'vitest/config';
import { projectConfig } from '../../vitest.shared.js';

// Its own project, apart from `examples`: it runs a real `next build` (about
// 20 s on two cores) and Next servers. `pnpm vitest run --project site-next`.
const base = projectConfig('site-next', { testTimeout: 60_000 });

export default defineConfig({
  ...base,
  test: { ...base.test, hookTimeout: 240_000 },
});
