import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createJwtVerifier,
  decodeBase64urlPortable,
  encodeBase64url,
  isStrictBase64url,
  JwksCache,
  type JwtFailureReason,
  JwtVerificationError,
  rsaModulusBits,
} from '../src/jwt/index.js';
import { claims, header, jwksFetch, NOW_MS, rsaKey, signRaw } from './jwt-fixtures.js';

const k1 = rsaKey('k1');
const k2 = rsaKey('k2');
const URL_ = 'https://core.test/api/v1/core/.well-known/jwks.json';

async function reasonOf(p: Promise<unknown>): Promise<JwtFailureReason | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof JwtVerificationError) return e.reason;
    throw e;
  }
}

/** A controllable clock and a JWKS endpoint whose answer tests change. */
function world(initial: () => unknown | Response, opts: Record<string, unknown> = {}) {
  let now = NOW_MS;
  let answer = initial;
  const { fetch, calls } = jwksFetch(() => answer());
  const keys = new JwksCache({
    jwksUrl: URL_,
    fetch,
    clock: () => now,
    cacheTtlMs: 600_000,
    minRefreshIntervalMs: 60_000,
    maxStaleMs: 3_600_000,
    ...opts,
  });
  return {
    keys,
    calls,
    advance: (ms: number) => {
      now += ms;
    },
    answer: (next: () => unknown | Response) => {
      answer = next;
    },
  };
}

const down = () => new Response('upstream down', { status: 503 });

describe('JwksCache document handling', () => {
  it('accepts the raw RFC 7517 set and the LIME envelope', async () => {
    const raw = world(() => ({ keys: [k1.jwk] }));
    await raw.keys.warmup();
    expect(raw.keys.stats().kids).toEqual(['k1']);
    const env = world(() => ({ ok: true, data: { keys: [k2.jwk] } }));
    expect((await env.keys.getKey('k2')).bits).toBe(2048);
  });

  it('fetches over real HTTP with the global fetch', async () => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
      res.end(JSON.stringify({ keys: [k1.jwk], ok: true, data: { keys: [k1.jwk] } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const keys = new JwksCache({ jwksUrl: `http://127.0.0.1:${port}/jwks` });
      const verify = createJwtVerifier({
        keys,
        audience: 'mcp',
        maxLifetimeSeconds: 300,
        clock: () => NOW_MS,
      });
      await expect(verify(signRaw(header(), claims(), k1))).resolves.toBeTruthy();
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('uses resolveJwksUrl when no jwksUrl is given', async () => {
    const { fetch, calls } = jwksFetch(() => ({ keys: [k1.jwk] }));
    const keys = new JwksCache({ resolveJwksUrl: async () => 'https://meta.test/jwks', fetch });
    await keys.warmup();
    expect(calls).toEqual(['https://meta.test/jwks']);
  });

  it('ignores weak, foreign and malformed keys and says why', async () => {
    const weak = rsaKey('weak', 1024);
    const e3 = rsaKey('e3', 2048, 3);
    const w = world(() => ({
      keys: [
        weak.jwk,
        e3.jwk,
        { ...k2.jwk, kid: 'enc', use: 'enc' },
        { ...k2.jwk, kid: 'rs512', alg: 'RS512' },
        { ...k2.jwk, kid: 'ops', key_ops: ['encrypt'] },
        { kty: 'EC', kid: 'ec', crv: 'P-256', x: 'AAAA', y: 'AAAA' },
        { ...k2.jwk, kid: 'priv', d: 'AAAA' },
        { ...k2.jwk, kid: 'bad n', n: 'not base64url!' },
        { ...k2.jwk, kid: undefined },
        'not an object',
        k1.jwk,
        { ...k2.jwk, kid: 'k1' }, // duplicate kid: the first wins
      ],
    }));
    await w.keys.warmup();
    const stats = w.keys.stats();
    expect(stats.kids).toEqual(['k1']);
    const problems = Object.fromEntries(stats.ignored.map((i) => [i.kid ?? '-', i.problem]));
    expect(problems.weak).toMatch(/1024 bits/);
    expect(problems.e3).toMatch(/expected 'AQAB'/);
    expect(problems.enc).toMatch(/use/);
    expect(problems.rs512).toMatch(/alg/);
    expect(problems.ops).toMatch(/key_ops/);
    expect(problems.ec).toMatch(/kty/);
    expect(problems.priv).toMatch(/private/);
    expect(problems.k1).toMatch(/duplicates/);
    expect(stats.ignored).toHaveLength(11);
    // a token signed by the weak key is refused as unknown
    const verify = createJwtVerifier({
      keys: w.keys,
      audience: 'mcp',
      maxLifetimeSeconds: 300,
      clock: () => NOW_MS,
    });
    await expect(reasonOf(verify(signRaw(header({}, 'weak'), claims(), weak)))).resolves.toBe(
      'unknown_kid',
    );
  });

  it('fails a document with no usable key (keeps nothing)', async () => {
    const w = world(() => ({ keys: [rsaKey('weak', 1024).jwk] }));
    await expect(w.keys.warmup()).rejects.toThrow(/no usable RS256 key/);
  });

  it.each([
    ['HTTP 500', () => new Response('{}', { status: 500 }), /HTTP 500/],
    ['HTTP 404', () => new Response('nope', { status: 404 }), /HTTP 404/],
    ['HTML body', () => new Response('<html>', { status: 200 }), /not JSON/],
    ['JSON without keys', () => ({ ok: true, data: {} }), /"keys" array/],
    ['keys not an array', () => ({ keys: { k1: k1.jwk } }), /"keys" array/],
    ['null', () => null, /"keys" array/],
  ])('refuses a malformed endpoint answer: %s', async (_n, body, message) => {
    const w = world(body as () => unknown);
    const error = await w.keys.warmup().catch((e) => e);
    expect(error).toBeInstanceOf(JwtVerificationError);
    expect(error.reason).toBe('jwks_unavailable');
    expect(error.message).toMatch(message);
  });

  it('refuses a huge document, declared or streamed', async () => {
    const big = JSON.stringify({ keys: [k1.jwk], pad: 'x'.repeat(200_000) });
    const declared = world(
      () => new Response(big, { headers: { 'content-length': String(big.length) } }),
    );
    await expect(declared.keys.warmup()).rejects.toThrow(/byte limit/);
    const streamed = world(
      () =>
        new Response(
          new ReadableStream({
            start(c) {
              for (let i = 0; i < 40; i++) c.enqueue(new TextEncoder().encode('x'.repeat(10_000)));
              c.close();
            },
          }),
        ),
    );
    await expect(streamed.keys.warmup()).rejects.toThrow(/byte limit/);
  });

  it('times out a slow endpoint, even one that ignores the abort signal', async () => {
    const { keys } = world(() => ({}), {
      timeoutMs: 30,
      fetch: () => new Promise<Response>(() => {}),
    });
    const started = performance.now();
    const error = await keys.getKey('k1').catch((e) => e);
    expect(error.reason).toBe('jwks_unavailable');
    expect(error.message).toMatch(/within 30 ms/);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('reports a connection failure as jwks_unavailable', async () => {
    const keys = new JwksCache({
      jwksUrl: URL_,
      fetch: async () => {
        throw new TypeError('fetch failed: ECONNREFUSED');
      },
    });
    const e = await keys.getKey('k1').catch((x) => x);
    expect(e.reason).toBe('jwks_unavailable');
    expect(e.message).toMatch(/ECONNREFUSED/);
  });
});

describe('JwksCache freshness, staleness and refetch bounds', () => {
  it('after the TTL it answers from the cache at once and refreshes in the background (stale-while-revalidate)', async () => {
    const w = world(() => ({ keys: [k1.jwk] }));
    await w.keys.getKey('k1');
    let release!: () => void;
    const slow = new Promise<void>((r) => {
      release = r;
    });
    // Headers at once, the body only when released: a slow key endpoint.
    w.answer(
      () =>
        new Response(
          new ReadableStream({
            async start(controller) {
              await slow;
              controller.enqueue(
                new TextEncoder().encode(JSON.stringify({ keys: [k1.jwk, k2.jwk] })),
              );
              controller.close();
            },
          }),
          { status: 200, headers: { 'content-type': 'application/json' } },
        ),
    );
    w.advance(599_000);
    await w.keys.getKey('k1');
    expect(w.calls).toHaveLength(1);
    w.advance(1_000);
    // The refetch hangs, yet the lookup answers from the stale set at once.
    expect(w.keys.peekKey('k1')?.kid).toBe('k1');
    await expect(reasonOf(w.keys.getKey('k1'))).resolves.toBe('ok');
    expect(w.calls).toHaveLength(2);
    release();
    for (let i = 0; i < 100 && w.keys.stats().kids.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(w.keys.stats().kids).toEqual(['k1', 'k2']);
  });

  it('refetches for a new kid (rotation) but at most once per interval', async () => {
    const w = world(() => ({ keys: [k1.jwk] }));
    await w.keys.warmup();
    w.answer(() => ({ keys: [k1.jwk, k2.jwk] }));
    // within the interval since the last fetch: no refetch, unknown
    await expect(reasonOf(w.keys.getKey('k2'))).resolves.toBe('unknown_kid');
    expect(w.calls).toHaveLength(1);
    w.advance(60_000);
    await expect(reasonOf(w.keys.getKey('k2'))).resolves.toBe('ok');
    expect(w.calls).toHaveLength(2);
  });

  it('a refused first fetch is retried 250 ms later, not after minRefreshIntervalMs', async () => {
    const w = world(down);
    await expect(reasonOf(w.keys.getKey('k1'))).resolves.toBe('jwks_unavailable');
    w.answer(() => ({ keys: [k1.jwk] }));
    w.advance(250);
    await expect(reasonOf(w.keys.getKey('k1'))).resolves.toBe('ok');
    expect(w.calls).toHaveLength(2);
  });

  it('every kid of a large set stays reachable: 40 published keys, the newest last or first', async () => {
    const many = Array.from({ length: 40 }, (_, i) => rsaKey(`rot-${i}`));
    for (const order of ['oldest first', 'newest first'] as const) {
      const list = order === 'oldest first' ? many : [...many].reverse();
      const w = world(() => ({ keys: list.map((k) => k.jwk) }));
      await w.keys.warmup();
      expect(w.keys.stats().kids).toHaveLength(40);
      for (const k of many) await expect(reasonOf(w.keys.getKey(k.kid))).resolves.toBe('ok');
      expect(w.calls).toHaveLength(1);
    }
  }, 60_000);

  it('serves stale keys while the endpoint is down, for at most maxStaleMs', async () => {
    const w = world(() => ({ keys: [k1.jwk] }));
    await w.keys.warmup();
    w.answer(down);
    w.advance(600_000 + 1);
    await expect(reasonOf(w.keys.getKey('k1'))).resolves.toBe('ok');
    expect(w.calls).toHaveLength(2);
    expect(w.keys.stats().lastError).toMatch(/HTTP 503/);
    // retries of a failing endpoint are bounded by the interval too
    for (let i = 0; i < 50; i++) await w.keys.getKey('k1');
    expect(w.calls).toHaveLength(2);
    w.advance(3_600_000 - 1);
    await expect(reasonOf(w.keys.getKey('k1'))).resolves.toBe('jwks_unavailable');
    // recovery
    w.answer(() => ({ keys: [k1.jwk] }));
    w.advance(60_000);
    await expect(reasonOf(w.keys.getKey('k1'))).resolves.toBe('ok');
  });

  it('a failing endpoint with nothing cached gives jwks_unavailable, fetched once per interval', async () => {
    const w = world(down);
    for (let i = 0; i < 20; i++) {
      await expect(reasonOf(w.keys.getKey('k1'))).resolves.toBe('jwks_unavailable');
    }
    expect(w.calls).toHaveLength(1);
    w.advance(60_000);
    await w.keys.getKey('k1').catch(() => {});
    expect(w.calls).toHaveLength(2);
  });

  it.each([
    ['answering', () => ({ keys: [k1.jwk] })],
    ['failing', down],
  ] as const)(
    'a flood of 1,000 unknown kids (endpoint %s) costs one fetch per interval',
    async (_n, answer) => {
      const w = world(answer);
      const verify = createJwtVerifier({
        keys: w.keys,
        audience: 'mcp',
        maxLifetimeSeconds: 300,
        clock: () => NOW_MS,
      });
      const flood = () =>
        Promise.all(
          Array.from({ length: 1000 }, (_, i) =>
            reasonOf(verify(signRaw(header({}, `rand-${i}-${Math.random()}`), claims(), k1))),
          ),
        );
      const first = await flood();
      expect(w.calls).toHaveLength(1); // concurrent misses shared one fetch
      expect(new Set(first)).toEqual(
        new Set([answer === down ? 'jwks_unavailable' : 'unknown_kid']),
      );
      if (answer === down) {
        // A failing endpoint is retried sooner (250 ms doubling to 5 s), still one fetch per step.
        for (const [wait, total] of [
          [249, 1],
          [1, 2],
          [499, 2],
          [1, 3],
          [60_000, 4],
          [1_999, 4],
          [1, 5],
        ] as const) {
          w.advance(wait);
          await flood();
          expect(w.calls).toHaveLength(total);
        }
        // …and never more often than every 5 s once the backoff is capped.
        for (let i = 0; i < 4; i++) {
          w.advance(5_000);
          await w.keys.getKey('x').catch(() => {});
        }
        w.advance(4_999);
        await w.keys.getKey('x').catch(() => {});
        expect(w.calls).toHaveLength(9);
        return;
      }
      w.advance(59_999);
      await flood();
      expect(w.calls).toHaveLength(1);
      w.advance(1);
      await flood();
      expect(w.calls).toHaveLength(2);
      expect(w.keys.stats().fetches).toBe(2);
    },
  );

  it('concurrent lookups share one in-flight fetch; a caller abort does not fail the others', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let count = 0;
    const keys = new JwksCache({
      jwksUrl: URL_,
      fetch: async () => {
        count++;
        await gate;
        return new Response(JSON.stringify({ keys: [k1.jwk] }));
      },
    });
    const controller = new AbortController();
    const aborted = keys.getKey('k1', { signal: controller.signal });
    const others = Array.from({ length: 10 }, () => keys.getKey('k1'));
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
    release();
    const results = await Promise.all(others);
    expect(results.every((k) => k.kid === 'k1')).toBe(true);
    expect(count).toBe(1);
  });

  it('validates options with a TypeError naming the field', () => {
    expect(() => new JwksCache({})).toThrow(/jwksUrl or resolveJwksUrl/);
    expect(() => new JwksCache({ jwksUrl: 'not a url' })).toThrow(/jwksUrl/);
    expect(() => new JwksCache({ jwksUrl: URL_, cacheTtlMs: 0 })).toThrow(/cacheTtlMs/);
    expect(() => new JwksCache({ jwksUrl: URL_, minRefreshIntervalMs: -1 })).toThrow(
      /minRefreshIntervalMs/,
    );
    expect(() => new JwksCache({ jwksUrl: URL_, timeoutMs: Number.NaN })).toThrow(/timeoutMs/);
    expect(() => new JwksCache({ jwksUrl: URL_, maxDocumentBytes: 0 })).toThrow(/maxDocumentBytes/);
  });
});

describe('base64url helpers', () => {
  it('portable decoder matches Buffer for every byte string', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = Buffer.from(bytes).toString('base64url');
        expect(encodeBase64url(bytes)).toBe(text);
        if (text.length > 0) {
          expect(isStrictBase64url(text)).toBe(true);
          expect(Buffer.from(decodeBase64urlPortable(text))).toEqual(Buffer.from(bytes));
        }
      }),
    );
  });
  it('refuses non-canonical encodings', () => {
    expect(isStrictBase64url('AB')).toBe(false); // unused bits set
    expect(isStrictBase64url('AA')).toBe(true);
    expect(isStrictBase64url('AAA=')).toBe(false);
    expect(isStrictBase64url('A')).toBe(false);
    expect(isStrictBase64url('A+')).toBe(false);
  });
  it('measures modulus bits', () => {
    expect(rsaModulusBits(String(k1.jwk.n))).toBe(2048);
    expect(rsaModulusBits(encodeBase64url(new Uint8Array([0, 0, 1])))).toBe(1);
  });
});
