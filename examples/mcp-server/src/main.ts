// `pnpm --filter lime-example-mcp-server start`: the MCP tool server on its own.
//   LIME_API_BASE=http://127.0.0.1:8787/api/v1 PORT=3001 pnpm start
import { startMcpServer } from './start-mcp-server.js';

const server = await startMcpServer({
  port: Number(process.env.PORT ?? 3001),
  onToolCall: (call) => console.log(`whoami called by agent ${call.agentId}`),
});
console.log(`MCP server on ${server.url} (Core ${server.verifier.apiBase})`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void server.close().then(() => process.exit(0)));
}
