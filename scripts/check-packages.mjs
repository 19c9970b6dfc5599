#!/usr/bin/env node
// publint and @arethetypeswrong/cli on every published package: what users
// get from `npm install` must resolve for ESM, CommonJS and TypeScript.
// Expects `pnpm build` to have run.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const pkgs = readdirSync(join(root, 'packages')).filter((d) => {
  const pkg = JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8'));
  return !pkg.private;
});
let failed = 0;
for (const dir of pkgs) {
  const cwd = join(root, 'packages', dir);
  for (const [tool, args] of [
    ['publint', ['--strict']],
    ['attw', ['--pack', '.', '--profile', 'node16', '--format', 'table-flipped']],
  ]) {
    const bin = join(root, 'node_modules', '.bin', tool);
    const r = spawnSync(bin, args, { cwd, encoding: 'utf8' });
    const ok = r.status === 0;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${tool.padEnd(8)} ${dir}`);
    if (!ok) {
      failed++;
      console.log((r.stdout ?? '') + (r.stderr ?? ''));
    }
  }
}
if (failed) {
  console.error(`${failed} package check(s) failed`);
  process.exit(1);
}
