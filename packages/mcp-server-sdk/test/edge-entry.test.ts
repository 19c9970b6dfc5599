// The BUILT root entry must run on edge runtimes: no `node:` imports, no
// `require`, no express. We bundle dist/index.js the way an edge deploy does
// (esbuild, platform neutral, @lime/wire included) and run it in a `node:vm`
// context that has only web-standard globals — no process, Buffer, require.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { type Core, startCore } from 'lime-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintMcpToken } from './helpers.js';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const wireSrc = fileURLToPath(new URL('../../wire/src', import.meta.url));
const dist = join(pkgDir, 'dist');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Build with the package's own build unless dist is newer than every source. */
function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync(join(dist, 'index.js')).mtimeMs;
  } catch {
    built = 0;
  }
  if (built > newestMtime(join(pkgDir, 'src'))) return;
  execFileSync('pnpm', ['--filter', 'lime-mcp-server-sdk', 'build'], {
    cwd: pkgDir,
    stdio: 'pipe',
    timeout: 180_000,
  });
}

const NODE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)["']node:/;
const REQUIRE_CALL = /\brequire\s*\(/;
const STATIC_SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"']+)["']/g;

let core: Core;
let bundle: string;

beforeAll(async () => {
  ensureBuilt();
  core = await startCore({ powDifficulty: 0 });
  const tsup = createRequire(import.meta.url).resolve('tsup');
  // esbuild is tsup's own bundler (not a direct dependency), so type just what we use.
  const esbuild = createRequire(tsup)('esbuild') as {
    build(options: Record<string, unknown>): Promise<{ outputFiles: Array<{ text: string }> }>;
  };
  const result = await esbuild.build({
    entryPoints: [join(dist, 'index.js')],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'LimeMcp',
    platform: 'neutral',
    target: 'es2022',
    alias: { '@lime/wire': join(wireSrc, 'index.ts') },
    logLevel: 'silent',
  });
  bundle = result.outputFiles[0]!.text;
}, 200_000);

afterAll(async () => {
  await core?.close();
});

describe('the built root entry on an edge-like runtime', () => {
  it('dist/index.js and its chunks import only relative files and @lime/wire', () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const code = readFileSync(join(dist, file), 'utf8');
      expect(code).not.toMatch(NODE_IMPORT);
      expect(code).not.toMatch(REQUIRE_CALL);
      for (const [, spec] of code.matchAll(STATIC_SPECIFIER)) {
        if (spec!.startsWith('./')) visit(spec!.slice(2));
        else expect(spec).toBe('@lime/wire');
      }
    };
    visit('index.js');
    expect(seen.size).toBeGreaterThanOrEqual(1);
  });

  it('the bundle with @lime/wire has no node: import and no require', () => {
    expect(bundle.length).toBeGreaterThan(1000);
    expect(bundle).not.toMatch(NODE_IMPORT);
    expect(bundle).not.toMatch(REQUIRE_CALL);
    expect(bundle).not.toMatch(/express/);
  });

  it('verifies a real Core token in a context with only web-standard globals (WebCrypto path)', async () => {
    const g = globalThis;
    const context = vm.createContext({
      fetch: g.fetch,
      Request: g.Request,
      Response: g.Response,
      Headers: g.Headers,
      URL: g.URL,
      URLSearchParams: g.URLSearchParams,
      TextEncoder: g.TextEncoder,
      TextDecoder: g.TextDecoder,
      crypto: g.crypto,
      AbortController: g.AbortController,
      AbortSignal: g.AbortSignal,
      ReadableStream: g.ReadableStream,
      setTimeout: g.setTimeout,
      clearTimeout: g.clearTimeout,
      queueMicrotask: g.queueMicrotask,
      structuredClone: g.structuredClone,
      atob: g.atob,
      btoa: g.btoa,
      console: g.console,
    });
    expect(vm.runInContext('typeof process + typeof require + typeof Buffer', context)).toBe(
      'undefinedundefinedundefined',
    );
    const mod = vm.runInContext(
      `${bundle}\n;LimeMcp`,
      context,
    ) as typeof import('lime-mcp-server-sdk');
    const verifier = new mod.LimeMcpVerifier({ baseUrl: core.url, expectedDomain: 'localhost' });
    expect(verifier.cryptoBackend).toBe('webcrypto');
    const { agentId, agentToken } = await core.admin.createAgent({ displayName: 'edge' });
    const token = await mintMcpToken(core, agentToken, { domain: 'localhost' });
    const result = await verifier.verify(token);
    expect(result.valid && result.agentId).toBe(agentId);
    const [h, p] = token.split('.');
    const tampered = await verifier.verify(`${h}.${p}.${'A'.repeat(342)}`);
    expect(tampered.valid ? 'valid' : tampered.reason).toBe('bad_signature');
    // the web handler works there too
    const auth = mod.createWebBearerAuth({ verifier });
    const denied = await auth(new Request('https://x.example/mcp'));
    expect(denied instanceof g.Response && denied.status).toBe(401);
  });
});
