/**
 * Measures what decides INLINE_MAX_EXPECTED_HASHES in src/pow/solve.ts: the
 * round trip of a warm pool against solving on the calling thread.
 *
 *   pnpm tsx packages/agents-sdk/scripts/measure-inline-threshold.ts
 */
import { randomBytes } from 'node:crypto';
import { shutdownPowPool } from '../src/pow/index.js';
import { mainThreadKernel } from '../src/pow/internal/main-kernel.js';
import { solveWith } from '../src/pow/solve.js';

const RUNS = 200;
const challenge = () => randomBytes(32).toString('hex');
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const fmt = (xs: number[]) =>
  `median ${quantile(xs, 0.5).toFixed(3)} ms, p95 ${quantile(xs, 0.95).toFixed(3)} ms`;

async function main(): Promise<void> {
  // Warm the pool and the kernels' optimized code first.
  for (let i = 0; i < 20; i++) await solveWith(challenge(), 14, { noInline: true });
  const kernel = mainThreadKernel();
  for (let i = 0; i < 50; i++) kernel.scan(kernel.prepare(Buffer.from(challenge())), 12, 0, 1e9);

  const roundTrip: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    roundTrip.push((await solveWith(challenge(), 1, { noInline: true })).elapsedMs);
  }
  console.log(`pool round trip (difficulty 1, not inline): ${fmt(roundTrip)}`);
  for (let d = 6; d <= 14; d++) {
    const inline: number[] = [];
    const pooled: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const c = challenge();
      const t0 = performance.now();
      kernel.scan(kernel.prepare(new TextEncoder().encode(c)), d, 0, 2 ** 53);
      inline.push(performance.now() - t0);
      pooled.push((await solveWith(c, d, { noInline: true })).elapsedMs);
    }
    console.log(`difficulty ${d}: inline ${fmt(inline)} | pool ${fmt(pooled)}`);
  }
  await shutdownPowPool();
}

await main();
