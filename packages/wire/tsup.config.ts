import { defineConfig } from 'tsup';

// One entry on purpose: every SDK imports the same module instance, so
// `instanceof LimeError` holds across the HTTP client, the JWT verifier and
// the SDK's own error classes.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  target: 'node20',
  platform: 'neutral',
  sourcemap: true,
  clean: true,
  treeshake: true,
});
