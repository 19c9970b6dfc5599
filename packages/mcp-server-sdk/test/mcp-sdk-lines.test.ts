// The adapters with both lines of the MCP TypeScript SDK: the split 2.x
// packages (@modelcontextprotocol/server, /client, /node, /express) and the
// monolithic 1.x @modelcontextprotocol/sdk (which the other suites use too). LIME's own
// guards (limeBearerAuth, withLimeMcpAuth) need neither line; the tool reads
// the verified bearer from 2.x's ctx.http.authInfo; createOAuthTokenVerifier
// plugs into 2.x's own requireBearerAuth with 2.x's error classes.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { requireBearerAuth } from '@modelcontextprotocol/express';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { requireBearerAuth as requireBearerAuthV1 } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { McpServer, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import express from 'express';
import { type Core, startCore } from 'lime-core';
import { LimeMcpVerifier, withLimeMcpAuth } from 'lime-mcp-server-sdk';
import {
  createOAuthTokenVerifier,
  limeAuthMetadataRouter,
  limeBearerAuth,
} from 'lime-mcp-server-sdk/express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forge, mintMcpToken } from './helpers.js';

let core: Core;
let agentId: string;
let agentToken: string;
let http: Server;
let origin: string;

/** A 2.x server whose one tool answers with the agent the bearer proves. */
function whoamiServer(): McpServer {
  const server = new McpServer({ name: 'v2-tools', version: '1.0.0' });
  server.registerTool('whoami', { description: 'Who is calling' }, async (ctx) => ({
    content: [{ type: 'text', text: String(ctx.http?.authInfo?.extra?.agentId) }],
  }));
  return server;
}

beforeAll(async () => {
  core = await startCore({ powDifficulty: 0 });
  ({ agentId, agentToken } = await core.admin.createAgent({ displayName: 'v2-user' }));
  const app = express();
  http = createServer(app);
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  const resource = `http://localhost:${port}/mcp`;
  const verifier = new LimeMcpVerifier({ baseUrl: core.url, resource });

  const serveNode: express.RequestHandler = async (req, res) => {
    const transport = new NodeStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => void transport.close());
    await whoamiServer().connect(transport);
    await transport.handleRequest(req, res, req.body);
  };
  app.use(limeAuthMetadataRouter({ verifier }));
  app.post('/mcp', limeBearerAuth({ verifier }), express.json(), serveNode);
  // 2.x's own middleware with our verifier adapter
  app.post(
    '/mcp-sdk-guard',
    requireBearerAuth({ verifier: createOAuthTokenVerifier(verifier, { sdk: 'v2' }) }),
    express.json(),
    serveNode,
  );
  // 1.x's own middleware with the same adapter (auto picks 1.x when installed)
  app.post(
    '/mcp-sdk-v1-guard',
    requireBearerAuthV1({ verifier: createOAuthTokenVerifier(verifier) }),
    (req, res) => {
      res.json({
        agent: (req as unknown as { auth?: { extra?: { agentId?: string } } }).auth?.extra?.agentId,
      });
    },
  );
  // 2.x's web-standard transport behind withLimeMcpAuth
  const web = withLimeMcpAuth({ verifier }, async (request, authInfo) => {
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
    });
    await whoamiServer().connect(transport);
    return transport.handleRequest(request, { authInfo });
  });
  app.all('/web-mcp', async (req, res) => {
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    const answer = await web(
      new Request(`http://localhost:${port}${req.originalUrl}`, {
        method: req.method,
        headers: req.headers as Record<string, string>,
        ...(body ? { body } : {}),
      }),
    );
    res.status(answer.status);
    answer.headers.forEach((v, k) => {
      res.setHeader(k, v);
    });
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
});

afterAll(async () => {
  http.closeAllConnections();
  await new Promise((r) => http.close(r));
  await core.close();
});

function readBody(req: express.Request): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      text += c;
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

/** A 2.x client calling `whoami` with a bearer. */
async function callWhoami(path: string, token: string): Promise<string> {
  const client = new Client({ name: 'v2-agent', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(origin + path), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  try {
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    return (result.content as Array<{ text: string }>)[0]!.text;
  } finally {
    await client.close();
  }
}

describe('MCP SDK 2.x (split packages) and 1.x', () => {
  it('limeBearerAuth + 2.x NodeStreamableHTTPServerTransport: the tool sees the agent in ctx.http.authInfo', async () => {
    const token = await mintMcpToken(core, agentToken, { domain: 'localhost' });
    await expect(callWhoami('/mcp', token)).resolves.toBe(agentId);
    await expect(callWhoami('/mcp', forge(token))).rejects.toThrow();
  });

  it('withLimeMcpAuth + 2.x WebStandardStreamableHTTPServerTransport', async () => {
    const token = await mintMcpToken(core, agentToken, { domain: 'localhost' });
    await expect(callWhoami('/web-mcp', token)).resolves.toBe(agentId);
    const refused = await fetch(`${origin}/web-mcp`, { method: 'POST', body: '{}' });
    expect(refused.status).toBe(401);
  });

  it("createOAuthTokenVerifier({ sdk: 'v2' }) inside 2.x's own requireBearerAuth: 200 for a Core token, 401 + challenge otherwise", async () => {
    const token = await mintMcpToken(core, agentToken, { domain: 'localhost' });
    await expect(callWhoami('/mcp-sdk-guard', token)).resolves.toBe(agentId);
    const res = await fetch(`${origin}/mcp-sdk-guard`, {
      method: 'POST',
      headers: { authorization: `Bearer ${forge(token)}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(
      /^Bearer error="invalid_token", error_description="JWT signature does not verify/,
    );
  });

  it("createOAuthTokenVerifier() inside 1.x's requireBearerAuth: the same adapter, 1.x's error classes", async () => {
    const token = await mintMcpToken(core, agentToken, { domain: 'localhost' });
    const ok = await fetch(`${origin}/mcp-sdk-v1-guard`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await ok.json()).toEqual({ agent: agentId });
    const refused = await fetch(`${origin}/mcp-sdk-v1-guard`, {
      method: 'POST',
      headers: { authorization: `Bearer ${forge(token)}` },
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  it('createOAuthTokenVerifier validates its options', () => {
    const verifier = new LimeMcpVerifier({ baseUrl: core.url });
    expect(() => createOAuthTokenVerifier(verifier, { sdk: 'v3' as never })).toThrow(/sdk/);
  });
});
