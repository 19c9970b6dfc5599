// What every example MCP server must do, whatever framework serves it: answer
// `whoami` with the agent its bearer proves, refuse a missing bearer with 401
// and an RFC 9728 pointer — on every path variant and method its router may
// route to the tool — and refuse a token minted for another MCP server.
import { LimeAgent } from 'lime-agents-sdk';
import { type Core, startCore } from 'lime-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

export interface ExampleMcpServer {
  url: string;
  close(): Promise<void>;
}

export interface McpServerContract {
  /** `describe` title. */
  title: string;
  /** The `server` field the example's `whoami` answers with. */
  server: string;
  start(options: {
    apiBase: string;
    onToolCall: (call: { agentId: string }) => void;
  }): Promise<ExampleMcpServer>;
}

const jsonRpcHeaders = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};
const toolsList = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
const whoamiCall = JSON.stringify({
  jsonrpc: '2.0',
  id: 2,
  method: 'tools/call',
  params: { name: 'whoami', arguments: {} },
});

export function describeMcpServerExample(contract: McpServerContract): void {
  let core: Core;
  let mcp: ExampleMcpServer;
  let agent: LimeAgent;
  let agentId: string;
  const calls: Array<{ agentId: string }> = [];

  beforeAll(async () => {
    core = await startCore({ powDifficulty: 0 });
    const created = await core.admin.createAgent({ displayName: `${contract.server}-bot` });
    agentId = created.agentId;
    agent = new LimeAgent({ apiBase: core.apiBase, agentToken: created.agentToken });
    mcp = await contract.start({ apiBase: core.apiBase, onToolCall: (c) => calls.push(c) });
  });

  afterAll(async () => {
    await agent?.close();
    await mcp?.close();
    await core?.close();
  });

  describe(contract.title, () => {
    it('answers whoami with the calling agent, as its bearer proves it', async () => {
      const { tools } = await agent.mcp(mcp.url).listTools();
      expect(tools.map((t) => t.name)).toEqual(['whoami']);
      const result = await agent.mcp(mcp.url).callTool('whoami', {});
      const text = (result.content as Array<{ type: string; text: string }>)[0]!.text;
      expect(JSON.parse(text)).toMatchObject({
        agentId,
        domain: 'localhost',
        server: contract.server,
      });
      expect(calls.at(-1)).toMatchObject({ agentId });
    });

    it('refuses a request without a bearer with 401 and points at its RFC 9728 metadata', async () => {
      const res = await fetch(mcp.url, {
        method: 'POST',
        headers: jsonRpcHeaders,
        body: toolsList,
      });
      expect(res.status).toBe(401);
      const challenge = res.headers.get('www-authenticate') ?? '';
      expect(challenge).toMatch(/^Bearer /);
      expect(challenge).toContain('error="invalid_token"');
      const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
      expect(metadataUrl).toBe(new URL('/.well-known/oauth-protected-resource/mcp', mcp.url).href);
      const metadata = await (await fetch(metadataUrl!)).json();
      expect(metadata).toMatchObject({ resource: mcp.url, authorization_servers: [core.issuer] });
    });

    it('no path variant or method reaches the tool without a bearer', async () => {
      const before = calls.length;
      const base = new URL(mcp.url);
      for (const path of ['/mcp', '/MCP', '/Mcp/', '/mcp/', '/%6dcp', '/m%63p', '/MCP?x=1']) {
        for (const method of ['POST', 'GET', 'DELETE', 'HEAD', 'OPTIONS']) {
          const res = await fetch(new URL(path, base), {
            method,
            headers: jsonRpcHeaders,
            ...(method === 'POST' ? { body: whoamiCall } : {}),
          });
          const body = await res.text();
          // 401 from the guard, 404 for a path the router does not route, or
          // an OPTIONS the router answers itself (express lists the methods).
          const refused =
            res.status === 401 ||
            res.status === 404 ||
            (method === 'OPTIONS' && res.status < 300 && res.headers.has('allow'));
          expect({ path, method, status: res.status, refused }).toEqual({
            path,
            method,
            status: res.status,
            refused: true,
          });
          expect(body).not.toContain('"result"');
        }
      }
      expect(calls.length).toBe(before);
    });

    it('refuses a token minted for another MCP server', async () => {
      const { accessToken } = await agent.getMcpAccessToken('tools.example.com');
      const res = await fetch(mcp.url, {
        method: 'POST',
        headers: { ...jsonRpcHeaders, authorization: `Bearer ${accessToken}` },
        body: toolsList,
      });
      expect(res.status).toBe(401);
      expect(await res.text()).not.toContain(accessToken);
    });
  });
}
