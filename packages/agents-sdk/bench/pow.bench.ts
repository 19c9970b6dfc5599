/**
 * Proof-of-work benchmark (issue #3): `pnpm bench:pow`.
 *
 * Prints, in one run: hashes/s per core for the WASM SIMD and the JS kernels
 * and for the whole pool; solve time (median, p95) at difficulty 15, 20 and 24
 * with a warm pool; the cold-pool first solve (fresh pool in this process, and
 * a fresh process); and ratios against a naive per-nonce `createHash` loop and,
 * where python3 exists, a hashlib loop, both measured in this run.
 * Targets: ≥ 8 M hashes/s per core (≥ 15× naive); difficulty 20 median ≤ 60 ms
 * warm; a cold pool adds ≤ 50 ms. Takes about a minute (each solve-time series
 * stops early after 40 s on a slow or busy machine, with fewer runs).
 *
 * One run on the 2-core dev machine (Node 20.20, load average ≈ 2.3 from other
 * jobs, so the tails are long):
 *   naive createHash 0.56 M/s · python3 hashlib 1.58 M/s
 *   WASM SIMD 11.71 M/s per core (20.8× naive, 7.4× hashlib) · JS 3.15 M/s
 *   pool of 2: 22.91 M/s
 *   warm difficulty 15 / 20 / 24: median 1.5 / 32.7 / 630.8 ms, p95 4.7 / 117.2 / 2690 ms
 *   warm round trip (d12) median 0.3 ms · first solution → all workers idle 0.5 ms median
 *   cold fresh pool d12: 32.6 ms workers only, 1.2 ms with the calling thread helping;
 *   fresh process d20: 37.0, 20.2, 118.8 ms
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { hashRate, PowTimeoutError, shutdownPowPool, solvePow } from '../src/pow/index.js';
import { powPool } from '../src/pow/internal/pool.js';
import { solveWith } from '../src/pow/solve.js';

const CHALLENGE = '0123456789abcdef'.repeat(4);
const challenge = () => randomBytes(32).toString('hex');
const mega = (rate: number) => `${(rate / 1e6).toFixed(2)} M/s`;
const ms = (x: number) => `${x.toFixed(1)} ms`;
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};

function naiveRate(durationMs: number): number {
  let n = 0;
  const started = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < 10_000; i++, n++) {
      createHash('sha256')
        .update(CHALLENGE + String(n))
        .digest();
    }
    elapsed = performance.now() - started;
  } while (elapsed < durationMs);
  return (n / elapsed) * 1000;
}

function hashlibRate(durationMs: number): number | undefined {
  const script = [
    'import hashlib, sys, time',
    'c = sys.argv[1]; d = float(sys.argv[2]) / 1000; n = 0',
    't = time.perf_counter(); end = t + d',
    'while True:',
    '    for _ in range(10000):',
    '        hashlib.sha256((c + str(n)).encode()).digest(); n += 1',
    '    if time.perf_counter() >= end: break',
    'print(n / (time.perf_counter() - t))',
  ].join('\n');
  try {
    const out = execFileSync('python3', ['-c', script, CHALLENGE, String(durationMs)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return Number(out.trim());
  } catch {
    return undefined;
  }
}

async function poolRate(durationMs: number): Promise<number> {
  const started = performance.now();
  try {
    await solvePow(challenge(), 256, { timeoutMs: durationMs });
  } catch (error) {
    if (!(error instanceof PowTimeoutError)) throw error;
    return ((error.detail?.hashes as number) / (performance.now() - started)) * 1000;
  }
  throw new Error('difficulty 256 was solved?');
}

/** Time from a solution to every worker idle again (the other workers' cancel). */
const cancelLags: number[] = [];

/** Solve times of `runs` warm solves, stopping early after `budgetMs` (slow machine). */
async function solveTimes(difficulty: number, runs: number, budgetMs = 40_000): Promise<number[]> {
  const times: number[] = [];
  const started = performance.now();
  while (times.length < runs && performance.now() - started < budgetMs) {
    times.push((await solvePow(challenge(), difficulty)).elapsedMs);
    const solvedAt = performance.now();
    await powPool().whenIdle();
    cancelLags.push(performance.now() - solvedAt);
  }
  return times;
}

/** First solve of a fresh Node process (TS sources via tsx): spawn + module + first job. */
function coldProcessSolve(difficulty: number): Promise<number> {
  const entry = fileURLToPath(new URL('../src/pow/index.ts', import.meta.url));
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  const code = `import { solvePow } from ${JSON.stringify(entry)};
    const t = performance.now();
    await solvePow(${JSON.stringify(challenge())}, ${difficulty});
    console.log(performance.now() - t);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('exit', (status) =>
      status === 0 ? resolve(Number(out.trim())) : reject(new Error(`child exited ${status}`)),
    );
  });
}

async function main(): Promise<void> {
  const cores = availableParallelism();
  console.log(`PoW benchmark — Node ${process.version}, ${cores} cores available`);
  console.log('(figures on a shared machine are noisy; each line is measured in this run)\n');

  // Baselines first, on a quiet pool.
  const naive = naiveRate(1500);
  const hashlib = hashlibRate(1500);
  hashRate({ kernel: 'wasm', durationMs: 300 }); // tier-up warm-up
  const wasm = hashRate({ kernel: 'wasm', durationMs: 2000 }).hashesPerSecond;
  const js = hashRate({ kernel: 'js', durationMs: 2000 }).hashesPerSecond;

  // Cold pool: in this process (module already compiled), then fresh processes.
  await shutdownPowPool();
  const coldBare = (await solveWith(challenge(), 12, { noInline: true, noAssist: true })).elapsedMs;
  await shutdownPowPool();
  const coldInProcess = (await solveWith(challenge(), 12, { noInline: true })).elapsedMs;
  const warmRoundTrips: number[] = [];
  for (let i = 0; i < 50; i++) {
    warmRoundTrips.push((await solveWith(challenge(), 12, { noInline: true })).elapsedMs);
  }
  await shutdownPowPool();
  const coldProcess12: number[] = [];
  const coldProcess20: number[] = [];
  for (let i = 0; i < 3; i++) coldProcess12.push(await coldProcessSolve(12));
  for (let i = 0; i < 3; i++) coldProcess20.push(await coldProcessSolve(20));

  const pool = await poolRate(3000);
  await solveTimes(15, 20); // warm
  const d15 = await solveTimes(15, 200);
  const d20 = await solveTimes(20, 100);
  const d24 = await solveTimes(24, 40);
  await shutdownPowPool();

  const ratio = (x: number, base: number) => `${(x / base).toFixed(1)}×`;
  const rows: Array<[string, string]> = [
    ['naive createHash loop (1 core)', mega(naive)],
    ['python3 hashlib loop (1 core)', hashlib === undefined ? 'python3 not found' : mega(hashlib)],
    ['WASM SIMD kernel (1 core)', `${mega(wasm)}  = ${ratio(wasm, naive)} naive`],
    ['JS kernel (1 core)', `${mega(js)}  = ${ratio(js, naive)} naive`],
    [
      `pool (${cores} workers)`,
      `${mega(pool)}  = ${ratio(pool, naive)} naive, ${mega(pool / cores)} per core`,
    ],
  ];
  if (hashlib !== undefined) {
    rows.push([
      'vs hashlib',
      `WASM ${ratio(wasm, hashlib)}, JS ${ratio(js, hashlib)}, pool ${ratio(pool, hashlib)}`,
    ]);
  }
  const dist = (xs: number[]) =>
    `median ${ms(quantile(xs, 0.5))}, p95 ${ms(quantile(xs, 0.95))} (${xs.length} runs)`;
  rows.push(
    ['warm pool, difficulty 15', dist(d15)],
    ['warm pool, difficulty 20', dist(d20)],
    ['warm pool, difficulty 24', dist(d24)],
    ['warm pool round trip, difficulty 12', dist(warmRoundTrips)],
    ['first solution → all workers idle', dist(cancelLags)],
    ['cold pool (fresh pool, workers only), d12', ms(coldBare)],
    ['cold pool (fresh pool, caller helps), d12', ms(coldInProcess)],
    ['cold pool (fresh process), difficulty 12', coldProcess12.map(ms).join(', ')],
    ['cold pool (fresh process), difficulty 20', coldProcess20.map(ms).join(', ')],
    [
      'cold pool adds (fresh process, d12)',
      ms(quantile(coldProcess12, 0.5) - quantile(warmRoundTrips, 0.5)),
    ],
  );
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);

  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  console.log('\ntargets:');
  console.log(`  ≥ 8 M hashes/s per core (WASM):   ${verdict(wasm >= 8e6)}`);
  console.log(`  ≥ 15× the naive loop (WASM):       ${verdict(wasm >= 15 * naive)}`);
  console.log(`  difficulty 20 median ≤ 60 ms warm: ${verdict(quantile(d20, 0.5) <= 60)}`);
  console.log(
    `  cold pool adds ≤ 50 ms:            ${verdict(quantile(coldProcess12, 0.5) - quantile(warmRoundTrips, 0.5) <= 50)}`,
  );
}

await main();
