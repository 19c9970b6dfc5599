// agent.mcpAuth(): LIME auth for MCP clients other than agent.mcp(), here
// the official MCP SDK's Client + StreamableHTTPClientTransport, against the
// reference Core and a real MCP server that checks bearers with jose.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LimeAgent, McpAuthenticationError } from 'lime-agents-sdk';
import { type Core, startCore } from 'lime-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
  mcp.refuseAll(false);
});

async function newAgent() {
  const { agentToken } = await core.admin.createAgent({});
  const rec = recordingFetch();
  const agent = new LimeAgent({ agentToken, apiBase: core.apiBase, fetch: rec.fetch });
  return { agent, rec, tokenRequests: () => rec.count('POST', '/oauth/token') };
}

async function connect(transport: StreamableHTTPClientTransport) {
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

describe('agent.mcpAuth(target).fetch', () => {
  it('resolves the target like agent.mcp() and authenticates the official MCP SDK client', async () => {
    const { agent, tokenRequests } = await newAgent();
    await using _ = agent;
    const auth = agent.mcpAuth(mcp.url);
    expect(auth.url.href).toBe(mcp.url);
    expect(auth.domain).toBe('localhost');
    const client = await connect(
      new StreamableHTTPClientTransport(auth.url, { fetch: auth.fetch }),
    );
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('echo');
      expect(tokenRequests()).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('on a 401 fetches one new token and replays the request, on the same session', async () => {
    const { agent, tokenRequests } = await newAgent();
    await using _ = agent;
    const auth = agent.mcpAuth(mcp.url);
    const client = await connect(
      new StreamableHTTPClientTransport(auth.url, { fetch: auth.fetch }),
    );
    try {
      const first = await agent.getMcpAccessToken(mcp.url);
      mcp.refuse(first.accessToken); // as if revoked
      const initializes = mcp.stats.initializes;
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          client.callTool({ name: 'echo', arguments: { text: `n${i}` } }),
        ),
      );
      expect(results).toHaveLength(10);
      expect(tokenRequests()).toBe(2); // one refresh for the 10 refused requests
      expect(mcp.stats.initializes).toBe(initializes);
    } finally {
      await client.close();
    }
  });

  it('a second 401 is McpAuthenticationError', async () => {
    const { agent } = await newAgent();
    await using _ = agent;
    const auth = agent.mcpAuth(mcp.url);
    mcp.refuseAll(true);
    const error = await connect(
      new StreamableHTTPClientTransport(auth.url, { fetch: auth.fetch }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpAuthenticationError);
    expect(error).toMatchObject({ code: 'MCP_AUTHENTICATION_FAILED', domain: 'localhost' });
  });

  it('sends the bearer to the MCP server origin only, with a Request input too', async () => {
    const seen: Array<[string, string | null]> = [];
    const { agentToken } = await core.admin.createAgent({});
    const agent = new LimeAgent({
      agentToken,
      apiBase: core.apiBase,
      fetch: async (input, init) => {
        const url = input instanceof Request ? input.url : input.toString();
        seen.push([new URL(url).origin, new Headers(init?.headers).get('authorization')]);
        return fetch(input, init);
      },
    });
    await using _ = agent;
    const auth = agent.mcpAuth(mcp.url);
    await auth.fetch(new Request(`${core.apiBase}/core/.well-known/jwks.json`));
    const res = await auth.fetch(
      new Request(mcp.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      }),
    );
    await res.body?.cancel();
    const mcpOrigin = new URL(mcp.url).origin;
    expect(seen.filter(([o]) => o === mcpOrigin).every(([, a]) => a?.startsWith('Bearer '))).toBe(
      true,
    );
    expect(seen.find(([o]) => o === new URL(core.apiBase).origin && o !== mcpOrigin)).toBeDefined();
    for (const [origin, authorization] of seen) {
      if (origin !== mcpOrigin) expect(authorization).toBeNull();
    }
  });
});

describe('agent.mcpAuth(target).authProvider', () => {
  it('gives the MCP SDK transport the current token for every request, without OAuth discovery', async () => {
    const { agent, tokenRequests } = await newAgent();
    await using _ = agent;
    const auth = agent.mcpAuth(mcp.url);
    const transportRequests = recordingFetch();
    const client = await connect(
      new StreamableHTTPClientTransport(auth.url, {
        authProvider: auth.authProvider,
        fetch: transportRequests.fetch,
      }),
    );
    try {
      await client.callTool({ name: 'echo', arguments: { text: 'a' } });
      expect(tokenRequests()).toBe(1);
      // A refused token: the call fails with the typed error, no discovery is tried…
      const first = await agent.getMcpAccessToken(mcp.url);
      mcp.refuse(first.accessToken);
      const error = await client
        .callTool({ name: 'echo', arguments: { text: 'b' } })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(McpAuthenticationError);
      expect(transportRequests.log.filter((l) => l.includes('.well-known'))).toEqual([]);
      // …and the next call carries a new token.
      const result = await client.callTool({ name: 'echo', arguments: { text: 'c' } });
      expect(result.content).toEqual([{ type: 'text', text: 'c' }]);
      expect(tokenRequests()).toBe(2);
      expect(transportRequests.log.filter((l) => !l.endsWith('/mcp'))).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('a closed agent refuses to hand out tokens', async () => {
    const { agent } = await newAgent();
    const auth = agent.mcpAuth(mcp.url);
    await agent.close();
    await expect(auth.authProvider.tokens()).rejects.toThrow(/closed/);
    await expect(auth.fetch(mcp.url)).rejects.toThrow(/closed/);
  });
});

describe('targets without a scheme', () => {
  it('a bare localhost is plain http; any other bare host is https', async () => {
    const { agent } = await newAgent();
    await using _ = agent;
    expect(agent.mcpAuth('localhost:3000/mcp').url.href).toBe('http://localhost:3000/mcp');
    expect(agent.mcpAuth('localhost:3000').url.href).toBe('http://localhost:3000/mcp');
    expect(agent.mcp('localhost').url.href).toBe('http://localhost/mcp');
    expect(agent.mcpAuth('tools.example.com').url.href).toBe('https://tools.example.com/mcp');
    expect(agent.mcpAuth('localhost.example.com').url.href).toBe(
      'https://localhost.example.com/mcp',
    );
  });

  it('a bare localhost target reaches a plain-http MCP server', async () => {
    const { agent } = await newAgent();
    await using _ = agent;
    const { tools } = await agent.mcp(new URL(mcp.url).host + '/mcp').listTools();
    expect(tools.map((t) => t.name)).toContain('echo');
  });

  it('https to a plain-http server says to write the scheme', async () => {
    const { agentToken } = await core.admin.createAgent({});
    const agent = new LimeAgent({ agentToken, apiBase: core.apiBase }); // the real transport
    await using _ = agent;
    const url = mcp.url.replace('http:', 'https:');
    const error = await agent
      .mcpAuth(url)
      .fetch(url, { method: 'POST', body: '{}' })
      .catch((e) => e);
    expect(error).toMatchObject({ name: 'ConnectionError' });
    expect((error as Error).message).toMatch(
      /did not speak TLS; .*write the scheme: 'http:\/\/localhost:\d+\/…'/,
    );
  });
});

describe('Python one-call shortcuts', () => {
  it('run on the pooled agent.mcp(target) client', async () => {
    const { agent, tokenRequests } = await newAgent();
    await using _ = agent;
    const tools = await agent.listTools(mcp.url);
    expect(tools.map((t) => t.name)).toContain('echo');
    expect(await agent.callTool(mcp.url, 'echo', { text: 'hi' })).toMatchObject({
      content: [{ type: 'text', text: 'hi' }],
    });
    expect((await agent.listResources(mcp.url)).map((r) => r.uri)).toContain('docs://readme');
    expect((await agent.listResourceTemplates(mcp.url)).map((t) => t.uriTemplate)).toContain(
      'note://{id}',
    );
    expect((await agent.listPrompts(mcp.url)).map((p) => p.name)).toContain('greet');
    const read = await agent.readResource(mcp.url, 'docs://readme');
    expect(read.contents[0]).toMatchObject({ text: 'hello from the readme' });
    const prompt = await agent.getPrompt(mcp.url, 'greet', { who: 'x' });
    expect(JSON.stringify(prompt.messages)).toContain('Say hello to x');
    await agent.sendPing(mcp.url);
    expect(await agent.getServerCapabilities(mcp.url)).toHaveProperty('tools');
    await agent.sendProgressNotification(mcp.url, 'tok', 1, 2);
    // The test server has no logging capability: the request reaches it and is refused.
    await expect(agent.setLoggingLevel(mcp.url, 'warning')).rejects.toThrow(/Method not found/);
    expect(tokenRequests()).toBe(1);
    expect(mcp.stats.initializes).toBeGreaterThan(0);
  });
});
