// Key rotation end to end, through both verifiers with their default refetch
// intervals: after each rotation (publish now, sign 65 s later) a fresh
// passport reaches a LimeSite over the stream and verifies, and a fresh MCP
// token verifies with LimeMcpVerifier — never `unknown_kid`. The first wave
// locked everyone out after 32 rotations (the key cache kept the first 32
// keys of the set); CI runs 40, `LIME_ROTATIONS=100` the full count.
// Only `Date` is faked (Core, site and verifier share it), so the 65 s
// activations pass at once while real sockets and timers run.
import { HEADERS, PATHS } from '@lime/wire';
import { LimeAgent } from 'lime-agents-sdk';
import { type Core, startCore } from 'lime-core';
import { LimeMcpVerifier } from 'lime-mcp-server-sdk';
import { LimeSite } from 'lime-sites-sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const ROTATIONS = Number(process.env.LIME_ROTATIONS ?? 40);

let core: Core;
let site: LimeSite;
let agent: LimeAgent;
let verifier: LimeMcpVerifier;
let agentToken: string;

async function freshMcpToken(): Promise<string> {
  const res = await fetch(core.apiBase + PATHS.oauthToken, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [HEADERS.agentToken]: agentToken },
    body: JSON.stringify({ domain: 'tools.example.com' }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
  core = await startCore({ powDifficulty: 0 });
  const { siteToken } = await core.admin.createSite({ name: 'rotation' });
  ({ agentToken } = await core.admin.createAgent({ displayName: 'rotation-bot' }));
  site = new LimeSite({ siteToken, apiBase: core.apiBase });
  agent = new LimeAgent({ apiBase: core.apiBase, agentToken });
  verifier = new LimeMcpVerifier({ baseUrl: core.url, expectedDomain: 'tools.example.com' });
  await site.connect();
});

afterAll(async () => {
  await site?.close();
  await agent?.close();
  await core?.close();
  vi.useRealTimers();
});

describe('key rotation', () => {
  it(`${ROTATIONS} rotations in a row: every fresh passport and MCP token verifies, the published set stays small`, async () => {
    const failures: string[] = [];
    let largestSet = 0;
    for (let i = 0; i < ROTATIONS; i++) {
      const { kid } = await core.admin.rotateSigningKey();
      vi.advanceTimersByTime(66_000); // past the 65 s activation: the new key signs now
      // A fresh passport, over the stream, verified by the site's own key cache.
      const { loginRequestId } = await site.createLoginRequest();
      const waiting = site.waitForLogin(loginRequestId, { timeout: 20_000 });
      await agent.login(loginRequestId);
      const passport = await waiting.catch((e: unknown) => e as Error);
      if (passport instanceof Error) failures.push(`rotation ${i}: passport ${passport.message}`);
      // A fresh MCP token, verified by the MCP verifier (60 s refetch interval).
      // (Straight from the token endpoint: the agent would reuse its cached 5-minute token.)
      const accessToken = await freshMcpToken();
      const header = JSON.parse(Buffer.from(accessToken.split('.')[0]!, 'base64url').toString());
      if (header.kid !== kid)
        failures.push(`rotation ${i}: token signed by ${header.kid}, not ${kid}`);
      const result = await verifier.verify(accessToken);
      if (!result.valid) failures.push(`rotation ${i}: MCP token ${result.reason}`);
      largestSet = Math.max(largestSet, (await core.admin.signingKeys()).publishedKids.length);
    }
    console.log(
      `${ROTATIONS} rotations: ${ROTATIONS - failures.length} verified on both verifiers, largest published set ${largestSet}`,
    );
    expect(failures).toEqual([]);
    expect(largestSet).toBeLessThanOrEqual(4);
  }, 600_000);
});
