// The example edge MCP server, importable by the demo and the tests.
export type { EdgeMcpApp, EdgeMcpAppOptions, EdgeToolCall } from './edge-app.js';
export { createEdgeMcpApp } from './edge-app.js';
export type { EdgeMcpServerHandle, EdgeMcpServerOptions } from './start-edge-mcp-server.js';
export { startEdgeMcpServer } from './start-edge-mcp-server.js';
