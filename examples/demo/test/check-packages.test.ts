// `pnpm check:packages` must keep failing on each regression it exists for:
// a stray build output, a relative README link, missing registry metadata,
// a subpath without types under one resolution mode.
import { describe, expect, it } from 'vitest';
import {
  attwProblems,
  exportedSubpaths,
  manifestProblems,
  REPOSITORY,
  relativeLinks,
  unreachedFiles,
} from '../../../scripts/check-packages.lib.mjs';

const manifest = {
  name: 'lime-x',
  main: './dist/index.cjs',
  types: './dist/index.d.cts',
  exports: {
    '.': {
      import: { types: './dist/index.d.ts', default: './dist/index.js' },
      require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
    },
    './package.json': './package.json',
  },
  bin: { x: './dist/cli.js' },
};
const tarball = (extra: Record<string, string> = {}) => ({
  'package.json': JSON.stringify(manifest),
  'README.md': '# x',
  'CHANGELOG.md': '# changes',
  LICENSE: 'MIT',
  'dist/index.js': "export { a } from './chunk-AB.js';\n//# sourceMappingURL=index.js.map",
  'dist/index.js.map': '{}',
  'dist/chunk-AB.js': 'export const a = 1;',
  'dist/cli.js': "#!/usr/bin/env node\nimport { a } from './chunk-AB.js';",
  'dist/index.cjs': 'module.exports = require("./shared.cjs");',
  'dist/shared.cjs': '',
  'dist/index.d.ts': "export { A } from './types-Q1.js';",
  'dist/types-Q1.d.ts': 'export type A = 1;',
  'dist/index.d.cts': "import type { A } from './types-Q1.cjs';\nexport type { A };",
  'dist/types-Q1.d.cts': 'export type A = 1;',
  ...extra,
});

describe('unreachedFiles', () => {
  it('follows manifests, imports, requires, declaration imports and source maps', () => {
    expect(unreachedFiles(tarball())).toEqual({ unexpected: [], missing: [] });
  });

  it('flags an output nothing references (the old lime-core cli.cjs)', () => {
    const { unexpected } = unreachedFiles(
      tarball({ 'dist/cli.cjs': 'require("./chunk.cjs")', 'dist/cli.cjs.map': '{}' }),
    );
    expect(unexpected).toEqual(['dist/cli.cjs', 'dist/cli.cjs.map']);
  });

  it('reports a target the manifest or an import names but the tarball lacks', () => {
    const files = tarball();
    delete (files as Record<string, string>)['dist/chunk-AB.js'];
    expect(unreachedFiles(files).missing).toEqual([
      './chunk-AB.js (imported by dist/cli.js)',
      './chunk-AB.js (imported by dist/index.js)',
    ]);
  });

  it('counts a subpath stub directory (`express/package.json`) as a manifest', () => {
    const files = tarball({
      'express/package.json': JSON.stringify({ main: '../dist/express.cjs' }),
      'dist/express.cjs': '',
    });
    expect(unreachedFiles(files).unexpected).toEqual([]);
  });
});

describe('relativeLinks', () => {
  it('finds relative links and images, outside code fences only', () => {
    const md = [
      'See [the protocol](../../docs/protocol.md) and [changes](./CHANGELOG.md).',
      '![logo](logo.png) [ok](https://example.com/x) [anchor](#errors) [mail](mailto:a@b.c)',
      '```md',
      '[not a link](../in/code.md)',
      '```',
      '[ref]: ../docs/x.md',
    ].join('\n');
    expect(relativeLinks(md)).toEqual([
      'line 1: ../../docs/protocol.md',
      'line 1: ./CHANGELOG.md',
      'line 2: logo.png',
      'line 6: ../docs/x.md',
    ]);
  });
});

describe('manifestProblems', () => {
  const good = {
    license: 'MIT',
    repository: { type: 'git', url: `git+${REPOSITORY}.git`, directory: 'packages/x' },
    homepage: `${REPOSITORY}/tree/main/packages/x#readme`,
    bugs: { url: `${REPOSITORY}/issues` },
  };
  it('accepts complete registry metadata', () => {
    expect(manifestProblems(good, 'packages/x')).toEqual([]);
  });
  it('names each missing or wrong field', () => {
    const { repository: _r, bugs: _b, ...rest } = good;
    expect(manifestProblems(rest, 'packages/x')).toEqual([
      'repository is missing (expected { type, url, directory })',
      'bugs.url is undefined, expected "https://github.com/lime-pics/lime-ts/issues"',
    ]);
    expect(manifestProblems(good, 'packages/y')[0]).toMatch(/repository.directory/);
  });
});

describe('attwProblems', () => {
  const typed = { resolution: { isTypeScript: true } };
  const entry = {
    resolutions: { node10: typed, 'node16-cjs': typed, 'node16-esm': typed, bundler: typed },
  };
  it('passes when every subpath has types under all four modes', () => {
    const report = { analysis: { problems: [], entrypoints: { '.': entry, './express': entry } } };
    expect(attwProblems(report, ['.', './express'])).toEqual([]);
  });
  it('fails a subpath that lacks types under node10, or that attw never checked', () => {
    const node10Broken = { resolutions: { ...entry.resolutions, node10: {} } };
    const report = {
      analysis: {
        problems: [{ kind: 'NoResolution', entrypoint: './express', resolutionKind: 'node10' }],
        entrypoints: { '.': node10Broken },
      },
    };
    expect(attwProblems(report, ['.', './express'])).toEqual([
      'NoResolution in ./express (node10)',
      '.: no type declarations under node10',
      './express: not checked by attw',
    ]);
  });
  it('reads the code subpaths from exports', () => {
    expect(exportedSubpaths(manifest.exports)).toEqual(['.']);
    expect(exportedSubpaths('./index.js')).toEqual(['.']);
  });
});
