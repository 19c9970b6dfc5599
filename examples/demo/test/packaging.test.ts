// What users get from npm: pack every published package, install the
// tarballs into a scratch project outside the workspace with plain npm, and
// run the same small program once as ESM (.mjs) and once as CommonJS (.cjs):
// a Core starts, an agent logs in with a real (worker-pool) proof of work, the
// site receives and verifies the passport, the MCP verifier accepts a token.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures/packaging/', import.meta.url));
const PUBLISHED = ['wire', 'core', 'agents-sdk', 'sites-sdk', 'mcp-server-sdk'];
// The login's difficulty: non-zero, above the agents SDK's inline threshold (2^11 expected hashes).
const POW_DIFFICULTY = 14;

let scratch: string;

beforeAll(async () => {
  // scripts/test.sh builds before the tests; build here too when a dist is missing.
  if (PUBLISHED.some((p) => !existsSync(join(root, 'packages', p, 'dist', 'index.js')))) {
    await run('pnpm', ['-s', 'build'], { cwd: root, timeout: 240_000 });
  }
  scratch = await mkdtemp(join(tmpdir(), 'lime-packaging-'));
  const tarballs = join(scratch, 'tarballs');
  const app = join(scratch, 'app');
  await mkdir(tarballs);
  await mkdir(app);
  // pnpm pack rewrites `workspace:^` into real version ranges, as publishing does.
  for (const p of PUBLISHED) {
    await run('pnpm', ['pack', '--pack-destination', tarballs], {
      cwd: join(root, 'packages', p),
      timeout: 60_000,
    });
  }
  const files = (await readdir(tarballs)).filter((f) => f.endsWith('.tgz'));
  expect(files).toHaveLength(PUBLISHED.length);
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({ name: 'lime-packaging-scratch', private: true, version: '0.0.0' }),
  );
  // Installing every tarball at once lets @lime/wire (a dependency of the
  // others) come from its tarball, not the registry; third-party deps do.
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
      ...files.map((f) => join(tarballs, f)),
    ],
    { cwd: app, timeout: 150_000 },
  );
  for (const f of await readdir(fixtures)) await copyFile(join(fixtures, f), join(app, f));
}, 300_000);

it('installs one @lime/wire, from its tarball (never a registry package of that name)', async () => {
  const lock = JSON.parse(await readFile(join(scratch, 'app', 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { resolved?: string; version?: string }>;
  };
  const wires = Object.entries(lock.packages).filter(([path]) =>
    path.endsWith('node_modules/@lime/wire'),
  );
  expect(wires.map(([path]) => path)).toEqual(['node_modules/@lime/wire']);
  expect(wires[0]![1].resolved).toMatch(/^file:.*\.tgz$/);
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

for (const format of ['mjs', 'cjs'] as const) {
  it(`the installed tarballs work from ${format === 'mjs' ? 'ESM' : 'CommonJS'}`, async () => {
    const { stdout } = await run('node', [`check.${format}`], {
      cwd: join(scratch, 'app'),
      timeout: 60_000,
      env: { ...process.env, POW_DIFFICULTY: String(POW_DIFFICULTY) },
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(result).toMatchObject({
      format: format === 'mjs' ? 'esm' : 'cjs',
      workersSolved: true,
      passportAgentId: result.agentId,
      mcpAgentId: result.agentId,
    });
    expect(result.agentId).toMatch(/\S/);
  }, 60_000);
}
