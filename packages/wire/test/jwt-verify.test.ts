import * as fc from 'fast-check';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { LimeError } from '../src/errors.js';
import {
  type CryptoBackendName,
  createJwtVerifier,
  defaultCryptoBackend,
  JwksCache,
  type JwtFailureReason,
  type JwtPolicy,
  JwtVerificationError,
  verifyJwt,
} from '../src/jwt/index.js';
import {
  b64u,
  claims,
  header,
  json64,
  jwksFetch,
  NOW,
  NOW_MS,
  rsaKey,
  signHs256,
  signRaw,
} from './jwt-fixtures.js';

const k1 = rsaKey('k1');
const other = rsaKey('other'); // same size, not published
const ISS = 'https://core.test/api/v1';

function setup(backend: CryptoBackendName, policy: Partial<JwtPolicy> = {}, clockMs = NOW_MS) {
  const { fetch, calls } = jwksFetch(() => ({ keys: [k1.jwk] }));
  const keys = new JwksCache({
    jwksUrl: 'https://core.test/api/v1/core/.well-known/jwks.json',
    fetch,
    crypto: backend,
    clock: () => clockMs,
  });
  const verify = createJwtVerifier({
    keys,
    audience: 'mcp',
    issuer: ISS,
    maxLifetimeSeconds: 300,
    clockToleranceSeconds: 30,
    requiredClaims: ['jti'],
    forbiddenClaims: ['user_id', 'passport_version', 'request_id'],
    clock: () => clockMs,
    ...policy,
  });
  return { verify, keys, calls };
}

async function reasonOf(promise: Promise<unknown>): Promise<JwtFailureReason | 'accepted'> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    if (!(error instanceof JwtVerificationError)) throw error;
    return error.reason;
  }
}

const good = () => signRaw(header(), claims(), k1);

describe.each(['node', 'webcrypto'] as const)('createJwtVerifier (%s backend)', (backend) => {
  const { verify, keys } = setup(backend);

  it('accepts a well-formed token and returns typed header and claims', async () => {
    const { header: h, claims: c } = await verify(good());
    expect(h).toMatchObject({ alg: 'RS256', kid: 'k1', typ: 'JWT' });
    expect(c).toMatchObject({ sub: 'agent_1', aud: 'mcp', iss: ISS, jti: 'jti_1' });
    expect(keys.stats().backend).toBe(backend);
  });

  it('accepts tokens minted by jose too', async () => {
    const jwt = await new SignJWT({ jti: 'x' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject('agent_9')
      .setAudience('mcp')
      .setIssuer(ISS)
      .setIssuedAt(NOW)
      .setExpirationTime(NOW + 60)
      .sign(k1.privateKey);
    expect((await verify(jwt)).claims.sub).toBe('agent_9');
  });

  // The bad-token suite: each row is one attack class and the reason it must produce.
  const attacks: Array<[string, () => unknown, JwtFailureReason]> = [
    [
      'alg none, empty signature',
      () => `${json64(header({ alg: 'none' }))}.${json64(claims())}.`,
      'malformed',
    ],
    [
      'alg none with a signature',
      () => signRaw(header({ alg: 'none' }), claims(), k1),
      'unsupported_alg',
    ],
    [
      'alg None (case trick)',
      () => signRaw(header({ alg: 'None' }), claims(), k1),
      'unsupported_alg',
    ],
    [
      'alg rs256 lowercase',
      () => signRaw(header({ alg: 'rs256' }), claims(), k1),
      'unsupported_alg',
    ],
    ['alg missing', () => signRaw(header({ alg: undefined }), claims(), k1), 'unsupported_alg'],
    [
      'HS256 with the public key PEM as HMAC secret',
      () =>
        signHs256(
          header({ alg: 'HS256' }),
          claims(),
          k1.publicKey.export({ type: 'spki', format: 'pem' }) as string,
        ),
      'unsupported_alg',
    ],
    [
      'HS256 with the JWK n as secret',
      () => signHs256(header({ alg: 'HS256' }), claims(), String(k1.jwk.n)),
      'unsupported_alg',
    ],
    [
      'PS256 signed by the real key',
      () => signRaw(header({ alg: 'PS256' }), claims(), k1, 'PS256'),
      'unsupported_alg',
    ],
    [
      'RS256 header but PSS signature',
      () => signRaw(header(), claims(), k1, 'PS256'),
      'bad_signature',
    ],
    ['ES256 claimed', () => signRaw(header({ alg: 'ES256' }), claims(), k1), 'unsupported_alg'],
    ['alg as array', () => signRaw(header({ alg: ['RS256'] }), claims(), k1), 'unsupported_alg'],
    ['kid missing', () => signRaw(header({ kid: undefined }), claims(), k1), 'missing_kid'],
    ['kid empty', () => signRaw(header({ kid: '' }), claims(), k1), 'missing_kid'],
    ['kid as number', () => signRaw(header({ kid: 1 }), claims(), k1), 'missing_kid'],
    [
      'kid with spaces/quotes',
      () => signRaw(header({ kid: 'k1" or "1"="1' }), claims(), k1),
      'missing_kid',
    ],
    ['kid with NUL', () => signRaw(header({ kid: 'k1\u0000' }), claims(), k1), 'missing_kid'],
    [
      'kid huge (200 chars)',
      () => signRaw(header({ kid: 'k'.repeat(200) }), claims(), k1),
      'missing_kid',
    ],
    [
      'kid path traversal',
      () => signRaw(header({ kid: '../../../../dev/null' }), claims(), k1),
      'unknown_kid',
    ],
    ['kid __proto__', () => signRaw(header({ kid: '__proto__' }), claims(), k1), 'unknown_kid'],
    [
      'kid unknown, signed by an unpublished key',
      () => signRaw(header({}, 'other'), claims(), other),
      'unknown_kid',
    ],
    [
      'jku header',
      () => signRaw(header({ jku: 'https://evil.test/jwks.json' }), claims(), k1),
      'forbidden_header',
    ],
    [
      'x5u header',
      () => signRaw(header({ x5u: 'https://evil.test/cert.pem' }), claims(), k1),
      'forbidden_header',
    ],
    [
      'embedded jwk (attacker key)',
      () => signRaw(header({ jwk: other.jwk }), claims(), other),
      'forbidden_header',
    ],
    ['x5c header', () => signRaw(header({ x5c: ['MIIB'] }), claims(), k1), 'forbidden_header'],
    ['crit header', () => signRaw(header({ crit: ['exp'] }), claims(), k1), 'forbidden_header'],
    [
      'crit b64:false (RFC 7797)',
      () => signRaw(header({ crit: ['b64'], b64: false }), claims(), k1),
      'forbidden_header',
    ],
    ['typ JWE', () => signRaw(header({ typ: 'JWE' }), claims(), k1), 'forbidden_header'],
    [
      'signature of another key under our kid',
      () => signRaw(header(), claims(), other),
      'bad_signature',
    ],
    [
      'payload swapped after signing',
      () => {
        const [h, , s] = good().split('.');
        return `${h}.${json64(claims({ sub: 'agent_admin' }))}.${s}`;
      },
      'bad_signature',
    ],
    [
      'header swapped after signing (kept valid)',
      () => {
        const [, p, s] = good().split('.');
        return `${json64(header({ typ: 'jwt' }))}.${p}.${s}`;
      },
      'bad_signature',
    ],
    [
      'truncated signature',
      () => {
        const [h, p, s] = good().split('.');
        return `${h}.${p}.${b64u(Buffer.from(s!, 'base64url').subarray(0, 253))}`;
      },
      'bad_signature',
    ],
    [
      'signature with an extra byte',
      () => {
        const [h, p, s] = good().split('.');
        return `${h}.${p}.${b64u(Buffer.concat([Buffer.from(s!, 'base64url'), Buffer.from([0])]))}`;
      },
      'bad_signature',
    ],
    [
      'all-zero signature',
      () => `${good().split('.').slice(0, 2).join('.')}.${b64u(Buffer.alloc(256))}`,
      'bad_signature',
    ],
    [
      'signature = modulus n (s ≥ n)',
      () => `${good().split('.').slice(0, 2).join('.')}.${k1.jwk.n}`,
      'bad_signature',
    ],
    ['exp missing', () => signRaw(header(), claims({ exp: undefined }), k1), 'missing_claim'],
    ['iat missing', () => signRaw(header(), claims({ iat: undefined }), k1), 'missing_claim'],
    ['sub missing', () => signRaw(header(), claims({ sub: undefined }), k1), 'missing_claim'],
    [
      'jti missing (required by policy)',
      () => signRaw(header(), claims({ jti: undefined }), k1),
      'missing_claim',
    ],
    [
      'exp as string',
      () => signRaw(header(), claims({ exp: String(NOW + 100) }), k1),
      'invalid_claim',
    ],
    ['iat as null', () => signRaw(header(), claims({ iat: null }), k1), 'invalid_claim'],
    ['sub as number', () => signRaw(header(), claims({ sub: 42 }), k1), 'invalid_claim'],
    ['sub empty', () => signRaw(header(), claims({ sub: '' }), k1), 'invalid_claim'],
    [
      'exp before iat',
      () => signRaw(header(), claims({ iat: NOW, exp: NOW - 1 }), k1),
      'invalid_claim',
    ],
    [
      'expired beyond tolerance',
      () => signRaw(header(), claims({ iat: NOW - 300, exp: NOW - 30 }), k1),
      'expired',
    ],
    [
      'issued in the future beyond tolerance',
      () => signRaw(header(), claims({ iat: NOW + 31, exp: NOW + 200 }), k1),
      'issued_in_future',
    ],
    ['nbf in the future', () => signRaw(header(), claims({ nbf: NOW + 31 }), k1), 'not_yet_valid'],
    ['nbf as string', () => signRaw(header(), claims({ nbf: 'soon' }), k1), 'invalid_claim'],
    [
      'lifetime too long',
      () => signRaw(header(), claims({ iat: NOW - 10, exp: NOW - 10 + 301 }), k1),
      'lifetime_too_long',
    ],
    [
      'aud wrong',
      () => signRaw(header(), claims({ aud: 'lime-site-login' }), k1),
      'wrong_audience',
    ],
    ['aud missing', () => signRaw(header(), claims({ aud: undefined }), k1), 'missing_claim'],
    [
      'aud array (policy reject)',
      () => signRaw(header(), claims({ aud: ['mcp'] }), k1),
      'wrong_audience',
    ],
    ['aud object', () => signRaw(header(), claims({ aud: { mcp: true } }), k1), 'invalid_claim'],
    [
      'iss wrong',
      () => signRaw(header(), claims({ iss: 'https://evil.test' }), k1),
      'wrong_issuer',
    ],
    ['iss missing', () => signRaw(header(), claims({ iss: undefined }), k1), 'missing_claim'],
    [
      'forbidden claim user_id (site passport shape)',
      () => signRaw(header(), claims({ user_id: 'u_1' }), k1),
      'forbidden_claim',
    ],
    [
      'forbidden claim request_id',
      () => signRaw(header(), claims({ request_id: 'lr_1' }), k1),
      'forbidden_claim',
    ],
    [
      'oversized token',
      () => signRaw(header(), claims({ pad: 'x'.repeat(9000) }), k1),
      'too_large',
    ],
    ['two segments', () => good().split('.').slice(0, 2).join('.'), 'malformed'],
    ['four segments', () => `${good()}.AAAA`, 'malformed'],
    [
      'padding characters',
      () => {
        const [h, p, s] = good().split('.');
        return `${h}=.${p}.${s}`;
      },
      'malformed',
    ],
    [
      'standard base64 alphabet (+/)',
      () =>
        good()
          .replace(/-/g, '+')
          .replace(/_/g, '/')
          .replace(/^[^.]*/, (h) => `${h.slice(0, -1)}+`),
      'malformed',
    ],
    [
      'whitespace inside',
      () => {
        const t = good();
        return `${t.slice(0, 10)} ${t.slice(10)}`;
      },
      'malformed',
    ],
    [
      'segment length 1 mod 4',
      () => {
        let [h, p, s] = good().split('.');
        do p += 'A';
        while (p!.length % 4 !== 1);
        return `${h}.${p}.${s}`;
      },
      'malformed',
    ],
    [
      'non-canonical trailing bits in signature',
      () => {
        const t = good(); // 256-byte signature: 342 chars, last char carries 4 unused bits
        const last = t.at(-1)!;
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        return t.slice(0, -1) + alphabet[alphabet.indexOf(last) | 1];
      },
      'malformed',
    ],
    [
      'header not JSON',
      () => `${b64u('{alg:RS256')}.${json64(claims())}.${b64u(Buffer.alloc(256))}`,
      'malformed',
    ],
    [
      'header JSON array',
      () => `${json64(['RS256'])}.${json64(claims())}.${b64u(Buffer.alloc(256))}`,
      'malformed',
    ],
    [
      'payload not JSON (validly signed)',
      () => signRaw(header(), b64u('not json'), k1),
      'malformed',
    ],
    [
      'payload JSON array (validly signed)',
      () => signRaw(header(), json64([claims()]), k1),
      'malformed',
    ],
    ['empty string', () => '', 'malformed'],
    ['not a string', () => 12345, 'malformed'],
  ];

  it.each(attacks)('refuses: %s', async (_name, make, reason) => {
    const token = make();
    const error = await verify(token as string).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(JwtVerificationError);
    expect(error).toBeInstanceOf(LimeError);
    const e = error as JwtVerificationError;
    expect(e.reason).toBe(reason);
    expect(e.code).toBe('INVALID_TOKEN');
    // never echo the token (or its signature) in the message
    if (typeof token === 'string' && token.length > 40) {
      expect(e.message).not.toContain(token.split('.')[2] || token);
      expect(e.message).not.toContain(token.slice(0, 60));
    }
  });

  it('has at least 25 distinct attack classes', () => {
    expect(attacks.length).toBeGreaterThanOrEqual(25);
    expect(new Set(attacks.map((a) => a[2])).size).toBeGreaterThanOrEqual(14);
  });

  it('checks the length cap before parsing anything', async () => {
    // garbage that would be "malformed" if parsed; the size check must win
    await expect(reasonOf(verify('!'.repeat(8193)))).resolves.toBe('too_large');
    await expect(reasonOf(verify('!'.repeat(100)))).resolves.toBe('malformed');
  });

  it('applies the clock tolerance at the exact edges', async () => {
    const at = (ms: number) => setup(backend, {}, ms).verify;
    const exp = NOW + 290;
    const tok = good();
    // valid until now < exp + 30
    await expect(reasonOf(at((exp + 29) * 1000)(tok))).resolves.toBe('accepted');
    await expect(reasonOf(at((exp + 30) * 1000)(tok))).resolves.toBe('expired');
    // iat = NOW - 10: accepted while iat ≤ now + 30
    await expect(reasonOf(at((NOW - 40) * 1000)(tok))).resolves.toBe('accepted');
    await expect(reasonOf(at((NOW - 41) * 1000)(tok))).resolves.toBe('issued_in_future');
    // lifetime exactly the maximum is fine
    const full = signRaw(header(), claims({ iat: NOW - 10, exp: NOW + 290 }), k1);
    await expect(reasonOf(verify(full))).resolves.toBe('accepted');
  });

  it('says what was expected and what was seen', async () => {
    const e = await verify(signRaw(header(), claims({ aud: 'lime-site-login' }), k1)).catch(
      (x) => x,
    );
    expect(e.message).toMatch(/aud was 'lime-site-login', expected 'mcp'/);
    const a = await verify(signRaw(header({ alg: 'HS256' }), claims(), k1)).catch((x) => x);
    expect(a.message).toMatch(/alg was 'HS256', expected 'RS256'/);
  });
});

describe('audience arrays', () => {
  const tok = (aud: unknown) => signRaw(header(), claims({ aud }), k1);
  it("'first' accepts ['mcp', resource] and refuses the audience anywhere else", async () => {
    const { verify } = setup(defaultCryptoBackend(), { audienceArray: 'first' });
    await expect(reasonOf(verify(tok(['mcp', 'https://tools.test/mcp'])))).resolves.toBe(
      'accepted',
    );
    await expect(reasonOf(verify(tok('mcp')))).resolves.toBe('accepted');
    await expect(reasonOf(verify(tok(['lime-site-login', 'mcp'])))).resolves.toBe('wrong_audience');
    await expect(reasonOf(verify(tok([])))).resolves.toBe('invalid_claim');
    await expect(reasonOf(verify(tok(['mcp', 7])))).resolves.toBe('invalid_claim');
  });
  it("'contains' accepts the audience at any position", async () => {
    const { verify } = setup(defaultCryptoBackend(), { audienceArray: 'contains' });
    await expect(reasonOf(verify(tok(['a', 'mcp'])))).resolves.toBe('accepted');
    await expect(reasonOf(verify(tok(['a', 'b'])))).resolves.toBe('wrong_audience');
  });
});

describe('policy validation', () => {
  const { keys } = setup(defaultCryptoBackend());
  it.each([
    [{ audience: '' }, /audience/],
    [{ maxLifetimeSeconds: 0 }, /maxLifetimeSeconds/],
    [{ clockToleranceSeconds: 301 }, /clockToleranceSeconds/],
    [{ clockToleranceSeconds: -1 }, /clockToleranceSeconds/],
    [{ maxTokenLength: 10 }, /maxTokenLength/],
    [{ audienceArray: 'maybe' }, /audienceArray/],
    [{ forbiddenClaims: [''] }, /forbiddenClaims/],
    [{ keys: {} }, /keys/],
  ])('rejects %j at construction', (bad, message) => {
    expect(() =>
      createJwtVerifier({ keys, audience: 'mcp', maxLifetimeSeconds: 60, ...(bad as object) }),
    ).toThrow(message);
  });
});

describe('verifyJwt (one shot)', () => {
  it('verifies with an inline policy', async () => {
    const { keys } = setup(defaultCryptoBackend());
    const r = await verifyJwt(good(), {
      keys,
      audience: 'mcp',
      maxLifetimeSeconds: 300,
      clock: () => NOW_MS,
    });
    expect(r.claims.sub).toBe('agent_1');
  });
});

describe('property: any one-character change of a valid token is refused', () => {
  it.each(['node', 'webcrypto'] as const)('%s backend', async (backend) => {
    const { verify } = setup(backend);
    const token = good();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ';
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: token.length - 1 }),
        fc.constantFrom(...alphabet),
        async (index, ch) => {
          fc.pre(token[index] !== ch);
          const mutated = token.slice(0, index) + ch + token.slice(index + 1);
          const error = await verify(mutated).then(
            () => 'accepted',
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(JwtVerificationError);
        },
      ),
      { numRuns: backend === 'node' ? 400 : 150 },
    );
  });
});

describe('verifyNow', () => {
  it('returns synchronously on Node with a cached key, a promise with WebCrypto', async () => {
    const node = setup('node');
    await node.keys.warmup();
    const direct = node.verify.verifyNow(good());
    expect('then' in direct).toBe(false);
    expect((direct as { claims: { sub: string } }).claims.sub).toBe('agent_1');
    expect(() => node.verify.verifyNow(signRaw(header(), claims(), other))).toThrow(
      JwtVerificationError,
    );
    const web = setup('webcrypto');
    await web.keys.warmup();
    const pending = web.verify.verifyNow(good());
    expect('then' in pending).toBe(true);
    await expect(pending).resolves.toMatchObject({ claims: { sub: 'agent_1' } });
    await expect(web.verify.verifyNow(signRaw(header(), claims(), other))).rejects.toMatchObject({
      reason: 'bad_signature',
    });
  });
});

describe('presence-driven policy (hosted passports may lack sub, iss, typ)', () => {
  const run = (token: string, policy: Partial<JwtPolicy>) =>
    reasonOf(setup('node', { requiredClaims: [], ...policy }).verify(token));

  it('requireSubject: false accepts a token without sub; the default still requires it', async () => {
    const token = signRaw(header(), claims({ sub: undefined, agent_id: 'agent_1' }), k1);
    expect(await run(token, {})).toBe('missing_claim');
    expect(await run(token, { requireSubject: false })).toBe('accepted');
  });

  it('requireIssuer: false checks iss only when present', async () => {
    const noIss = signRaw(header(), claims({ iss: undefined }), k1);
    const wrongIss = signRaw(header(), claims({ iss: 'https://evil.test' }), k1);
    expect(await run(noIss, {})).toBe('missing_claim');
    expect(await run(noIss, { requireIssuer: false })).toBe('accepted');
    expect(await run(wrongIss, { requireIssuer: false })).toBe('wrong_issuer');
  });

  it('requireType: true refuses a header without typ; typ is checked whenever present', async () => {
    const noTyp = signRaw(header({ typ: undefined }), claims(), k1);
    const oddTyp = signRaw(header({ typ: 'at+jwt' }), claims(), k1);
    expect(await run(noTyp, {})).toBe('accepted');
    expect(await run(noTyp, { requireType: true })).toBe('forbidden_header');
    expect(await run(oddTyp, {})).toBe('forbidden_header');
  });

  it('futureIatToleranceSeconds widens only the iat bound', async () => {
    const ahead = signRaw(header(), claims({ iat: NOW + 55, exp: NOW + 115 }), k1);
    expect(await run(ahead, {})).toBe('issued_in_future');
    expect(await run(ahead, { futureIatToleranceSeconds: 60 })).toBe('accepted');
    expect(() => setup('node', { futureIatToleranceSeconds: 601 })).toThrow(
      /futureIatToleranceSeconds/,
    );
    expect(() => setup('node', { requireIssuer: 'yes' as never })).toThrow(/requireIssuer/);
  });
});
