import { defineConfig } from 'tsup';

/**
 * The one build every published package uses: ESM + CJS + `.d.ts` for Node
 * ≥ 20. `platform: 'neutral'` for entries that must also load on edge
 * runtimes (they import nothing from `node:`).
 */
export function packageBuild(entry: string[], platform: 'node' | 'neutral') {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    target: 'node20',
    platform,
    sourcemap: true,
    clean: true,
    treeshake: true,
  });
}
