// A real MCP server for the tests: the official SDK's McpServer over
// streamable HTTP on node:http, checking bearers itself with jose against the
// Core's JWKS (no dependency on lime-mcp-server-sdk).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AUDIENCE, PATHS } from '@lime/wire';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { z } from 'zod';

export interface McpTestServerStats {
  /** Every HTTP request: method, whether its bearer was accepted. */
  requests: Array<{ method: string; accepted: boolean; session: string | undefined }>;
  /** Bearers accepted, in order. */
  bearers: string[];
  initializes: number;
  /** Sessions ended by the client's DELETE. */
  deletes: number;
}

export interface McpTestServer {
  /** `http://localhost:PORT/mcp` */
  url: string;
  stats: McpTestServerStats;
  /** Open sessions. */
  sessionCount(): number;
  /** Refuse these bearers with 401 (as if revoked). */
  refuse(token: string): void;
  /** Refuse every bearer with 401. */
  refuseAll(on: boolean): void;
  /** Forget every session, as a server restart would: later requests get 404. */
  expireSessions(): Promise<void>;
  close(): Promise<void>;
}

function send(
  res: ServerResponse,
  status: number,
  body: object,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function buildServer(): McpServer {
  const server = new McpServer({ name: 'lime-test-mcp', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Echo text back', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  server.registerTool('whoami', { description: 'The agent id of the bearer' }, async (extra) => ({
    content: [{ type: 'text', text: String(extra.authInfo?.clientId ?? 'anonymous') }],
  }));
  server.registerTool(
    'sleep',
    { description: 'Answer after ms', inputSchema: { ms: z.number() } },
    async ({ ms }) => {
      await new Promise((r) => setTimeout(r, ms));
      return { content: [{ type: 'text', text: `slept ${ms}` }] };
    },
  );
  server.registerResource(
    'readme',
    'docs://readme',
    { mimeType: 'text/plain', description: 'The readme' },
    async (uri) => ({ contents: [{ uri: uri.href, text: 'hello from the readme' }] }),
  );
  server.registerResource(
    'note',
    new ResourceTemplate('note://{id}', { list: undefined }),
    { mimeType: 'text/plain' },
    async (uri, { id }) => ({ contents: [{ uri: uri.href, text: `note ${String(id)}` }] }),
  );
  server.registerPrompt(
    'greet',
    { description: 'Greet someone', argsSchema: { who: z.string() } },
    ({ who }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Say hello to ${who}` } }],
    }),
  );
  return server;
}

/**
 * Start the test MCP server for tokens of `domain` issued by the Core at
 * `apiBase` (issuer `issuer`).
 */
export async function startMcpTestServer(core: {
  apiBase: string;
  issuer: string;
  domain?: string;
}): Promise<McpTestServer> {
  const domain = core.domain ?? 'localhost';
  const jwks = createRemoteJWKSet(new URL(core.apiBase + PATHS.jwks));
  const sessions = new Map<
    string,
    { transport: StreamableHTTPServerTransport; server: McpServer }
  >();
  const refused = new Set<string>();
  let refuseAll = false;
  const stats: McpTestServerStats = { requests: [], bearers: [], initializes: 0, deletes: 0 };

  const unauthorized = (res: ServerResponse, why: string) =>
    send(
      res,
      401,
      { error: 'invalid_token', error_description: why },
      { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${why}"` },
    );

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const session = req.headers['mcp-session-id'] as string | undefined;
    const record = { method: req.method ?? '', accepted: false, session };
    stats.requests.push(record);
    const header = req.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!token) return unauthorized(res, 'missing bearer');
    if (refuseAll || refused.has(token)) return unauthorized(res, 'refused');
    let clientId: string;
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: core.issuer,
        audience: AUDIENCE.mcp,
        algorithms: ['RS256'],
      });
      if (payload.domain !== domain) return unauthorized(res, 'wrong domain');
      if ('user_id' in payload || 'request_id' in payload)
        return unauthorized(res, 'not an MCP token');
      clientId = String(payload.client_id ?? payload.sub);
    } catch {
      return unauthorized(res, 'bad token');
    }
    record.accepted = true;
    stats.bearers.push(token);
    const auth = { token, clientId, scopes: ['mcp'] };
    Object.assign(req, { auth });

    if (session !== undefined) {
      const s = sessions.get(session);
      if (!s)
        return send(res, 404, {
          jsonrpc: '2.0',
          error: { code: -32001, message: 'Session not found' },
          id: null,
        });
      if (req.method === 'DELETE') stats.deletes++;
      await s.transport.handleRequest(req, res);
      return;
    }
    if (req.method !== 'POST') {
      return send(res, 400, {
        jsonrpc: '2.0',
        error: { code: -32000, message: 'no session' },
        id: null,
      });
    }
    const server = buildServer();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        stats.initializes++;
        sessions.set(id, { transport, server });
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
      },
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  }

  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { error: String(error) });
      else res.end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, 'localhost', resolve));
  const { port } = http.address() as AddressInfo;

  async function dropSessions() {
    const all = [...sessions.values()];
    sessions.clear();
    await Promise.all(all.map(async (s) => s.server.close().catch(() => {})));
  }

  return {
    url: `http://localhost:${port}/mcp`,
    stats,
    sessionCount: () => sessions.size,
    refuse: (token) => refused.add(token),
    refuseAll: (on) => {
      refuseAll = on;
    },
    expireSessions: dropSessions,
    async close() {
      await dropSessions();
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    },
  };
}
