// The example MCP server, importable by the demo and the tests.
export type { McpAppOptions, ToolCall } from './mcp-app.js';
export { createMcpApp } from './mcp-app.js';
export type { McpServerHandle, McpServerOptions } from './start-mcp-server.js';
export { startMcpServer } from './start-mcp-server.js';
