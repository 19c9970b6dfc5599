import { AuthenticationError, shutdownPowPool } from 'lime-agents-sdk';
import { type Core, startCore } from 'lime-core';
import { type McpServerHandle, startMcpServer } from 'lime-example-mcp-server';
import { type SiteBackend, startSiteBackend } from 'lime-example-site-backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentWorkerStep, runAgentWorker } from '../src/index.js';

let core: Core;
let backend: SiteBackend;
let mcp: McpServerHandle;
let agent: { agentId: string; agentToken: string; userId: string };

beforeAll(async () => {
  // Above the SDK's inline threshold, so the worker pool solves it.
  core = await startCore({ powDifficulty: 13 });
  const { siteToken } = await core.admin.createSite({ name: 'shop' });
  agent = await core.admin.createAgent({ displayName: 'worker' });
  backend = await startSiteBackend({ apiBase: core.apiBase, siteToken, loginTimeout: 10_000 });
  mcp = await startMcpServer({ apiBase: core.apiBase });
});

afterAll(async () => {
  await mcp?.close();
  await backend?.close();
  await core?.close();
  await shutdownPowPool(); // the proof-of-work worker threads
});

describe('example agent worker', () => {
  it('logs into the site, opens a session and calls whoami, reporting each step', async () => {
    const steps: AgentWorkerStep[] = [];
    const result = await runAgentWorker({
      apiBase: core.apiBase,
      agentToken: agent.agentToken,
      siteUrl: backend.url,
      mcpUrl: mcp.url,
      onStep: (s) => steps.push(s),
    });
    expect(result.session).toMatchObject({ agentId: agent.agentId, userId: agent.userId });
    expect(result.whoami).toMatchObject({ agentId: agent.agentId, scopes: ['mcp'] });
    expect(steps.map((s) => s.type)).toEqual([
      'login-requested',
      'login-approved',
      'session-opened',
      'tool-called',
    ]);
    for (const s of steps) expect(s.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('stops at the Core with a typed error when the agent token is wrong', async () => {
    await expect(
      runAgentWorker({
        apiBase: core.apiBase,
        agentToken: 'at_not_a_real_token',
        siteUrl: backend.url,
      }),
    ).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('cannot log in after its token is revoked', async () => {
    const other = await core.admin.createAgent({ displayName: 'revoked' });
    await core.admin.revokeAgentToken(other.agentId);
    await expect(
      runAgentWorker({ apiBase: core.apiBase, agentToken: other.agentToken, siteUrl: backend.url }),
    ).rejects.toMatchObject({ code: 'INVALID_AGENT_TOKEN' });
  });
});
