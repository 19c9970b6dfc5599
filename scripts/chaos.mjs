#!/usr/bin/env node
// `pnpm chaos`: the full chaos run of issue 11 — 1,000 logins on each of
// three seeds (5 sites × 2 instances, 20 agents, every instance behind a
// seeded proxy that refuses, cuts, stalls and trickles, a Core restart that
// keeps its store halfway). CI runs the same test with 200 logins.
//   pnpm chaos                 # seeds 1 2 3, 1,000 logins each
//   pnpm chaos -- 11 12        # other seeds
//   LIME_CHAOS_LOGINS=5000 pnpm chaos
import { spawnSync } from 'node:child_process';

const seeds = process.argv.slice(2).filter((a) => /^\d+$/.test(a));
const logins = process.env.LIME_CHAOS_LOGINS ?? '1000';
let failed = 0;
for (const seed of seeds.length > 0 ? seeds : ['1', '2', '3']) {
  const run = spawnSync(
    'pnpm',
    ['-s', 'vitest', 'run', '--project', 'examples', 'demo/test/chaos'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, LIME_CHAOS_LOGINS: logins, LIME_CHAOS_SEED: seed },
      encoding: 'utf8',
    },
  );
  // Strip vitest's ANSI colours.
  const plain = run.stdout.replace(/\x1b\[[0-9;]*m/g, '');
  const line = plain.split('\n').find((l) => l.startsWith(`seed ${seed}:`));
  console.log(line ?? `seed ${seed}: no report (exit ${run.status})`);
  if (run.status !== 0) failed++;
}
console.log(
  failed === 0 ? 'chaos: every run lost and duplicated nothing' : `chaos: ${failed} run(s) failed`,
);
process.exit(failed === 0 ? 0 : 1);
