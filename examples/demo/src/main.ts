// `npm run demo` (after install + build) or `pnpm --filter lime-example-demo start`.
//
// With LIME_API_BASE, LIME_SITE_TOKEN and LIME_AGENT_TOKEN all set, the same
// examples run against that Core (e.g. the hosted one) instead of an embedded
// reference Core. LIME_DEMO_POW_DIFFICULTY sets the embedded Core's difficulty.
import { shutdownPowPool } from 'lime-agents-sdk';
import { runDemo } from './run-demo.js';

const { LIME_API_BASE, LIME_SITE_TOKEN, LIME_AGENT_TOKEN, LIME_DEMO_POW_DIFFICULTY } = process.env;
const hostedVars = [LIME_API_BASE, LIME_SITE_TOKEN, LIME_AGENT_TOKEN];
if (hostedVars.some(Boolean) && !hostedVars.every(Boolean)) {
  console.error(
    'To run against a hosted Core set all three of LIME_API_BASE, LIME_SITE_TOKEN and LIME_AGENT_TOKEN ' +
      '(or none of them for the embedded Core).',
  );
  process.exit(2);
}

try {
  await runDemo({
    ...(LIME_API_BASE && LIME_SITE_TOKEN && LIME_AGENT_TOKEN
      ? {
          hosted: {
            apiBase: LIME_API_BASE,
            siteToken: LIME_SITE_TOKEN,
            agentToken: LIME_AGENT_TOKEN,
          },
        }
      : {}),
    ...(LIME_DEMO_POW_DIFFICULTY ? { powDifficulty: Number(LIME_DEMO_POW_DIFFICULTY) } : {}),
  });
  await shutdownPowPool();
  process.exit(0);
} catch (error) {
  const e = error as { name?: string; code?: string; message?: string };
  console.error(
    `\n✗ demo failed: ${e.name ?? 'Error'}${e.code ? ` [${e.code}]` : ''}: ${e.message ?? String(error)}`,
  );
  process.exit(1);
}
