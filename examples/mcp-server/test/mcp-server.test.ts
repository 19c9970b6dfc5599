import { describeMcpServerExample } from '../../test-support/mcp-server-contract.js';
import { startMcpServer } from '../src/index.js';

describeMcpServerExample({
  title: 'example MCP server (MCP SDK + express + lime-mcp-server-sdk/express)',
  server: 'express',
  start: startMcpServer,
});
