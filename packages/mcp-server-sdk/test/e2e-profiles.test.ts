// The MCP-server SDK end to end against both Core profiles: a real agent
// (lime-agents-sdk) gets a token from the Core and calls a real MCP server
// (express + the MCP SDK) guarded by limeBearerAuth, and the web-standard
// guard. On the hosted-like profile the Core publishes a relative jwks_uri,
// the old enveloped-only JWKS behind a User-Agent filter, and MCP tokens
// without the domain extension: the verifier must work unchanged.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import { LimeAgent } from 'lime-agents-sdk';
import { type Core, type CoreProfile, startCore } from 'lime-core';
import { LimeMcpVerifier, withLimeMcpAuth } from 'lime-mcp-server-sdk';
import { limeAuthMetadataRouter, limeBearerAuth } from 'lime-mcp-server-sdk/express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forge } from './helpers.js';

describe.each<CoreProfile>(['core', 'hosted'])('against the %s profile', (profile) => {
  let core: Core;
  let agent: LimeAgent;
  let agentId: string;
  let http: Server;
  let url: string;

  beforeAll(async () => {
    core = await startCore({ profile, powDifficulty: 0 });
    const created = await core.admin.createAgent({ displayName: `${profile}-tool-user` });
    agentId = created.agentId;
    agent = new LimeAgent({ apiBase: core.apiBase, agentToken: created.agentToken });
    const app = express();
    http = createServer(app);
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    url = `http://localhost:${(http.address() as AddressInfo).port}/mcp`;
    const verifier = new LimeMcpVerifier({ baseUrl: core.url, resource: url });
    app.use(limeAuthMetadataRouter({ verifier }));
    app.post('/mcp', limeBearerAuth({ verifier }), express.json(), async (req, res) => {
      const server = new McpServer({ name: 'profiles', version: '1.0.0' });
      server.registerTool('whoami', { description: 'Who is calling' }, async (extra) => ({
        content: [{ type: 'text', text: String(extra.authInfo?.extra?.agentId) }],
      }));
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      res.on('close', () => void transport.close());
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    });
  });
  afterAll(async () => {
    await agent?.close();
    http?.closeAllConnections();
    await new Promise((r) => http?.close(r));
    await core?.close();
  });

  it('an agent calls the guarded tool with a Core token; the tool sees the agent', async () => {
    const result = await agent.mcp(url).callTool('whoami', {});
    expect((result.content as Array<{ text: string }>)[0]!.text).toBe(agentId);
  });

  it('the verifier reads this profile’s metadata and keys, and refuses a forged token', async () => {
    const verifier = new LimeMcpVerifier({ baseUrl: core.url, resource: url });
    const { accessToken } = await agent.getMcpAccessToken(url);
    const good = await verifier.verify(accessToken);
    expect(good).toMatchObject({ valid: true, agentId });
    const bad = await verifier.verify(forge(accessToken));
    expect(bad).toMatchObject({ valid: false, reason: 'bad_signature' });
  });

  it('the web-standard guard accepts the same token and refuses a request without one', async () => {
    const verifier = new LimeMcpVerifier({ baseUrl: core.url, resource: url });
    const handler = withLimeMcpAuth({ verifier }, async (_request, authInfo) =>
      Response.json({ agent: authInfo.extra.agentId }),
    );
    const { accessToken } = await agent.getMcpAccessToken(url);
    const ok = await handler(
      new Request(url, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } }),
    );
    expect(await ok.json()).toEqual({ agent: agentId });
    const refused = await handler(new Request(url, { method: 'POST' }));
    expect(refused.status).toBe(401);
  });
});
