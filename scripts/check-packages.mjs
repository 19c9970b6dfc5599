#!/usr/bin/env node
// What users get from `npm install`, checked on the packed tarball of every
// published package (`pnpm pack`, the same tarball `pnpm publish` uploads):
// - publint --strict;
// - attw, strict profile: types for every `exports` subpath under node10,
//   node16 (CJS and ESM) and bundler resolution;
// - LICENSE (the repository's), README.md and CHANGELOG.md are in it;
//   repository/homepage/bugs point at the repository;
// - README/CHANGELOG links are absolute (relative ones break on the registry);
// - every file is reached from the manifest (entries, imports, source maps):
//   no stray outputs such as a `cli.cjs` nothing runs.
// Prints packed and unpacked sizes. Expects `pnpm build` to have run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  attwProblems,
  exportedSubpaths,
  manifestProblems,
  REQUIRED_FILES,
  relativeLinks,
  unreachedFiles,
} from './check-packages.lib.mjs';

const root = new URL('..', import.meta.url).pathname;
const bin = (tool) => join(root, 'node_modules', '.bin', tool);
const license = readFileSync(join(root, 'LICENSE'), 'utf8');
const pkgs = readdirSync(join(root, 'packages')).filter((d) => {
  const pkg = JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8'));
  return !pkg.private;
});
const work = mkdtempSync(join(tmpdir(), 'lime-check-packages-'));
let failed = 0;
const sizes = [];

function report(ok, what, dir, details = []) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what.padEnd(9)} ${dir}`);
  if (!ok) {
    failed++;
    for (const d of details) console.log(`       ${d}`);
  }
}

function readTree(dir, rel = '') {
  const files = {};
  let bytes = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    const abs = join(dir, e.name);
    if (e.isDirectory()) {
      const sub = readTree(abs, r);
      Object.assign(files, sub.files);
      bytes += sub.bytes;
    } else {
      files[r] = readFileSync(abs, 'utf8');
      bytes += statSync(abs).size;
    }
  }
  return { files, bytes };
}

try {
  for (const dir of pkgs) {
    const cwd = join(root, 'packages', dir);
    const dest = join(work, dir);
    mkdirSync(dest);
    const pack = spawnSync('pnpm', ['pack', '--pack-destination', dest], { cwd, encoding: 'utf8' });
    const tgz = readdirSync(dest).find((f) => f.endsWith('.tgz'));
    if (pack.status !== 0 || !tgz) {
      report(false, 'pack', dir, [(pack.stdout ?? '') + (pack.stderr ?? '')]);
      continue;
    }
    const tarball = join(dest, tgz);
    spawnSync('tar', ['-xzf', tarball, '-C', dest]);
    const { files, bytes } = readTree(join(dest, 'package'));
    const manifest = JSON.parse(files['package.json']);
    sizes.push({
      name: manifest.name,
      packed: statSync(tarball).size,
      unpacked: bytes,
      files: Object.keys(files).length,
    });

    const lint = spawnSync(bin('publint'), ['run', tarball, '--strict'], { encoding: 'utf8' });
    report(lint.status === 0, 'publint', dir, [(lint.stdout ?? '') + (lint.stderr ?? '')]);

    const attw = spawnSync(bin('attw'), [tarball, '--profile', 'strict', '--format', 'json'], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    let attwIssues;
    try {
      attwIssues = attwProblems(JSON.parse(attw.stdout), exportedSubpaths(manifest.exports));
    } catch (e) {
      attwIssues = [`could not read attw's report: ${e.message}`, attw.stderr ?? ''];
    }
    report(attwIssues.length === 0, 'attw', dir, attwIssues);

    const contents = [
      ...REQUIRED_FILES.filter((f) => !(f in files)).map((f) => `${f} is not in the tarball`),
      ...('LICENSE' in files && files.LICENSE !== license
        ? ['LICENSE differs from the repository LICENSE']
        : []),
      ...manifestProblems(manifest, `packages/${dir}`),
      ...['README.md', 'CHANGELOG.md'].flatMap((doc) =>
        doc in files ? relativeLinks(files[doc]).map((l) => `${doc} relative link, ${l}`) : [],
      ),
    ];
    const { unexpected, missing } = unreachedFiles(files);
    contents.push(
      ...unexpected.map(
        (f) => `${f}: nothing references it (drop it from the build or from "files")`,
      ),
      ...missing.map((f) => `missing file: ${f}`),
    );
    report(contents.length === 0, 'contents', dir, contents);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const kB = (n) => `${(n / 1024).toFixed(1)} kB`;
console.log('\npackage                 packed    unpacked  files');
for (const s of sizes) {
  console.log(
    `${s.name.padEnd(22)} ${kB(s.packed).padStart(9)} ${kB(s.unpacked).padStart(10)}  ${s.files}`,
  );
}
if (failed) {
  console.error(`${failed} package check(s) failed`);
  process.exit(1);
}
