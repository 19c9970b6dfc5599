// A real MCP server (McpServer + streamable HTTP + express) protected by
// lime-mcp-server-sdk/express, called with tokens from the reference Core.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import { type Core, startCore } from 'lime-core';
import { LimeMcpVerifier } from 'lime-mcp-server-sdk';
import { limeAuthMetadataRouter, limeBearerAuth, limeMcpAuth } from 'lime-mcp-server-sdk/express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forge, mintMcpToken, sitePassport } from './helpers.js';

let core: Core;
let http: Server;
let origin: string; // what the client dials (127.0.0.1)
let publicOrigin: string; // what the server calls itself (localhost: a host name the Core accepts as domain)
let agentId: string;
let agentToken: string;

function mcpHandler(): express.RequestHandler {
  return async (req, res) => {
    const server = new McpServer({ name: 'lime-protected-tools', version: '1.0.0' });
    server.registerTool('whoami', { description: 'Who is calling' }, async (extra) => ({
      content: [
        {
          type: 'text',
          text: JSON.stringify({
            agentId: extra.authInfo?.extra?.agentId,
            clientId: extra.authInfo?.clientId,
            scopes: extra.authInfo?.scopes,
          }),
        },
      ],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  };
}

beforeAll(async () => {
  core = await startCore({ powDifficulty: 0 });
  ({ agentId, agentToken } = await core.admin.createAgent({ displayName: 'tool-user' }));
  const app = express();
  http = createServer(app);
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const { port } = http.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  publicOrigin = `http://localhost:${port}`;
  // The fail-closed pattern: metadata on its own, the guard on each MCP route.
  const verifier = new LimeMcpVerifier({ baseUrl: core.url, resource: `${publicOrigin}/mcp` });
  app.use(limeAuthMetadataRouter({ verifier }));
  app.post('/mcp', limeBearerAuth({ verifier }), express.json(), mcpHandler());
  const adminVerifier = new LimeMcpVerifier({
    resource: `${publicOrigin}/admin-mcp`,
    baseUrl: core.url,
    expectedDomain: 'localhost',
  });
  app.post(
    '/admin-mcp',
    limeBearerAuth({ verifier: adminVerifier, requiredScopes: ['mcp', 'tools:admin'] }),
    express.json(),
    mcpHandler(),
  );
  const brokenVerifier = new LimeMcpVerifier({
    resource: `${publicOrigin}/broken-mcp`,
    baseUrl: 'http://127.0.0.1:9',
    timeout: 1,
  });
  app.post('/broken-mcp', limeBearerAuth({ verifier: brokenVerifier }), mcpHandler());
  // A verifier that throws: the guard must answer 500, never run the tool.
  const throwing = Object.assign(Object.create(verifier) as LimeMcpVerifier, {
    verify: () => {
      throw new Error('boom: secret-detail-xyz');
    },
  });
  app.post('/throwing-mcp', limeBearerAuth({ verifier: throwing }), (_req, res) => {
    res.status(200).send('tool ran');
  });
});

afterAll(async () => {
  http.closeAllConnections();
  await new Promise((r) => http.close(r));
  await core.close();
});

async function callWhoami(token: string, path = '/mcp') {
  const client = new Client({ name: 'test-agent', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(origin + path), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  try {
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    const content = result.content as Array<{ type: string; text: string }>;
    return JSON.parse(content[0]!.text) as { agentId: string; clientId: string; scopes: string[] };
  } finally {
    await client.close();
  }
}

/** A raw MCP initialize POST: what the client's first request looks like on the wire. */
function rawInitialize(authorization?: string, path = '/mcp') {
  return fetch(origin + path, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(authorization ? { authorization } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'raw', version: '0' },
      },
    }),
  });
}

const challengePattern = (description: RegExp) =>
  new RegExp(
    `^Bearer error="invalid_token", error_description="${description.source}", resource_metadata="http://localhost:\\d+/\\.well-known/oauth-protected-resource/mcp"$`,
  );

describe('express MCP server protected by limeBearerAuth on its routes', () => {
  it('lets a Core-issued token through; the tool sees the agent in extra.authInfo', async () => {
    const token = await mintMcpToken(core, agentToken, { domain: 'localhost' });
    await expect(callWhoami(token)).resolves.toEqual({
      agentId,
      clientId: agentId,
      scopes: ['mcp'],
    });
    const bound = await mintMcpToken(core, agentToken, {
      domain: 'localhost',
      resource: `${publicOrigin}/mcp`,
    });
    await expect(callWhoami(bound)).resolves.toMatchObject({ agentId });
  });

  it('serves RFC 9728 metadata naming the Core as authorization server', async () => {
    for (const path of [
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
    ]) {
      const res = await fetch(origin + path);
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body).toMatchObject({
        authorization_servers: [core.issuer],
        bearer_methods_supported: ['header'],
        scopes_supported: ['mcp'],
      });
      expect(body.resource).toMatch(/^http:\/\/localhost:\d+\/mcp$/);
    }
  });

  it('no Authorization header → 401 with the challenge', async () => {
    const res = await rawInitialize();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(
      challengePattern(/Missing Authorization header, expected Bearer <token>/),
    );
  });

  it("another domain's token → 401 invalid_token", async () => {
    const token = await mintMcpToken(core, agentToken, { domain: 'tools.other.example' });
    const res = await rawInitialize(`Bearer ${token}`);
    expect(res.status).toBe(401);
    const header = res.headers.get('www-authenticate')!;
    expect(header).toMatch(
      challengePattern(
        /token was issued for domain 'tools\.other\.example', expected 'localhost'[^"]*/,
      ),
    );
    expect(await res.json()).toMatchObject({ error: 'invalid_token' });
    // and the MCP client surfaces it as a failure
    await expect(callWhoami(token)).rejects.toThrow();
  });

  it("another resource's token → 401", async () => {
    const token = await mintMcpToken(core, agentToken, {
      domain: 'localhost',
      resource: 'http://localhost:1/elsewhere',
    });
    const res = await rawInitialize(`Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(
      challengePattern(/token was issued for resource [^"]*/),
    );
  });

  it('an expired token → 401', async () => {
    const past = await startCore({ powDifficulty: 0, clock: () => Date.now() - 3_600_000 });
    try {
      // same keys are not shared between Cores, so verify against the past Core through its own server
      const a = await past.admin.createAgent({ displayName: 'old' });
      const token = await mintMcpToken(past, a.agentToken, { domain: 'localhost' });
      const app = express();
      app.use(express.json());
      app.use(limeMcpAuth({ resource: `${publicOrigin}/mcp`, baseUrl: past.url }));
      app.post('/mcp', mcpHandler());
      const server = createServer(app);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const { port } = server.address() as AddressInfo;
        const res = await fetch(`http://127.0.0.1:${port}/mcp`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: '{}',
        });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(
          /error="invalid_token", error_description="JWT expired at \d+/,
        );
      } finally {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
    } finally {
      await past.close();
    }
  });

  it('a site passport → 401 (wrong audience)', async () => {
    const passport = await sitePassport(core, agentToken);
    const res = await rawInitialize(`Bearer ${passport}`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(
      challengePattern(/JWT aud was 'lime-site-login', expected 'mcp'/),
    );
  });

  it('a forged token → 401 (bad signature), message header-safe', async () => {
    const token = await mintMcpToken(core, agentToken, { domain: 'localhost' });
    const res = await rawInitialize(`Bearer ${forge(token)}`);
    expect(res.status).toBe(401);
    const header = res.headers.get('www-authenticate')!;
    expect(header).toMatch(challengePattern(/JWT signature does not verify with key '[^"]+'/));
    expect(header).toMatch(/^[\x20-\x7e]+$/);
  });

  it('a scope shortfall → 403 insufficient_scope', async () => {
    const token = await mintMcpToken(core, agentToken, { domain: 'localhost' });
    const res = await rawInitialize(`Bearer ${token}`, '/admin-mcp');
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", error_description="token scope 'mcp' lacks 'tools:admin'", scope="mcp tools:admin", resource_metadata="${publicOrigin}/.well-known/oauth-protected-resource/admin-mcp"`,
    );
  });

  it('Core unreachable → 503 with WWW-Authenticate and Retry-After, never a pass-through', async () => {
    const token = await mintMcpToken(core, agentToken, { domain: 'localhost' });
    const res = await rawInitialize(`Bearer ${token}`, '/broken-mcp');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(res.headers.get('www-authenticate')).toMatch(
      /^Bearer error="temporarily_unavailable", error_description="[^"]+", resource_metadata="http:\/\/localhost:\d+\/\.well-known\/oauth-protected-resource\/broken-mcp"$/,
    );
    expect(await res.json()).toMatchObject({ error: 'temporarily_unavailable' });
  });

  it('an exception inside the guard → 500, the tool never runs, nothing of the exception leaks', async () => {
    const token = await mintMcpToken(core, agentToken, { domain: 'localhost' });
    const res = await rawInitialize(`Bearer ${token}`, '/throwing-mcp');
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(body).not.toContain('tool ran');
    expect(body).not.toContain('secret-detail-xyz');
    expect(res.headers.get('www-authenticate')).toContain('error="server_error"');
  });
});

describe('limeMcpAuth (the one-line convenience)', () => {
  it("refuses the removed 'path' option with a TypeError that says what to do", () => {
    expect(() =>
      limeMcpAuth({ resource: `${publicOrigin}/mcp`, baseUrl: core.url, path: '/mcp' } as never),
    ).toThrow(/path was removed.*limeBearerAuth/);
  });
});
