// The whole flow against the reference Core over real HTTP and real SSE:
// create → approve (plain fetch as the agent) → verified passport, expiry,
// several instances, a Core restart with an approval while disconnected,
// token revocation, key rotation, bindings, and lane mix-ups.
import { ConfigurationError, PATHS } from '@lime/wire';
import { type Core, startCore } from 'lime-core';
import {
  AuthenticationError,
  InvalidPassportError,
  type LimeError,
  LimeSite,
  type LimeSiteOptions,
  LoginExpiredError,
  MemoryReplayStore,
  type Passport,
} from 'lime-sites-sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

let core: Core;
let site: { siteId: string; siteToken: string };
let agent: { agentId: string; agentToken: string; userId: string };
const sites: LimeSite[] = [];

beforeAll(async () => {
  core = await startCore({ powDifficulty: 0 });
  site = await core.admin.createSite({ name: 'sites-sdk test' });
  agent = await core.admin.createAgent({
    displayName: 'bot',
    userKycLevel: 2,
    agentReputation: 0.75,
  });
});
afterEach(async () => {
  await Promise.all(sites.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await core.close();
});

function newSite(options: LimeSiteOptions = {}) {
  const errors: LimeError[] = [];
  const s = new LimeSite({
    siteToken: site.siteToken,
    apiBase: core.apiBase,
    issuer: core.issuer,
    onError: (e) => errors.push(e),
    ...options,
  });
  sites.push(s);
  return { s, errors };
}

/** What an agent worker does (without the agents SDK): approve with nonce "0". */
async function approve(requestId: string, agentToken = agent.agentToken, base = core.apiBase) {
  const res = await fetch(base + PATHS.approveLoginRequest(requestId), {
    method: 'POST',
    headers: { 'x-agent-token': agentToken, 'content-type': 'application/json' },
    body: JSON.stringify({ pow_nonce: '0' }),
  });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`approve answered ${res.status}: ${body}`);
}

describe('against the reference Core', () => {
  it('create → approve → waitForLogin gives the verified passport', async () => {
    const { s, errors } = newSite();
    const request = await s.createLoginRequest();
    expect(request.loginRequestId).toMatch(/^lr_/);
    expect(request.status).toBe('PENDING');
    expect(request.expiresAt.getTime()).toBeGreaterThan(Date.now());
    const waiting = s.waitForLogin(request.loginRequestId, { timeout: 10_000 });
    await approve(request.loginRequestId);
    const passport = await waiting;
    expect(passport).toMatchObject({
      agentId: agent.agentId,
      userId: agent.userId,
      requestId: request.loginRequestId,
      siteId: site.siteId,
      issuer: core.issuer,
      userKycLevel: 2,
      agentReputation: 0.75,
    });
    expect(passport.expiresAt.getTime() - passport.issuedAt.getTime()).toBeLessThanOrEqual(120_000);
    expect(errors).toEqual([]);
  });

  it('waitForLogin after the event already arrived', async () => {
    const { s } = newSite();
    const events: string[] = [];
    s.onLogin((id) => {
      events.push(id);
    });
    const { loginRequestId } = await s.createLoginRequest();
    await approve(loginRequestId);
    await expect.poll(() => events, { timeout: 5_000 }).toContain(loginRequestId);
    const passport = await s.waitForLogin(loginRequestId);
    expect(passport.requestId).toBe(loginRequestId);
  });

  it('expiry → onLogin gets null and waitForLogin rejects with LoginExpiredError', async () => {
    const { s } = newSite();
    const got: Array<[string, Passport | null]> = [];
    s.onLogin((id, passport) => {
      got.push([id, passport]);
    });
    const { loginRequestId } = await s.createLoginRequest();
    const waiting = s.waitForLogin(loginRequestId);
    await core.admin.expireLoginRequest(loginRequestId);
    await expect(waiting).rejects.toBeInstanceOf(LoginExpiredError);
    expect(got).toEqual([[loginRequestId, null]]);
  });

  it('several instances on one token (own replay stores) each receive every passport', async () => {
    const a = newSite();
    const b = newSite();
    const c = newSite();
    await Promise.all([a.s.connect(), b.s.connect(), c.s.connect()]);
    const { loginRequestId } = await a.s.createLoginRequest();
    const all = Promise.all(
      [a, b, c].map(({ s }) => s.waitForLogin(loginRequestId, { timeout: 10_000 })),
    );
    await approve(loginRequestId);
    const passports = await all;
    expect(passports.map((p) => p.agentId)).toEqual([agent.agentId, agent.agentId, agent.agentId]);
    expect(new Set(passports.map((p) => p.jti)).size).toBe(1);
  });

  it('instances sharing a replay store: exactly one waitForLogin wins; onLogin still gets every passport', async () => {
    const replayStore = new MemoryReplayStore();
    const a = newSite({ replayStore });
    const b = newSite({ replayStore });
    const handled: Array<[string, Passport | null]> = [];
    for (const { s } of [a, b]) {
      s.onLogin((id, passport) => {
        handled.push([id, passport]);
      });
    }
    await Promise.all([a.s.connect(), b.s.connect()]);
    const { loginRequestId } = await a.s.createLoginRequest();
    const outcomes = Promise.allSettled(
      [a, b].map(({ s }) => s.waitForLogin(loginRequestId, { timeout: 10_000 })),
    );
    await approve(loginRequestId);
    const settled = await outcomes;
    const won = settled.filter((r) => r.status === 'fulfilled');
    const lost = settled.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(InvalidPassportError);
    expect((lost[0]!.reason as InvalidPassportError).reason).toBe('replayed');
    expect(replayStore.size).toBe(1);
    // Both instances' handlers got the (unclaimed) passport, same jti.
    await expect.poll(() => handled.length, { timeout: 5_000 }).toBe(2);
    expect(handled.map(([id]) => id)).toEqual([loginRequestId, loginRequestId]);
    expect(new Set(handled.map(([, p]) => p?.jti)).size).toBe(1);
    // …and cannot bind it once waitForLogin has: claimPassport refuses on either instance.
    for (const [i, { s }] of [a, b].entries()) {
      await expect(s.claimPassport(handled[i]![1]!)).rejects.toMatchObject({ reason: 'replayed' });
    }
  });

  it('instances sharing a replay store: onLogin handlers race with claimPassport, one binds', async () => {
    const replayStore = new MemoryReplayStore();
    const a = newSite({ replayStore });
    const b = newSite({ replayStore });
    const claims: Array<Promise<PromiseSettledResult<Passport>>> = [];
    for (const { s } of [a, b]) {
      s.onLogin((_id, passport) => {
        if (passport)
          claims.push(Promise.allSettled([s.claimPassport(passport)]).then(([r]) => r!));
      });
    }
    await Promise.all([a.s.connect(), b.s.connect()]);
    const { loginRequestId } = await a.s.createLoginRequest();
    await approve(loginRequestId);
    await expect.poll(() => claims.length, { timeout: 5_000 }).toBe(2);
    const results = await Promise.all(claims);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected');
    expect((refused!.reason as InvalidPassportError).reason).toBe('replayed');
  });

  it('an approval during a Core restart is delivered once, after the reconnect', async () => {
    // A private Core whose store survives the restart (same port, same data, new signing key).
    const { MemoryStore } = await import('lime-core');
    const store = new MemoryStore();
    const first = await startCore({ powDifficulty: 0, store, retryMs: 50 });
    const own = await first.admin.createSite({ name: 'restart' });
    const bot = await first.admin.createAgent({ displayName: 'bot' });
    const { s, errors } = newSite({
      siteToken: own.siteToken,
      apiBase: first.apiBase,
      issuer: first.issuer,
      reconnectMinDelay: 200,
      jwks: { minRefreshInterval: 0 },
    });
    const delivered: string[] = [];
    s.onLogin((id) => {
      delivered.push(id);
    });
    const before = await s.createLoginRequest();
    await approve(before.loginRequestId, bot.agentToken, first.apiBase);
    await s.waitForLogin(before.loginRequestId, { timeout: 5_000 });
    const pending = await s.createLoginRequest();
    await first.close();
    await expect.poll(() => s.connected).toBe(false);
    const second = await startCore({ powDifficulty: 0, store, port: first.port, retryMs: 50 });
    try {
      // Approve before the SDK is back: the event must come from the resumed log.
      expect(s.connected).toBe(false);
      await approve(pending.loginRequestId, bot.agentToken, second.apiBase);
      const passport = await s.waitForLogin(pending.loginRequestId, { timeout: 10_000 });
      expect(passport.agentId).toBe(bot.agentId);
      await new Promise((r) => setTimeout(r, 300));
      expect(delivered).toEqual([before.loginRequestId, pending.loginRequestId]);
      expect(errors.filter((e) => e instanceof InvalidPassportError)).toEqual([]);
    } finally {
      await s.close();
      await second.close();
    }
  });

  it('a revoked site token stops the stream with AuthenticationError once authRetryPeriod is over', async () => {
    const own = await core.admin.createSite({ name: 'revoked' });
    const { s, errors } = newSite({
      siteToken: own.siteToken,
      reconnectMinDelay: 50,
      authRetryPeriod: 1_000,
    });
    await s.connect();
    const { loginRequestId } = await s.createLoginRequest();
    const waiting = s.waitForLogin(loginRequestId);
    await core.admin.revokeSiteToken(own.siteId);
    await expect(waiting).rejects.toBeInstanceOf(AuthenticationError);
    expect(errors.at(-1)).toBeInstanceOf(AuthenticationError);
    await expect(s.createLoginRequest({ listen: false })).rejects.toBeInstanceOf(
      AuthenticationError,
    );
  });

  it('a rotated signing key is picked up from the JWKS', async () => {
    const { s } = newSite({ jwks: { minRefreshInterval: 0 } });
    const first = await s.createLoginRequest();
    const w1 = s.waitForLogin(first.loginRequestId, { timeout: 10_000 });
    await approve(first.loginRequestId);
    await w1;
    const { kid } = await core.admin.rotateSigningKey({ activate: 'now' });
    const second = await s.createLoginRequest();
    const w2 = s.waitForLogin(second.loginRequestId, { timeout: 10_000 });
    await approve(second.loginRequestId);
    const passport = await w2;
    expect(passport.requestId).toBe(second.loginRequestId);
    expect(kid).toBeTruthy();
  });

  it('binding request → completed binding → verified binding passport', async () => {
    const { s } = newSite();
    const binding = await s.createBindingRequest({
      redirectUri: 'https://site.example/lime/bound',
    });
    expect(binding.connectUrl).toMatch(/^https?:\/\//);
    const { passport, redirectUrl } = await core.admin.completeBinding(
      binding.bindingId,
      agent.agentId,
    );
    expect(redirectUrl).toContain('passport=');
    const verified = await s.verifyBindingPassport(passport, {
      expectedBindingId: binding.bindingId,
    });
    expect(verified).toMatchObject({ agentId: agent.agentId, bindingId: binding.bindingId });
    await expect(s.verifyPassport(passport, { expectedRequestId: 'lr_x' })).rejects.toMatchObject({
      reason: 'wrong_audience',
    });
  });

  it('an MCP access token sent to verifyPassport() is refused, naming the mix-up', async () => {
    const { s } = newSite();
    const res = await fetch(core.apiBase + PATHS.oauthToken, {
      method: 'POST',
      headers: { 'x-agent-token': agent.agentToken, 'content-type': 'application/json' },
      body: JSON.stringify({ domain: 'mcp.example.com' }),
    });
    const { access_token } = (await res.json()) as { access_token: string };
    const error = await s
      .verifyPassport(access_token, { expectedRequestId: 'lr_x' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidPassportError);
    expect((error as InvalidPassportError).reason).toBe('wrong_audience');
    expect((error as Error).message).toMatch(
      /^passport aud was 'mcp', expected 'lime-site-login' — this looks like an MCP access token sent to verifyPassport\(\)/,
    );
  });

  it('lanes never mix: an agent token is refused at construction; a wrong site token gets 401', async () => {
    expect(() => new LimeSite({ siteToken: agent.agentToken, apiBase: core.apiBase })).toThrow(
      ConfigurationError,
    );
    expect(() => new LimeSite({ siteToken: agent.agentToken, apiBase: core.apiBase })).toThrow(
      /agent token/,
    );
    const { s } = newSite({ siteToken: 'st_not_a_real_token' });
    await expect(s.createLoginRequest({ listen: false })).rejects.toBeInstanceOf(
      AuthenticationError,
    );
    await expect(s.connect()).rejects.toBeInstanceOf(AuthenticationError);
  });
});
