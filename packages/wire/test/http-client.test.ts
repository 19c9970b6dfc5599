import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AbortError,
  AuthenticationError,
  ConnectionError,
  ExpiredError,
  errorClassFor,
  InvalidResponseError,
  LimeError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  TimeoutError,
  ValidationError,
} from '../src/errors.js';
import { backoffDelay, HttpClient, parseRetryAfter } from '../src/http-client.js';

const BASE = 'https://core.test/api/v1';
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function client(extra: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}) {
  return new HttpClient({
    apiBase: `${BASE}/`,
    headers: { 'X-Agent-Token': 'at_secret' },
    timeoutMs: 1_000,
    maxRetries: 2,
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 20,
    ...extra,
  });
}

describe('HttpClient', () => {
  it('unwraps the success envelope and sends credential and JSON headers', async () => {
    let seen: Headers | undefined;
    server.use(
      http.post(`${BASE}/x`, async ({ request }) => {
        seen = request.headers;
        expect(await request.json()).toEqual({ a: 1 });
        return HttpResponse.json({ ok: true, data: { v: 2 } }, { status: 201 });
      }),
    );
    const res = await client().request('POST', '/x', { body: { a: 1 } });
    expect(res).toMatchObject({ status: 201, data: { v: 2 } });
    expect(seen?.get('x-agent-token')).toBe('at_secret');
    expect(seen?.get('content-type')).toBe('application/json');
  });

  it('maps error envelopes to typed errors with code, status and request id', async () => {
    server.use(
      http.get(`${BASE}/a`, () =>
        HttpResponse.json(
          { ok: false, error: { code: 'INVALID_AGENT_TOKEN', message: 'bad token' } },
          { status: 401, headers: { 'X-Request-Id': 'req_1' } },
        ),
      ),
      http.get(`${BASE}/e`, () =>
        HttpResponse.json(
          { ok: false, error: { code: 'REQUEST_EXPIRED', message: 'gone' } },
          { status: 410 },
        ),
      ),
    );
    const err = await client()
      .request('GET', '/a')
      .catch((e) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err).toBeInstanceOf(LimeError);
    expect(err).toMatchObject({
      code: 'INVALID_AGENT_TOKEN',
      status: 401,
      requestId: 'req_1',
      name: 'AuthenticationError',
    });
    expect(err.message).not.toContain('at_secret');
    await expect(client().request('GET', '/e')).rejects.toBeInstanceOf(ExpiredError);
  });

  it('retries idempotent calls on 503 and honours Retry-After', async () => {
    let calls = 0;
    server.use(
      http.get(`${BASE}/r`, () => {
        calls++;
        if (calls < 3)
          return HttpResponse.json(
            { ok: false, error: { code: 'X', message: 'busy' } },
            { status: 503, headers: { 'Retry-After': '0' } },
          );
        return HttpResponse.json({ ok: true, data: { done: true } });
      }),
    );
    await expect(client().request('GET', '/r')).resolves.toMatchObject({ data: { done: true } });
    expect(calls).toBe(3);
  });

  it('never retries a non-idempotent call', async () => {
    let calls = 0;
    server.use(
      http.post(`${BASE}/p`, () => {
        calls++;
        return HttpResponse.json(
          { ok: false, error: { code: 'X', message: 'boom' } },
          { status: 500 },
        );
      }),
    );
    await expect(client().request('POST', '/p', { body: {} })).rejects.toBeInstanceOf(ServerError);
    expect(calls).toBe(1);
  });

  it('gives up after maxRetries with a RateLimitError carrying retryAfter', async () => {
    let calls = 0;
    server.use(
      http.get(`${BASE}/l`, () => {
        calls++;
        return HttpResponse.json(
          { ok: false, error: { code: 'RATE_LIMIT_EXCEEDED', message: 'slow down' } },
          { status: 429, headers: { 'Retry-After': '0' } },
        );
      }),
    );
    const err = await client()
      .request('GET', '/l')
      .catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err.retryAfter).toBe(0);
    expect(calls).toBe(3);
  });

  it('reports malformed bodies as InvalidResponseError', async () => {
    server.use(
      http.get(`${BASE}/nj`, () => new HttpResponse('<html>', { status: 200 })),
      http.get(`${BASE}/ne`, () => HttpResponse.json({ data: {} })),
      http.get(`${BASE}/big`, () => new HttpResponse('x'.repeat(2048))),
    );
    await expect(client().request('GET', '/nj')).rejects.toBeInstanceOf(InvalidResponseError);
    await expect(client().request('GET', '/ne')).rejects.toBeInstanceOf(InvalidResponseError);
    await expect(client({ maxResponseBytes: 1024 }).request('GET', '/big')).rejects.toThrow(
      /limit/,
    );
  });

  it('times out per attempt, then retries, then throws TimeoutError', async () => {
    let calls = 0;
    server.use(
      http.get(`${BASE}/slow`, async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 500));
        return HttpResponse.json({ ok: true, data: {} });
      }),
    );
    const err = await client({ timeoutMs: 30, maxRetries: 1 })
      .request('GET', '/slow')
      .catch((e) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(calls).toBe(2);
  });

  it('turns a caller abort into AbortError, without retrying', async () => {
    server.use(http.get(`${BASE}/hang`, () => new Promise<Response>(() => {})));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    await expect(client().request('GET', '/hang', { signal: ac.signal })).rejects.toBeInstanceOf(
      AbortError,
    );
  });

  it('maps network failures to ConnectionError', async () => {
    server.use(http.get(`${BASE}/down`, () => HttpResponse.error()));
    await expect(client({ maxRetries: 0 }).request('GET', '/down')).rejects.toBeInstanceOf(
      ConnectionError,
    );
  });

  it('maps raw OAuth error bodies', async () => {
    server.use(
      http.post(`${BASE}/t`, () =>
        HttpResponse.json(
          { error: 'invalid_client', error_description: 'unknown agent' },
          { status: 401 },
        ),
      ),
    );
    const err = await client()
      .request('POST', '/t', { shape: 'raw', body: {} })
      .catch((e) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.code).toBe('invalid_client');
  });
});

describe('hosted error shapes (docs/protocol.md §2)', () => {
  it('an error envelope without message keeps its code and gets a readable message', async () => {
    server.use(
      http.get(`${BASE}/m`, () =>
        HttpResponse.json(
          { ok: false, error: { code: 'SITE_LOGIN_REQUEST_NOT_FOUND' } },
          { status: 404 },
        ),
      ),
      http.get(`${BASE}/n`, () =>
        HttpResponse.json({ ok: false, error: { message: 'no code here' } }, { status: 400 }),
      ),
    );
    const err = await client()
      .request('GET', '/m')
      .catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ code: 'SITE_LOGIN_REQUEST_NOT_FOUND', status: 404 });
    expect(err.message).toMatch(/site login request not found/);
    expect(err.message).toMatch(/HTTP 404 SITE_LOGIN_REQUEST_NOT_FOUND from GET \/m/);
    const noCode = await client()
      .request('GET', '/n')
      .catch((e) => e);
    expect(noCode).toBeInstanceOf(ValidationError);
    expect(noCode).toMatchObject({ code: 'HTTP_400' });
    expect(noCode.message).toMatch(/no code here/);
  });

  it('the hosted codes map to the same classes as the Core ones', () => {
    expect(errorClassFor(404, 'SITE_LOGIN_REQUEST_NOT_FOUND')).toBe(
      errorClassFor(404, 'REQUEST_NOT_FOUND'),
    );
    expect(errorClassFor(404, 'SITE_LOGIN_REQUEST_NOT_FOUND')).toBe(NotFoundError);
    expect(errorClassFor(400, 'MISSING_POW_NONCE')).toBe(errorClassFor(400, 'VALIDATION_ERROR'));
    expect(errorClassFor(400, 'MISSING_POW_NONCE')).toBe(errorClassFor(400, 'INVALID_POW'));
    expect(errorClassFor(400, 'MISSING_POW_NONCE')).toBe(ValidationError);
  });

  it('credential codes are AuthenticationError at any status, as in the Python SDKs', () => {
    for (const code of [
      'MISSING_AGENT_TOKEN',
      'INVALID_AGENT_TOKEN',
      'SITE_TOKEN_MISSING',
      'SITE_TOKEN_INVALID',
      'SITE_SUSPENDED',
    ]) {
      for (const status of [400, 401, 403, 404, 410]) {
        expect(errorClassFor(status, code), `${status} ${code}`).toBe(AuthenticationError);
      }
    }
    // Rate limits still come first (the Python order), other 403s stay PermissionDenied.
    expect(errorClassFor(429, 'INVALID_AGENT_TOKEN')).toBe(RateLimitError);
    expect(errorClassFor(403, 'RATE_LIMIT_EXCEEDED')).toBe(RateLimitError);
    expect(errorClassFor(403, 'OAUTH_CAPABILITY_DENIED')).toBe(PermissionDeniedError);
  });
});

describe('backoff helpers', () => {
  it('parses Retry-After seconds and dates', () => {
    expect(parseRetryAfter('3')).toBe(3);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('nonsense')).toBeUndefined();
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5);
  });
  it('grows exponentially, is capped, and jitters within [50%, 100%]', () => {
    expect(backoffDelay(0, 100, 1000, () => 0)).toBe(50);
    expect(backoffDelay(0, 100, 1000, () => 0.999999)).toBe(100);
    expect(backoffDelay(3, 100, 1000, () => 0.999999)).toBe(800);
    expect(backoffDelay(10, 100, 1000, () => 0.999999)).toBe(1000);
  });
  it('waits the backoff between retries (fake timers)', async () => {
    vi.useFakeTimers();
    try {
      let calls = 0;
      const fetch = async () => {
        calls++;
        return new Response(JSON.stringify({ ok: false, error: { code: 'X', message: 'y' } }), {
          status: 502,
        });
      };
      const c = new HttpClient({
        apiBase: BASE,
        headers: {},
        timeoutMs: 1000,
        maxRetries: 2,
        fetch,
        retryBaseDelayMs: 1000,
        random: () => 0.999999,
      });
      const p = c.request('GET', '/z').catch((e) => e);
      await vi.advanceTimersByTimeAsync(0);
      expect(calls).toBe(1);
      await vi.advanceTimersByTimeAsync(999);
      expect(calls).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(calls).toBe(2);
      await vi.advanceTimersByTimeAsync(2000);
      expect(calls).toBe(3);
      expect(await p).toBeInstanceOf(ServerError);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('credentials and redirects', () => {
  it('does not retry early when Retry-After exceeds the longest backoff', async () => {
    let calls = 0;
    server.use(
      http.get(`${BASE}/long`, () => {
        calls++;
        return HttpResponse.json(
          { ok: false, error: { code: 'RATE_LIMIT_EXCEEDED', message: 'later' } },
          { status: 429, headers: { 'Retry-After': '60' } },
        );
      }),
    );
    const err = await client()
      .request('GET', '/long')
      .catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err.retryAfter).toBe(60);
    expect(calls).toBe(1);
  });

  it('follows a same-origin redirect but never carries the credential to another origin', async () => {
    const seenElsewhere: (string | null)[] = [];
    server.use(
      http.get(`${BASE}/moved`, () => HttpResponse.redirect(`${BASE}/here`, 308)),
      http.get(`${BASE}/here`, () => HttpResponse.json({ ok: true, data: { here: true } })),
      http.get(`${BASE}/away`, () => HttpResponse.redirect('https://evil.test/steal', 302)),
      http.post(`${BASE}/away-post`, () => HttpResponse.redirect('https://evil.test/steal', 307)),
      http.all('https://evil.test/steal', ({ request }) => {
        seenElsewhere.push(request.headers.get('x-agent-token'));
        return HttpResponse.json({ ok: true, data: {} });
      }),
    );
    await expect(client().request('GET', '/moved')).resolves.toMatchObject({
      data: { here: true },
    });
    const err = await client()
      .request('GET', '/away')
      .catch((e) => e);
    expect(err).toMatchObject({ code: 'UNEXPECTED_REDIRECT', status: 302 });
    expect(err.message).toMatch(/another origin/);
    const post = await client()
      .request('POST', '/away-post', { body: {} })
      .catch((e) => e);
    expect(post).toMatchObject({ code: 'UNEXPECTED_REDIRECT', status: 307 });
    expect(seenElsewhere).toEqual([]);
  });

  it('refuses an answer that a fetch ignoring redirect: manual got by following a redirect', async () => {
    // Some injected fetches rebuild RequestInit and drop `redirect`: the
    // credential has then already left, but the other origin's answer must
    // not pass for the Core's, and the misconfiguration must be loud.
    server.use(
      http.get(`${BASE}/away`, () => HttpResponse.redirect('https://evil.test/steal', 302)),
      http.get(`${BASE}/moved`, () => HttpResponse.redirect(`${BASE}/here`, 308)),
      http.get(`${BASE}/here`, () => HttpResponse.json({ ok: true, data: { here: true } })),
      http.get('https://evil.test/steal', () =>
        HttpResponse.json({ ok: true, data: { forged: true } }),
      ),
    );
    const followsAnyway = (input: string | URL | Request, init?: RequestInit) =>
      globalThis.fetch(input, { ...init, redirect: 'follow' });
    for (const path of ['/away', '/moved']) {
      const err = await client({ fetch: followsAnyway })
        .request('GET', path)
        .catch((e) => e);
      expect(err, path).toMatchObject({ code: 'UNEXPECTED_REDIRECT' });
      expect(err.message).toMatch(/redirect: 'manual'/);
      expect(err.message).not.toContain('at_secret');
    }
  });

  it('refuses a same-origin 302 that would turn a POST into a GET', async () => {
    server.use(http.post(`${BASE}/p302`, () => HttpResponse.redirect(`${BASE}/here`, 302)));
    const err = await client()
      .request('POST', '/p302', { body: {} })
      .catch((e) => e);
    expect(err).toMatchObject({ code: 'UNEXPECTED_REDIRECT' });
    expect(err.message).toMatch(/change the method/);
  });
});
