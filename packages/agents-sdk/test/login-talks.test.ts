// A login that talks: progress of the proof of work, a refused agent token
// caught while solving, and the failed step named on every error.
import {
  AuthenticationError,
  ConflictError,
  LimeAgent,
  type LimeError,
  type LoginProgress,
  NotFoundError,
  type PowProgress,
  PowTimeoutError,
  shutdownPowPool,
  solvePow,
  ValidationError,
} from 'lime-agents-sdk';
import { type Core, startCore } from 'lime-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLoginRequest, recordingFetch, requestStatus } from './helpers/core.js';

let core: Core;
let siteToken: string;

beforeAll(async () => {
  core = await startCore({ powDifficulty: 0 });
  ({ siteToken } = await core.admin.createSite({ name: 'shop' }));
});

afterEach(async () => {
  await core.admin.setPowDifficulty(0);
});

afterAll(async () => {
  await core.close();
  await shutdownPowPool();
});

async function newAgent(options: ConstructorParameters<typeof LimeAgent>[0] = {}) {
  const created = await core.admin.createAgent({ displayName: 'bot' });
  const rec = recordingFetch();
  const agent = new LimeAgent({
    agentToken: created.agentToken,
    apiBase: core.apiBase,
    fetch: rec.fetch,
    ...options,
  });
  return { agent, rec, ...created };
}

describe('onProgress', () => {
  it('solvePow reports hashes, rate and time left while it runs, then done', async () => {
    const seen: PowProgress[] = [];
    const solution = await solvePow('c'.repeat(64), 22, {
      workers: 1,
      progressInterval: 10,
      onProgress: (p) => seen.push(p),
    });
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ done: true, hashes: solution.hashes, expectedHashes: 2 ** 22 });
    const running = seen.filter((p) => !p.done && p.hashes > 0);
    expect(running.length).toBeGreaterThan(0);
    for (const p of running) {
      expect(p.hashRate).toBeGreaterThan(0);
      expect(p.estimatedRemainingMs).toBeGreaterThanOrEqual(0);
      expect(p.estimatedRemainingMs).toBeCloseTo(
        (Math.max(0, p.expectedHashes - p.hashes) * 1000) / p.hashRate!,
        3,
      );
    }
    // Counts only grow.
    const counts = seen.map((p) => p.hashes);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
  });

  it('login reports each step, and the solve in between', async () => {
    await core.admin.setPowDifficulty(16);
    const { agent } = await newAgent();
    await using _ = agent;
    const id = await createLoginRequest(core, siteToken);
    const seen: LoginProgress[] = [];
    await agent.login(id, { onProgress: (p) => seen.push(p) });
    expect(seen.map((p) => p.step).filter((s, i, all) => s !== all[i - 1])).toEqual([
      'challenge',
      'solve',
      'approve',
    ]);
    const pow = seen.filter((p) => p.pow).map((p) => p.pow!);
    expect(pow.at(-1)).toMatchObject({ done: true, expectedHashes: 2 ** 16 });
    expect(seen.find((p) => p.step === 'solve')?.difficulty).toBe(16);
  });

  it('a throwing callback does not fail the login', async () => {
    const { agent, agentId } = await newAgent();
    await using _ = agent;
    const id = await createLoginRequest(core, siteToken);
    const login = agent.login(id, {
      onProgress: () => {
        throw new Error('oops');
      },
    });
    await expect(login).resolves.toMatchObject({ approvedAgentId: agentId });
  });
});

describe('a refused agent token', () => {
  it('stops the proof of work within a round trip, before any approve', async () => {
    await core.admin.setPowDifficulty(40); // minutes of hashing, at least
    const { agent, agentId, rec } = await newAgent();
    await using _ = agent;
    const id = await createLoginRequest(core, siteToken);
    await core.admin.revokeAgentToken(agentId);
    const started = performance.now();
    const error = await agent.login(id).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ step: 'approve' });
    expect((error as LimeError).code).toMatch(/INVALID_AGENT_TOKEN|MISSING_AGENT_TOKEN/);
    expect(rec.count('POST', '/approve')).toBe(0);
    expect(await requestStatus(core, id)).toBe('PENDING');
  });

  it('costs one extra GET, never a retry, when the token is fine', async () => {
    const { agent, rec } = await newAgent();
    await using _ = agent;
    await agent.login(await createLoginRequest(core, siteToken));
    expect(rec.count('GET', '/agents/me/profile')).toBe(1);
  });
});

describe('every login error names its step', () => {
  it('challenge: an empty or unknown id', async () => {
    const { agent } = await newAgent();
    await using _ = agent;
    const empty = await agent.login(' ').catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(ValidationError);
    expect(empty).toMatchObject({ step: 'challenge' });
    const unknown = await agent.login('lr_nope').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(NotFoundError);
    expect(unknown).toMatchObject({ step: 'challenge' });
  });

  it('solve: the proof of work timed out', async () => {
    await core.admin.setPowDifficulty(40);
    const { agent } = await newAgent({ powTimeout: 50 });
    await using _ = agent;
    const error = await agent.login(await createLoginRequest(core, siteToken)).catch((e) => e);
    expect(error).toBeInstanceOf(PowTimeoutError);
    expect(error).toMatchObject({ step: 'solve' });
  });

  it('approve: another agent won', async () => {
    const id = await createLoginRequest(core, siteToken);
    const first = await newAgent();
    const second = await newAgent();
    await using _a = first.agent;
    await using _b = second.agent;
    await first.agent.login(id);
    const error = await second.agent.login(id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ step: 'approve' });
  });
});
