// The built SDKs on Bun, Deno and workerd, as users get them: the probe
// (src/probe.ts, bundled without the packages) imports the packages' dist/ by name
// and runs on each runtime against a Core started here on Node; the Worker
// (src/worker.ts) is bundled with esbuild for workerd without nodejs_compat.
// The results go to .tmp/runtime-matrix.json and must match the support
// matrix in the root README (regenerate it with
// `node scripts/support-matrix.mjs --write`).
//
// Needs the runtimes of scripts/install-runtimes.sh (npm test installs them).
// LIME_RUNTIME_MATRIX=required fails when they are missing, =skip skips.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { LimeAgent } from 'lime-agents-sdk';
import { type Core, startCore } from 'lime-core';
import { LimeSite } from 'lime-sites-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type MatrixResults,
  RUNTIMES,
  readmeMatrix,
  renderMatrix,
} from '../../../scripts/support-matrix.mjs';
import type { ProbeConfig, ProbeResult } from '../src/probe-types.js';
import { runProcess } from './run-process.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const root = here('../../../');
const runtimesBin = `${root}.tmp/runtimes/bin`;
const outDir = here('../dist/');
const mode = process.env.LIME_RUNTIME_MATRIX ?? 'auto';
const installed = ['bun', 'deno', 'workerd'].every((b) => existsSync(`${runtimesBin}/${b}`));
const built = ['agents-sdk', 'sites-sdk', 'mcp-server-sdk', 'wire'].every((p) =>
  existsSync(`${root}packages/${p}/dist/index.js`),
);
const run = mode === 'required' || (mode !== 'skip' && installed && built);
const DIFFICULTIES = [15, 20, 24];

let core: Core;
let site: LimeSite;
let agent: LimeAgent;
let siteToken: string;
let agentToken: string;
let mcpToken: string;
const resource = 'https://tools.example.com/mcp';
const results: MatrixResults = { runtimes: {} };

/** A fresh passport (they live 60 s): an agent logs in on Node, the site receives it. */
async function freshConfig(difficulties: number[]): Promise<ProbeConfig> {
  await core.admin.setPowDifficulty(0);
  const { loginRequestId } = await site.createLoginRequest();
  const delivered = new Promise<string>((resolve) => {
    const off = site.onLogin((requestId, _passport, event) => {
      if (requestId !== loginRequestId || event.type !== 'login') return;
      off();
      resolve(event.passportJwt);
    });
  });
  await agent.login(loginRequestId);
  return {
    apiBase: core.apiBase,
    origin: core.url,
    adminToken: core.adminToken,
    siteToken,
    agentToken,
    mcpToken,
    resource,
    passport: await delivered,
    passportRequestId: loginRequestId,
    difficulties,
  };
}

function parseResults(stdout: string): ProbeResult[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ProbeResult);
}

async function version(bin: string, args: string[]): Promise<string> {
  const { stdout } = await runProcess(bin, args, 20_000);
  return (stdout.match(/\d+\.\d+\.\d+|\d{4}-\d{2}-\d{2}/) ?? ['?'])[0];
}

/** Record one runtime's results and assert every check passed (and none is missing). */
function record(
  runtime: keyof MatrixResults['runtimes'],
  runtimeVersion: string,
  got: ProbeResult[],
  expected: string[],
  log: string,
) {
  results.runtimes[runtime] = {
    version: runtimeVersion,
    checks: Object.fromEntries(got.map((r) => [r.check, r.ok])),
    ...(got.find((r) => r.check === 'pow-hash-rate' && r.ok)
      ? { hashRate: Number(got.find((r) => r.check === 'pow-hash-rate')!.detail) }
      : {}),
  };
  const failed = got.filter((r) => !r.ok).map((r) => `${r.check}: ${r.detail}`);
  const missing = expected.filter((c) => !got.some((r) => r.check === c));
  expect({ failed, missing, ...(failed.length || missing.length ? { log } : {}) }).toEqual({
    failed: [],
    missing: [],
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

describe.runIf(run)('runtime matrix: the built SDKs on Bun, Deno and workerd', () => {
  beforeAll(async () => {
    if (!installed) throw new Error('runtimes missing: run `bash scripts/install-runtimes.sh`');
    if (!built) throw new Error('packages not built: run `pnpm build`');
    mkdirSync(outDir, { recursive: true });
    // The probe: its own modules bundled, the packages left out, so it
    // imports their dist/ by name.
    await build({
      entryPoints: [here('../src/probe.ts')],
      outfile: `${outDir}probe.mjs`,
      bundle: true,
      external: ['lime-agents-sdk', 'lime-sites-sdk', 'lime-mcp-server-sdk'],
      format: 'esm',
      platform: 'neutral',
      target: 'es2022',
      logLevel: 'error',
    });
    // The Worker: one bundle, web standards only (no nodejs_compat).
    await build({
      entryPoints: [here('../src/worker.ts')],
      outfile: `${outDir}worker.js`,
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      conditions: ['workerd', 'worker', 'browser'],
      mainFields: ['browser', 'module', 'main'],
      target: 'es2022',
      logLevel: 'error',
    });
    core = await startCore({ powDifficulty: 0 });
    const created = await core.admin.createSite({ name: 'matrix' });
    siteToken = created.siteToken;
    const a = await core.admin.createAgent({ displayName: 'matrix agent' });
    agentToken = a.agentToken;
    site = new LimeSite({ apiBase: core.apiBase, siteToken });
    await site.connect();
    agent = new LimeAgent({ apiBase: core.apiBase, agentToken });
    const token = await fetch(`${core.apiBase}/modules/oauth/token`, {
      method: 'POST',
      headers: { 'x-agent-token': agentToken, 'content-type': 'application/json' },
      body: JSON.stringify({ domain: 'tools.example.com' }),
    });
    mcpToken = ((await token.json()) as { access_token: string }).access_token;
  }, 120_000);

  afterAll(async () => {
    await agent?.close();
    await site?.close();
    await core?.close();
  });

  const probeChecks = [
    'mcp-verify',
    'site-verify-passport',
    'site-close',
    'agent-close',
    ...DIFFICULTIES.map((d) => `login-d${d}`),
    'pow-hash-rate',
    'login-close',
  ];

  it('node (reference): the same probe, for the hash rate', async () => {
    const config = await freshConfig(DIFFICULTIES);
    const r = await runProcess(
      process.execPath,
      [`${outDir}probe.mjs`, JSON.stringify(config)],
      120_000,
    );
    record('node', process.versions.node, parseResults(r.stdout), probeChecks, r.stderr);
  }, 150_000);

  it('bun: verify, refuse, log in at difficulty 15/20/24 over the event stream, close', async () => {
    const bun = `${runtimesBin}/bun`;
    const config = await freshConfig(DIFFICULTIES);
    const r = await runProcess(bun, [`${outDir}probe.mjs`, JSON.stringify(config)], 120_000);
    record('bun', await version(bun, ['--version']), parseResults(r.stdout), probeChecks, r.stderr);
  }, 150_000);

  it('deno: verify, refuse, log in at difficulty 15/20/24 over the event stream, close', async () => {
    const deno = `${runtimesBin}/deno`;
    const config = await freshConfig(DIFFICULTIES);
    const r = await runProcess(
      deno,
      ['run', '-A', '--no-lock', `${outDir}probe.mjs`, JSON.stringify(config)],
      120_000,
      { DENO_DIR: `${root}.tmp/runtimes/deno-dir`, DENO_NO_UPDATE_CHECK: '1' },
    );
    record(
      'deno',
      await version(deno, ['--version']),
      parseResults(r.stdout),
      probeChecks,
      r.stderr,
    );
  }, 150_000);

  it('workerd: a Worker bundle (no nodejs_compat) verifies MCP bearers and passports', async () => {
    const workerd = `${runtimesBin}/workerd`;
    const port = await freePort();
    writeFileSync(
      `${outDir}workerd.capnp`,
      `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "net", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2026-11-01",
  globalOutbound = "net",
);
`,
    );
    const child: ChildProcess = spawn(workerd, ['serve', `${outDir}workerd.capnp`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout?.on('data', (d) => (log += d));
    child.stderr?.on('data', (d) => (log += d));
    try {
      let answer: Response | undefined;
      const config = await freshConfig([]);
      for (let i = 0; i < 100 && !answer; i++) {
        answer = await fetch(`http://127.0.0.1:${port}/`, {
          method: 'POST',
          body: JSON.stringify(config),
        }).catch(() => new Promise<undefined>((r) => setTimeout(r, 100)));
      }
      expect(answer?.status, log).toBe(200);
      const got = (await answer!.json()) as ProbeResult[];
      record(
        'workerd',
        await version(workerd, ['--version']),
        got,
        ['mcp-verify', 'site-verify-passport', 'site-close'],
        log,
      );
    } finally {
      child.kill();
    }
  }, 60_000);

  it('the support matrix in the README is what ran here', () => {
    mkdirSync(`${root}.tmp`, { recursive: true });
    writeFileSync(`${root}.tmp/runtime-matrix.json`, `${JSON.stringify(results, null, 2)}\n`);
    expect(Object.keys(results.runtimes).sort()).toEqual([...RUNTIMES].sort());
    const readme = readFileSync(`${root}README.md`, 'utf8');
    expect(readmeMatrix(readme), 'regenerate with `node scripts/support-matrix.mjs --write`').toBe(
      renderMatrix(results),
    );
  });
});
