#!/usr/bin/env node
// Run a command with Node 24 first on PATH. Node 24 comes from the npm
// registry (the `node` package ships the binary) into .node24/, so CI and a
// fresh machine need nothing but npm. Usage: node scripts/with-node24.mjs vitest run
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prefix = join(root, '.node24');
const bin = join(prefix, 'node_modules', 'node', 'bin');

if (!existsSync(join(bin, 'node'))) {
  mkdirSync(prefix, { recursive: true });
  console.log('installing Node 24 from the npm registry into .node24/ …');
  execFileSync(
    'npm',
    ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', prefix, 'node@24'],
    {
      stdio: 'inherit',
    },
  );
}
const version = execFileSync(join(bin, 'node'), ['--version']).toString().trim();
console.log(`running with Node ${version}: ${process.argv.slice(2).join(' ')}`);
const localBin = join(root, 'node_modules', '.bin');
const env = { ...process.env, PATH: `${bin}:${localBin}:${process.env.PATH}` };
const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error('usage: node scripts/with-node24.mjs <command> [args…]');
  process.exit(2);
}
// Run the JS entry of local tools with the Node 24 binary explicitly: their
// shebang says `env node`, which PATH resolves to Node 24 as well.
const result = spawnSync(cmd, args, { stdio: 'inherit', env, cwd: root });
process.exit(result.status ?? 1);
