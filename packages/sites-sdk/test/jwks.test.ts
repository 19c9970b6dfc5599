// The JWK Set endpoint misbehaving: down, slow, malformed, huge, rotated,
// enveloped, and stale keys while it is down.
import { InvalidPassportError, LimeSite, type LimeSiteOptions } from 'lime-sites-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { API_BASE, fakeCore, hangUntilAborted, json } from './helpers/fake-fetch.js';
import { jwks, mintPassport, passportClaims, rsaKey, signRaw } from './helpers/tokens.js';

const k1 = rsaKey('k1');
const k2 = rsaKey('k2');
const sites: LimeSite[] = [];
afterEach(async () => {
  await Promise.all(sites.splice(0).map((s) => s.close()));
});

function site(
  jwksRoute: (index: number, signal: AbortSignal | undefined) => Response | Promise<Response>,
  options: LimeSiteOptions = {},
) {
  const core = fakeCore({ jwks: jwksRoute });
  const s = new LimeSite({
    siteToken: 'st_test',
    apiBase: API_BASE,
    fetch: core.fetch,
    ...options,
  });
  sites.push(s);
  return { site: s, core };
}

async function reason(s: LimeSite, token: string): Promise<string> {
  try {
    await s.verifyPassport(token, { expectedRequestId: 'lr_test' });
    return 'accepted';
  } catch (error) {
    if (error instanceof InvalidPassportError) return error.reason;
    throw error;
  }
}

describe('JWKS endpoint', () => {
  it('down (5xx) → jwks_unavailable, with a message', async () => {
    const { site: s } = site(() =>
      json({ ok: false, error: { code: 'INTERNAL_ERROR', message: 'x' } }, 503),
    );
    const error = await s
      .verifyPassport(mintPassport({}, k1), { expectedRequestId: 'lr_test' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidPassportError);
    expect((error as InvalidPassportError).reason).toBe('jwks_unavailable');
  });

  it('unreachable (connection refused) → jwks_unavailable', async () => {
    const { site: s } = site(() => {
      throw new TypeError('fetch failed');
    });
    expect(await reason(s, mintPassport({}, k1))).toBe('jwks_unavailable');
  });

  it('slow → gives up after jwks.timeout', async () => {
    const { site: s } = site((_i, signal) => hangUntilAborted(signal), { jwks: { timeout: 150 } });
    const started = Date.now();
    expect(await reason(s, mintPassport({}, k1))).toBe('jwks_unavailable');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it.each([
    [
      'not JSON',
      () => new Response('<html>oops</html>', { headers: { 'content-type': 'text/html' } }),
    ],
    ['no keys member', () => json({ hello: 'world' })],
    ['keys not an array', () => json({ keys: 'k1' })],
    [
      'only unusable keys',
      () => json({ keys: [{ kty: 'EC', kid: 'k1', crv: 'P-256', x: 'a', y: 'b' }] }),
    ],
  ])('malformed (%s) → jwks_unavailable', async (_name, route) => {
    const { site: s } = site(route);
    expect(await reason(s, mintPassport({}, k1))).toBe('jwks_unavailable');
  });

  it('huge document → refused without reading it all', async () => {
    const padding = Array.from({ length: 2_000 }, (_, i) => ({ ...k2.jwk, kid: `pad-${i}` }));
    const { site: s } = site(() => json({ keys: [k1.jwk, ...padding] }), {
      jwks: { maxDocumentBytes: 64 * 1024 },
    });
    expect(await reason(s, mintPassport({}, k1))).toBe('jwks_unavailable');
  });

  it('enveloped and combined documents are accepted', async () => {
    const { site: a } = site(() => json({ ok: true, data: jwks(k1) }));
    expect(await reason(a, mintPassport({}, k1))).toBe('accepted');
    const { site: b } = site(() => json({ ...jwks(k1), ok: true, data: jwks(k1) }));
    expect(await reason(b, mintPassport({}, k1))).toBe('accepted');
  });

  it('rotated: a new kid triggers one refetch and then verifies', async () => {
    let published = [k1];
    const { site: s, core } = site(() => json(jwks(...published)), {
      jwks: { minRefreshInterval: 0 },
    });
    expect(await reason(s, mintPassport({}, k1))).toBe('accepted');
    published = [k1, k2];
    expect(await reason(s, mintPassport({}, k2))).toBe('accepted');
    expect(core.calls.jwks).toBe(2);
  });

  it('an unknown-kid flood refetches at most once per cooldown', async () => {
    const { site: s, core } = site(() => json(jwks(k1)), { jwks: { minRefreshInterval: 60_000 } });
    expect(await reason(s, mintPassport({}, k1))).toBe('accepted');
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        reason(s, signRaw({ alg: 'RS256', kid: `ghost-${i}` }, passportClaims(), k1)),
      ),
    );
    expect(new Set(results)).toEqual(new Set(['unknown_kid']));
    expect(core.calls.jwks).toBeLessThanOrEqual(2);
  });

  it('keeps using cached keys while the endpoint is down (bounded staleness)', async () => {
    let up = true;
    const { site: s } = site(
      () => (up ? json(jwks(k1)) : json({ ok: false, error: { code: 'X', message: 'down' } }, 500)),
      { jwks: { cacheTtl: 1, minRefreshInterval: 0, maxStale: 60_000 } },
    );
    expect(await reason(s, mintPassport({}, k1))).toBe('accepted');
    up = false;
    await new Promise((r) => setTimeout(r, 5));
    expect(await reason(s, mintPassport({}, k1))).toBe('accepted');
  });
});
