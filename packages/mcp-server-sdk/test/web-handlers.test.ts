// The web-standard handler (Hono / Workers / Next / Deno / Bun shape), driven
// through a real Hono app and the MCP SDK's web-standard transport.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import * as fc from 'fast-check';
import { Hono } from 'hono';
import { type Core, startCore } from 'lime-core';
import {
  createProtectedResourceMetadataHandler,
  createWebBearerAuth,
  LimeMcpVerifier,
  protectedResourceMetadataUrl,
  withLimeMcpAuth,
} from 'lime-mcp-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headerSafe } from '../src/internal/header-safe.js';
import { forge, mintMcpToken } from './helpers.js';

const RESOURCE = 'https://tools.example.com/mcp';
let core: Core;
let agentId: string;
let agentToken: string;
let app: Hono;

beforeAll(async () => {
  core = await startCore({ powDifficulty: 0 });
  ({ agentId, agentToken } = await core.admin.createAgent({ displayName: 'hono-user' }));
  // The README's Hono server, essentially verbatim.
  const verifier = new LimeMcpVerifier({ baseUrl: core.url, resource: RESOURCE });
  const auth = createWebBearerAuth({ verifier });
  const adminAuth = createWebBearerAuth({ verifier, requiredScopes: ['tools:admin'] });
  const metadata = createProtectedResourceMetadataHandler({
    verifier,
    resourceName: 'Example tools',
  });
  app = new Hono();
  app.get('/.well-known/oauth-protected-resource/mcp', (c) => metadata(c.req.raw));
  const serve = (authenticate: typeof auth) => async (c: { req: { raw: Request } }) => {
    const authInfo = await authenticate(c.req.raw);
    if (authInfo instanceof Response) return authInfo;
    const server = new McpServer({ name: 'hono-tools', version: '1.0.0' });
    server.registerTool('whoami', { description: 'Who is calling' }, async (extra) => ({
      content: [{ type: 'text', text: String(extra.authInfo?.extra?.agentId) }],
    }));
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    return transport.handleRequest(c.req.raw, { authInfo });
  };
  app.all('/mcp', serve(auth));
  app.all('/admin', serve(adminAuth));
});

afterAll(async () => {
  await core.close();
});

const honoFetch = (input: string | URL | Request, init?: RequestInit) =>
  Promise.resolve(app.request(input instanceof Request ? input : String(input), init));

describe('createWebBearerAuth in a Hono app', () => {
  it('an MCP client with a Core token reaches the tool, which sees the agent id', async () => {
    const token = await mintMcpToken(core, agentToken, {
      domain: 'tools.example.com',
      resource: RESOURCE,
    });
    const client = new Client({ name: 'agent', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(RESOURCE), {
        fetch: honoFetch,
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      }),
    );
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    expect((result.content as Array<{ text: string }>)[0]!.text).toBe(agentId);
    await client.close();
  });

  it('401 challenges: missing, malformed header, invalid token', async () => {
    const meta = 'https://tools.example.com/.well-known/oauth-protected-resource/mcp';
    const missing = await app.request('/mcp', { method: 'POST' });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe(
      `Bearer error="invalid_token", error_description="Missing Authorization header, expected Bearer <token>", resource_metadata="${meta}"`,
    );
    const basic = await app.request('/mcp', {
      method: 'POST',
      headers: { authorization: 'Basic dXNlcjpwdw==' },
    });
    expect(basic.status).toBe(401);
    expect(basic.headers.get('www-authenticate')).toMatch(
      /error_description="Invalid Authorization header/,
    );
    const token = await mintMcpToken(core, agentToken, { domain: 'tools.example.com' });
    const forged = await app.request('/mcp', {
      method: 'POST',
      headers: { authorization: `Bearer ${forge(token)}` },
    });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toMatch(
      /^Bearer error="invalid_token", error_description="JWT signature does not verify with key '[^"]+'", resource_metadata="https:\/\/tools\.example\.com\/\.well-known\/oauth-protected-resource\/mcp"$/,
    );
    expect(await forged.json()).toMatchObject({ error: 'invalid_token' });
    const other = await mintMcpToken(core, agentToken, { domain: 'elsewhere.example' });
    const wrong = await app.request('/mcp', {
      method: 'POST',
      headers: { authorization: `Bearer ${other}` },
    });
    expect(wrong.headers.get('www-authenticate')).toMatch(
      /issued for domain 'elsewhere\.example', expected 'tools\.example\.com'/,
    );
  });

  it('403 insufficient_scope names the required scope', async () => {
    const token = await mintMcpToken(core, agentToken, { domain: 'tools.example.com' });
    const res = await app.request('/admin', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", error_description="token scope 'mcp' lacks 'tools:admin'", scope="tools:admin", resource_metadata="https://tools.example.com/.well-known/oauth-protected-resource/mcp"`,
    );
  });

  it('503 with Retry-After when the Core cannot be reached', async () => {
    const verifier = new LimeMcpVerifier({
      baseUrl: 'http://127.0.0.1:9',
      resource: RESOURCE,
      timeout: 1,
    });
    const auth = createWebBearerAuth({ verifier, retryAfter: 7 });
    const token = await mintMcpToken(core, agentToken, { domain: 'tools.example.com' });
    const res = await auth(
      new Request(RESOURCE, { headers: { authorization: `Bearer ${token}` } }),
    );
    expect(res).toBeInstanceOf(Response);
    expect((res as Response).status).toBe(503);
    expect((res as Response).headers.get('retry-after')).toBe('7');
    expect((res as Response).headers.get('www-authenticate')).toMatch(
      /^Bearer error="temporarily_unavailable", error_description="[^"]+", resource_metadata="https:\/\/tools\.example\.com\/\.well-known\/oauth-protected-resource\/mcp"$/,
    );
    // and the wrapper never runs its handler for it
    let ran = false;
    const guarded = withLimeMcpAuth({ verifier }, () => {
      ran = true;
      return new Response('tool');
    });
    const wrapped = await guarded(
      new Request(RESOURCE, { method: 'POST', headers: { authorization: `Bearer ${token}` } }),
    );
    expect(wrapped.status).toBe(503);
    expect(ran).toBe(false);
  });

  it('an exception inside the check → 500 with nothing of it in the answer; the handler never runs', async () => {
    const verifier = new LimeMcpVerifier({ baseUrl: core.url, resource: RESOURCE });
    const throwing = Object.assign(Object.create(verifier) as LimeMcpVerifier, {
      verify: () => Promise.reject(new Error('boom: secret-detail-xyz')),
    });
    const token = await mintMcpToken(core, agentToken, { domain: 'tools.example.com' });
    const request = () =>
      new Request(RESOURCE, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const res = (await createWebBearerAuth({ verifier: throwing })(request())) as Response;
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('secret-detail-xyz');
    let ran = false;
    const wrapped = await withLimeMcpAuth({ verifier: throwing }, () => {
      ran = true;
      return new Response('tool');
    })(request());
    expect(wrapped.status).toBe(500);
    expect(ran).toBe(false);
  });

  it('withLimeMcpAuth answers GET and HEAD of exactly the metadata paths, and guards every variant', async () => {
    const verifier = new LimeMcpVerifier({ baseUrl: core.url, resource: RESOURCE });
    let ran = 0;
    const guarded = withLimeMcpAuth({ verifier, resourceName: 'Example tools' }, () => {
      ran++;
      return new Response('tool');
    });
    const get = await guarded(
      new Request('https://tools.example.com/.well-known/oauth-protected-resource/mcp'),
    );
    expect(get.status).toBe(200);
    expect(await get.json()).toMatchObject({ resource: RESOURCE, resource_name: 'Example tools' });
    const head = await guarded(
      new Request('https://tools.example.com/.well-known/oauth-protected-resource', {
        method: 'HEAD',
      }),
    );
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    for (const [method, path] of [
      ['POST', '/.well-known/oauth-protected-resource/mcp'],
      ['OPTIONS', '/.well-known/oauth-protected-resource/mcp'],
      ['GET', '/.well-known/oauth-protected-resource/MCP'],
      ['GET', '/.well-known/oauth-protected-resource/mcp/'],
      ['GET', '/.well-known/oauth-protected-resource/%6dcp'],
      ['GET', '/mcp'],
    ] as const) {
      const res = await guarded(new Request(`https://tools.example.com${path}`, { method }));
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 401 });
    }
    expect(ran).toBe(0);
  });

  it('refuses bad options with a TypeError naming the field', () => {
    const verifier = new LimeMcpVerifier({ baseUrl: core.url });
    expect(() => createWebBearerAuth({ verifier, retryAfter: -1 })).toThrow(/retryAfter/);
    expect(() => createWebBearerAuth({ verifier, requiredScopes: ['a b'] })).toThrow(
      /requiredScopes/,
    );
    expect(() => withLimeMcpAuth({ verifier, metadata: true }, () => new Response())).toThrow(
      /resource/,
    );
    expect(() => withLimeMcpAuth({ verifier }, undefined as never)).toThrow(/handler/);
  });

  it('serves RFC 9728 metadata naming the Core', async () => {
    const res = await app.request('/.well-known/oauth-protected-resource/mcp');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      resource: RESOURCE,
      authorization_servers: [core.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp'],
      resource_name: 'Example tools',
    });
    expect(protectedResourceMetadataUrl('https://h.example/')).toBe(
      'https://h.example/.well-known/oauth-protected-resource',
    );
  });
});

describe('header safety', () => {
  it('any message becomes a safe quoted-string value', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (message) => {
        const safe = headerSafe(message);
        expect(safe).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/);
        expect(safe.length).toBeLessThanOrEqual(200);
        // and Headers accepts it
        new Headers({ 'www-authenticate': `Bearer error_description="${safe}"` });
      }),
    );
  });
});
