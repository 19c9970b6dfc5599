import { rmSync } from 'node:fs';
import { defineConfig, type Options } from 'tsup';

/** What a package ships besides its library entries. */
export interface PackageBuildExtras {
  /**
   * Entries built as ESM only, with no `.d.ts`: executables named in `bin`
   * (Node ≥ 20 runs ESM bins; nobody `require`s or type-checks a CLI).
   * They share chunks with the ESM library build instead of inlining it.
   * @default []
   */
  binEntries?: string[];
}

/**
 * The one build every published package uses: ESM + CJS + `.d.ts` for Node
 * ≥ 20. `platform: 'neutral'` for entries that must also load on edge
 * runtimes (they import nothing from `node:`).
 *
 * With `binEntries`, two builds run (tsup runs a config array in parallel):
 * ESM for every entry, CJS for the library entries only, so no unused
 * `cli.cjs` lands in the tarball. Neither may `clean` (one would delete the
 * other's output), so `dist/` is emptied here, once, when the config loads.
 */
export function packageBuild(
  entry: string[],
  platform: 'node' | 'neutral',
  { binEntries = [] }: PackageBuildExtras = {},
) {
  const base: Options = {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    target: 'node20',
    platform,
    sourcemap: true,
    clean: true,
    treeshake: true,
  };
  if (binEntries.length === 0) return defineConfig(base);
  rmSync(new URL('dist', `file://${process.cwd()}/`), { recursive: true, force: true });
  return defineConfig([
    { ...base, clean: false, entry: [...entry, ...binEntries], format: ['esm'], dts: { entry } },
    { ...base, clean: false, format: ['cjs'] },
  ]);
}
