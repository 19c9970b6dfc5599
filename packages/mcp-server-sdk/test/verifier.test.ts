import { PATHS } from '@lime/wire';
import { type Core, startCore } from 'lime-core';
import { LimeMcpVerifier, McpTokenError, type McpVerifyResult } from 'lime-mcp-server-sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { forge, mintMcpToken, peek, sitePassport } from './helpers.js';

let core: Core;
let agentId: string;
let agentToken: string;
const RESOURCE = 'http://localhost:8123/mcp';

beforeAll(async () => {
  core = await startCore({ powDifficulty: 0 });
  ({ agentId, agentToken } = await core.admin.createAgent({ displayName: 'bot' }));
});
afterAll(async () => {
  await core.close();
});
afterEach(() => {
  vi.unstubAllEnvs();
});

function reason(r: McpVerifyResult): string {
  return r.valid ? 'valid' : r.reason;
}

/** A fetch that can fail the metadata or JWKS endpoint on demand, counting calls. */
function switchableFetch() {
  const state = {
    metadata: 'ok' as 'ok' | 'down' | 'slow' | 'malformed' | 'other-issuer',
    jwks: 'ok' as 'ok' | 'down',
    calls: { metadata: 0, jwks: 0 },
  };
  const fetchFn = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    if (url.endsWith(PATHS.oauthMetadata)) {
      state.calls.metadata++;
      if (state.metadata === 'down') return new Response('bad gateway', { status: 502 });
      if (state.metadata === 'slow') return new Promise<Response>(() => {});
      if (state.metadata === 'malformed') {
        return Response.json({ issuer: core.issuer, token_endpoint: 'x' });
      }
      if (state.metadata === 'other-issuer') {
        const doc = (await (await fetch(url, init)).json()) as Record<string, unknown>;
        return Response.json({ ...doc, issuer: 'https://impostor.example' });
      }
    } else if (url.endsWith(PATHS.jwks)) {
      state.calls.jwks++;
      if (state.jwks === 'down') throw new TypeError('fetch failed: ECONNREFUSED');
    }
    return fetch(input, init);
  };
  return { state, fetch: fetchFn };
}

describe('LimeMcpVerifier against the reference Core', () => {
  it('verifies a Core MCP token and exposes the agent', async () => {
    const verifier = new LimeMcpVerifier({ baseUrl: core.url, expectedDomain: 'localhost' });
    const token = await mintMcpToken(core, agentToken, { domain: 'localhost' });
    const r = await verifier.verify(token);
    expect(r.valid).toBe(true);
    if (!r.valid) return;
    expect(r.agentId).toBe(agentId);
    expect(r.authInfo).toMatchObject({
      token,
      clientId: agentId,
      scopes: ['mcp'],
      expiresAt: peek(token).exp,
      extra: { agentId, domain: 'localhost', issuer: core.issuer, jti: peek(token).jti },
    });
    expect(r.authInfo.resource).toBeUndefined();
    expect(verifier.cryptoBackend).toBe('node');
  });

  it('accepts the API base form of baseUrl and LIME_BASE_URL', async () => {
    expect(new LimeMcpVerifier({ baseUrl: core.apiBase }).apiBase).toBe(core.apiBase);
    vi.stubEnv('LIME_BASE_URL', core.url);
    const verifier = new LimeMcpVerifier({ expectedDomain: 'localhost' });
    expect(verifier.apiBase).toBe(core.apiBase);
    const token = await mintMcpToken(core, agentToken, { domain: 'localhost' });
    expect(reason(await verifier.verify(token))).toBe('valid');
    vi.unstubAllEnvs();
    vi.stubEnv('LIME_API_BASE', '');
    expect(new LimeMcpVerifier().apiBase).toBe('https://lime.pics/api/v1');
    vi.unstubAllEnvs();
  });

  it('falls back to LIME_API_BASE when LIME_BASE_URL is unset, and warns once when it falls back to the hosted default', async () => {
    vi.stubEnv('LIME_BASE_URL', '');
    vi.stubEnv('LIME_API_BASE', core.apiBase);
    // Warnings of earlier tests are emitted on a later tick: let them pass first.
    await new Promise((r) => setImmediate(r));
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const verifier = new LimeMcpVerifier({ expectedDomain: 'localhost' });
      expect(verifier.apiBase).toBe(core.apiBase);
      const token = await mintMcpToken(core, agentToken, { domain: 'localhost' });
      expect(reason(await verifier.verify(token))).toBe('valid');
      vi.stubEnv('LIME_API_BASE', '');
      // A fresh module: its once-per-process memory starts empty.
      vi.resetModules();
      const fresh = await import('../src/verifier.js');
      new fresh.LimeMcpVerifier();
      new fresh.LimeMcpVerifier();
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      const hosted = warnings.filter(
        (w) => (w as { code?: string }).code === 'LIME_HOSTED_DEFAULT',
      );
      expect(hosted).toHaveLength(1);
      expect(hosted[0]!.message).toMatch(/LIME_BASE_URL/);
      expect(verifier.apiBase).not.toBe('https://lime.pics/api/v1');
    } finally {
      process.off('warning', onWarning);
      vi.unstubAllEnvs();
    }
  });

  it('reads the leeway from LIME_JWT_VERIFY_LEEWAY_SECONDS and validates it', () => {
    vi.stubEnv('LIME_JWT_VERIFY_LEEWAY_SECONDS', '7');
    expect(new LimeMcpVerifier({ baseUrl: core.url }).leeway).toBe(7);
    expect(new LimeMcpVerifier({ baseUrl: core.url, leeway: 3 }).leeway).toBe(3);
    vi.stubEnv('LIME_JWT_VERIFY_LEEWAY_SECONDS', 'soon');
    expect(() => new LimeMcpVerifier({ baseUrl: core.url })).toThrow(
      /LIME_JWT_VERIFY_LEEWAY_SECONDS/,
    );
    vi.unstubAllEnvs();
    expect(new LimeMcpVerifier({ baseUrl: core.url }).leeway).toBe(120);
  });

  it.each([
    [{ baseUrl: 'ftp://x' }, /baseUrl/],
    [{ baseUrl: 'not a url' }, /baseUrl/],
    [{ leeway: 301 }, /leeway/],
    [{ cacheTtl: 0 }, /cacheTtl/],
    [{ minRefreshInterval: -1 }, /minRefreshInterval/],
    [{ expectedDomain: 'Tools.Example.com' }, /expectedDomain must be lowercase/],
    [{ expectedDomain: 'example.com:443' }, /expectedDomain/],
    [{ resource: 'tools.example.com/mcp' }, /resource/],
    [{ tokenCacheSize: -1 }, /tokenCacheSize/],
    [{ audience: '' }, /audience/],
  ])('rejects bad options %j with a TypeError naming the field', (bad, message) => {
    expect(() => new LimeMcpVerifier({ baseUrl: core.url, ...bad })).toThrow(message);
    expect(() => new LimeMcpVerifier({ baseUrl: core.url, ...bad })).toThrow(TypeError);
  });

  it('binds to the resource: aud ["mcp", resource] is ours, another resource is refused', async () => {
    const verifier = new LimeMcpVerifier({ baseUrl: core.url, resource: RESOURCE });
    expect(verifier.expectedDomain).toBe('localhost');
    const ours = await mintMcpToken(core, agentToken, { domain: 'localhost', resource: RESOURCE });
    const r = await verifier.verify(ours);
    expect(r.valid && r.authInfo.resource?.href).toBe(RESOURCE);
    const theirs = await mintMcpToken(core, agentToken, {
      domain: 'localhost',
      resource: 'http://localhost:9999/other-mcp',
    });
    const refused = await verifier.verify(theirs);
    expect(reason(refused)).toBe('wrong_resource');
    expect(!refused.valid && refused.message).toMatch(/expected 'http:\/\/localhost:8123\/mcp'/);
    // a domain-only token for our host is accepted (domain binding)
    const domainOnly = await mintMcpToken(core, agentToken, { domain: 'localhost' });
    expect(reason(await verifier.verify(domainOnly))).toBe('valid');
  });

  it("refuses a token minted for another MCP server's domain", async () => {
    const verifier = new LimeMcpVerifier({
      baseUrl: core.url,
      expectedDomain: 'tools.example.com',
    });
    const token = await mintMcpToken(core, agentToken, { domain: 'evil.example.net' });
    const r = await verifier.verify(token);
    expect(reason(r)).toBe('wrong_domain');
    expect(!r.valid && r.message).toMatch(/'evil\.example\.net', expected 'tools\.example\.com'/);
  });

  it('an IP-addressed resource binds by resource only: a domain-bound token cannot match it', async () => {
    const ipResource = 'http://127.0.0.1:8123/mcp';
    const verifier = new LimeMcpVerifier({ baseUrl: core.url, resource: ipResource });
    expect(verifier.expectedDomain).toBeUndefined();
    const token = await mintMcpToken(core, agentToken, { domain: 'localhost' });
    expect(reason(await verifier.verify(token))).toBe('wrong_resource');
    // allowUnboundTokens concerns tokens with no binding at all, not this one
    const relaxed = new LimeMcpVerifier({
      baseUrl: core.url,
      resource: ipResource,
      allowUnboundTokens: true,
    });
    expect(reason(await relaxed.verify(token))).toBe('wrong_resource');
  });

  it('refuses a site passport (aud lime-site-login, passport claims)', async () => {
    const passport = await sitePassport(core, agentToken);
    expect(peek(passport).aud).toBe('lime-site-login');
    const verifier = new LimeMcpVerifier({ baseUrl: core.url, expectedDomain: 'localhost' });
    const r = await verifier.verify(passport);
    expect(reason(r)).toBe('wrong_audience');
    // even a verifier configured for the passport audience refuses it: forbidden claims
    const confused = new LimeMcpVerifier({ baseUrl: core.url, audience: 'lime-site-login' });
    expect(reason(await confused.verify(passport))).toBe('forbidden_claim');
  });

  it('refuses a forged token (same header and claims, another key)', async () => {
    const verifier = new LimeMcpVerifier({ baseUrl: core.url, expectedDomain: 'localhost' });
    const token = await mintMcpToken(core, agentToken, { domain: 'localhost' });
    expect(reason(await verifier.verify(forge(token, { sub: 'agt_someone_else' })))).toBe(
      'bad_signature',
    );
  });

  it('refuses an expired token (beyond the leeway) and honours the leeway', async () => {
    const past = await startCore({ powDifficulty: 0, clock: () => Date.now() - 500_000 });
    try {
      const a = await past.admin.createAgent({ displayName: 'old' });
      const token = await mintMcpToken(past, a.agentToken, { domain: 'localhost' }); // exp = now − 200 s
      const verifier = new LimeMcpVerifier({ baseUrl: past.url, expectedDomain: 'localhost' });
      const r = await verifier.verify(token);
      expect(reason(r)).toBe('expired');
      const lenient = new LimeMcpVerifier({
        baseUrl: past.url,
        expectedDomain: 'localhost',
        leeway: 300,
      });
      expect(reason(await lenient.verify(token))).toBe('valid');
    } finally {
      await past.close();
    }
  });

  it('requires iss to equal the metadata issuer', async () => {
    const { fetch: f, state } = switchableFetch();
    state.metadata = 'other-issuer';
    const verifier = new LimeMcpVerifier({
      baseUrl: core.url,
      expectedDomain: 'localhost',
      fetch: f,
    });
    const token = await mintMcpToken(core, agentToken, { domain: 'localhost' });
    const r = await verifier.verify(token);
    expect(reason(r)).toBe('wrong_issuer');
    expect(!r.valid && r.message).toMatch(/expected 'https:\/\/impostor\.example'/);
  });

  it('never throws for garbage; verifyOrThrow does, with the reason', async () => {
    const verifier = new LimeMcpVerifier({ baseUrl: core.url });
    for (const bad of ['', 'abc', 'a.b.c', 'Bearer x', undefined, 42, null]) {
      const r = await verifier.verify(bad as string);
      expect(r.valid).toBe(false);
      expect(r.valid ? '' : r.error).toBeInstanceOf(McpTokenError);
    }
    expect(reason(await verifier.verify(''))).toBe('missing_token');
    await expect(verifier.verifyOrThrow('a.b.c')).rejects.toMatchObject({
      reason: 'malformed',
      code: 'INVALID_TOKEN',
    });
  });
});

describe('metadata and JWKS endpoints failing', () => {
  it('metadata down: metadata_unavailable (temporary), warmup throws, fetches bounded', async () => {
    const { fetch: f, state } = switchableFetch();
    state.metadata = 'down';
    const verifier = new LimeMcpVerifier({
      baseUrl: core.url,
      expectedDomain: 'localhost',
      fetch: f,
    });
    const token = await mintMcpToken(core, agentToken, { domain: 'localhost' });
    await expect(verifier.warmup()).rejects.toMatchObject({
      reason: 'metadata_unavailable',
      temporary: true,
    });
    for (let i = 0; i < 20; i++) {
      const r = await verifier.verify(token);
      expect(reason(r)).toBe('metadata_unavailable');
      expect(!r.valid && r.error.temporary).toBe(true);
    }
    expect(state.calls.metadata).toBe(1);
  });

  it('metadata slow: times out', async () => {
    const { fetch: f, state } = switchableFetch();
    state.metadata = 'slow';
    const verifier = new LimeMcpVerifier({ baseUrl: core.url, fetch: f, timeout: 0.05 });
    const started = performance.now();
    const r = await verifier.verify(await mintMcpToken(core, agentToken, { domain: 'localhost' }));
    expect(reason(r)).toBe('metadata_unavailable');
    expect(!r.valid && r.message).toMatch(/no answer within 50 ms/);
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('metadata malformed (no jwks_uri): metadata_unavailable saying so', async () => {
    const { fetch: f, state } = switchableFetch();
    state.metadata = 'malformed';
    const verifier = new LimeMcpVerifier({ baseUrl: core.url, fetch: f });
    const r = await verifier.verify(await mintMcpToken(core, agentToken, { domain: 'localhost' }));
    expect(!r.valid && r.message).toMatch(/jwks_uri/);
  });

  it('JWKS down: jwks_unavailable; stale keys and metadata serve past the TTL while both are down', async () => {
    const t0 = Date.now();
    let now = t0;
    const { fetch: f, state } = switchableFetch();
    const verifier = new LimeMcpVerifier({
      baseUrl: core.url,
      expectedDomain: 'localhost',
      fetch: f,
      clock: () => now,
      cacheTtl: 120,
      tokenCacheSize: 0,
    });
    const token = await mintMcpToken(core, agentToken, { domain: 'localhost' }); // exp = t0 + 300 s
    state.jwks = 'down';
    expect(reason(await verifier.verify(token))).toBe('jwks_unavailable');
    state.jwks = 'ok';
    now = t0 + 60_000;
    expect(reason(await verifier.verify(token))).toBe('valid');
    expect(state.calls).toEqual({ metadata: 1, jwks: 2 });
    // past both TTLs with both endpoints down: one refresh attempt each, then stale copies serve
    state.jwks = 'down';
    state.metadata = 'down';
    now = t0 + 181_000;
    expect(reason(await verifier.verify(token))).toBe('valid');
    now = t0 + 191_000;
    expect(reason(await verifier.verify(token))).toBe('valid');
    expect(state.calls).toEqual({ metadata: 2, jwks: 3 });
  });
});

describe('key rotation and the unknown-kid flood', () => {
  it('picks up a rotated key, keeps the old one during overlap, drops it once retired', async () => {
    const rotating = await startCore({ powDifficulty: 0 });
    try {
      const a = await rotating.admin.createAgent({ displayName: 'rot' });
      let offset = 0;
      const verifier = new LimeMcpVerifier({
        baseUrl: rotating.url,
        expectedDomain: 'localhost',
        clock: () => Date.now() + offset,
        tokenCacheSize: 0,
      });
      const before = await mintMcpToken(rotating, a.agentToken, { domain: 'localhost' });
      const oldKid = JSON.parse(Buffer.from(before.split('.')[0]!, 'base64url').toString()).kid;
      expect(reason(await verifier.verify(before))).toBe('valid');
      const { kid } = await rotating.admin.rotateSigningKey({ activate: 'now' });
      const after = await mintMcpToken(rotating, a.agentToken, { domain: 'localhost' });
      expect(JSON.parse(Buffer.from(after.split('.')[0]!, 'base64url').toString()).kid).toBe(kid);
      // within minRefreshInterval of the first fetch: the new kid is not fetched yet
      expect(reason(await verifier.verify(after))).toBe('unknown_kid');
      offset = 60_000;
      expect(reason(await verifier.verify(after))).toBe('valid');
      expect(reason(await verifier.verify(before))).toBe('valid'); // overlap
      await rotating.admin.retireSigningKey(oldKid);
      offset = 3_600_000 + 60_000; // TTL passed: refetch, old key gone
      // tokens' own exp is real time + 300 s; give the verifier enough leeway to look only at keys
      const late = new LimeMcpVerifier({
        baseUrl: rotating.url,
        expectedDomain: 'localhost',
        tokenCacheSize: 0,
      });
      expect(reason(await late.verify(before))).toBe('unknown_kid');
      expect(reason(await late.verify(after))).toBe('valid');
      expect(verifier.stats().jwksFetches).toBe(2);
    } finally {
      await rotating.close();
    }
  });

  it.each(['answering', 'failing'] as const)(
    '1,000 tokens with unknown kids (JWKS %s) cause at most one JWKS fetch per interval',
    async (mode) => {
      const { fetch: f, state } = switchableFetch();
      let now = Date.now();
      const verifier = new LimeMcpVerifier({ baseUrl: core.url, fetch: f, clock: () => now });
      await verifier.warmup();
      expect(state.calls.jwks).toBe(1);
      if (mode === 'failing') state.jwks = 'down';
      const base = await mintMcpToken(core, agentToken, { domain: 'localhost' });
      const [, p, s] = base.split('.');
      const withKid = (kid: string) =>
        `${Buffer.from(JSON.stringify({ alg: 'RS256', kid, typ: 'JWT' })).toString('base64url')}.${p}.${s}`;
      now += 60_000; // the first unknown kid may refetch
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => verifier.verify(withKid(`flood-${i}`))),
      );
      // unknown kid + failed refresh: cannot decide, so "unavailable" (503), not "invalid" (401)
      expect(new Set(results.map(reason))).toEqual(
        new Set([mode === 'failing' ? 'jwks_unavailable' : 'unknown_kid']),
      );
      expect(state.calls.jwks).toBe(2);
      const again = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => verifier.verify(withKid(`flood2-${i}`))),
      );
      expect(again.every((r) => !r.valid)).toBe(true);
      expect(state.calls.jwks).toBe(2);
    },
  );
});

describe('verified-token cache', () => {
  it('answers a repeated bearer from the cache, never past its own expiry', async () => {
    let now = Date.now();
    const { fetch: f, state } = switchableFetch();
    const verifier = new LimeMcpVerifier({
      baseUrl: core.url,
      expectedDomain: 'localhost',
      fetch: f,
      clock: () => now,
    });
    const token = await mintMcpToken(core, agentToken, { domain: 'localhost' });
    const first = await verifier.verify(token);
    const second = await verifier.verify(token);
    expect(second).toBe(first);
    expect(verifier.stats().cachedTokens).toBe(1);
    // the cache must not keep a token alive: at exp + leeway it is refused
    state.jwks = 'down';
    state.metadata = 'down';
    now = ((peek(token).exp as number) + 120) * 1000;
    const r = await verifier.verify(token);
    expect(reason(r)).toBe('expired');
  });

  it('is bounded in size', async () => {
    const verifier = new LimeMcpVerifier({
      baseUrl: core.url,
      expectedDomain: 'localhost',
      tokenCacheSize: 2,
    });
    for (let i = 0; i < 5; i++) {
      const r = await verifier.verify(
        await mintMcpToken(core, agentToken, { domain: 'localhost' }),
      );
      expect(r.valid).toBe(true);
    }
    expect(verifier.stats().cachedTokens).toBe(2);
  });

  it('does not cache refusals', async () => {
    const verifier = new LimeMcpVerifier({
      baseUrl: core.url,
      expectedDomain: 'tools.example.com',
    });
    const token = await mintMcpToken(core, agentToken, { domain: 'localhost' });
    await verifier.verify(token);
    expect(verifier.stats().cachedTokens).toBe(0);
  });
});
