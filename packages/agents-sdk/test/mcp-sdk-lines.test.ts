// The agent's MCP lane on both lines of the MCP TypeScript SDK: the 1.x
// @modelcontextprotocol/sdk (what the other suites use) and the split 2.x
// @modelcontextprotocol/client (`mcpSdk: 'v2'`, or what 'auto' loads where
// 1.x is not installed), each against a 1.x server (the shared test server)
// and a 2.x server (@modelcontextprotocol/server + /node), stateful sessions
// included.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { McpServer } from '@modelcontextprotocol/server';
import { LimeAgent } from 'lime-agents-sdk';
import { type Core, startCore } from 'lime-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type McpTestServer, startMcpTestServer } from './helpers/mcp-test-server.js';

let core: Core;
let v1Server: McpTestServer;
let v2Http: Server;
let v2Url: string;
let agentId: string;
let agentToken: string;

beforeAll(async () => {
  core = await startCore({ powDifficulty: 0 });
  ({ agentId, agentToken } = await core.admin.createAgent({ displayName: 'lines' }));
  v1Server = await startMcpTestServer({ apiBase: core.apiBase, issuer: core.issuer });
  // A 2.x server; it trusts any bearer (verification is the other suites' concern)
  // and answers with the bearer's subject, read without verification.
  v2Http = createServer(async (req, res) => {
    const bearer = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
    const sub = bearer
      ? JSON.parse(Buffer.from(bearer.split('.')[1] ?? '', 'base64url').toString()).sub
      : undefined;
    const server = new McpServer({ name: 'v2', version: '1.0.0' });
    server.registerTool('whoami', { description: 'Who is calling' }, async () => ({
      content: [{ type: 'text', text: String(sub) }],
    }));
    const transport = new NodeStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => void transport.close());
    await server.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((r) => v2Http.listen(0, '127.0.0.1', r));
  v2Url = `http://localhost:${(v2Http.address() as AddressInfo).port}/mcp`;
});

afterAll(async () => {
  await v1Server.close();
  v2Http.closeAllConnections();
  await new Promise((r) => v2Http.close(r));
  await core.close();
});

describe.each(['v1', 'v2'] as const)('the MCP lane on the %s client', (mcpSdk) => {
  it('calls a 1.x server (stateful sessions) and a 2.x server', async () => {
    const agent = new LimeAgent({ apiBase: core.apiBase, agentToken, mcpSdk });
    try {
      const v1 = agent.mcp(v1Server.url);
      const { tools } = await v1.listTools();
      expect(tools.length).toBeGreaterThan(0);
      expect(v1.sessionId).toBeDefined();
      const result = await agent.callTool(v2Url, 'whoami', {});
      expect((result.content as Array<{ text: string }>)[0]!.text).toBe(agentId);
    } finally {
      await agent.close();
    }
  });
});

it('mcpSdk is validated', () => {
  expect(() => new LimeAgent({ apiBase: core.apiBase, agentToken, mcpSdk: 'v3' as never })).toThrow(
    /mcpSdk/,
  );
});
