import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LimeMcpVerifier } from 'lime-mcp-server-sdk';
import { createMcpApp, type ToolCall } from './mcp-app.js';

/** Options of {@link startMcpServer}. */
export interface McpServerOptions {
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
  onToolCall?: (call: ToolCall) => void;
}

/** A running MCP server. */
export interface McpServerHandle {
  /** The MCP endpoint, e.g. `http://localhost:41234/mcp`. */
  url: string;
  /** The verifier, e.g. to read its cache statistics. */
  verifier: LimeMcpVerifier;
  close(): Promise<void>;
}

/**
 * Start the example MCP server. The port is only known once listening, and
 * the verifier pins tokens to this server's URL, so the app is built right
 * after `listen`.
 *
 * @example
 * const mcp = await startMcpServer({ apiBase: core.apiBase });
 * await agent.mcp(mcp.url).callTool('whoami');
 */
export async function startMcpServer(options: McpServerOptions = {}): Promise<McpServerHandle> {
  const host = options.host ?? 'localhost';
  let app: ReturnType<typeof createMcpApp> | undefined;
  const server = createServer((req, res) => {
    if (app) app(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject).listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host}:${port}/mcp`;
  const baseUrl = options.apiBase ?? process.env.LIME_API_BASE;
  const verifier = new LimeMcpVerifier({ resource: url, ...(baseUrl ? { baseUrl } : {}) });
  app = createMcpApp({
    verifier,
    ...(options.onToolCall ? { onToolCall: options.onToolCall } : {}),
  });
  return {
    url,
    verifier,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
