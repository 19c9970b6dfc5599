import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { LimeMcpVerifier } from 'lime-mcp-server-sdk';
import { createEdgeMcpApp, type EdgeToolCall } from './edge-app.js';

/** Options of {@link startEdgeMcpServer}. */
export interface EdgeMcpServerOptions {
  /** The Core: origin or API base. @default process.env.LIME_API_BASE, else LIME_BASE_URL, else hosted */
  apiBase?: string;
  /** TCP port; 0 picks a free one. @default 0 */
  port?: number;
  /**
   * Host name to listen on and to put in the URL. It must be a host name, not
   * an IP: agents get MCP tokens per host name (docs/protocol.md §7).
   * @default 'localhost'
   */
  host?: string;
  /** Called after each `whoami` call. */
  onToolCall?: (call: EdgeToolCall) => void;
}

/** A running edge MCP server. */
export interface EdgeMcpServerHandle {
  /** The MCP endpoint, e.g. `http://localhost:41234/mcp`. */
  url: string;
  close(): Promise<void>;
}

/**
 * Run the edge app on Node. The port is only known once listening, and the
 * verifier pins tokens to this server's URL, so the app is built right after.
 *
 * @example
 * const edge = await startEdgeMcpServer({ apiBase: core.apiBase });
 * await agent.mcp(edge.url).callTool('whoami');
 */
export async function startEdgeMcpServer(
  options: EdgeMcpServerOptions = {},
): Promise<EdgeMcpServerHandle> {
  const host = options.host ?? 'localhost';
  let app: ReturnType<typeof createEdgeMcpApp> | undefined;
  const server = serve({
    port: options.port ?? 0,
    hostname: host,
    fetch: (request: Request) =>
      app ? app.fetch(request) : new Response('starting', { status: 503 }),
  });
  await new Promise<void>((resolve, reject) => {
    if (server.listening) resolve();
    else server.once('listening', resolve).once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host}:${port}/mcp`;
  const baseUrl = options.apiBase ?? process.env.LIME_API_BASE;
  const verifier = new LimeMcpVerifier({ resource: url, ...(baseUrl ? { baseUrl } : {}) });
  app = createEdgeMcpApp({
    verifier,
    ...(options.onToolCall ? { onToolCall: options.onToolCall } : {}),
  });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}
