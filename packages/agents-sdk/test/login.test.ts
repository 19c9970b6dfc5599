// login() and getProfile() against the reference Core over real HTTP.
import { HEADERS, PATHS } from '@lime/wire';
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { decodeJwt } from 'jose';
import {
  AbortError,
  AuthenticationError,
  ConflictError,
  ExpiredError,
  LimeAgent,
  LimeError,
  NotFoundError,
  PowTimeoutError,
  RateLimitError,
  shutdownPowPool,
  ValidationError,
} from 'lime-agents-sdk';
import { type Core, startCore } from 'lime-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoginRequest, recordingFetch, requestStatus } from './helpers/core.js';

let core: Core;
let siteToken: string;
let siteId: string;

beforeAll(async () => {
  core = await startCore({ powDifficulty: 0 });
  ({ siteId, siteToken } = await core.admin.createSite({ name: 'shop' }));
});

afterAll(async () => {
  await core.close();
  await shutdownPowPool();
});

async function newAgent(options: ConstructorParameters<typeof LimeAgent>[0] = {}) {
  const created = await core.admin.createAgent({ displayName: 'bot' });
  const agent = new LimeAgent({
    agentToken: created.agentToken,
    apiBase: core.apiBase,
    ...options,
  });
  return { agent, ...created };
}

/** The site's event stream, resolving with the passport of `requestId`. */
async function passportFor(requestId: string, signal: AbortSignal): Promise<string> {
  const res = await fetch(core.apiBase + PATHS.loginEvents, {
    headers: { [HEADERS.siteToken]: siteToken, accept: 'text/event-stream' },
    signal,
  });
  const events = res
    .body!.pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .getReader();
  for (;;) {
    const { done, value } = await events.read();
    if (done) break;
    const data = JSON.parse(value.data) as {
      type: string;
      login_request_id?: string;
      agent_passport_jwt?: string;
    };
    if (data.type === 'approved' && data.login_request_id === requestId) {
      await events.cancel();
      return data.agent_passport_jwt!;
    }
  }
  throw new Error('stream ended without the approval');
}

describe('login(requestId)', () => {
  it('approves a request at difficulty 0; the site receives a passport for this agent', async () => {
    const { agent, agentId } = await newAgent();
    await using _ = agent;
    const id = await createLoginRequest(core, siteToken);
    const stream = new AbortController();
    const passport = passportFor(id, stream.signal);
    await new Promise((r) => setTimeout(r, 50)); // let the stream connect
    const result = await agent.login(`  ${id}\t`);
    expect(result).toMatchObject({ requestId: id, siteId, approvedAgentId: agentId });
    expect(['APPROVED', 'DELIVERED']).toContain(result.status);
    expect(result.expiresAt).toBeInstanceOf(Date);
    expect(result.expiresAt.getTime()).toBeGreaterThan(Date.now());
    const claims = decodeJwt(await passport);
    stream.abort();
    expect(claims).toMatchObject({ sub: agentId, request_id: id, site_id: siteId });
    expect(await requestStatus(core, id)).toMatch(/APPROVED|DELIVERED/);
  });

  it('solves a real proof of work (difficulty 8) that the Core accepts', async () => {
    await core.admin.setPowDifficulty(8);
    try {
      const { agent, agentId } = await newAgent();
      await using _ = agent;
      const id = await createLoginRequest(core, siteToken);
      await expect(agent.login(id)).resolves.toMatchObject({ approvedAgentId: agentId });
    } finally {
      await core.admin.setPowDifficulty(0);
    }
  });

  it('rejects an empty or blank id before any I/O', async () => {
    const rec = recordingFetch();
    const { agent } = await newAgent({ fetch: rec.fetch });
    await using _ = agent;
    for (const id of ['', '   ', '\n\t']) {
      const error = await agent.login(id).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ code: 'VALIDATION_ERROR' });
    }
    expect(rec.log).toEqual([]);
  });

  it('a second agent gets ConflictError (409 REQUEST_ALREADY_APPROVED); the winner may repeat', async () => {
    const first = await newAgent();
    const second = await newAgent();
    await using _a = first.agent;
    await using _b = second.agent;
    const id = await createLoginRequest(core, siteToken);
    await first.agent.login(id);
    const error = await second.agent.login(id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ code: 'REQUEST_ALREADY_APPROVED', status: 409 });
    expect((error as LimeError).detail?.afterAmbiguousFailure).toBeUndefined();
    // Idempotent for the winner (PROTOCOL §3.4 extension).
    await expect(first.agent.login(id)).resolves.toMatchObject({ approvedAgentId: first.agentId });
  });

  it('under concurrency exactly one of several agents wins', async () => {
    const agents = await Promise.all([newAgent(), newAgent(), newAgent(), newAgent()]);
    const id = await createLoginRequest(core, siteToken);
    const results = await Promise.allSettled(agents.map((a) => a.agent.login(id)));
    await Promise.all(agents.map((a) => a.agent.close()));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError);
    }
  });

  it('recovers when the approve answer is lost after the Core recorded it', async () => {
    const rec = recordingFetch();
    const { agent, agentId } = await newAgent({ fetch: rec.fetch });
    await using _ = agent;
    const id = await createLoginRequest(core, siteToken);
    let lost = 0;
    rec.setHook(async (method, path, run) => {
      const res = await run();
      if (method === 'POST' && path.endsWith('/approve') && lost++ === 0) {
        await res.body?.cancel();
        throw new TypeError('fetch failed', { cause: new Error('socket hang up') });
      }
      return res;
    });
    await expect(agent.login(id)).resolves.toMatchObject({ approvedAgentId: agentId });
    expect(rec.log.filter((l) => l.includes('/requests/'))).toEqual([
      `GET /api/v1/auth/requests/${id}`,
      `POST /api/v1/modules/agent-login/requests/${id}/approve`,
      `GET /api/v1/auth/requests/${id}`,
      `POST /api/v1/modules/agent-login/requests/${id}/approve`,
    ]);
  });

  it('after an ambiguous failure, another agent having won is a ConflictError', async () => {
    const rec = recordingFetch();
    const mine = await newAgent({ fetch: rec.fetch });
    const other = await newAgent();
    await using _a = mine.agent;
    await using _b = other.agent;
    const id = await createLoginRequest(core, siteToken);
    let failed = false;
    rec.setHook(async (method, path, run) => {
      if (method === 'POST' && path.endsWith('/approve') && !failed) {
        // The request never reaches the Core; meanwhile another agent wins.
        failed = true;
        await other.agent.login(id);
        return new Response(
          JSON.stringify({ ok: false, error: { code: 'BAD_GATEWAY', message: 'proxy' } }),
          {
            status: 502,
          },
        );
      }
      return run();
    });
    const error = await mine.agent.login(id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ detail: { afterAmbiguousFailure: true } });
    expect(rec.count('POST', '/approve')).toBe(2);
  });

  it('unknown id → NotFoundError; expired → ExpiredError; revoked token → AuthenticationError', async () => {
    const { agent, agentId } = await newAgent();
    await using _ = agent;
    await expect(agent.login('lr_does_not_exist')).rejects.toBeInstanceOf(NotFoundError);
    const id = await createLoginRequest(core, siteToken);
    await core.admin.expireLoginRequest(id);
    await expect(agent.login(id)).rejects.toMatchObject({ name: 'ExpiredError', status: 410 });
    await expect(agent.login(id)).rejects.toBeInstanceOf(ExpiredError);
    const fresh = await createLoginRequest(core, siteToken);
    await core.admin.revokeAgentToken(agentId);
    const error = await agent.login(fresh).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as LimeError).code).toMatch(/INVALID_AGENT_TOKEN|MISSING_AGENT_TOKEN/);
    await expect(agent.getProfile()).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('abort via signal stops the proof of work and the call', async () => {
    await core.admin.setPowDifficulty(40);
    try {
      const { agent } = await newAgent();
      await using _ = agent;
      const id = await createLoginRequest(core, siteToken);
      const started = performance.now();
      const error = await agent
        .login(id, { signal: AbortSignal.timeout(100) })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LimeError);
      expect((error as LimeError).code).toBe('ABORTED');
      expect(error).toBeInstanceOf(AbortError);
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(await requestStatus(core, id)).toBe('PENDING');
    } finally {
      await core.admin.setPowDifficulty(0);
    }
  });

  it('powTimeout ends an unsolvable proof of work with PowTimeoutError', async () => {
    await core.admin.setPowDifficulty(40);
    try {
      const { agent } = await newAgent({ powTimeout: 100 });
      await using _ = agent;
      const id = await createLoginRequest(core, siteToken);
      const error = await agent.login(id).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PowTimeoutError);
      expect(error).toMatchObject({ code: 'POW_TIMEOUT' });
    } finally {
      await core.admin.setPowDifficulty(0);
    }
  });
});

describe('getProfile()', () => {
  it('returns the camelCase profile of §3.6', async () => {
    const created = await core.admin.createAgent({
      displayName: 'Research bot',
      avatarUrl: 'https://img.test/a.png',
      description: 'reads papers',
      userKycLevel: 2,
      agentReputation: 87.5,
    });
    await using agent = new LimeAgent({ agentToken: created.agentToken, apiBase: core.apiBase });
    await expect(agent.getProfile()).resolves.toEqual({
      agentId: created.agentId,
      userId: created.userId,
      displayName: 'Research bot',
      avatarUrl: 'https://img.test/a.png',
      description: 'reads papers',
      userKycLevel: 2,
      agentReputation: 87.5,
    });
  });
});

describe('rate limits of the Core', () => {
  it('429 → RateLimitError with retryAfter (no retries left)', async () => {
    const limited = await startCore({
      powDifficulty: 0,
      rateLimits: { perIp: false, perCredential: { burst: 2, perSecond: 0.01 } },
    });
    try {
      const { agentToken } = await limited.admin.createAgent({});
      await using agent = new LimeAgent({ agentToken, apiBase: limited.apiBase, maxRetries: 0 });
      await agent.getProfile();
      await agent.getProfile();
      const error = await agent.getProfile().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RateLimitError);
      expect(error).toMatchObject({ status: 429, code: 'RATE_LIMIT_EXCEEDED' });
      expect((error as RateLimitError).retryAfter).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});
