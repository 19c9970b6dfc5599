// The SDKs bundled into an app on Node, where the bundle cannot load undici:
// what a Next.js app gets when Next bundles the SDKs and the app does not
// depend on undici itself (a strict pnpm install). The bundle runs from a
// folder outside the repo, so nothing resolves undici for it, unless the test
// links it there. Either way the login completes; without undici each SDK
// says once, as a process warning, what it lost and how to get it back.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Core, startCore } from 'lime-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess } from './run-process.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
let core: Core;
let config: string;
let dir: string;

beforeAll(async () => {
  core = await startCore({ powDifficulty: 0 });
  const { siteToken } = await core.admin.createSite({ name: 'bundled' });
  const { agentToken } = await core.admin.createAgent({ displayName: 'bundled agent' });
  config = JSON.stringify({ apiBase: core.apiBase, siteToken, agentToken });
  dir = mkdtempSync(join(tmpdir(), 'lime-bundled-'));
  // Everything in one file but undici, which the SDKs load when the first
  // request goes out: left for the runtime to find from the bundle's folder.
  await build({
    entryPoints: [here('../src/bundled-app.ts')],
    outfile: join(dir, 'app', 'server.mjs'),
    bundle: true,
    external: ['undici'],
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'error',
  });
}, 60_000);

afterAll(async () => {
  await core?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Run the bundled app from its folder outside the repo. */
const runApp = () =>
  runProcess(process.execPath, [join(dir, 'app', 'server.mjs'), config], 60_000, {}, dir);

const warningsOf = (stderr: string) => stderr.match(/\(node:\d+\) \[LIME_NO_UNDICI\][^\n]*/g) ?? [];

describe('the SDKs bundled into an app on Node', () => {
  it('without undici where the bundle runs: the login completes, and each SDK warns once', async () => {
    const r = await runApp();
    expect(r.stderr).not.toMatch(/Cannot find package/);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim()).agentId).toMatch(/\S/);
    const warnings = warningsOf(r.stderr);
    expect(warnings, r.stderr).toHaveLength(2);
    expect(warnings.some((w) => w.includes('lime-sites-sdk'))).toBe(true);
    expect(warnings.some((w) => w.includes('lime-agents-sdk'))).toBe(true);
    // It names the fix, and nothing of the request: no token, no URL.
    for (const w of warnings) {
      expect(w).toMatch(/serverExternalPackages/);
      expect(w).not.toMatch(/st_|at_|http/);
    }
  });

  it('with undici where the bundle runs: no warning', async () => {
    const modules = join(dir, 'node_modules');
    mkdirSync(modules, { recursive: true });
    symlinkSync(here('../../../node_modules/undici'), join(modules, 'undici'), 'dir');
    const r = await runApp();
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim()).agentId).toMatch(/\S/);
    expect(warningsOf(r.stderr)).toEqual([]);
  });
});
