// Child process of the login benchmark: runs one Core with its default
// options (difficulty 0 and rate limits aside) and reports its address and peak RSS over IPC.
import { startCore } from '../src/index.js';

const clients = Number(process.env.BENCH_CLIENTS ?? 50);
// Rate limits off: one site token driving ~1,000 logins/s is the load under
// test here, not abuse (the default per-credential bucket is 1,000 req/s).
const core = await startCore({ powDifficulty: 0, rateLimits: false });
const site = await core.admin.createSite({ name: 'bench' });
const agents = [];
for (let i = 0; i < clients; i++)
  agents.push(await core.admin.createAgent({ displayName: `a${i}` }));

process.send?.({
  type: 'ready',
  apiBase: core.apiBase,
  siteToken: site.siteToken,
  agentTokens: agents.map((a) => a.agentToken),
});
process.on('message', async (msg: { type: string }) => {
  if (msg.type === 'stats') {
    process.send?.({ type: 'stats', maxRssKb: process.resourceUsage().maxRSS });
  } else if (msg.type === 'stop') {
    await core.close();
    process.exit(0);
  }
});
