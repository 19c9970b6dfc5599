// The README's code runs as written (against the reference Core and a real
// MCP server), so the first screen cannot rot.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shutdownPowPool } from 'lime-agents-sdk';
import { type Core, startCore } from 'lime-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLoginRequest, requestStatus } from './helpers/core.js';
import { type McpTestServer, startMcpTestServer } from './helpers/mcp-test-server.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

let core: Core;
let mcp: McpTestServer;
const files: string[] = [];

beforeAll(async () => {
  core = await startCore({ powDifficulty: 8 });
  mcp = await startMcpTestServer({ apiBase: core.apiBase, issuer: core.issuer });
});

afterAll(async () => {
  vi.unstubAllEnvs();
  for (const f of files) rmSync(f, { force: true });
  await mcp.close();
  await core.close();
  await shutdownPowPool();
});

/** Run a README block as an ES module; returns what it logged. */
async function run(code: string): Promise<unknown[][]> {
  const file = join(tmpdir(), `lime-readme-${process.pid}-${files.length}.ts`);
  files.push(file);
  writeFileSync(file, code);
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    await import(/* @vite-ignore */ file);
    return log.mock.calls;
  } finally {
    log.mockRestore();
  }
}

describe('README', () => {
  it('has the login quick start first and the MCP quick start second', () => {
    expect(blocks[0]).toContain('agent.login(requestId)');
    expect(blocks[1]).toContain("agent.mcp('https://tools.example.com/mcp')");
  });

  it('the login quick start approves a real request (difficulty 8)', async () => {
    const { siteToken } = await core.admin.createSite({});
    const { agentToken } = await core.admin.createAgent({});
    const id = await createLoginRequest(core, siteToken);
    vi.stubEnv('LIME_AGENT_TOKEN', agentToken);
    vi.stubEnv('LIME_API_BASE', core.apiBase);
    const argv = process.argv;
    process.argv = [argv[0]!, 'worker.js', id];
    try {
      const logged = await run(blocks[0]!);
      expect(String(logged[0]?.[0])).toMatch(/^approved for site site_\S+ until \d{4}-/);
    } finally {
      process.argv = argv;
    }
    expect(await requestStatus(core, id)).toMatch(/APPROVED|DELIVERED/);
  });

  it('the MCP quick start lists tools and calls one', async () => {
    const { agentToken } = await core.admin.createAgent({});
    vi.stubEnv('LIME_AGENT_TOKEN', agentToken);
    vi.stubEnv('LIME_API_BASE', core.apiBase);
    const deletes = mcp.stats.deletes;
    const logged = await run(blocks[1]!.replace('https://tools.example.com/mcp', mcp.url));
    expect(logged[0]?.[0]).toEqual(expect.arrayContaining(['echo']));
    expect(logged[0]?.[1]).toEqual([{ type: 'text', text: 'hello' }]);
    // `await using` closed the agent: the session was ended.
    expect(mcp.stats.deletes).toBe(deletes + 1);
  });
});
