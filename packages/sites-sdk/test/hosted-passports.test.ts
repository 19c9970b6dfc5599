// Passports as the hosted platform may send them (PROTOCOL.md §4, §5 and the
// Python site SDK: its verifier, README claim list, hosted integration test
// and fixtures). Accept what the Python verifier accepts; keep only the
// checks we add on purpose (alg pinned, aud exact, lifetime, request binding,
// single use). Each case here was refused before this change.
import { InvalidPassportError, LimeSite, type LimeSiteOptions } from 'lime-sites-sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { API_BASE, fakeCore, json } from './helpers/fake-fetch.js';
import { ISSUER, jwks, rsaKey, signRaw } from './helpers/tokens.js';

const key = rsaKey('hosted-k1');
const core = fakeCore({ jwks: () => json(jwks(key)) });
const sites: LimeSite[] = [];
function site(options: LimeSiteOptions = {}) {
  const s = new LimeSite({
    siteToken: 'st_test',
    apiBase: API_BASE,
    fetch: core.fetch,
    ...options,
  });
  sites.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(sites.map((s) => s.close()));
});

const now = () => Math.floor(Date.now() / 1000);
let n = 0;

/** Exactly the claims the Python site SDK README lists, header without typ. */
function hostedClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  n++;
  return {
    agent_id: 'agent-7f3c',
    user_id: 'user-19',
    user_kyc_level: 1,
    agent_reputation: 50,
    request_id: `9b2e8c1a-0000-4000-8000-${String(n).padStart(12, '0')}`,
    exp: now() + 60,
    iat: now(),
    aud: 'lime-site-login',
    ...overrides,
  };
}
function mint(claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  return signRaw({ alg: 'RS256', kid: key.kid, ...header }, claims, key);
}
async function outcome(
  s: LimeSite,
  token: string,
  requestId: string,
): Promise<string | Awaited<ReturnType<LimeSite['verifyPassport']>>> {
  try {
    return await s.verifyPassport(token, { expectedRequestId: requestId });
  } catch (error) {
    if (error instanceof InvalidPassportError) return error.reason;
    throw error;
  }
}

describe('site passports as the hosted platform sends them', () => {
  it('accepts the minimal claim set: agent in agent_id; no sub, iss, jti, site_id, typ', async () => {
    const claims = hostedClaims();
    const passport = await site({ issuer: ISSUER }).verifyPassport(mint(claims), {
      expectedRequestId: String(claims.request_id),
    });
    expect(passport).toMatchObject({
      agentId: 'agent-7f3c',
      userId: 'user-19',
      userKycLevel: 1,
      agentReputation: 50,
      requestId: claims.request_id,
      jti: undefined,
      issuer: undefined,
      siteId: undefined,
      passportVersion: undefined,
      warnings: [],
    });
  });

  it('reports claim oddities instead of refusing: passport_version "3", user_id null, odd types', async () => {
    const claims = hostedClaims({
      sub: 'agent-7f3c',
      passport_version: '3',
      user_id: null,
      agent_reputation: 'high',
      user_kyc_level: { level: 2 },
    });
    const passport = await site().verifyPassport(mint(claims), {
      expectedRequestId: String(claims.request_id),
    });
    expect(passport.agentId).toBe('agent-7f3c');
    expect(passport.userId).toBeNull();
    expect(passport.passportVersion).toBe('3');
    expect(passport.agentReputation).toBeNull();
    expect(passport.userKycLevel).toBeNull();
    expect(passport.warnings).toEqual([
      'user_id was null',
      'user_kyc_level was an object, read as null',
      "agent_reputation was 'high', read as null",
      "passport_version was the string '3'",
    ]);
  });

  it('accepts a fresh passport whose iat is up to 60 s ahead of our clock (tolerance 30 s)', async () => {
    const s = site({ clockTolerance: 30 });
    const ahead = hostedClaims({ iat: now() + 59, exp: now() + 119 });
    expect(await outcome(s, mint(ahead), String(ahead.request_id))).toMatchObject({
      agentId: 'agent-7f3c',
    });
    const far = hostedClaims({ iat: now() + 75, exp: now() + 135 });
    expect(await outcome(s, mint(far), String(far.request_id))).toBe('issued_in_future');
  });

  it('checks iss, site_id and typ when present', async () => {
    const s = site({ issuer: ISSUER, siteId: 'site-a' });
    const cases: Array<[Record<string, unknown>, Record<string, unknown>, string]> = [
      [{ iss: 'https://evil.example' }, {}, 'wrong_issuer'],
      [{ site_id: 'site-b' }, {}, 'wrong_site'],
      [{}, { typ: 'at+jwt' }, 'forbidden_header'],
      [{ sub: 'agent-other' }, {}, 'invalid_claim'], // sub and agent_id disagree
    ];
    for (const [overrides, header, reason] of cases) {
      const claims = hostedClaims(overrides);
      expect(await outcome(s, mint(claims, header), String(claims.request_id))).toBe(reason);
    }
    const ok = hostedClaims({ iss: ISSUER, site_id: 'site-a', sub: 'agent-7f3c' });
    expect(await outcome(s, mint(ok, { typ: 'JWT' }), String(ok.request_id))).toMatchObject({
      issuer: ISSUER,
      siteId: 'site-a',
    });
  });

  it('requires iss, jti, site_id and typ only when asked (requiredPassportClaims)', async () => {
    const strict = site({
      issuer: ISSUER,
      requiredPassportClaims: ['iss', 'jti', 'site_id', 'typ'],
    });
    const bare = hostedClaims();
    expect(await outcome(strict, mint(bare), String(bare.request_id))).toBe('forbidden_header');
    const typed = hostedClaims();
    expect(await outcome(strict, mint(typed, { typ: 'JWT' }), String(typed.request_id))).toBe(
      'missing_claim',
    );
    const full = hostedClaims({ iss: ISSUER, jti: 'j-1', site_id: 's-1' });
    expect(
      await outcome(strict, mint(full, { typ: 'JWT' }), String(full.request_id)),
    ).toMatchObject({ jti: 'j-1' });
    expect(() => site({ requiredPassportClaims: ['sub' as never] })).toThrow(
      /requiredPassportClaims/,
    );
  });

  it('single use is keyed on request_id when there is no jti: a second passport for the same request is a replay', async () => {
    const s = site();
    const first = hostedClaims();
    const again = { ...first, iat: now() - 1, exp: now() + 59 }; // another token, same request
    expect(await outcome(s, mint(first), String(first.request_id))).toMatchObject({
      jti: undefined,
    });
    expect(await outcome(s, mint(again), String(first.request_id))).toBe('replayed');
    expect(await outcome(s, mint(first), String(first.request_id))).toBe('replayed');
  });

  it('still refuses what would be unsafe: no agent, another request, a long lifetime, another audience', async () => {
    const s = site();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ agent_id: undefined }, 'missing_claim'],
      [{ request_id: 'another' }, 'request_id_mismatch'],
      [{ iat: now(), exp: now() + 121 }, 'lifetime_too_long'],
      [{ aud: 'mcp' }, 'wrong_audience'],
      [{ exp: now() - 60, iat: now() - 120 }, 'expired'],
    ];
    for (const [overrides, reason] of cases) {
      const claims = hostedClaims(overrides);
      const expected = overrides.request_id === 'another' ? 'mine' : String(claims.request_id);
      expect(await outcome(s, mint(claims), expected)).toBe(reason);
    }
  });
});

describe('binding passports as the hosted platform may send them (§5)', () => {
  it('accepts binding_id alone: agent unknown, single use keyed on binding_id', async () => {
    const s = site();
    const claims = { aud: 'lime-binding', binding_id: 'b-1', iat: now(), exp: now() + 59 };
    const token = mint(claims);
    await expect(
      s.verifyBindingPassport(token, { expectedBindingId: 'b-1' }),
    ).resolves.toMatchObject({ bindingId: 'b-1', agentId: undefined, jti: undefined });
    await expect(
      s.verifyBindingPassport(mint({ ...claims, iat: now() - 1 }), { expectedBindingId: 'b-1' }),
    ).rejects.toMatchObject({ reason: 'replayed' });
    const named = mint({ ...claims, binding_id: 'b-2', agent_id: 'agent-9' });
    await expect(
      s.verifyBindingPassport(named, { expectedBindingId: 'b-2' }),
    ).resolves.toMatchObject({ agentId: 'agent-9' });
  });
});
