// What the Python verifier (lime-mcp-server-sdk 0.4) does on the wire and
// reads from the environment, which the hosted platform is known to work
// with (PROTOCOL.md §1, §7): jwks_uri resolution, its User-Agent, its
// environment variables.
import { PATHS } from '@lime/wire';
import { type Core, startCore } from 'lime-core';
import { LimeMcpVerifier } from 'lime-mcp-server-sdk';
import { withUserAgent } from 'lime-mcp-server-sdk/internal/user-agent';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mintMcpToken } from './helpers.js';

let core: Core;
let agentToken: string;

beforeAll(async () => {
  core = await startCore({ powDifficulty: 0 });
  ({ agentToken } = await core.admin.createAgent({ displayName: 'python-compat' }));
});
afterAll(() => core.close());
afterEach(() => {
  vi.unstubAllEnvs();
});

interface Seen {
  url: string;
  userAgent: string | null;
}

/** A fetch to the Core that records every request and may rewrite the metadata's jwks_uri. */
function recordingFetch(jwksUri?: (core: Core) => string) {
  const seen: Seen[] = [];
  const fetchFn = async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input);
    seen.push({ url, userAgent: new Headers(init?.headers).get('user-agent') });
    if (!url.startsWith(core.url)) throw new TypeError(`fetch failed: ${url} is not the Core`);
    const response = await fetch(input, init);
    if (jwksUri && url.endsWith(PATHS.oauthMetadata)) {
      const doc = (await response.json()) as Record<string, unknown>;
      return Response.json({ ...doc, jwks_uri: jwksUri(core) });
    }
    return response;
  };
  return { seen, fetch: fetchFn };
}

async function token() {
  return mintMcpToken(core, agentToken, { domain: 'localhost' });
}

describe('jwks_uri in the RFC 8414 metadata', () => {
  it('a path is resolved on the platform origin, as the Python verifier does (base_url + jwks_uri)', async () => {
    const { fetch: f, seen } = recordingFetch(() => `/api/v1${PATHS.jwks}`);
    const verifier = new LimeMcpVerifier({ baseUrl: core.url, fetch: f });
    const r = await verifier.verify(await token());
    expect(r.valid ? 'valid' : r.message).toBe('valid');
    expect(seen.map((s) => s.url)).toEqual([
      core.apiBase + PATHS.oauthMetadata,
      core.apiBase + PATHS.jwks,
    ]);
    // The API base form of baseUrl finds the same place.
    const viaApiBase = new LimeMcpVerifier({ baseUrl: core.apiBase, fetch: f });
    expect((await viaApiBase.verify(await token())).valid).toBe(true);
  });

  it('a same-origin absolute URL is used as is', async () => {
    const { fetch: f, seen } = recordingFetch((c) => `${c.url}/api/v1${PATHS.jwks}`);
    const verifier = new LimeMcpVerifier({ baseUrl: core.url, fetch: f });
    expect((await verifier.verify(await token())).valid).toBe(true);
    expect(seen.at(-1)?.url).toBe(core.apiBase + PATHS.jwks);
  });

  it.each([
    ['another host', () => 'https://keys.example.com/jwks.json'],
    ['another port', (c: Core) => `${c.url.replace(/:\d+$/, ':1')}/api/v1${PATHS.jwks}`],
    ['another scheme', (c: Core) => `${c.url.replace('http:', 'https:')}/api/v1${PATHS.jwks}`],
    ['a scheme-relative URL', () => `//keys.example.com${PATHS.jwks}`],
  ])('a cross-origin jwks_uri (%s) is refused without fetching it', async (_, jwksUri) => {
    const { fetch: f, seen } = recordingFetch(jwksUri);
    const verifier = new LimeMcpVerifier({ baseUrl: core.url, fetch: f });
    const r = await verifier.verify(await token());
    const uri = jwksUri(core);
    if (uri.startsWith('//')) {
      // Python appends it to the base: a path on the platform origin, not another host.
      expect(seen.at(-1)?.url).toBe(`${core.url}//keys.example.com${PATHS.jwks}`);
      expect(r.valid).toBe(false);
      return;
    }
    expect(r.valid).toBe(false);
    expect(!r.valid && r.reason).toBe('metadata_unavailable');
    expect(!r.valid && r.message).toMatch(/another origin/);
    expect(seen.map((s) => s.url)).toEqual([core.apiBase + PATHS.oauthMetadata]);
  });
});

describe('User-Agent of the metadata and JWKS requests', () => {
  it("sends the Python verifier's default, curl/8.5.0, on both", async () => {
    const { fetch: f, seen } = recordingFetch();
    const verifier = new LimeMcpVerifier({ baseUrl: core.url, fetch: f });
    expect(verifier.userAgent).toBe('curl/8.5.0');
    await verifier.warmup();
    expect(seen.map((s) => s.userAgent)).toEqual(['curl/8.5.0', 'curl/8.5.0']);
  });

  it('LIME_VERIFY_USER_AGENT changes it; the userAgent option wins over the variable', async () => {
    vi.stubEnv('LIME_VERIFY_USER_AGENT', 'my-resource-server/1.0');
    const fromEnv = recordingFetch();
    await new LimeMcpVerifier({ baseUrl: core.url, fetch: fromEnv.fetch }).warmup();
    expect(fromEnv.seen.map((s) => s.userAgent)).toEqual([
      'my-resource-server/1.0',
      'my-resource-server/1.0',
    ]);
    const fromOption = recordingFetch();
    await new LimeMcpVerifier({
      baseUrl: core.url,
      fetch: fromOption.fetch,
      userAgent: 'explicit/2.0',
    }).warmup();
    expect(fromOption.seen.map((s) => s.userAgent)).toEqual(['explicit/2.0', 'explicit/2.0']);
    expect(() => new LimeMcpVerifier({ baseUrl: core.url, userAgent: 'a\r\nb: c' })).toThrow(
      /LimeMcpVerifierOptions\.userAgent/,
    );
    vi.stubEnv('LIME_VERIFY_USER_AGENT', 'bad\nvalue');
    expect(() => new LimeMcpVerifier({ baseUrl: core.url })).toThrow(/LIME_VERIFY_USER_AGENT/);
  });

  it('never throws where the runtime refuses to set User-Agent: the request goes without it', async () => {
    const set = Headers.prototype.set;
    const spy = vi.spyOn(Headers.prototype, 'set').mockImplementation(function (
      this: Headers,
      name: string,
      value: string,
    ) {
      if (name.toLowerCase() === 'user-agent') throw new TypeError('forbidden header name');
      set.call(this, name, value);
    });
    try {
      const calls: Array<RequestInit | undefined> = [];
      const f = withUserAgent(async (_input, init) => {
        calls.push(init);
        return new Response('{}');
      }, 'curl/8.5.0');
      const response = await f('https://lime.example/x', {
        headers: { accept: 'application/json' },
      });
      expect(response.status).toBe(200);
      expect(calls[0]?.headers).toEqual({ accept: 'application/json' });
    } finally {
      spy.mockRestore();
    }
  });
});

describe("the Python verifier's environment variables, same meaning and units", () => {
  it('LIME_OAUTH_AUDIENCE sets the expected aud; the audience option wins', async () => {
    vi.stubEnv('LIME_OAUTH_AUDIENCE', 'other-audience');
    const verifier = new LimeMcpVerifier({ baseUrl: core.url });
    expect(verifier.audience).toBe('other-audience');
    const r = await verifier.verify(await token());
    expect(!r.valid && r.reason).toBe('wrong_audience');
    expect(new LimeMcpVerifier({ baseUrl: core.url, audience: 'mcp' }).audience).toBe('mcp');
  });

  it('LIME_JWKS_CACHE_TTL_SECONDS is the metadata and JWKS lifetime, in seconds', async () => {
    let now = Date.now();
    const run = async () => {
      const { fetch: f, seen } = recordingFetch();
      const v = new LimeMcpVerifier({
        baseUrl: core.url,
        fetch: f,
        clock: () => now,
        tokenCacheSize: 0,
      });
      const t = await token();
      now = Date.now();
      expect((await v.verify(t)).valid).toBe(true);
      now += 90_000; // past the default 60 s least refresh interval
      expect((await v.verify(t)).valid).toBe(true);
      return seen.filter((s) => s.url.endsWith(PATHS.oauthMetadata)).length;
    };
    expect(await run()).toBe(1); // default 3600 s
    vi.stubEnv('LIME_JWKS_CACHE_TTL_SECONDS', '10');
    expect(await run()).toBe(2); // stale after 10 s, so fetched again
  });

  it('LIME_JWKS_MIN_REFRESH_SECONDS bounds refetches while the metadata fails, in seconds', async () => {
    let now = Date.now();
    const run = async () => {
      let calls = 0;
      const v = new LimeMcpVerifier({
        baseUrl: core.url,
        clock: () => now,
        fetch: async () => {
          calls++;
          return new Response('bad gateway', { status: 502 });
        },
      });
      const t = await token();
      for (let i = 0; i < 3; i++) {
        await v.verify(t);
        now += 5_000;
      }
      return calls;
    };
    expect(await run()).toBe(1); // default 60 s
    vi.stubEnv('LIME_JWKS_MIN_REFRESH_SECONDS', '2');
    expect(await run()).toBe(3);
  });

  it('options override the variables', async () => {
    vi.stubEnv('LIME_JWKS_CACHE_TTL_SECONDS', 'not a number');
    vi.stubEnv('LIME_JWKS_MIN_REFRESH_SECONDS', 'never');
    vi.stubEnv('LIME_JWT_VERIFY_LEEWAY_SECONDS', 'soon');
    expect(
      () =>
        new LimeMcpVerifier({ baseUrl: core.url, cacheTtl: 60, minRefreshInterval: 1, leeway: 5 }),
    ).not.toThrow();
  });

  it.each([
    ['LIME_JWKS_CACHE_TTL_SECONDS', 'an hour'],
    ['LIME_JWKS_CACHE_TTL_SECONDS', '0'],
    ['LIME_JWKS_CACHE_TTL_SECONDS', '-5'],
    ['LIME_JWKS_MIN_REFRESH_SECONDS', '1m'],
    ['LIME_JWT_VERIFY_LEEWAY_SECONDS', '301'],
  ])('%s=%j is a TypeError naming the variable', (name, value) => {
    vi.stubEnv(name, value);
    expect(() => new LimeMcpVerifier({ baseUrl: core.url })).toThrow(TypeError);
    expect(() => new LimeMcpVerifier({ baseUrl: core.url })).toThrow(new RegExp(name));
  });
});
