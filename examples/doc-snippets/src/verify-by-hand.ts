import { LimeMcpVerifier } from 'lime-mcp-server-sdk';

// One verifier per process: it caches the Core's metadata, keys and verified tokens.
const verifier = new LimeMcpVerifier({ resource: 'https://tools.example.com/mcp' });

/** The calling agent's id, or why its bearer was refused. */
export async function whoCalls(bearer: string): Promise<string> {
  const result = await verifier.verify(bearer);
  if (result.valid) return `agent ${result.agentId}`;
  return `refused (${result.reason}): ${result.message}`;
}
