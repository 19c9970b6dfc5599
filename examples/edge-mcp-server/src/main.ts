// `pnpm --filter lime-example-edge-mcp-server start`: the edge MCP server on Node.
//   LIME_API_BASE=http://127.0.0.1:8787/api/v1 PORT=3002 pnpm start
import { startEdgeMcpServer } from './start-edge-mcp-server.js';

const server = await startEdgeMcpServer({
  port: Number(process.env.PORT ?? 3002),
  onToolCall: (call) => console.log(`whoami called by agent ${call.agentId}`),
});
console.log(`edge MCP server on ${server.url}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void server.close().then(() => process.exit(0)));
}
