// Every package README's first screen must run on every supported Node, not
// only in vitest (whose transpiler lowers syntax that Node 20 and 22 cannot
// parse, such as `await using`). Each first ts block is stripped of types
// only (target ESNext, syntax kept as written) and checked by Node 20 and 24;
// this package's first screen is also run against a Core on both. Uses the
// built package (`pnpm build`), as a user would.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Core, startCore } from 'lime-core';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoginRequest, requestStatus } from './helpers/core.js';

const run = promisify(execFile);
const root = new URL('../../../', import.meta.url).pathname;
const pkgDir = new URL('../', import.meta.url).pathname;
// Inside this package, so that `import 'lime-agents-sdk'` resolves to itself (its build).
const tmp = join(pkgDir, '.tmp', 'readme-first-screens');

const firstScreen = (readme: string) => /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
const toMjs = (code: string) =>
  ts.transpileModule(code, {
    compilerOptions: { target: ts.ScriptTarget.ESNext, module: ts.ModuleKind.ESNext },
  }).outputText;

/** `node` for Node 20 (this process) and Node 24 (scripts/with-node24.mjs). */
const nodes: Array<[string, (args: string[], env?: NodeJS.ProcessEnv) => Promise<string>]> = [
  [
    `Node ${process.versions.node.split('.')[0]}`,
    async (args, env) => (await run(process.execPath, args, { env, cwd: tmp })).stdout,
  ],
  [
    'Node 24',
    async (args, env) =>
      (
        await run(process.execPath, [join(root, 'scripts/with-node24.mjs'), 'node', ...args], {
          env,
          cwd: tmp,
          timeout: 120_000,
        })
      ).stdout,
  ],
];

const readmes = readdirSync(join(root, 'packages'))
  .map((dir) => [dir, join(root, 'packages', dir, 'README.md')] as const)
  .filter(([, file]) => existsSync(file))
  .map(([dir, file]) => [dir, firstScreen(readFileSync(file, 'utf8'))] as const)
  .filter((entry): entry is readonly [string, string] => entry[1] !== undefined);

let core: Core;

beforeAll(async () => {
  mkdirSync(tmp, { recursive: true });
  core = await startCore({ powDifficulty: 8 });
}, 120_000);

afterAll(async () => {
  await core?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe.each(nodes)('%s', (_name, node) => {
  it.each(readmes)(
    'parses the first screen of packages/%s/README.md',
    async (dir, code) => {
      const file = join(tmp, `${dir}-first-screen.mjs`);
      writeFileSync(file, toMjs(code));
      await expect(node(['--check', file])).resolves.toBeDefined();
    },
    120_000,
  );

  it('runs the lime-agents-sdk first screen: a real login, then close()', async () => {
    const code = readmes.find(([dir]) => dir === 'agents-sdk')?.[1];
    expect(code).toContain('agent.login(requestId)');
    expect(code).not.toContain('await using');
    const file = join(tmp, 'agents-sdk-run.mjs');
    writeFileSync(file, toMjs(code!));
    const { siteToken } = await core.admin.createSite({});
    const { agentToken } = await core.admin.createAgent({});
    const id = await createLoginRequest(core, siteToken);
    const out = await node([file, id], {
      ...process.env,
      LIME_AGENT_TOKEN: agentToken,
      LIME_API_BASE: core.apiBase,
    });
    expect(out).toMatch(/approved for site site_\S+ until \d{4}-/);
    expect(await requestStatus(core, id)).toMatch(/APPROVED|DELIVERED/);
  }, 120_000);
});
