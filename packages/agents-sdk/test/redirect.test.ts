// fetch follows redirects and strips only Authorization/Cookie across origins:
// X-Agent-Token would reach whatever host a Core (or a proxy in front of it)
// redirects to. These run over real HTTP with two servers on different ports.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, LimeAgent } from 'lime-agents-sdk';
import { startCore } from 'lime-core';
import { afterEach, describe, expect, it } from 'vitest';

const TOKEN = 'at_redirect_secret_0123456789';
const servers: Server[] = [];

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handler);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((resolve) => s.close(resolve));
    }),
  );
});

/** A server that records the agent token it sees and answers a profile. */
async function target() {
  const seen: (string | undefined)[] = [];
  const url = await serve((req, res) => {
    seen.push(req.headers['x-agent-token'] as string | undefined);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, data: { agent_id: 'ag_1', user_id: 'u_1' } }));
  });
  return { url, seen };
}

describe('Core calls and redirects', () => {
  it.each([301, 302, 303, 307, 308])(
    'a %i to another origin is refused before the token is sent there',
    async (status) => {
      const other = await target();
      // 'localhost' vs '127.0.0.1' is another origin even on the same port.
      const otherOrigin = other.url.replace('127.0.0.1', 'localhost');
      const core = await serve((req, res) => {
        res.writeHead(status, { location: `${otherOrigin}${req.url}` });
        res.end();
      });
      const agent = new LimeAgent({ agentToken: TOKEN, apiBase: `${core}/api/v1`, maxRetries: 0 });
      try {
        const error = await agent.getProfile().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ApiError);
        expect((error as ApiError).code).toBe('UNEXPECTED_REDIRECT');
        expect((error as ApiError).status).toBe(status);
        expect((error as Error).message).toContain('LIME_API_BASE');
        expect((error as Error).message).not.toContain(TOKEN);
        expect(other.seen).toEqual([]);
      } finally {
        await agent.close();
      }
    },
  );

  it('the token endpoint (POST) is not redirected across origins either', async () => {
    const other = await target();
    const core = await serve((req, res) => {
      res.writeHead(307, { location: `${other.url}${req.url}` });
      res.end();
    });
    const agent = new LimeAgent({ agentToken: TOKEN, apiBase: `${core}/api/v1`, maxRetries: 0 });
    try {
      const error = await agent.getMcpAccessToken('tools.example.com').catch((e: unknown) => e);
      expect((error as ApiError).code).toBe('UNEXPECTED_REDIRECT');
      expect(other.seen).toEqual([]);
    } finally {
      await agent.close();
    }
  });

  it('a same-origin redirect is followed, with the token', async () => {
    const seen: (string | undefined)[] = [];
    const core = await serve((req, res) => {
      seen.push(req.headers['x-agent-token'] as string | undefined);
      if (req.url?.startsWith('/old/')) {
        res.writeHead(308, { location: req.url.replace('/old/', '/') });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, data: { agent_id: 'ag_1', user_id: 'u_1' } }));
    });
    const agent = new LimeAgent({ agentToken: TOKEN, apiBase: `${core}/old/api/v1` });
    try {
      const profile = await agent.getProfile();
      expect(profile.agentId).toBe('ag_1');
      expect(seen).toEqual([TOKEN, TOKEN]);
    } finally {
      await agent.close();
    }
  });

  it('a same-origin 302 of a POST is refused (it would turn approve into a GET)', async () => {
    const core = await serve((req, res) => {
      if (req.method === 'GET' && req.url?.startsWith('/api/v1/auth/requests/')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            ok: true,
            data: {
              request_id: 'lr_1',
              status: 'PENDING',
              pow_challenge: 'a'.repeat(64),
              pow_difficulty: 0,
              expires_at: '2030-01-01T00:00:00Z',
            },
          }),
        );
        return;
      }
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
    });
    const agent = new LimeAgent({ agentToken: TOKEN, apiBase: `${core}/api/v1`, maxRetries: 0 });
    try {
      const error = await agent.login('lr_1').catch((e: unknown) => e);
      expect((error as ApiError).code).toBe('UNEXPECTED_REDIRECT');
      expect((error as ApiError).status).toBe(302);
    } finally {
      await agent.close();
    }
  });
});

/**
 * An injected fetch that follows redirects itself and forwards every header,
 * as node-fetch did before 2.6.7 (and hand-written wrappers still do); it
 * honours `redirect: 'manual'` when asked.
 */
async function forwardsHeadersOnRedirect(
  input: string | URL | Request,
  init: RequestInit = {},
): Promise<Response> {
  if (init.redirect === 'manual') return fetch(input, init);
  let url = input instanceof Request ? input.url : String(input);
  for (let hop = 0; hop < 5; hop++) {
    const response = await fetch(url, { ...init, redirect: 'manual' });
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || location === null) return response;
    await response.body?.cancel();
    url = new URL(location, url).href;
  }
  throw new TypeError('too many redirects');
}

describe('MCP calls and redirects', () => {
  // Today the MCP SDK's transport asks for redirect: 'manual' and follows only
  // within the origin (its default redirectPolicy); this pins that, since the
  // bearer fetch itself relies on it.
  it('the MCP bearer is not carried to another origin, whatever the injected fetch does', async () => {
    const core = await startCore({ powDifficulty: 0 });
    try {
      const { agentToken } = await core.admin.createAgent({ displayName: 'redirect bot' });
      const bearers: (string | undefined)[] = [];
      const other = await serve((req, res) => {
        bearers.push(req.headers.authorization);
        res.writeHead(401);
        res.end();
      });
      const tools = await serve((req, res) => {
        res.writeHead(307, { location: `${other}${req.url}` });
        res.end();
      });
      const agent = new LimeAgent({
        agentToken,
        apiBase: core.apiBase,
        fetch: forwardsHeadersOnRedirect,
        maxRetries: 0,
      });
      try {
        // http://localhost:<port> is the MCP server; the redirect goes to 127.0.0.1.
        const mcp = agent.mcp(`${tools.replace('127.0.0.1', 'localhost')}/mcp`);
        const error = await mcp.listTools().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message).toMatch(/not followed/);
        expect(bearers).toEqual([]);
      } finally {
        await agent.close();
      }
    } finally {
      await core.close();
    }
  });
});
