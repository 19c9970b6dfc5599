import { describeMcpServerExample } from '../../test-support/mcp-server-contract.js';
import { startEdgeMcpServer } from '../src/index.js';

describeMcpServerExample({
  title: 'example edge MCP server (Hono, web-standard handler)',
  server: 'edge',
  start: startEdgeMcpServer,
});
