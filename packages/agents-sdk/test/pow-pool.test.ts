import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { isValidNonce, meetsDifficulty } from '@lime/wire';
import { AbortError, LimeError } from '@lime/wire/errors';
import { PowTimeoutError, shutdownPowPool, solvePow } from 'lime-agents-sdk/pow/index';
import { powPool } from 'lime-agents-sdk/pow/internal/pool';
import { solveWith } from 'lime-agents-sdk/pow/solve';
import { afterAll, describe, expect, it } from 'vitest';

const challenge = () => randomBytes(32).toString('hex');
const valid = (c: string, nonce: string, difficulty: number) =>
  isValidNonce(nonce) &&
  meetsDifficulty(
    createHash('sha256')
      .update(c + nonce, 'utf8')
      .digest(),
    difficulty,
  );

/** CPU time (all threads of this process) spent during `ms` of wall time. */
async function cpuDuring(ms: number): Promise<number> {
  const before = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

afterAll(() => shutdownPowPool());

describe('solvePow: arguments', () => {
  it('rejects a bad difficulty or option with a TypeError before any work', async () => {
    for (const difficulty of [-1, 1.5, 257, Number.NaN, Number.POSITIVE_INFINITY, '3']) {
      await expect(solvePow('abc', difficulty as number)).rejects.toThrow(TypeError);
    }
    await expect(solvePow('abc', 20, { workers: 0 })).rejects.toThrow(/options\.workers/);
    await expect(solvePow('abc', 20, { workers: 1.5 })).rejects.toThrow(/options\.workers/);
    for (const timeoutMs of [0, -5, Number.NaN]) {
      await expect(solvePow('abc', 20, { timeoutMs })).rejects.toThrow(/options\.timeoutMs/);
    }
    await expect(solvePow(42 as unknown as string, 20)).rejects.toThrow(/challenge/);
    expect(powPool().size).toBe(0);
  });

  it('answers "0" for difficulty 0 and solves tiny difficulties inline, without the pool', async () => {
    expect(await solvePow('abc', 0)).toMatchObject({ nonce: '0', hashes: 0, inline: true });
    for (const difficulty of [1, 5, 11]) {
      const c = challenge();
      const solution = await solvePow(c, difficulty);
      expect(solution.inline).toBe(true);
      expect(valid(c, solution.nonce, difficulty)).toBe(true);
    }
    expect(powPool().size).toBe(0);
  });

  it('rejects with AbortError when the signal is already aborted', async () => {
    const error = await solvePow('abc', 30, { signal: AbortSignal.abort() }).catch((e) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(error.code).toBe('ABORTED');
    expect(powPool().size).toBe(0);
  });
});

describe('solvePow: worker pool', () => {
  it('solves in the pool from difficulty 12 on, with valid nonces', async () => {
    powPool().ensure(2);
    await powPool().whenReady(2);
    for (const difficulty of [12, 16, 18]) {
      const c = challenge();
      const solution = await solvePow(c, difficulty, { workers: 2 });
      expect(solution.inline).toBe(false);
      expect(solution.hashes).toBeGreaterThan(0);
      expect(valid(c, solution.nonce, difficulty)).toBe(true);
    }
    expect(powPool().size).toBe(2);
  });

  it('treats a timeout beyond what setTimeout holds (Infinity, ≥ 2^31 ms) as no limit', async () => {
    for (const timeoutMs of [Number.POSITIVE_INFINITY, 2 ** 31, 1e12]) {
      const c = challenge();
      // setTimeout would make these 1 ms and time out a ≈ 10 ms solve.
      expect(valid(c, (await solvePow(c, 18, { timeoutMs, workers: 2 })).nonce, 18)).toBe(true);
    }
  });

  it('solves with the pure-JS kernel in the workers too', async () => {
    const c = challenge();
    const solution = await solveWith(c, 14, { kind: 'js', noInline: true, workers: 2 });
    expect(valid(c, solution.nonce, 14)).toBe(true);
  });

  it('runs concurrent solves side by side, each correct', async () => {
    const cases = Array.from({ length: 8 }, (_, i) => ({ c: challenge(), d: 12 + (i % 5) }));
    const solutions = await Promise.all(cases.map(({ c, d }) => solvePow(c, d, { workers: 2 })));
    solutions.forEach((s, i) => {
      expect(valid(cases[i]!.c, s.nonce, cases[i]!.d)).toBe(true);
    });
    await powPool().whenIdle();
  });

  it('stops the other workers within a few ms of the first solution', async () => {
    const lags: number[] = [];
    for (let i = 0; i < 10; i++) {
      await solvePow(challenge(), 17, { workers: 2 });
      const solvedAt = performance.now();
      await powPool().whenIdle();
      lags.push(performance.now() - solvedAt);
    }
    lags.sort((a, b) => a - b);
    // One chunk is ≈ 1.5 ms of hashing; allow for a loaded CI machine.
    expect(lags[5]!).toBeLessThan(15);
    expect(lags[9]!).toBeLessThan(250);
  });

  it('aborts: rejects with AbortError, and the workers go idle and stop burning CPU', async () => {
    const controller = new AbortController();
    const pending = solvePow(challenge(), 60, { signal: controller.signal, workers: 2 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(powPool().activeAssignments).toBe(2);
    const abortedAt = performance.now();
    controller.abort(new Error('user gave up'));
    const error = await pending.catch((e) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toBeInstanceOf(LimeError);
    expect(error.cause).toEqual(new Error('user gave up'));
    await powPool().whenIdle();
    expect(performance.now() - abortedAt).toBeLessThan(250);
    // Two busy workers would burn ≈ 2 × 300 ms of CPU here.
    expect(await cpuDuring(300)).toBeLessThan(100);
  });

  it('times out: rejects with PowTimeoutError (code POW_TIMEOUT) and the workers go idle', async () => {
    const started = performance.now();
    const error = await solvePow(challenge(), 60, { timeoutMs: 150, workers: 2 }).catch((e) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(PowTimeoutError);
    expect(error).toBeInstanceOf(LimeError);
    expect(error.code).toBe('POW_TIMEOUT');
    expect(error.message).toMatch(/difficulty 60.*150 ms/);
    expect(error.detail.hashes).toBeGreaterThan(10_000);
    expect(elapsed).toBeGreaterThanOrEqual(149);
    expect(elapsed).toBeLessThan(1000);
    await powPool().whenIdle();
    expect(await cpuDuring(300)).toBeLessThan(100);
  });

  it('shutdownPowPool rejects a running solve and the pool starts again on demand', async () => {
    const pending = solvePow(challenge(), 60, { workers: 2 }).catch((e) => e);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await shutdownPowPool();
    expect(await pending).toBeInstanceOf(AbortError);
    expect(powPool().size).toBe(0);
    const c = challenge();
    expect(valid(c, (await solvePow(c, 14, { workers: 1 })).nonce, 14)).toBe(true);
    expect(powPool().size).toBe(1);
  });
});

describe('solvePow: cold pool', () => {
  it('the calling thread helps while the workers start, and stops once they are up', async () => {
    const inline: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      await shutdownPowPool();
      const c = challenge();
      const solution = await solvePow(c, 13, { workers: 2 });
      expect(valid(c, solution.nonce, 13)).toBe(true);
      inline.push(solution.inline);
      // Found on the calling thread: the pool's share of the job is cancelled.
      await powPool().whenIdle();
    }
    // 2^13 hashes take ≈ 1 ms; booting a worker thread takes tens of ms.
    expect(inline).toContain(true);
    // Once the workers are ready, a solve is theirs alone.
    await powPool().whenReady(2);
    expect(powPool().isReady(2)).toBe(true);
    const c = challenge();
    expect((await solvePow(c, 13, { workers: 2 })).inline).toBe(false);
  });

  it('a cold solve too hard to finish while starting is completed by the workers', async () => {
    await shutdownPowPool();
    const c = challenge();
    const solution = await solvePow(c, 21, { workers: 2 });
    expect(valid(c, solution.nonce, 21)).toBe(true);
  });
});

describe('solvePow: process lifetime', () => {
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  const entry = fileURLToPath(new URL('../src/pow/index.ts', import.meta.url));

  /** Run a script in a fresh Node (TS sources through tsx); resolve with its output and exit code. */
  function runChild(
    code: string,
  ): Promise<{ stdout: string; code: number | null; exitLagMs: number }> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', code],
        {
          cwd: root,
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let stdout = '';
      let lastOutput = 0;
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        lastOutput = performance.now();
      });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`child did not exit; output so far: ${stdout}`));
      }, 15_000);
      child.on('exit', (exitCode) => {
        clearTimeout(timer);
        resolve({ stdout, code: exitCode, exitLagMs: performance.now() - lastOutput });
      });
    });
  }

  it('an idle pool never keeps the process alive, and a running solve does', async () => {
    // No await at top level: only the ref'd busy workers keep the process up
    // until the solution arrives; then the idle pool must let it exit.
    const { stdout, code, exitLagMs } = await runChild(
      `import { solvePow } from ${JSON.stringify(entry)};
       solvePow('x'.repeat(64), 18, { workers: 2 }).then((s) => console.log('nonce', s.nonce));`,
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/^nonce \d+$/m);
    expect(exitLagMs).toBeLessThan(1000);
  });
});
