/**
 * Install footprint and cold import of lime-agents-sdk (issue #12):
 * `pnpm bench:install`.
 *
 * What a login-only worker gets from npm: the package and its `@lime/wire`
 * dependency are packed with `pnpm pack` (as they would be published) and
 * installed with `npm install --omit=peer` into an empty project, so the
 * optional MCP SDK peer is left out. Prints the packages and bytes under
 * `node_modules`, the same with the MCP SDK added (for comparison), and the
 * cold import time — median of 5 fresh `node -e "import('lime-agents-sdk')"`
 * processes — next to bare Node (`node -e ""`), run alternately so that load
 * from other jobs hits both alike. Also checks that the MCP lane, used
 * without the MCP SDK, fails with `McpSdkMissingError`.
 * Targets: ≤ 5 MB installed; cold import ≤ 2× bare Node.
 *
 * Needs the npm registry (for `undici` and, in the comparison, the MCP SDK).
 * Before issue #12: 101 packages / 32 MB, import 455 ms vs 102 ms bare.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const RUNS = 5;
const MAX_BYTES = 5 * 1024 * 1024;
const MAX_IMPORT_RATIO = 2;

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Packages (directories with a package.json) and bytes (file sizes) under a node_modules. */
function footprint(nodeModules: string): { packages: number; bytes: number } {
  let packages = 0;
  let bytes = 0;
  /** Bytes of a package's files; its own node_modules is counted as packages. */
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isFile()) bytes += statSync(path).size;
      else if (entry.isDirectory() && entry.name !== 'node_modules') walk(path);
      else if (entry.isDirectory()) packagesIn(path);
    }
  };
  const packagesIn = (modules: string) => {
    for (const entry of readdirSync(modules, { withFileTypes: true })) {
      const path = join(modules, entry.name);
      // npm's .package-lock.json counts as bytes; .bin holds symlinks only.
      if (entry.isFile()) bytes += statSync(path).size;
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const dirs = entry.name.startsWith('@')
        ? readdirSync(path).map((scoped) => join(path, scoped))
        : [path];
      for (const dir of dirs) {
        if (existsSync(join(dir, 'package.json'))) packages++;
        walk(dir);
      }
    }
  };
  packagesIn(nodeModules);
  return { packages, bytes };
}

function install(dir: string, tarballs: string[], extra: string[]) {
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'lime-install-bench', private: true, version: '0.0.0' }),
  );
  run(
    'npm',
    [
      'install',
      '--omit=peer',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      ...tarballs,
      ...extra,
    ],
    dir,
  );
}

/** Wall time of one fresh `node -e <code>` in `cwd`, milliseconds. */
function nodeTime(code: string, cwd: string): number {
  const started = performance.now();
  const r = spawnSync(process.execPath, ['-e', code], { cwd, stdio: 'ignore' });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`node -e ${JSON.stringify(code)} exited ${r.status}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
const ms = (x: number) => `${x.toFixed(1)} ms`;
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

const work = mkdtempSync(join(tmpdir(), 'lime-install-bench-'));
try {
  run(
    'pnpm',
    ['-s', '--filter', '@lime/wire', '--filter', 'lime-agents-sdk', 'run', 'build'],
    root,
  );
  const tarballs = ['wire', 'agents-sdk'].map((pkg) => {
    const out = run('pnpm', ['pack', '--pack-destination', work], join(root, 'packages', pkg));
    return out.trim().split('\n').pop()!.trim();
  });

  const lean = join(work, 'lean');
  const full = join(work, 'with-mcp-sdk');
  for (const dir of [lean, full]) mkdirSync(dir);
  install(lean, tarballs, []);
  const mcpSdkRange = JSON.parse(
    readFileSync(join(root, 'packages/agents-sdk/package.json'), 'utf8'),
  ).peerDependencies['@modelcontextprotocol/sdk'] as string;
  install(full, tarballs, [`@modelcontextprotocol/sdk@${mcpSdkRange}`]);
  const leanSize = footprint(join(lean, 'node_modules'));
  const fullSize = footprint(join(full, 'node_modules'));

  const importCode = "import('lime-agents-sdk')";
  // One untimed run each: the first spawn also warms the OS file cache.
  nodeTime('', lean);
  nodeTime(importCode, lean);
  const bare: number[] = [];
  const imported: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    bare.push(nodeTime('', lean));
    imported.push(nodeTime(importCode, lean));
  }
  const ratio = median(imported) / median(bare);

  // The MCP lane without the MCP SDK: a typed error naming the package, before any I/O.
  const probe = spawnSync(
    process.execPath,
    [
      '-e',
      `import('lime-agents-sdk').then(async ({ LimeAgent }) => {
        const agent = new LimeAgent({ agentToken: 'at_bench', apiBase: 'http://localhost:9/api/v1' });
        try { await agent.mcp('http://localhost:9/mcp').listTools(); console.log('no error'); }
        catch (e) { console.log(e.name, e.packageName); }
        finally { await agent.close(); }
      })`,
    ],
    { cwd: lean, encoding: 'utf8' },
  );
  const missing =
    probe.stdout.trim() || `nothing (${probe.stderr.trim().split('\n').slice(-3).join(' / ')})`;

  console.log(
    `lime-agents-sdk install and import — Node ${process.version}, ${process.platform}/${process.arch}`,
  );
  console.log(
    '(pnpm pack of lime-agents-sdk and @lime/wire, npm install --omit=peer into an empty project)\n',
  );
  const rows: Array<[string, string]> = [
    ['installed size, no MCP SDK', mb(leanSize.bytes)],
    ['installed packages, no MCP SDK', `${leanSize.packages} packages`],
    ['installed size, with the MCP SDK', mb(fullSize.bytes)],
    ['installed packages, with the MCP SDK', `${fullSize.packages} packages`],
    ['cold import lime-agents-sdk', `${ms(median(imported))}  = ${ratio.toFixed(2)}× bare`],
    ['cold start, bare node baseline', ms(median(bare))],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
  console.log(`(median of ${RUNS} fresh processes each)`);
  console.log(`\nMCP lane without the MCP SDK raises ${missing}`);
  console.log('\ntargets:');
  console.log(`  installed size ≤ 5 MB:         ${verdict(leanSize.bytes <= MAX_BYTES)}`);
  console.log(`  cold import ≤ 2× bare Node:    ${verdict(ratio <= MAX_IMPORT_RATIO)}`);
  console.log(
    `  McpSdkMissingError without SDK: ${verdict(missing === 'McpSdkMissingError @modelcontextprotocol/sdk')}`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
