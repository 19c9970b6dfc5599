// Never lose a login: a chaos run in CI (a smaller count; `pnpm chaos` runs
// 1,000 logins on three seeds). Every site instance's traffic goes through
// its own seeded proxy that refuses connections, cuts the event stream at
// random bytes, stalls and trickles it, from the very first connection; the
// Core restarts halfway, keeping its store. Fails on any lost or duplicated
// login.
import { describe, expect, it } from 'vitest';
import { formatChaosReport, runChaos } from './support/chaos-run.js';

const LOGINS = Number(process.env.LIME_CHAOS_LOGINS ?? 200);
const SEED = Number(process.env.LIME_CHAOS_SEED ?? 7);

describe('chaos: cuts, stalls, trickles, refusals and a Core restart', () => {
  it(`${LOGINS} logins across 5 sites × 2 instances: none lost, none duplicated`, async () => {
    const report = await runChaos({ seed: SEED, logins: LOGINS });
    console.log(formatChaosReport(report));
    expect(report.proxies.cuts).toBeGreaterThan(0); // the faults really happened
    expect(report.proxies.refused).toBeGreaterThan(0);
    expect(report.restarts).toBe(1);
    expect({ lost: report.lost, duplicated: report.duplicated }).toEqual({
      lost: 0,
      duplicated: 0,
    });
    expect(report.waitFailures).toEqual({});
    expect(report.delivered).toBe(report.approved);
  }, 300_000);
});
