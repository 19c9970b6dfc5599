// The checks the probe (src/probe.ts: Node, Bun, Deno) and the Worker
// (src/worker.ts: workerd) share, and how a check is run and reported.
import { LimeMcpVerifier } from 'lime-mcp-server-sdk';
import { LimeSite } from 'lime-sites-sdk';
import type { ProbeConfig, ProbeResult } from './probe-types.js';

/** A check: throws to fail; a string it answers is its detail (e.g. a hash rate). */
export type Check = () => Promise<unknown>;

/** Run one check and describe its outcome, never throwing. */
export async function runCheck(name: string, run: Check): Promise<ProbeResult> {
  const started = performance.now();
  try {
    const detail = await run();
    return {
      check: name,
      ok: true,
      ms: Math.round(performance.now() - started),
      ...(typeof detail === 'string' && detail ? { detail } : {}),
    };
  } catch (error) {
    const e = error as Error & { code?: string };
    return {
      check: name,
      ok: false,
      detail: `${e.name}${e.code ? ` ${e.code}` : ''}: ${e.message}`,
    };
  }
}

export function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** The verification halves of the SDKs and a site's clean close: web standards alone. */
export function verificationChecks(config: ProbeConfig): Array<[string, Check]> {
  return [
    [
      'mcp-verify',
      async () => {
        const verifier = new LimeMcpVerifier({ baseUrl: config.origin, resource: config.resource });
        const good = await verifier.verify(config.mcpToken);
        expect(good.valid, `the Core's token was refused: ${good.valid ? '' : good.message}`);
        const [h, p] = config.mcpToken.split('.');
        const forged = await verifier.verify(`${h}.${p}.${'A'.repeat(342)}`);
        expect(!forged.valid, 'a token with a forged signature was accepted');
        expect(!(await verifier.verify('not-a-jwt')).valid, 'a malformed bearer was accepted');
      },
    ],
    [
      'site-verify-passport',
      async () => {
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
      },
    ],
    [
      'site-close',
      async () => {
        const site = new LimeSite({ apiBase: config.apiBase, siteToken: config.siteToken });
        await site.createLoginRequest(); // makes the site open its transport
        await site.close();
      },
    ],
  ];
}
