// An app with both SDKs bundled into it, as Next.js or esbuild bundles a
// server: a site waits for a login that an agent approves, on a Core whose
// address and tokens come as JSON in argv[2]. Prints `{"agentId":…}` and exits.
import { LimeAgent } from 'lime-agents-sdk';
import { LimeSite } from 'lime-sites-sdk';

const { apiBase, siteToken, agentToken } = JSON.parse(process.argv[2] ?? '{}') as Record<
  string,
  string
>;
const site = new LimeSite({ apiBase, siteToken });
const agent = new LimeAgent({ apiBase, agentToken });
try {
  await site.connect();
  const { loginRequestId } = await site.createLoginRequest();
  const waiting = site.waitForLogin(loginRequestId, { timeout: 20_000 });
  await agent.login(loginRequestId);
  const passport = await waiting;
  console.log(JSON.stringify({ agentId: passport.agentId }));
} finally {
  await agent.close();
  await site.close();
}
