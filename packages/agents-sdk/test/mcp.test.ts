// The MCP lane against the reference Core and a real MCP server that checks
// bearers with jose against the Core's JWKS.
import { Client as McpSdkClient } from '@modelcontextprotocol/sdk/client/index.js';
import { decodeJwt } from 'jose';
import {
  type CallToolResult,
  LimeAgent,
  McpAuthenticationError,
  OAuthCapabilityError,
  PermissionDeniedError,
} from 'lime-agents-sdk';
import { type Core, startCore } from 'lime-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { recordingFetch } from './helpers/core.js';
import { type McpTestServer, startMcpTestServer } from './helpers/mcp-test-server.js';

let core: Core;
let mcp: McpTestServer;

beforeAll(async () => {
  core = await startCore({ powDifficulty: 0 });
  mcp = await startMcpTestServer({ apiBase: core.apiBase, issuer: core.issuer });
});

afterAll(async () => {
  await mcp.close();
  await core.close();
});

afterEach(() => {
  vi.useRealTimers();
  mcp.refuseAll(false);
});

async function newAgent(options: ConstructorParameters<typeof LimeAgent>[0] = {}) {
  const created = await core.admin.createAgent({ displayName: 'mcp bot' });
  const rec = recordingFetch();
  const agent = new LimeAgent({
    agentToken: created.agentToken,
    apiBase: core.apiBase,
    fetch: rec.fetch,
    ...options,
  });
  return { agent, rec, tokenRequests: () => rec.count('POST', '/oauth/token'), ...created };
}

const text = (r: CallToolResult) => (r.content[0] as { text: string }).text;

describe('getMcpAccessToken()', () => {
  it('issues a §7 token for the normalised domain', async () => {
    const { agent, agentId } = await newAgent();
    await using _ = agent;
    const token = await agent.getMcpAccessToken('https://Tools.Example.com:8443/mcp');
    expect(token.domain).toBe('tools.example.com');
    const claims = decodeJwt(token.accessToken);
    expect(claims).toMatchObject({ sub: agentId, aud: 'mcp', domain: 'tools.example.com' });
    expect(claims).not.toHaveProperty('user_id');
  });

  it('100 concurrent calls for one domain (any spelling) → one token request', async () => {
    const { agent, tokenRequests } = await newAgent();
    await using _ = agent;
    const spellings = [
      'tools.example.com',
      'TOOLS.example.com',
      'https://tools.example.com:9000/x',
    ];
    const tokens = await Promise.all(
      Array.from({ length: 100 }, (_, i) => agent.getMcpAccessToken(spellings[i % 3]!)),
    );
    expect(tokenRequests()).toBe(1);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    // Another domain is another token.
    await agent.getMcpAccessToken('other.example.com');
    expect(tokenRequests()).toBe(2);
  });

  it('reuses the token until it is inside the refresh skew, then refreshes lazily', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { agent, tokenRequests } = await newAgent({ mcpTokenRefreshSkew: 30_000 });
    await using _ = agent;
    const first = await agent.getMcpAccessToken('tools.example.com');
    expect(first.expiresIn).toBe(300);
    vi.setSystemTime(Date.now() + 269_000); // 31 s left: still outside the skew
    expect((await agent.getMcpAccessToken('tools.example.com')).accessToken).toBe(
      first.accessToken,
    );
    expect(tokenRequests()).toBe(1);
    vi.setSystemTime(Date.now() + 2_000); // 29 s left: inside the skew
    const second = await agent.getMcpAccessToken('tools.example.com');
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(tokenRequests()).toBe(2);
    // forceRefresh ignores a fresh cached token.
    const third = await agent.getMcpAccessToken('tools.example.com', { forceRefresh: true });
    expect(third.accessToken).not.toBe(second.accessToken);
    expect(tokenRequests()).toBe(3);
  });

  it('sends the RFC 8707 resource when mcpResource is on: aud names the MCP URL', async () => {
    const { agent } = await newAgent({ mcpResource: true });
    await using _ = agent;
    const token = await agent.getMcpAccessToken(mcp.url);
    expect(decodeJwt(token.accessToken).aud).toEqual(['mcp', mcp.url]);
  });

  it('OAUTH_CAPABILITY_DENIED → OAuthCapabilityError (a PermissionDeniedError)', async () => {
    const { agent, agentId } = await newAgent();
    await using _ = agent;
    await core.admin.setAgentOAuthAllowed(agentId, false);
    const error = await agent.getMcpAccessToken('tools.example.com').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthCapabilityError);
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error).toMatchObject({ code: 'OAUTH_CAPABILITY_DENIED', status: 403 });
  });
});

describe('agent.mcp(target)', () => {
  it('speaks MCP with the bearer: tools, resources, templates, prompts, ping, capabilities', async () => {
    const { agent, agentId } = await newAgent();
    await using _ = agent;
    const server = agent.mcp(mcp.url);
    expect(agent.mcp(mcp.url)).toBe(server); // pooled per URL
    const { tools } = await server.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['echo', 'sleep', 'whoami']);
    expect(text(await server.callTool('echo', { text: 'hi' }))).toBe('hi');
    expect(text(await server.callTool({ name: 'whoami' }))).toBe(agentId);
    const { resources } = await server.listResources();
    expect(resources.map((r) => r.uri)).toEqual(['docs://readme']);
    const { resourceTemplates } = await server.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(['note://{id}']);
    const read = await server.readResource({ uri: 'note://42' });
    expect(read.contents[0]).toMatchObject({ uri: 'note://42', text: 'note 42' });
    const { prompts } = await server.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(['greet']);
    const prompt = await server.getPrompt({ name: 'greet', arguments: { who: 'Ada' } });
    expect(prompt.messages[0]!.content).toMatchObject({ text: 'Say hello to Ada' });
    await expect(server.ping()).resolves.toBeUndefined();
    expect(await server.getServerCapabilities()).toMatchObject({
      tools: {},
      resources: {},
      prompts: {},
    });
    expect(await server.getClient()).toBeInstanceOf(McpSdkClient);
  });

  it('multiplexes parallel calls on one session with one token request', async () => {
    const { agent, tokenRequests } = await newAgent();
    await using _ = agent;
    const before = mcp.stats.initializes;
    const server = agent.mcp(mcp.url);
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => server.callTool('sleep', { ms: 300 })),
    );
    expect(results.map(text)).toEqual(Array(10).fill('slept 300'));
    // Concurrent, not serialised: 10 × 300 ms would take 3 s.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(mcp.stats.initializes - before).toBe(1);
    expect(tokenRequests()).toBe(1);
  });

  it('attaches the current token per request: a refreshed token is used at once', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { agent, tokenRequests } = await newAgent();
    await using _ = agent;
    const server = agent.mcp(mcp.url);
    await server.ping();
    const first = mcp.stats.bearers.at(-1)!;
    const session = server.sessionId;
    const initializes = mcp.stats.initializes;
    vi.setSystemTime(Date.now() + 290_000); // inside the 30 s skew
    await server.ping();
    const second = mcp.stats.bearers.at(-1)!;
    expect(decodeJwt(second).jti).not.toBe(decodeJwt(first).jti);
    expect(tokenRequests()).toBe(2);
    // Same session: the new bearer needed no reconnect.
    expect(server.sessionId).toBe(session);
    expect(mcp.stats.initializes).toBe(initializes);
  });

  it('a 401 from the MCP server → new token, retried once; twice → McpAuthenticationError', async () => {
    const { agent, tokenRequests } = await newAgent();
    await using _ = agent;
    const server = agent.mcp(mcp.url);
    await server.ping();
    const old = mcp.stats.bearers.at(-1)!;
    mcp.refuse(old); // as if the server no longer accepted this token
    expect(text(await server.callTool('echo', { text: 'again' }))).toBe('again');
    expect(tokenRequests()).toBe(2);
    expect(mcp.stats.bearers.at(-1)).not.toBe(old);

    mcp.refuseAll(true);
    const posts = () => mcp.stats.requests.filter((r) => r.method === 'POST').length;
    const before = posts();
    const error = await server.callTool('echo', { text: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpAuthenticationError);
    expect(error).toMatchObject({
      code: 'MCP_AUTHENTICATION_FAILED',
      status: 401,
      domain: 'localhost',
    });
    expect((error as McpAuthenticationError).wwwAuthenticate).toMatch(/invalid_token/);
    expect(posts() - before).toBe(2); // the call and exactly one retry
    expect(tokenRequests()).toBe(3);
  });

  it('100 parallel calls that all meet a 401 share one token refresh', async () => {
    const { agent, tokenRequests } = await newAgent();
    await using _ = agent;
    const server = agent.mcp(mcp.url);
    await server.ping();
    mcp.refuse(mcp.stats.bearers.at(-1)!);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => server.callTool('echo', { text: String(i) })),
    );
    expect(results.map(text)).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    expect(tokenRequests()).toBe(2);
  });

  it('an expired session (404) → one new session, the call succeeds', async () => {
    const { agent } = await newAgent();
    await using _ = agent;
    const server = agent.mcp(mcp.url);
    await server.ping();
    const oldSession = server.sessionId;
    expect(oldSession).toBeDefined();
    const before = mcp.stats.initializes;
    await mcp.expireSessions();
    const results = await Promise.all([
      server.callTool('echo', { text: 'a' }),
      server.callTool('echo', { text: 'b' }),
    ]);
    expect(results.map(text)).toEqual(['a', 'b']);
    expect(mcp.stats.initializes - before).toBe(1); // parallel calls shared the reconnect
    expect(server.sessionId).toBeDefined();
    expect(server.sessionId).not.toBe(oldSession);
  });

  it('close() terminates every MCP session with DELETE; await using does it too', async () => {
    const { agent } = await newAgent();
    await agent.mcp(mcp.url).ping();
    await agent.mcp(`${mcp.url}?tenant=2`).ping();
    const open = mcp.sessionCount();
    const deletes = mcp.stats.deletes;
    await agent.close();
    expect(mcp.stats.deletes - deletes).toBe(2);
    expect(mcp.sessionCount()).toBe(open - 2);

    const deletesBefore = mcp.stats.deletes;
    {
      const created = await core.admin.createAgent({});
      await using scoped = new LimeAgent({ agentToken: created.agentToken, apiBase: core.apiBase });
      await scoped.mcp(mcp.url).listTools();
    }
    expect(mcp.stats.deletes - deletesBefore).toBe(1);
  });

  it('mcp(target).close() ends just that session; the next mcp() opens a new one', async () => {
    const { agent } = await newAgent();
    await using _ = agent;
    const first = agent.mcp(mcp.url);
    await first.ping();
    await first.close();
    await expect(first.ping()).rejects.toThrow(/closed/);
    const second = agent.mcp(mcp.url);
    expect(second).not.toBe(first);
    await expect(second.ping()).resolves.toBeUndefined();
  });

  it('a token refusal by the Core surfaces typed from an MCP call; the next call recovers', async () => {
    const { agent, agentId } = await newAgent();
    await using _ = agent;
    await core.admin.setAgentOAuthAllowed(agentId, false);
    const server = agent.mcp(mcp.url);
    await expect(server.listTools()).rejects.toBeInstanceOf(PermissionDeniedError);
    await core.admin.setAgentOAuthAllowed(agentId, true);
    await expect(server.ping()).resolves.toBeUndefined();
  });

  it('a bare host means https://host/mcp; lanes never mix on the wire', async () => {
    const { agent, rec, agentToken } = await newAgent();
    await using _ = agent;
    expect(agent.mcp('tools.example.com').url.href).toBe('https://tools.example.com/mcp');
    await agent.mcp(mcp.url).listTools();
    const coreOrigin = new URL(core.apiBase).origin;
    const toCore = rec.requests.filter((r) => r.url.origin === coreOrigin);
    const toMcp = rec.requests.filter((r) => r.url.href.startsWith(mcp.url));
    expect(toCore.length).toBeGreaterThan(0);
    expect(toMcp.length).toBeGreaterThan(0);
    for (const r of toCore) {
      expect(r.headers.get('x-agent-token')).toBe(agentToken);
      expect(r.headers.has('authorization')).toBe(false);
    }
    for (const r of toMcp) {
      expect(r.headers.has('x-agent-token')).toBe(false);
      expect(r.headers.get('authorization')).toMatch(/^Bearer eyJ/);
    }
  });
});
