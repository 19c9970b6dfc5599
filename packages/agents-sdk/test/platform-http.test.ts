// Responses the reference Core never produces (malformed bodies, 5xx storms,
// slow bodies, lost approve answers, odd token shapes), served by msw.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  AuthenticationError,
  ConflictError,
  ConnectionError,
  InvalidResponseError,
  LimeAgent,
  NotFoundError,
  OAuthCapabilityError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  ValidationError,
} from 'lime-agents-sdk';
import { delay, HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const API = 'http://core.test/api/v1';
const TOKEN = 'at_test_0123456789abcdef';
const ID = 'lr_msw1';
const CHALLENGE = 'a'.repeat(64);
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZ18xIn0.c2lnbmF0dXJl';

// login() checks the agent token (GET profile) alongside the proof of work;
// tests that are not about that check find the token accepted.
const server = setupServer(
  http.get(`${API}/core/agents/me/profile`, () =>
    HttpResponse.json({ ok: true, data: { agent_id: 'ag_me' } }),
  ),
);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  server.resetHandlers();
  vi.useRealTimers();
});
afterAll(() => server.close());

const ok = (data: object, init?: ResponseInit) => HttpResponse.json({ ok: true, data }, init);
const fail = (status: number, code: string, init?: ResponseInit) =>
  HttpResponse.json(
    { ok: false, error: { code, message: `${code} happened` } },
    { status, ...init },
  );

const challenge = (status = 'PENDING') =>
  ok({
    request_id: ID,
    status,
    pow_challenge: CHALLENGE,
    pow_difficulty: 0,
    expires_at: '2030-01-01T00:00:00Z',
  });
const approved = (agent = 'ag_me') =>
  ok({
    request_id: ID,
    site_id: 'site_1',
    status: 'APPROVED',
    expires_at: '2030-01-01T00:00:00Z',
    approved_agent_id: agent,
  });

function agent(extra: ConstructorParameters<typeof LimeAgent>[0] = {}) {
  return new LimeAgent({
    agentToken: TOKEN,
    apiBase: API,
    retryBaseDelay: 1,
    retryMaxDelay: 50,
    ...extra,
  });
}

/** Let real I/O run (setImmediate is not faked) until `done()` holds. */
async function until(done: () => boolean) {
  for (let i = 0; i < 1_000 && !done(); i++) await new Promise((r) => setImmediate(r));
  expect(done()).toBe(true);
}

/** Count calls per route; respond from a queue (last entry repeats). */
function route(
  method: 'get' | 'post',
  path: string,
  ...responses: Array<() => Response | Promise<Response>>
) {
  const calls: Request[] = [];
  server.use(
    http[method](`${API}${path}`, async ({ request }) => {
      calls.push(request.clone());
      const respond = responses[Math.min(calls.length - 1, responses.length - 1)]!;
      return respond();
    }),
  );
  return calls;
}

describe('platform HTTP: envelope and typed errors', () => {
  it('a 200 without the envelope or with a non-JSON body is InvalidResponseError', async () => {
    await using a = agent();
    route('get', '/core/agents/me/profile', () => HttpResponse.json({ agent_id: 'ag_1' }));
    await expect(a.getProfile()).rejects.toBeInstanceOf(InvalidResponseError);
    route(
      'get',
      '/core/agents/me/profile',
      () => new HttpResponse('<html>hi</html>', { status: 200 }),
    );
    await expect(a.getProfile()).rejects.toMatchObject({ code: 'INVALID_RESPONSE', status: 200 });
    route('get', '/core/agents/me/profile', () => ok({ display_name: 'no id' }));
    await expect(a.getProfile()).rejects.toThrow(/agent_id/);
  });

  it('maps the owner_* spellings of the profile', async () => {
    await using a = agent();
    const calls = route('get', '/core/agents/me/profile', () =>
      ok({
        agent_id: 'ag_1',
        owner_id: 'u_1',
        display_name: 'Bot',
        avatar_url: null,
        description: 'd',
        owner_kyc_level: 2,
        agent_reputation: 0.5,
      }),
    );
    await expect(a.getProfile()).resolves.toEqual({
      agentId: 'ag_1',
      userId: 'u_1',
      displayName: 'Bot',
      avatarUrl: null,
      description: 'd',
      userKycLevel: 2,
      agentReputation: 0.5,
    });
    expect(calls[0]!.headers.get('x-agent-token')).toBe(TOKEN);
    // The announced version is the package's (kept in step with package.json).
    expect(calls[0]!.headers.get('user-agent')).toBe(`lime-agents-sdk/${pkg.version}`);
  });

  it('reads a reputation sent as a numeric string, as the site SDK does', async () => {
    await using a = agent();
    route('get', '/core/agents/me/profile', () =>
      ok({ agent_id: 'ag_1', user_id: 'u_1', agent_reputation: '87.5' }),
    );
    expect((await a.getProfile()).agentReputation).toBe(87.5);
    route('get', '/core/agents/me/profile', () =>
      ok({ agent_id: 'ag_1', user_id: 'u_1', agent_reputation: 'high' }),
    );
    expect((await a.getProfile()).agentReputation).toBeNull();
  });

  it('a 5xx storm on a GET is retried maxRetries times, then ServerError', async () => {
    await using a = agent({ maxRetries: 3 });
    const calls = route('get', `/auth/requests/${ID}`, () => fail(503, 'INTERNAL_ERROR'));
    await expect(a.login(ID)).rejects.toBeInstanceOf(ServerError);
    expect(calls).toHaveLength(4);
  });

  it('a GET honours Retry-After before its retry (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await using a = agent({ retryMaxDelay: 10_000 });
    const calls = route(
      'get',
      '/core/agents/me/profile',
      () => fail(429, 'RATE_LIMIT_EXCEEDED', { headers: { 'Retry-After': '3' } }),
      () => ok({ agent_id: 'ag_1' }),
    );
    const result = a.getProfile();
    await until(() => calls.length === 1);
    await vi.advanceTimersByTimeAsync(2_990);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(20);
    await expect(result).resolves.toMatchObject({ agentId: 'ag_1' });
    expect(calls).toHaveLength(2);
  });

  it('backoff grows exponentially (with jitter) between retries when no Retry-After is sent', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    // base 100 ms, jitter in [50%, 100%]: waits of 50–100, 100–200, 200–400 ms.
    await using a = agent({ maxRetries: 3, retryBaseDelay: 100, retryMaxDelay: 10_000 });
    const at: number[] = [];
    const calls = route('get', '/core/agents/me/profile', () => {
      at.push(Date.now());
      return fail(502, 'BAD_GATEWAY');
    });
    const result = a.getProfile().catch((e: unknown) => e);
    for (let i = 0; i < 100 && calls.length < 4; i++) {
      await until(() => true);
      await vi.advanceTimersByTimeAsync(10);
    }
    expect(await result).toBeInstanceOf(ServerError);
    expect(calls).toHaveLength(4);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(50);
    expect(gaps[0]).toBeLessThanOrEqual(110);
    expect(gaps[1]).toBeGreaterThanOrEqual(100);
    expect(gaps[1]).toBeLessThanOrEqual(210);
    expect(gaps[2]).toBeGreaterThanOrEqual(200);
    expect(gaps[2]).toBeLessThanOrEqual(410);
  });

  it('429 surfaces as RateLimitError with retryAfter once retries are used up', async () => {
    await using a = agent({ maxRetries: 0 });
    route('get', `/auth/requests/${ID}`, () =>
      fail(429, 'RATE_LIMIT_EXCEEDED', { headers: { 'Retry-After': '7' } }),
    );
    const error = await a.login(ID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', status: 429, retryAfter: 7 });
  });

  it('a connection error on a GET is retried, then ConnectionError', async () => {
    await using a = agent({ maxRetries: 2 });
    const calls = route('get', '/core/agents/me/profile', () => HttpResponse.error());
    await expect(a.getProfile()).rejects.toBeInstanceOf(ConnectionError);
    expect(calls).toHaveLength(3);
  });

  it('the caller signal aborts a call during backoff', async () => {
    await using a = agent({ maxRetries: 5, retryBaseDelay: 5_000, retryMaxDelay: 5_000 });
    route('get', '/core/agents/me/profile', () => fail(503, 'INTERNAL_ERROR'));
    const controller = new AbortController();
    const result = a.getProfile({ signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(result).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('login: approve is never retried blindly', () => {
  it('a 5xx on approve: re-read, re-approve once, success when this agent won', async () => {
    await using a = agent();
    const reads = route(
      'get',
      `/auth/requests/${ID}`,
      () => challenge(),
      () => challenge('APPROVED'),
    );
    const approves = route(
      'post',
      `/modules/agent-login/requests/${ID}/approve`,
      () => fail(502, 'BAD_GATEWAY'),
      () => approved(),
    );
    const result = await a.login(`  ${ID}\n`);
    expect(result).toEqual({
      requestId: ID,
      siteId: 'site_1',
      status: 'APPROVED',
      expiresAt: new Date('2030-01-01T00:00:00Z'),
      approvedAgentId: 'ag_me',
      warnings: [],
    });
    expect(reads).toHaveLength(2);
    expect(approves).toHaveLength(2);
    // Same nonce both times; the agent token only on approve.
    const bodies = await Promise.all(approves.map((r) => r.json()));
    expect(bodies).toEqual([{ pow_nonce: '0' }, { pow_nonce: '0' }]);
    expect(approves[1]!.headers.get('x-agent-token')).toBe(TOKEN);
  });

  it('a lost approve answer (connection reset) → ConflictError when another agent won', async () => {
    await using a = agent();
    route(
      'get',
      `/auth/requests/${ID}`,
      () => challenge(),
      () => challenge('DELIVERED'),
    );
    const approves = route(
      'post',
      `/modules/agent-login/requests/${ID}/approve`,
      () => HttpResponse.error(),
      () => fail(409, 'REQUEST_ALREADY_APPROVED'),
    );
    const error = await a.login(ID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({
      code: 'REQUEST_ALREADY_APPROVED',
      status: 409,
      detail: { afterAmbiguousFailure: true },
    });
    expect((error as Error).cause).toBeInstanceOf(ConnectionError);
    expect(approves).toHaveLength(2);
  });

  it('an approve that times out is ambiguous too: re-read, re-approve once', async () => {
    await using a = agent({ timeout: 100 });
    route('get', `/auth/requests/${ID}`, () => challenge());
    const approves = route(
      'post',
      `/modules/agent-login/requests/${ID}/approve`,
      async () => {
        await delay(400);
        return approved();
      },
      () => approved(),
    );
    await expect(a.login(ID)).resolves.toMatchObject({ approvedAgentId: 'ag_me' });
    expect(approves).toHaveLength(2);
  });

  it('a second ambiguous failure is not retried again', async () => {
    await using a = agent();
    route('get', `/auth/requests/${ID}`, () => challenge());
    const approves = route('post', `/modules/agent-login/requests/${ID}/approve`, () =>
      fail(500, 'INTERNAL_ERROR'),
    );
    await expect(a.login(ID)).rejects.toBeInstanceOf(ServerError);
    expect(approves).toHaveLength(2);
  });

  it('a definite refusal (400, 401, 429) on approve is not retried at all', async () => {
    await using a = agent();
    route('get', `/auth/requests/${ID}`, () => challenge());
    for (const [status, code, Cls] of [
      [400, 'INVALID_POW', ValidationError],
      [401, 'INVALID_AGENT_TOKEN', AuthenticationError],
      [429, 'RATE_LIMIT_EXCEEDED', RateLimitError],
    ] as const) {
      const approves = route('post', `/modules/agent-login/requests/${ID}/approve`, () =>
        fail(status, code),
      );
      await expect(a.login(ID)).rejects.toBeInstanceOf(Cls);
      expect(approves, code).toHaveLength(1);
    }
  });

  it('a 200 approve without approved_agent_id, or with another status, is a success that reports it', async () => {
    await using a = agent();
    route('get', `/auth/requests/${ID}`, () => challenge());
    const approves = route('post', `/modules/agent-login/requests/${ID}/approve`, () =>
      ok({
        request_id: ID,
        site_id: 'site_1',
        status: 'CONSUMED',
        expires_at: '2030-01-01T00:00:00Z',
      }),
    );
    const result = await a.login(ID);
    expect(result).toMatchObject({
      requestId: ID,
      siteId: 'site_1',
      status: 'CONSUMED',
      expiresAt: new Date('2030-01-01T00:00:00Z'),
      approvedAgentId: undefined,
    });
    expect(result.warnings).toHaveLength(2);
    expect(result.warnings.join('\n')).toMatch(/approved_agent_id/);
    expect(result.warnings.join('\n')).toMatch(/CONSUMED/);
    expect(approves).toHaveLength(1);
  });

  it('a 200 approve without site_id or expires_at is InvalidResponseError saying the approval stands', async () => {
    await using a = agent();
    route('get', `/auth/requests/${ID}`, () => challenge());
    for (const body of [
      { status: 'APPROVED', expires_at: '2030-01-01T00:00:00Z' },
      { site_id: 'site_1', status: 'APPROVED', expires_at: 'tomorrow' },
    ]) {
      route('post', `/modules/agent-login/requests/${ID}/approve`, () => ok(body));
      const error = await a.login(ID).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidResponseError);
      expect((error as Error).message).toMatch(/the approval went through/);
      expect(error).toMatchObject({ detail: { approved: true } });
    }
  });

  it('reads odd but valid spellings: numeric site_id, no status, ISO 8601 basic time', async () => {
    await using a = agent();
    route('get', `/auth/requests/${ID}`, () => challenge());
    route('post', `/modules/agent-login/requests/${ID}/approve`, () =>
      ok({ site_id: 42, expires_at: '20300101T000000Z' }),
    );
    const result = await a.login(ID);
    expect(result).toMatchObject({
      requestId: ID,
      siteId: '42',
      status: undefined,
      expiresAt: new Date('2030-01-01T00:00:00Z'),
      approvedAgentId: undefined,
    });
    expect(result.warnings).toHaveLength(2);
  });

  it('a documented approve answer has no warnings', async () => {
    await using a = agent();
    route('get', `/auth/requests/${ID}`, () => challenge());
    route('post', `/modules/agent-login/requests/${ID}/approve`, () => approved());
    await expect(a.login(ID)).resolves.toMatchObject({ approvedAgentId: 'ag_me', warnings: [] });
  });

  it('reads pow_difficulty sent as a numeric string, as the Python agent does (int())', async () => {
    await using a = agent();
    route('get', `/auth/requests/${ID}`, () =>
      ok({ request_id: ID, status: 'PENDING', pow_challenge: CHALLENGE, pow_difficulty: '4' }),
    );
    const approves = route('post', `/modules/agent-login/requests/${ID}/approve`, () => approved());
    await expect(a.login(ID)).resolves.toMatchObject({ approvedAgentId: 'ag_me' });
    const { pow_nonce } = (await approves[0]!.json()) as { pow_nonce: string };
    const digest = createHash('sha256')
      .update(CHALLENGE + pow_nonce)
      .digest();
    expect(digest[0]! >> 4).toBe(0); // 4 leading zero bits: the string was read as 4
  });

  for (const difficulty of [-1, 257, 1.5, 'abc', '1.5', '', ' ', '0x10', '-1', true, null, [4]]) {
    it(`a challenge with pow_difficulty ${JSON.stringify(difficulty)} is InvalidResponseError`, async () => {
      await using a = agent();
      route('get', `/auth/requests/${ID}`, () =>
        ok({
          request_id: ID,
          status: 'PENDING',
          pow_challenge: CHALLENGE,
          pow_difficulty: difficulty,
        }),
      );
      const approves = route('post', `/modules/agent-login/requests/${ID}/approve`, () =>
        approved(),
      );
      const error = await a.login(ID).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidResponseError);
      expect((error as Error).message).toMatch(/pow_difficulty/);
      expect(approves).toHaveLength(0);
    });
  }
});

describe('hosted error codes and shapes', () => {
  it('SITE_LOGIN_REQUEST_NOT_FOUND (404) is a NotFoundError like REQUEST_NOT_FOUND', async () => {
    await using a = agent();
    for (const code of ['REQUEST_NOT_FOUND', 'SITE_LOGIN_REQUEST_NOT_FOUND']) {
      route('get', `/auth/requests/${ID}`, () => fail(404, code));
      await expect(a.login(ID)).rejects.toMatchObject({ name: 'NotFoundError', code, status: 404 });
    }
  });

  it('MISSING_POW_NONCE (400) is a ValidationError like INVALID_POW and VALIDATION_ERROR', async () => {
    await using a = agent();
    route('get', `/auth/requests/${ID}`, () => challenge());
    for (const code of ['INVALID_POW', 'VALIDATION_ERROR', 'MISSING_POW_NONCE']) {
      route('post', `/modules/agent-login/requests/${ID}/approve`, () => fail(400, code));
      const error = await a.login(ID).catch((e: unknown) => e);
      expect(error, code).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ code, status: 400 });
    }
  });

  it('an error envelope without message keeps its code, with a readable message', async () => {
    await using a = agent();
    route('get', `/auth/requests/${ID}`, () =>
      HttpResponse.json(
        { ok: false, error: { code: 'SITE_LOGIN_REQUEST_NOT_FOUND' } },
        { status: 404 },
      ),
    );
    const error = await a.login(ID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ code: 'SITE_LOGIN_REQUEST_NOT_FOUND' });
    expect((error as Error).message).toMatch(/site login request not found/);
  });

  it('credential codes are AuthenticationError at any status, as in the Python agent', async () => {
    await using a = agent();
    route('get', `/auth/requests/${ID}`, () => challenge());
    for (const status of [400, 403, 404]) {
      route('get', '/core/agents/me/profile', () => ok({ agent_id: 'ag_me' }));
      route('post', `/modules/agent-login/requests/${ID}/approve`, () =>
        fail(status, 'INVALID_AGENT_TOKEN'),
      );
      const error = await a.login(ID).catch((e: unknown) => e);
      expect(error, String(status)).toBeInstanceOf(AuthenticationError);
      expect(error).toMatchObject({ code: 'INVALID_AGENT_TOKEN', status });
      route('get', '/core/agents/me/profile', () => fail(status, 'MISSING_AGENT_TOKEN'));
      await expect(a.getProfile()).rejects.toBeInstanceOf(AuthenticationError);
    }
  });
});

describe('MCP token endpoint: strict response validation', () => {
  const good = {
    access_token: JWT,
    token_type: 'Bearer',
    expires_in: 300,
  };
  const noStore = { 'Cache-Control': 'no-store' };

  it('accepts exactly the documented answer and sends {domain} with the agent token', async () => {
    await using a = agent();
    const calls = route('post', '/modules/oauth/token', () =>
      HttpResponse.json(good, { headers: noStore }),
    );
    const before = Date.now();
    const token = await a.getMcpAccessToken('HTTPS://Tools.Example.COM:8443/mcp');
    expect(token).toMatchObject({
      accessToken: JWT,
      tokenType: 'Bearer',
      expiresIn: 300,
      domain: 'tools.example.com',
      resource: undefined,
    });
    expect(token.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 300_000);
    expect(await calls[0]!.json()).toEqual({ domain: 'tools.example.com' });
    expect(calls[0]!.headers.get('x-agent-token')).toBe(TOKEN);
  });

  it('sends the RFC 8707 resource when mcpResource is on, caching per URL', async () => {
    await using a = agent({ mcpResource: true });
    const calls = route('post', '/modules/oauth/token', () =>
      HttpResponse.json(good, { headers: noStore }),
    );
    await a.getMcpAccessToken('tools.example.com');
    await a.getMcpAccessToken('https://tools.example.com/other?x=1#f');
    await a.getMcpAccessToken('tools.example.com');
    expect(await Promise.all(calls.map((c) => c.json()))).toEqual([
      { domain: 'tools.example.com', resource: 'https://tools.example.com/mcp' },
      { domain: 'tools.example.com', resource: 'https://tools.example.com/other' },
    ]);
  });

  it('reads expires_in sent as a numeric string, as the Python agent does (int())', async () => {
    await using a = agent();
    route('post', '/modules/oauth/token', () =>
      HttpResponse.json({ ...good, expires_in: '300' }, { headers: noStore }),
    );
    const before = Date.now();
    const token = await a.getMcpAccessToken('tools.example.com');
    expect(token).toMatchObject({ accessToken: JWT, expiresIn: 300 });
    expect(token.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 300_000);
  });

  const bad: Array<[string, object, Record<string, string>]> = [
    ['an extra key', { ...good, scope: 'mcp' }, noStore],
    ['a missing key', { access_token: JWT, token_type: 'Bearer' }, noStore],
    ['token_type bearer (lowercase)', { ...good, token_type: 'bearer' }, noStore],
    ['token_type MAC', { ...good, token_type: 'MAC' }, noStore],
    ['expires_in as a word', { ...good, expires_in: 'soon' }, noStore],
    ['expires_in as a decimal string', { ...good, expires_in: '300.5' }, noStore],
    ['expires_in as an empty string', { ...good, expires_in: '' }, noStore],
    ['expires_in as a negative string', { ...good, expires_in: '-300' }, noStore],
    ['expires_in as a boolean', { ...good, expires_in: true }, noStore],
    ['expires_in 0', { ...good, expires_in: 0 }, noStore],
    ['an opaque token', { ...good, access_token: 'opaque_token_value' }, noStore],
    ['a two-segment token', { ...good, access_token: 'eyJhbGciOiJub25lIn0.eyJ9' }, noStore],
    ['no Cache-Control', good, {}],
    ['Cache-Control: max-age=300', good, { 'Cache-Control': 'max-age=300' }],
    ['the LIME envelope', { ok: true, data: good }, noStore],
    ['an array', [good], noStore],
  ];
  for (const [what, body, headers] of bad) {
    it(`rejects ${what} with InvalidResponseError, never echoing the token`, async () => {
      await using a = agent();
      route('post', '/modules/oauth/token', () =>
        HttpResponse.json(body as Record<string, unknown>, { headers }),
      );
      const error = await a.getMcpAccessToken('tools.example.com').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidResponseError);
      expect((error as Error).message).not.toContain(JWT.split('.')[1]);
    });
  }

  it('maps raw RFC 6749 errors and OAUTH_CAPABILITY_DENIED to typed errors', async () => {
    await using a = agent({ maxRetries: 0 });
    route('post', '/modules/oauth/token', () =>
      HttpResponse.json(
        { error: 'invalid_client', error_description: 'bad token' },
        { status: 401 },
      ),
    );
    await expect(a.getMcpAccessToken('tools.example.com')).rejects.toMatchObject({
      name: 'AuthenticationError',
      code: 'invalid_client',
      status: 401,
    });
    route('post', '/modules/oauth/token', () =>
      HttpResponse.json({ error: 'invalid_request' }, { status: 400 }),
    );
    await expect(a.getMcpAccessToken('tools.example.com')).rejects.toBeInstanceOf(ValidationError);
    route('post', '/modules/oauth/token', () => fail(403, 'OAUTH_CAPABILITY_DENIED'));
    const denied = await a.getMcpAccessToken('tools.example.com').catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(OAuthCapabilityError);
    expect(denied).toBeInstanceOf(PermissionDeniedError);
    expect(denied).toMatchObject({
      name: 'OAuthCapabilityError',
      code: 'OAUTH_CAPABILITY_DENIED',
      status: 403,
    });
  });

  it('a slow token request is shared, and one caller aborting does not cancel it for others', async () => {
    await using a = agent();
    const calls = route('post', '/modules/oauth/token', async () => {
      await delay(100);
      return HttpResponse.json(good, { headers: noStore });
    });
    const controller = new AbortController();
    const first = a.getMcpAccessToken('tools.example.com', { signal: controller.signal });
    const second = a.getMcpAccessToken('tools.example.com');
    controller.abort();
    await expect(first).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(second).resolves.toMatchObject({ accessToken: JWT });
    expect(calls).toHaveLength(1);
  });
});
