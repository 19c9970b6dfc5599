// Unit tests of src/internal/passport-claims.ts: the verify/claim layer under
// LimeSite, with a real PassportVerifier and JWKS cache behind a fake fetch.
import { JwksCache } from '@lime/wire';
import { MemoryReplayStore } from 'lime-sites-sdk';
import { describe, expect, it } from 'vitest';
import { PassportClaims, unverifiedExpiryMs } from '../src/internal/passport-claims.js';
import { PassportVerifier } from '../src/internal/passport-verifier.js';
import { fakeCore, JWKS_URL, json } from './helpers/fake-fetch.js';
import { ISSUER, jwks, mintPassport, reason, rsaKey } from './helpers/tokens.js';

const k1 = rsaKey('k1');
const k2 = rsaKey('k2');

function setup(published: () => Parameters<typeof jwks>, closed = { value: false }) {
  const core = fakeCore({ jwks: () => json(jwks(...published())) });
  const keys = new JwksCache({ jwksUrl: JWKS_URL, fetch: core.fetch, minRefreshIntervalMs: 0 });
  const verifier = new PassportVerifier({
    keys,
    issuer: ISSUER,
    siteId: undefined,
    requiredClaims: [],
    clockToleranceSeconds: 30,
    maxTokenLength: 8_192,
    clock: Date.now,
  });
  const claims = new PassportClaims({
    verifier,
    replayStore: new MemoryReplayStore(),
    clockToleranceSeconds: 30,
    isClosed: () => closed.value,
    closed: new Promise(() => {}),
  });
  return { claims, core };
}

describe('PassportClaims', () => {
  it('verifyPassport claims in the replay store: a second use is replayed', async () => {
    const { claims } = setup(() => [k1]);
    const jwt = mintPassport({}, k1);
    await expect(claims.verifyPassport(jwt, 'lr_test', undefined)).resolves.toMatchObject({
      requestId: 'lr_test',
    });
    await expect(reason(claims.verifyPassport(jwt, 'lr_test', undefined))).resolves.toBe(
      'replayed',
    );
  });

  it('verifies stream passports without claiming them: claimPassport claims once', async () => {
    const { claims } = setup(() => [k1]);
    const jwt = mintPassport({}, k1);
    const passport = await claims.verifyStreamPassport(jwt, 'lr_test');
    // Again on the stream store: refused there, but the shared store is untouched.
    await expect(reason(claims.verifyStreamPassport(jwt, 'lr_test'))).resolves.toBe('replayed');
    await expect(claims.claimPassport(passport, undefined)).resolves.toBe(passport);
    await expect(reason(claims.claimPassport(passport, undefined))).resolves.toBe('replayed');
  });

  it('holds a stream passport whose key is not published yet, and verifies it when it is', async () => {
    let published: Parameters<typeof jwks> = [k1];
    const { claims, core } = setup(() => published);
    const pending = claims.verifyStreamPassport(mintPassport({}, k2), 'lr_test');
    await new Promise((r) => setTimeout(r, 50));
    published = [k1, k2];
    await expect(pending).resolves.toMatchObject({ requestId: 'lr_test' });
    expect(core.calls.jwks).toBeGreaterThanOrEqual(2);
  });

  it('stops holding when the site closes', async () => {
    const closed = { value: false };
    const { claims } = setup(() => [k1], closed);
    const pending = claims.verifyStreamPassport(mintPassport({}, k2), 'lr_test');
    closed.value = true;
    await expect(reason(pending)).resolves.toBe('unknown_kid');
  });

  it('an expired stream passport is expired_in_transit', async () => {
    const { claims } = setup(() => [k1]);
    const now = Math.floor(Date.now() / 1000);
    const jwt = mintPassport({ iat: now - 200, exp: now - 100 }, k1);
    await expect(reason(claims.verifyStreamPassport(jwt, 'lr_test'))).resolves.toBe(
      'expired_in_transit',
    );
  });

  it('claimPassport refuses what is not a passport, and an aborted signal', async () => {
    const { claims } = setup(() => [k1]);
    await expect(claims.claimPassport({} as never, undefined)).rejects.toThrow(TypeError);
    const passport = await claims.verifyStreamPassport(mintPassport({}, k1), 'lr_test');
    await expect(claims.claimPassport(passport, AbortSignal.abort())).rejects.toMatchObject({
      code: 'ABORTED',
    });
  });

  it('reads an unverified expiry only to bound a wait', () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    expect(unverifiedExpiryMs(mintPassport({ exp }, k1))).toBe(exp * 1000);
    expect(unverifiedExpiryMs('not.a.token')).toBe(0);
    expect(unverifiedExpiryMs('')).toBe(0);
  });
});
