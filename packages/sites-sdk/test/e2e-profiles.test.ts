// The site SDK end to end against both Core profiles over real HTTP and SSE,
// with the real agent SDK approving: the reference Core ('core': resume,
// broadcast, full claims) and the hosted-like one ('hosted': UUID ids,
// unprefixed tokens, per-line frames without ids, no resume, no broadcast,
// agent_id-only passports, an enveloped-only JWKS behind a User-Agent
// filter). Whatever the profile, a login completes or fails with a typed
// error — it never hangs.
import { LimeAgent } from 'lime-agents-sdk';
import { type Core, type CoreProfile, startCore } from 'lime-core';
import {
  type LimeError,
  LimeSite,
  type LimeSiteOptions,
  LoginExpiredError,
  LoginRequestNotFoundError,
  PassportNotReceivedError,
} from 'lime-sites-sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

describe.each<CoreProfile>(['core', 'hosted'])('against the %s profile', (profile) => {
  let core: Core;
  let site: { siteId: string; siteToken: string };
  let agentId: string;
  let agent: LimeAgent;
  const sites: LimeSite[] = [];

  beforeAll(async () => {
    core = await startCore({ profile, powDifficulty: 0, requestTtlMs: 60_000 });
    site = await core.admin.createSite({ name: `e2e ${profile}` });
    const created = await core.admin.createAgent({ displayName: `${profile}-bot` });
    agentId = created.agentId;
    agent = new LimeAgent({ apiBase: core.apiBase, agentToken: created.agentToken });
  });
  afterEach(async () => {
    await Promise.all(sites.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await agent?.close();
    await core?.close();
  });

  function newSite(options: LimeSiteOptions = {}) {
    const errors: LimeError[] = [];
    const s = new LimeSite({
      siteToken: site.siteToken,
      apiBase: core.apiBase,
      onError: (e) => errors.push(e),
      statusCheckInterval: 1_000,
      ...options,
    });
    sites.push(s);
    return { s, errors };
  }

  it('create → agent login → waitForLogin: a verified, claimed passport', async () => {
    const { s } = newSite();
    const { loginRequestId } = await s.createLoginRequest();
    if (profile === 'hosted') expect(loginRequestId).toMatch(/^[0-9a-f-]{36}$/);
    const waiting = s.waitForLogin(loginRequestId, { timeout: 15_000 });
    await agent.login(loginRequestId);
    const passport = await waiting;
    expect(passport.agentId).toBe(agentId);
    expect(passport.requestId).toBe(loginRequestId);
    if (profile === 'hosted') {
      expect(passport.jti).toBeUndefined(); // single use keyed on the request
      expect(passport.claims.sub).toBeUndefined();
      expect(passport.claims.agent_id).toBe(agentId);
    }
    await expect(s.getLoginRequest(loginRequestId)).resolves.toMatchObject({
      status: expect.stringMatching(/^(APPROVED|DELIVERED)$/),
    });
  });

  it('onLogin gets the raw passport string beside the verified passport', async () => {
    const { s } = newSite();
    const seen = new Promise<{ jwt: string; agent: string | undefined }>((resolve) => {
      s.onLogin((_id, passport, event) => {
        if (event.type === 'login') resolve({ jwt: event.passportJwt, agent: passport?.agentId });
      });
    });
    await s.connect();
    const { loginRequestId } = await s.createLoginRequest();
    await agent.login(loginRequestId);
    const { jwt, agent: who } = await seen;
    expect(jwt.split('.')).toHaveLength(3);
    expect(who).toBe(agentId);
  });

  it('an unknown id fails fast, not after the timeout', async () => {
    const { s } = newSite();
    const started = Date.now();
    await expect(
      s.waitForLogin('00000000-0000-4000-8000-000000000000', { timeout: 60_000 }),
    ).rejects.toBeInstanceOf(LoginRequestNotFoundError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('an expired request fails with LoginExpiredError', async () => {
    const { s } = newSite();
    const { loginRequestId } = await s.createLoginRequest();
    const waiting = s.waitForLogin(loginRequestId, { timeout: 15_000 });
    await core.admin.expireLoginRequest(loginRequestId);
    await expect(waiting).rejects.toBeInstanceOf(LoginExpiredError);
  });

  it('two instances of one site: each login completes on one, the other never hangs', async () => {
    const a = newSite().s;
    const b = newSite().s;
    await Promise.all([a.connect(), b.connect()]);
    const { loginRequestId } = await a.createLoginRequest();
    const onA = a.waitForLogin(loginRequestId, { timeout: 20_000 }).then(
      (p) => ({ ok: true as const, agent: p.agentId }),
      (e: unknown) => ({ ok: false as const, error: e }),
    );
    const onB = b.waitForLogin(loginRequestId, { timeout: 20_000 }).then(
      (p) => ({ ok: true as const, agent: p.agentId }),
      (e: unknown) => ({ ok: false as const, error: e }),
    );
    await agent.login(loginRequestId);
    const results = await Promise.all([onA, onB]);
    // Exactly one binds the passport (the replay store is per instance here,
    // so with broadcast both may verify it; without it, one reports
    // PassportNotReceivedError instead of waiting out its timeout).
    expect(results.some((r) => r.ok && r.agent === agentId)).toBe(true);
    for (const r of results) {
      if (!r.ok) expect(r.error).toBeInstanceOf(PassportNotReceivedError);
    }
    if (profile === 'hosted') expect(results.filter((r) => r.ok)).toHaveLength(1);
  });
});
