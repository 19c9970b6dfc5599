import { LimeAgent } from 'lime-agents-sdk';
import { type Core, startCore } from 'lime-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EdgeMcpServerHandle, type EdgeToolCall, startEdgeMcpServer } from '../src/index.js';

let core: Core;
let edge: EdgeMcpServerHandle;
let agent: LimeAgent;
let agentId: string;
const calls: EdgeToolCall[] = [];

beforeAll(async () => {
  core = await startCore({ powDifficulty: 0 });
  const created = await core.admin.createAgent({ displayName: 'edge-bot' });
  agentId = created.agentId;
  agent = new LimeAgent({ apiBase: core.apiBase, agentToken: created.agentToken });
  edge = await startEdgeMcpServer({ apiBase: core.apiBase, onToolCall: (c) => calls.push(c) });
});

afterAll(async () => {
  await agent?.close();
  await edge?.close();
  await core?.close();
});

describe('example edge MCP server (Hono, web-standard handler)', () => {
  it('answers whoami with the calling agent, as its bearer proves it', async () => {
    const { tools } = await agent.mcp(edge.url).listTools();
    expect(tools.map((t) => t.name)).toEqual(['whoami']);
    const result = await agent.mcp(edge.url).callTool('whoami', {});
    const text = (result.content as Array<{ type: string; text: string }>)[0]!.text;
    expect(JSON.parse(text)).toMatchObject({ agentId, domain: 'localhost', server: 'edge' });
    expect(calls.at(-1)).toMatchObject({ agentId });
  });

  it('refuses a request without a bearer with 401 and points at its RFC 9728 metadata', async () => {
    const res = await fetch(edge.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain('error="invalid_token"');
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    expect(metadataUrl).toBe(new URL('/.well-known/oauth-protected-resource/mcp', edge.url).href);
    const metadata = await (await fetch(metadataUrl!)).json();
    expect(metadata).toMatchObject({ resource: edge.url, authorization_servers: [core.issuer] });
  });

  it('refuses a token minted for another MCP server', async () => {
    const { accessToken } = await agent.getMcpAccessToken('tools.example.com');
    const res = await fetch(edge.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${accessToken}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain(accessToken);
  });
});
