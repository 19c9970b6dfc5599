// `pnpm --filter lime-example-agent-worker start`: log into the example site,
// then call the example MCP server's `whoami` tool.
//   LIME_API_BASE=… LIME_AGENT_TOKEN=at_… SITE_URL=http://127.0.0.1:3000 \
//   MCP_URL=http://localhost:3001/mcp pnpm start
import { runAgentWorker } from './run-agent-worker.js';

const siteUrl = process.env.SITE_URL ?? 'http://127.0.0.1:3000';
const result = await runAgentWorker({
  siteUrl,
  ...(process.env.MCP_URL ? { mcpUrl: process.env.MCP_URL } : {}),
  onStep: (step) => {
    const ms = `${step.durationMs.toFixed(0)} ms`;
    if (step.type === 'login-requested') console.log(`site gave us ${step.loginRequestId} (${ms})`);
    if (step.type === 'login-approved') console.log(`approved ${step.loginRequestId} (${ms})`);
    if (step.type === 'session-opened') console.log(`logged in as ${step.agentId} (${ms})`);
    if (step.type === 'tool-called')
      console.log(`${step.tool} → ${JSON.stringify(step.result)} (${ms})`);
  },
});
console.log(JSON.stringify(result, null, 2));
