// A Cloudflare Worker (run by workerd in test/runtime-matrix.test.ts, bundled
// with esbuild for the `workerd`/`worker`/`browser` conditions and WITHOUT
// nodejs_compat): the verification halves of the SDKs must work on web
// standards alone. POST a ProbeConfig as JSON; the answer is the list of
// ProbeResults.
import { LimeMcpVerifier } from 'lime-mcp-server-sdk';
import { LimeSite } from 'lime-sites-sdk';
import type { ProbeConfig, ProbeResult } from './probe-types.js';

async function check(
  results: ProbeResult[],
  name: string,
  run: () => Promise<void>,
): Promise<void> {
  const started = Date.now();
  try {
    await run();
    results.push({ check: name, ok: true, ms: Date.now() - started });
  } catch (error) {
    const e = error as Error & { code?: string };
    results.push({
      check: name,
      ok: false,
      detail: `${e.name}${e.code ? ` ${e.code}` : ''}: ${e.message}`,
    });
  }
}

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

export default {
  async fetch(request: Request): Promise<Response> {
    const config = (await request.json()) as ProbeConfig;
    const results: ProbeResult[] = [];
    await check(results, 'mcp-verify', async () => {
      const verifier = new LimeMcpVerifier({ baseUrl: config.origin, resource: config.resource });
      const good = await verifier.verify(config.mcpToken);
      expect(good.valid, `the Core's token was refused: ${good.valid ? '' : good.message}`);
      const [h, p] = config.mcpToken.split('.');
      expect(
        !(await verifier.verify(`${h}.${p}.${'A'.repeat(342)}`)).valid,
        'a forged token was accepted',
      );
      expect(!(await verifier.verify('not-a-jwt')).valid, 'a malformed bearer was accepted');
    });
    await check(results, 'site-verify-passport', async () => {
      const site = new LimeSite({ apiBase: config.apiBase, siteToken: config.siteToken });
      try {
        const passport = await site.verifyPassport(config.passport, {
          expectedRequestId: config.passportRequestId,
        });
        expect(passport.agentId, 'no agent id in the verified passport');
        const refused = await site
          .verifyPassport(config.passport, { expectedRequestId: 'some-other-request' })
          .then(
            () => false,
            () => true,
          );
        expect(refused, 'a passport for another request was accepted');
      } finally {
        await site.close();
      }
    });
    await check(results, 'site-close', async () => {
      const site = new LimeSite({ apiBase: config.apiBase, siteToken: config.siteToken });
      await site.createLoginRequest();
      await site.close();
    });
    return Response.json(results);
  },
};
