// Bad-token suite: every attack class a passport verifier must refuse, with
// the machine-readable reason, plus the edges that must still pass.
import { createPublicKey } from 'node:crypto';
import {
  InvalidPassportError,
  type InvalidPassportReason,
  LimeSite,
  MemoryReplayStore,
  type ReplayStore,
} from 'lime-sites-sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { API_BASE, fakeCore, json } from './helpers/fake-fetch.js';
import {
  b64u,
  ISSUER,
  json64,
  jwks,
  mintBindingPassport,
  mintMcpToken,
  mintPassport,
  passportClaims,
  rsaKey,
  signHs256,
  signRaw,
} from './helpers/tokens.js';

const key = rsaKey('k1');
const otherKey = rsaKey('k1-other'); // same kid will be forged with this key
const weakKey = rsaKey('weak', 1024);
const badExponentKey = rsaKey('e3', 2048, 3);
const now = () => Math.floor(Date.now() / 1000);
const header = (extra: Record<string, unknown> = {}) => ({
  alg: 'RS256',
  kid: 'k1',
  typ: 'JWT',
  ...extra,
});

const core = fakeCore({ jwks: () => json(jwks(key, weakKey, badExponentKey)) });
const sites: LimeSite[] = [];
function site(options: ConstructorParameters<typeof LimeSite>[0] = {}) {
  const s = new LimeSite({
    siteToken: 'st_test',
    apiBase: API_BASE,
    fetch: core.fetch,
    issuer: ISSUER,
    ...options,
  });
  sites.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(sites.map((s) => s.close()));
});

const verifier = site();
const REQ = 'lr_test';

async function reasonOf(
  token: unknown,
  expectedRequestId = REQ,
): Promise<InvalidPassportReason | 'accepted'> {
  try {
    await verifier.verifyPassport(token as string, { expectedRequestId });
    return 'accepted';
  } catch (error) {
    if (error instanceof InvalidPassportError) return error.reason;
    throw error;
  }
}

const forged = signRaw(header(), passportClaims(), otherKey);
const tampered = (() => {
  const [h, , s] = mintPassport().split('.');
  return `${h}.${json64(passportClaims({ sub: 'ag_admin' }))}.${s}`;
})();
const pem = key.publicKey.export({ format: 'pem', type: 'spki' }) as string;
const attackerJwk = createPublicKey(otherKey.privateKey).export({ format: 'jwk' });

const attacks: Array<[string, () => unknown, InvalidPassportReason]> = [
  [
    'alg none, empty signature',
    () => `${json64({ alg: 'none', typ: 'JWT' })}.${json64(passportClaims())}.`,
    'malformed',
  ],
  [
    'alg none with a junk signature',
    () => `${json64({ alg: 'none', kid: 'k1' })}.${json64(passportClaims())}.${b64u('x')}`,
    'unsupported_alg',
  ],
  [
    'HS256 keyed with the public key PEM (alg confusion)',
    () => signHs256({ alg: 'HS256', kid: 'k1' }, passportClaims(), pem),
    'unsupported_alg',
  ],
  [
    'PS256 with the right key',
    () => signRaw({ alg: 'PS256', kid: 'k1' }, passportClaims(), key, 'PS256'),
    'unsupported_alg',
  ],
  [
    'RS512 label',
    () => signRaw({ alg: 'RS512', kid: 'k1' }, passportClaims(), key),
    'unsupported_alg',
  ],
  [
    "lower-case 'rs256'",
    () => signRaw({ alg: 'rs256', kid: 'k1' }, passportClaims(), key),
    'unsupported_alg',
  ],
  [
    'ES256 label',
    () => signRaw({ alg: 'ES256', kid: 'k1' }, passportClaims(), key),
    'unsupported_alg',
  ],
  ['no kid', () => signRaw({ alg: 'RS256' }, passportClaims(), key), 'missing_kid'],
  ['numeric kid', () => signRaw({ alg: 'RS256', kid: 1 }, passportClaims(), key), 'missing_kid'],
  [
    'kid with quotes and spaces (injection)',
    () => signRaw({ alg: 'RS256', kid: `k1' OR '1'='1` }, passportClaims(), key),
    'missing_kid',
  ],
  [
    'kid path traversal',
    () => signRaw({ alg: 'RS256', kid: '../../../dev/null' }, passportClaims(), key),
    'unknown_kid',
  ],
  [
    'unknown kid',
    () => signRaw({ alg: 'RS256', kid: 'nope' }, passportClaims(), key),
    'unknown_kid',
  ],
  [
    'jku header (remote key set)',
    () => signRaw(header({ jku: 'https://evil.example/jwks' }), passportClaims(), key),
    'forbidden_header',
  ],
  [
    'x5u header',
    () => signRaw(header({ x5u: 'https://evil.example/cert' }), passportClaims(), key),
    'forbidden_header',
  ],
  [
    'embedded jwk (attacker key)',
    () => signRaw(header({ jwk: attackerJwk }), passportClaims(), otherKey),
    'forbidden_header',
  ],
  [
    'x5c chain',
    () => signRaw(header({ x5c: ['MIIB'] }), passportClaims(), key),
    'forbidden_header',
  ],
  [
    'crit extension',
    () => signRaw(header({ crit: ['exp'] }), passportClaims(), key),
    'forbidden_header',
  ],
  [
    "typ 'at+jwt'",
    () => signRaw(header({ typ: 'at+jwt' }), passportClaims(), key),
    'forbidden_header',
  ],
  ['signed by another key under our kid', () => forged, 'bad_signature'],
  ['payload swapped after signing', () => tampered, 'bad_signature'],
  ['truncated signature', () => mintPassport().slice(0, -10), 'bad_signature'],
  ['1024-bit key in the JWKS (ignored)', () => mintPassport({}, weakKey), 'unknown_kid'],
  ['e = 3 key in the JWKS (ignored)', () => mintPassport({}, badExponentKey), 'unknown_kid'],
  [
    'expired beyond tolerance',
    () => mintPassport({ iat: now() - 120, exp: now() - 31 }),
    'expired',
  ],
  [
    'exp exactly at now − tolerance',
    () => mintPassport({ iat: now() - 90, exp: now() - 30 }),
    'expired',
  ],
  [
    'iat in the future beyond the 60 s bound',
    () => mintPassport({ iat: now() + 90, exp: now() + 150 }),
    'issued_in_future',
  ],
  ['nbf in the future', () => mintPassport({ nbf: now() + 600 }), 'not_yet_valid'],
  ['lifetime 121 s', () => mintPassport({ iat: now(), exp: now() + 121 }), 'lifetime_too_long'],
  [
    'lifetime of a year',
    () => mintPassport({ iat: now(), exp: now() + 365 * 86400 }),
    'lifetime_too_long',
  ],
  ['exp before iat', () => mintPassport({ iat: now(), exp: now() - 1 }), 'invalid_claim'],
  ['exp as a string', () => mintPassport({ exp: String(now() + 60) }), 'invalid_claim'],
  ['no exp', () => mintPassport({ exp: undefined }), 'missing_claim'],
  ['no iat', () => mintPassport({ iat: undefined }), 'missing_claim'],
  ['no sub', () => mintPassport({ sub: undefined }), 'missing_claim'],
  ['sub not a string', () => mintPassport({ sub: 42 }), 'invalid_claim'],
  ['empty jti', () => mintPassport({ jti: '' }), 'invalid_claim'],
  ['no request_id', () => mintPassport({ request_id: undefined }), 'missing_claim'],
  [
    'two different agents (sub and agent_id)',
    () => mintPassport({ agent_id: 'ag_other' }),
    'invalid_claim',
  ],
  ['no agent at all (neither sub nor agent_id)', () => mintPassport({ sub: '' }), 'invalid_claim'],
  ['jti not a string', () => mintPassport({ jti: 7 }), 'invalid_claim'],
  ['site_id not a string', () => mintPassport({ site_id: ['site_test'] }), 'invalid_claim'],
  ['aud as an array', () => mintPassport({ aud: ['lime-site-login'] }), 'wrong_audience'],
  [
    'aud array with an extra audience',
    () => mintPassport({ aud: ['lime-site-login', 'mcp'] }),
    'wrong_audience',
  ],
  ['no aud', () => mintPassport({ aud: undefined }), 'missing_claim'],
  ['MCP access token', () => mintMcpToken(key), 'wrong_audience'],
  ['binding passport', () => mintBindingPassport({}, key), 'wrong_audience'],
  ['wrong issuer', () => mintPassport({ iss: 'https://evil.example' }), 'wrong_issuer'],
  [
    'request_id of another login',
    () => mintPassport({ request_id: 'lr_someone_else' }),
    'request_id_mismatch',
  ],
  [
    'oversized token (refused before parsing)',
    () => mintPassport({ pad: 'x'.repeat(9_000) }),
    'too_large',
  ],
  ['padded base64url', () => `${mintPassport()}==`, 'malformed'],
  [
    "standard base64 '+' and '/'",
    () => mintPassport().replace(/-/g, '+').replace(/_/g, '/') + '+/',
    'malformed',
  ],
  ['two segments', () => mintPassport().split('.').slice(0, 2).join('.'), 'malformed'],
  ['four segments', () => `${mintPassport()}.${b64u('x')}`, 'malformed'],
  [
    'header not JSON',
    () => `${b64u('not json')}.${json64(passportClaims())}.${b64u('sig')}`,
    'malformed',
  ],
  ['payload not JSON (validly signed)', () => signRaw(header(), b64u('{"sub":'), key), 'malformed'],
  [
    'payload a JSON array (validly signed)',
    () => signRaw(header(), json64([1, 2]), key),
    'malformed',
  ],
  ['not a string at all', () => 12345, 'malformed'],
  ['empty string', () => '', 'malformed'],
];

describe('bad-token suite', () => {
  it(`covers at least 25 attack classes (has ${attacks.length})`, () => {
    expect(attacks.length).toBeGreaterThanOrEqual(25);
  });

  it.each(attacks)('%s → %s', async (_name, make, reason) => {
    expect(await reasonOf(make())).toBe(reason);
  });

  it('accepts a valid passport and the edges just inside the rules', async () => {
    expect(await reasonOf(mintPassport())).toBe('accepted');
    expect(await reasonOf(mintPassport({ iat: now(), exp: now() + 120 }))).toBe('accepted');
    expect(await reasonOf(mintPassport({ iat: now() - 80, exp: now() - 20 }))).toBe('accepted'); // within 30 s tolerance
    expect(await reasonOf(mintPassport({ iat: now() + 20, exp: now() + 80 }))).toBe('accepted'); // clock skew
    expect(await reasonOf(mintPassport({ user_kyc_level: null, agent_reputation: null }))).toBe(
      'accepted',
    );
  });

  it('messages say what was expected and name the mix-up, never the token', async () => {
    const token = mintMcpToken(key);
    const error = await verifier
      .verifyPassport(token, { expectedRequestId: REQ })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidPassportError);
    expect((error as Error).message).toBe(
      "passport aud was 'mcp', expected 'lime-site-login' — this looks like an MCP access token sent to verifyPassport(); MCP tokens are for MCP servers, never site logins",
    );
    expect((error as Error).message).not.toContain(token.split('.')[1]!);
    const binding = await verifier
      .verifyPassport(mintBindingPassport({}, key), { expectedRequestId: REQ })
      .catch((e: unknown) => e);
    expect((binding as Error).message).toMatch(/use verifyBindingPassport\(\)/);
    const mismatch = await reasonOf(mintPassport({ request_id: 'lr_b' }), 'lr_a');
    expect(mismatch).toBe('request_id_mismatch');
    expect((error as InvalidPassportError).code).toBe('INVALID_PASSPORT');
  });

  it('requires expectedRequestId', async () => {
    await expect(verifier.verifyPassport(mintPassport(), {} as never)).rejects.toBeInstanceOf(
      TypeError,
    );
  });

  it('a stricter clock tolerance is honoured', async () => {
    const strict = site({ clockTolerance: 0 });
    await expect(
      strict.verifyPassport(mintPassport({ iat: now() - 70, exp: now() - 5 }), {
        expectedRequestId: REQ,
      }),
    ).rejects.toMatchObject({ reason: 'expired' });
    expect(() => site({ clockTolerance: 301 })).toThrow(/clockTolerance/);
  });
});

describe('single use (jti)', () => {
  it('a replayed passport is refused', async () => {
    const token = mintPassport();
    expect(await reasonOf(token)).toBe('accepted');
    expect(await reasonOf(token)).toBe('replayed');
  });

  it('a shared store refuses the replay on another instance', async () => {
    const shared = new MemoryReplayStore();
    const a = site({ replayStore: shared });
    const b = site({ replayStore: shared });
    const token = mintPassport();
    await a.verifyPassport(token, { expectedRequestId: REQ });
    await expect(b.verifyPassport(token, { expectedRequestId: REQ })).rejects.toMatchObject({
      reason: 'replayed',
    });
  });

  it('a failing store fails closed', async () => {
    const broken: ReplayStore = {
      consume: async () => {
        throw new Error('redis down');
      },
    };
    const s = site({ replayStore: broken });
    await expect(
      s.verifyPassport(mintPassport(), { expectedRequestId: REQ }),
    ).rejects.toMatchObject({
      reason: 'replay_check_failed',
    });
  });

  it('the store is told how long to remember (exp + tolerance)', async () => {
    const seen: Array<[string, Date]> = [];
    const s = site({
      replayStore: {
        consume: (jti, until) => {
          seen.push([jti, until]);
          return true;
        },
      },
      clockTolerance: 10,
    });
    const passport = await s.verifyPassport(mintPassport(), { expectedRequestId: REQ });
    expect(seen).toEqual([[passport.jti, new Date(passport.expiresAt.getTime() + 10_000)]]);
  });

  it('MemoryReplayStore is bounded in size and forgets expired ids', () => {
    let t = 1_000_000;
    const store = new MemoryReplayStore({ maxEntries: 3, now: () => t });
    const until = (ms: number) => new Date(t + ms);
    expect(store.consume('a', until(1_000))).toBe(true);
    expect(store.consume('a', until(1_000))).toBe(false);
    store.consume('b', until(1_000));
    store.consume('c', until(1_000));
    store.consume('d', until(1_000));
    expect(store.size).toBe(3); // 'a' evicted by the bound
    t += 2_000;
    expect(store.consume('b', until(1_000))).toBe(true); // expired entry forgotten
    expect(store.size).toBeLessThanOrEqual(3);
  });

  it('MemoryReplayStore keeps an id to its expiry, at most a second longer, never shorter', () => {
    let t = 1_000_250;
    const store = new MemoryReplayStore({ now: () => t });
    for (const ms of [1, 999, 1_000, 1_001, 59_999]) {
      const id = `id-${ms}`;
      const until = t + ms;
      expect(store.consume(id, new Date(until))).toBe(true);
      t = until - 1; // still held a millisecond before its expiry …
      expect(store.consume(id, new Date(until))).toBe(false);
      t = until + 1_000; // … and forgotten a second after it
      expect(store.consume(id, new Date(until + 60_000))).toBe(true);
    }
  });

  it('MemoryReplayStore refuses a clock that does not answer milliseconds', () => {
    // A Date (or nothing) would make every expiry NaN: no replay would be refused.
    const clocks = [() => new Date(), () => undefined, () => Number.NaN, () => '1000'];
    for (const now of clocks) {
      expect(() => new MemoryReplayStore({ now: now as unknown as () => number })).toThrow(
        TypeError,
      );
    }
    expect(() => new MemoryReplayStore({ now: 5 as unknown as () => number })).toThrow(TypeError);
  });

  it('MemoryReplayStore.clear forgets every id', () => {
    const store = new MemoryReplayStore();
    const until = new Date(Date.now() + 60_000);
    store.consume('a', until);
    store.consume('b', until);
    store.clear();
    expect(store.size).toBe(0);
    expect(store.consume('a', until)).toBe(true);
    expect(store.consume('a', until)).toBe(false);
  });

  it("a subclass's consume is called: the default store's shortcut is for its own method only", async () => {
    const seen: string[] = [];
    class AuditedStore extends MemoryReplayStore {
      override consume(jti: string, expiresAt: Date): boolean {
        seen.push(jti);
        return super.consume(jti, expiresAt);
      }
    }
    const s = site({ replayStore: new AuditedStore() });
    const token = mintPassport();
    const passport = await s.verifyPassport(token, { expectedRequestId: REQ });
    await expect(s.verifyPassport(token, { expectedRequestId: REQ })).rejects.toMatchObject({
      reason: 'replayed',
    });
    expect(seen).toEqual([passport.jti, passport.jti]);
  });
});

describe('binding passports', () => {
  const BD = { expectedBindingId: 'bd_test' };

  it('expectedBindingId is required: a TypeError naming it, before any verification', async () => {
    let consumed = 0;
    const s = site({ replayStore: { consume: () => ++consumed > 0 } });
    const token = mintBindingPassport({}, key);
    for (const options of [undefined, {}, { expectedBindingId: '' }, { expectedBindingId: 7 }]) {
      const error = await s.verifyBindingPassport(token, options as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/expectedBindingId/);
    }
    expect(consumed).toBe(0); // nothing was verified nor recorded
    // The same token still verifies once the binding id is given.
    await expect(s.verifyBindingPassport(token, BD)).resolves.toMatchObject({
      bindingId: 'bd_test',
    });
    expect(consumed).toBe(1);
  });

  it('verifies a binding passport and binds binding_id', async () => {
    const binding = await verifier.verifyBindingPassport(mintBindingPassport({}, key), {
      expectedBindingId: 'bd_test',
    });
    expect(binding).toMatchObject({ agentId: 'ag_test', bindingId: 'bd_test', userId: 'usr_test' });
    await expect(
      verifier.verifyBindingPassport(mintBindingPassport({}, key), {
        expectedBindingId: 'bd_other',
      }),
    ).rejects.toMatchObject({ reason: 'binding_id_mismatch' });
  });

  it.each([
    ['lifetime 61 s', { iat: now(), exp: now() + 61 }, 'lifetime_too_long'],
    ['no binding_id', { binding_id: undefined }, 'missing_claim'],
    ['empty binding_id', { binding_id: '' }, 'invalid_claim'],
    ['site-login audience', { aud: 'lime-site-login' }, 'wrong_audience'],
  ] as const)('refuses %s', async (_name, claims, reason) => {
    await expect(
      verifier.verifyBindingPassport(mintBindingPassport(claims, key), BD),
    ).rejects.toMatchObject({ reason });
  });

  it('refuses a site passport and an MCP token, naming the mix-up', async () => {
    const e1 = await verifier.verifyBindingPassport(mintPassport(), BD).catch((e: unknown) => e);
    expect((e1 as Error).message).toMatch(/use verifyPassport\(\)/);
    const e2 = await verifier.verifyBindingPassport(mintMcpToken(key), BD).catch((e: unknown) => e);
    expect((e2 as Error).message).toMatch(/MCP access token sent to verifyBindingPassport\(\)/);
  });

  it('binding passports are single use', async () => {
    const token = mintBindingPassport({}, key);
    await verifier.verifyBindingPassport(token, BD);
    await expect(verifier.verifyBindingPassport(token, BD)).rejects.toMatchObject({
      reason: 'replayed',
    });
  });
});
