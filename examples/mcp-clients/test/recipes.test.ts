// Each framework recipe keeps one client across an MCP token expiry: the Core
// issues 4-second tokens, the example MCP server refuses expired ones at once
// (leeway 0), and the clock is moved past the expiry between two calls.
import { decodeJwt } from 'jose';
import { LimeAgent } from 'lime-agents-sdk';
import { type Core, startCore } from 'lime-core';
import { type McpServerHandle, startMcpServer } from 'lime-example-mcp-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  connectAiSdk,
  connectLangChain,
  connectMcpSdk,
  connectOpenAiAgents,
  type Recipe,
} from '../src/index.js';

const TTL_SECONDS = 4;
let core: Core;
let mcp: McpServerHandle;

beforeAll(async () => {
  // Date only, moving with real time: the Core, the verifier and the agents
  // read this clock from the start, so expireTokens() moves all of them.
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  vi.stubEnv('LIME_JWT_VERIFY_LEEWAY_SECONDS', '0');
  core = await startCore({ mcpTokenTtlSeconds: TTL_SECONDS, powDifficulty: 0 });
  mcp = await startMcpServer({ apiBase: core.apiBase });
});

afterAll(async () => {
  await mcp?.close();
  await core?.close();
  vi.unstubAllEnvs();
  vi.useRealTimers();
});

/** Move every clock in this process (Core, verifier, agent) past the token's expiry. */
function expireTokens() {
  vi.setSystemTime(Date.now() + (TTL_SECONDS + 1) * 1000);
}

async function newAgent() {
  const created = await core.admin.createAgent({ displayName: 'recipe bot' });
  const tokens: string[] = [];
  const agent = new LimeAgent({
    agentToken: created.agentToken,
    apiBase: core.apiBase,
    fetch: async (input, init) => {
      const res = await fetch(input, init);
      if (String(input instanceof Request ? input.url : input).endsWith('/modules/oauth/token')) {
        tokens.push(((await res.clone().json()) as { access_token: string }).access_token);
      }
      return res;
    },
  });
  return { agent, agentId: created.agentId, tokens };
}

const recipes: Array<[string, Recipe]> = [
  ['official MCP SDK client', connectMcpSdk],
  ['Vercel AI SDK (@ai-sdk/mcp)', connectAiSdk],
  ['OpenAI Agents SDK (MCPServerStreamableHttp)', connectOpenAiAgents],
  ['LangChain.js MCP adapters', connectLangChain],
];

describe.each(recipes)('%s', (_name, connect) => {
  it('calls a tool, and calls it again on the same client after the token expired', async () => {
    const { agent, agentId, tokens } = await newAgent();
    const client = await connect(agent, mcp.url);
    try {
      expect(JSON.parse(await client.whoami())).toMatchObject({ agentId });
      expect(tokens).toHaveLength(1);
      const firstExp = decodeJwt(tokens[0]!).exp!;
      expireTokens();
      expect(Date.now() / 1000).toBeGreaterThan(firstExp);
      expect(JSON.parse(await client.whoami())).toMatchObject({ agentId });
      expect(tokens).toHaveLength(2); // renewed once, not per request
    } finally {
      await client.close();
      await agent.close();
    }
  });
});

describe('control: what the recipes replace', () => {
  it('a static bearer stops working once the token expires', async () => {
    const { agent, agentId } = await newAgent();
    const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
    const { StreamableHTTPClientTransport } = await import(
      '@modelcontextprotocol/sdk/client/streamableHttp.js'
    );
    const { accessToken } = await agent.getMcpAccessToken(mcp.url);
    const client = new Client({ name: 'static', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(mcp.url), {
        requestInit: { headers: { authorization: `Bearer ${accessToken}` } },
      }),
    );
    try {
      const ok = await client.callTool({ name: 'whoami', arguments: {} });
      expect(JSON.stringify(ok)).toContain(agentId);
      expireTokens();
      await expect(client.callTool({ name: 'whoami', arguments: {} })).rejects.toThrow(
        /JWT expired/,
      );
    } finally {
      await client.close();
      await agent.close();
    }
  });
});
