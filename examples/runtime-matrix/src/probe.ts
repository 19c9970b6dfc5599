// Run by Node, Bun and Deno in test/runtime-matrix.test.ts, against the
// BUILT packages, imported by name as a user would (bundled with its own
// modules only). The Core runs on Node in
// the test; this script gets its addresses and credentials as JSON in argv[2]
// (or the LIME_MATRIX environment variable) and prints one JSON line of
// results per check, so the test can say exactly which check failed where.
import { LimeAgent, solvePow } from 'lime-agents-sdk';
import { LimeSite } from 'lime-sites-sdk';
import { type Check, expect, runCheck, verificationChecks } from './checks.js';
import type { ProbeConfig } from './probe-types.js';

const g = globalThis as {
  Deno?: { args: string[] };
  process?: { argv: string[]; env: Record<string, string | undefined> };
};
const raw = g.process?.argv[2] ?? g.Deno?.args[0] ?? g.process?.env.LIME_MATRIX;
if (!raw) throw new Error('usage: probe <config JSON>');
const config = JSON.parse(raw) as ProbeConfig;

async function check(name: string, run: Check): Promise<void> {
  console.log(JSON.stringify(await runCheck(name, run)));
}

for (const [name, run] of verificationChecks(config)) await check(name, run);

await check('agent-close', async () => {
  const agent = new LimeAgent({ apiBase: config.apiBase, agentToken: config.agentToken });
  await agent.getProfile();
  await agent.close();
  return undefined;
});

if (config.difficulties.length > 0) {
  const site = new LimeSite({ apiBase: config.apiBase, siteToken: config.siteToken });
  const agent = new LimeAgent({ apiBase: config.apiBase, agentToken: config.agentToken });
  await site.connect(); // the event stream
  for (const difficulty of config.difficulties) {
    await check(`login-d${difficulty}`, async () => {
      const set = await fetch(`${config.origin}/admin/v1/pow-difficulty`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${config.adminToken}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ difficulty }),
      });
      expect(set.ok, `could not set the difficulty: ${set.status}`);
      const { loginRequestId } = await site.createLoginRequest();
      const waiting = site.waitForLogin(loginRequestId);
      await agent.login(loginRequestId);
      const passport = await waiting;
      expect(passport.requestId === loginRequestId, 'the passport is for another request');
      return undefined;
    });
  }
  await check('pow-hash-rate', async () => {
    // Four solves at difficulty 22 (≈ 4 M hashes each) on the SDK's worker pool.
    let hashes = 0;
    let ms = 0;
    for (let i = 0; i < 4; i++) {
      const bytes = crypto.getRandomValues(new Uint8Array(32));
      const challenge = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
      const solution = await solvePow(challenge, 22);
      hashes += solution.hashes;
      ms += solution.elapsedMs;
    }
    return String(Math.round((hashes / ms) * 1000));
  });
  await check('login-close', async () => {
    await agent.close();
    await site.close();
    return undefined;
  });
}
