// The hosted-like profile (PROTOCOL.md §0): every [core]/[extension]
// behaviour off, each difference checked over real HTTP. The stream is read
// raw (no SSE parser): the frames themselves are what is under test.
import { createPublicKey, verify } from 'node:crypto';
import { PATHS } from '@lime/wire';
import type { Core } from 'lime-core';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  approve,
  decodeJwt,
  type HttpResult,
  httpClient,
  openRawStream,
  provision,
  startTestCore,
} from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const CURL = { 'user-agent': 'curl/8.5.0' };

const http = httpClient();
let core: Core;

beforeAll(async () => {
  core = await startTestCore({ profile: 'hosted', powDifficulty: 0, keepaliveMs: 100 });
});
afterAll(async () => {
  await core.close();
  await http.close();
});

const url = (path: string) => core.apiBase + path;
const eventsUrl = () => url(PATHS.loginEvents);

function expectFailure(r: HttpResult, code: number, errorCode: string) {
  expect(r.status, r.text).toBe(code);
  expect(r.json.ok).toBe(false);
  expect(r.json.error.code).toBe(errorCode);
}

/** §3.1 in the hosted profile: answers 200, not 201. */
async function create(siteToken: string): Promise<string> {
  const r = await http.call('POST', url(PATHS.createLoginRequest), {
    headers: { 'x-site-token': siteToken },
    body: {},
  });
  expect(r.status, r.text).toBe(200);
  return r.json.data.login_request_id;
}

const siteStatus = (id: string, siteToken: string) =>
  http.call('GET', url(PATHS.loginRequest(id)), { headers: { 'x-site-token': siteToken } });

async function jwks(): Promise<Array<Record<string, string>>> {
  const r = await http.call('GET', url(PATHS.jwks), { headers: CURL });
  return r.json.data.keys;
}

/** True when `jwt` carries a valid RS256 signature by a key of the JWKS. */
async function signedByCore(jwt: string): Promise<boolean> {
  const [h, p, s] = jwt.split('.');
  const kid = decodeJwt(jwt).header.kid;
  const jwk = (await jwks()).find((k) => k.kid === kid);
  if (!jwk) return false;
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  return verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s!, 'base64url'));
}

describe('ids and credentials', () => {
  test('site, agent, user, login request and binding ids are UUIDs; tokens unprefixed', async () => {
    expect(core.profile).toBe('hosted');
    const { site, agent } = await provision(core);
    expect(site.siteId).toMatch(UUID);
    expect(agent.agentId).toMatch(UUID);
    expect(agent.userId).toMatch(UUID);
    for (const token of [site.siteToken, agent.agentToken]) {
      expect(token).toMatch(/^[0-9a-f]{64}$/);
    }
    const rotated = await core.admin.rotateSiteToken(site.siteId);
    expect(rotated.siteToken).toMatch(/^[0-9a-f]{64}$/);
    expect((await core.admin.rotateAgentToken(agent.agentId)).agentToken).toMatch(/^[0-9a-f]{64}$/);
    const id = await create(rotated.siteToken);
    expect(id).toMatch(UUID);
    const binding = await http.call('POST', url(PATHS.createBindingRequest), {
      headers: { 'x-site-token': rotated.siteToken },
      body: { redirect_uri: 'https://shop.example/back' },
    });
    expect(binding.json.data.binding_id).toMatch(UUID);
  });
});

describe('hosted error codes', () => {
  test('unknown login request: 404 SITE_LOGIN_REQUEST_NOT_FOUND on challenge, approve, §3.1b', async () => {
    const { site, agent } = await provision(core);
    const unknown = '00000000-0000-4000-8000-000000000099';
    expectFailure(
      await http.call('GET', url(PATHS.loginChallenge(unknown))),
      404,
      'SITE_LOGIN_REQUEST_NOT_FOUND',
    );
    expectFailure(
      await http.call('POST', url(PATHS.approveLoginRequest(unknown)), {
        headers: { 'x-agent-token': agent.agentToken },
        body: { pow_nonce: '0' },
      }),
      404,
      'SITE_LOGIN_REQUEST_NOT_FOUND',
    );
    expectFailure(await siteStatus(unknown, site.siteToken), 404, 'SITE_LOGIN_REQUEST_NOT_FOUND');
  });

  test("§3.1b: another site's id is the same 404; no approval extras", async () => {
    const { site, agent } = await provision(core);
    const other = await core.admin.createSite({ name: 'other' });
    const id = await create(site.siteToken);
    const foreign = await siteStatus(id, other.siteToken);
    expectFailure(foreign, 404, 'SITE_LOGIN_REQUEST_NOT_FOUND');
    const unknown = await siteStatus('00000000-0000-4000-8000-000000000001', other.siteToken);
    expect(foreign.json.error).toEqual(unknown.json.error);
    await approve(http, core, id, agent.agentToken);
    const r = await siteStatus(id, site.siteToken);
    expect(r.status).toBe(200);
    expect(Object.keys(r.json.data).sort()).toEqual(['expires_at', 'login_request_id', 'status']);
    expect(r.json.data.status).toBe('APPROVED');
  });

  test('approve without a nonce: 400 MISSING_POW_NONCE; the request stays PENDING', async () => {
    // The same sequence as the Python agent SDK's hosted integration test.
    const { site, agent } = await provision(core);
    await core.admin.setPowDifficulty(8);
    try {
      const id = await create(site.siteToken);
      const approveUrl = url(PATHS.approveLoginRequest(id));
      const headers = { 'x-agent-token': agent.agentToken };
      for (const body of [{}, { pow_nonce: null }, { pow_nonce: '' }]) {
        expectFailure(
          await http.call('POST', approveUrl, { headers, body }),
          400,
          'MISSING_POW_NONCE',
        );
      }
      expectFailure(
        await http.call('POST', approveUrl, {
          headers,
          body: { pow_nonce: 'definitely-invalid-nonce' },
        }),
        400,
        'INVALID_POW',
      );
      expect((await siteStatus(id, site.siteToken)).json.data.status).toBe('PENDING');
    } finally {
      await core.admin.setPowDifficulty(0);
    }
  });

  test('approve is not idempotent for the winner: a repeat is 409 like anyone else', async () => {
    const { site, agent } = await provision(core);
    const rival = await core.admin.createAgent({ displayName: 'rival' });
    const id = await create(site.siteToken);
    const first = await approve(http, core, id, agent.agentToken);
    expect(first.status).toBe(200);
    expect(first.json.data.approved_agent_id).toBe(agent.agentId);
    expectFailure(await approve(http, core, id, agent.agentToken), 409, 'REQUEST_ALREADY_APPROVED');
    expectFailure(await approve(http, core, id, rival.agentToken), 409, 'REQUEST_ALREADY_APPROVED');
  });
});

describe('event stream', () => {
  test('per-line frames: `data: {json}\\n`, no blank line, no id:, no retry:', async () => {
    const { site, agent } = await provision(core);
    const stream = await openRawStream(eventsUrl(), site.siteToken);
    expect(stream.status).toBe(200);
    expect(String(stream.headers['content-type'])).toMatch(/^text\/event-stream/);
    const id = await create(site.siteToken);
    const r = await approve(http, core, id, agent.agentToken);
    expect(r.json.data.status).toBe('DELIVERED');
    await stream.until((raw) => raw.includes('"approved"') && raw.endsWith('\n'));
    await core.admin.expireLoginRequest(await create(site.siteToken));
    await stream.until((raw) => raw.includes('"expired"') && raw.endsWith('\n'));
    await stream.close();
    const raw = stream.raw;
    // Every line is a one-line JSON `data:` line; nothing else, ever.
    expect(raw).toMatch(/^(data: \{[^\n]*\}\n)+$/);
    expect(raw).not.toContain('\n\n');
    expect(raw).not.toMatch(/^(id|retry|event):/m);
    const events = stream.significant();
    expect(events[0]).toEqual({
      type: 'approved',
      login_request_id: id,
      agent_passport_jwt: expect.any(String),
    });
    expect(events[1]).toMatchObject({ type: 'expired' });
  });

  test('keepalives are per-line frames too, every keepaliveMs', async () => {
    const { site } = await provision(core);
    const stream = await openRawStream(eventsUrl(), site.siteToken);
    const started = Date.now();
    await stream.until((raw) => raw.split('\n').length > 3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(stream.raw).toMatch(/^(data: \{"type":"keepalive"\}\n)+$/);
    await stream.close();
  });

  test('keepaliveMs defaults to 120 s in the hosted profile (15 s in core)', async () => {
    const spy = vi.spyOn(globalThis, 'setInterval');
    const hosted = await startTestCore({ profile: 'hosted', powDifficulty: 0 });
    const plain = await startTestCore({ powDifficulty: 0 });
    try {
      for (const [c, expected] of [
        [hosted, 120_000],
        [plain, 15_000],
      ] as const) {
        const site = await c.admin.createSite({ name: 'k' });
        spy.mockClear();
        const stream = await openRawStream(c.apiBase + PATHS.loginEvents, site.siteToken);
        expect(spy.mock.calls.map((call) => call[1])).toContain(expected);
        await stream.close();
      }
    } finally {
      spy.mockRestore();
      await hosted.close();
      await plain.close();
    }
  });

  test('no broadcast: each event goes to exactly one connection, in turn', async () => {
    const { site, agent } = await provision(core);
    const a = await openRawStream(eventsUrl(), site.siteToken);
    const b = await openRawStream(eventsUrl(), site.siteToken);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const id = await create(site.siteToken);
      ids.push(id);
      expect((await approve(http, core, id, agent.agentToken)).json.data.status).toBe('DELIVERED');
    }
    const seen = () => [...a.significant(), ...b.significant()].map((e) => e.login_request_id);
    const deadline = Date.now() + 5_000;
    while (seen().length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // Let any duplicate arrive before judging.
    await new Promise((r) => setTimeout(r, 100));
    expect(seen().sort()).toEqual([...ids].sort());
    expect(a.significant()).toHaveLength(2);
    expect(b.significant()).toHaveLength(2);
    await a.close();
    await b.close();
  });

  test('no resume: Last-Event-ID is ignored and an event nobody received is gone', async () => {
    const { site, agent } = await provision(core);
    const first = await openRawStream(eventsUrl(), site.siteToken);
    const seenId = await create(site.siteToken);
    await approve(http, core, seenId, agent.agentToken);
    await first.until((raw) => raw.includes(seenId));
    await first.close();
    await new Promise((r) => setTimeout(r, 50));

    // Approved while no connection is open: nobody gets it, ever.
    const missedId = await create(site.siteToken);
    const missed = await approve(http, core, missedId, agent.agentToken);
    expect(missed.json.data.status).toBe('APPROVED');

    for (const lastEventId of ['0', '1', 'not-a-number']) {
      const again = await openRawStream(eventsUrl(), site.siteToken, {
        headers: { 'last-event-id': lastEventId },
      });
      expect(again.status).toBe(200);
      const liveId = await create(site.siteToken);
      await approve(http, core, liveId, agent.agentToken);
      await again.until((raw) => raw.includes(liveId));
      expect(again.significant().map((e) => e.login_request_id)).toEqual([liveId]);
      expect(again.raw).not.toContain('resync');
      await again.close();
      await new Promise((r) => setTimeout(r, 50));
    }
    // §3.1b is how a client learns about the missed approval.
    expect((await siteStatus(missedId, site.siteToken)).json.data.status).toBe('APPROVED');
  });

  test('a stream-level error is a per-line frame, then the stream ends', async () => {
    const { site } = await provision(core);
    const stream = await openRawStream(eventsUrl(), site.siteToken);
    await core.admin.suspendSite(site.siteId);
    await stream.done;
    expect(stream.raw).toMatch(/^(data: \{"type":"keepalive"\}\n)*data: \{[^\n]*\}\n$/);
    expect(stream.events().at(-1)).toMatchObject({ type: 'error', code: 'SITE_SUSPENDED' });
  });
});

describe('tokens', () => {
  test('site passport: only the claims the Python site SDK lists, header without typ', async () => {
    const { site, agent } = await provision(core);
    const stream = await openRawStream(eventsUrl(), site.siteToken);
    const id = await create(site.siteToken);
    await approve(http, core, id, agent.agentToken);
    await stream.until((raw) => raw.includes('"approved"'));
    const jwt = stream.significant()[0].agent_passport_jwt as string;
    await stream.close();
    const { header, payload } = decodeJwt(jwt);
    expect(Object.keys(header).sort()).toEqual(['alg', 'kid']);
    expect(header.alg).toBe('RS256');
    expect(Object.keys(payload).sort()).toEqual([
      'agent_id',
      'agent_reputation',
      'aud',
      'exp',
      'iat',
      'request_id',
      'user_id',
      'user_kyc_level',
    ]);
    expect(payload).toMatchObject({
      agent_id: agent.agentId,
      user_id: agent.userId,
      user_kyc_level: 2,
      agent_reputation: 0.75,
      request_id: id,
      aud: 'lime-site-login',
    });
    expect(payload.exp - payload.iat).toBe(60);
    expect(await signedByCore(jwt)).toBe(true);
  });

  test('binding passport: agent_id, user_id, binding_id, aud, exp, iat only', async () => {
    const { site, agent } = await provision(core);
    const created = await http.call('POST', url(PATHS.createBindingRequest), {
      headers: { 'x-site-token': site.siteToken },
      body: { redirect_uri: 'https://shop.example/back' },
    });
    const { passport } = await core.admin.completeBinding(
      created.json.data.binding_id,
      agent.agentId,
    );
    const { header, payload } = decodeJwt(passport);
    expect(Object.keys(header).sort()).toEqual(['alg', 'kid']);
    expect(Object.keys(payload).sort()).toEqual([
      'agent_id',
      'aud',
      'binding_id',
      'exp',
      'iat',
      'user_id',
    ]);
    expect(payload.aud).toBe('lime-binding');
    expect(await signedByCore(passport)).toBe(true);
  });

  test('MCP token: registered claims only; `resource` is ignored', async () => {
    const { agent } = await provision(core);
    const r = await http.call('POST', url(PATHS.oauthToken), {
      headers: { 'x-agent-token': agent.agentToken },
      body: { domain: 'mcp.example', resource: 'https://mcp.example/mcp' },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    const { header, payload } = decodeJwt(r.json.access_token);
    expect(Object.keys(header).sort()).toEqual(['alg', 'kid']);
    expect(Object.keys(payload).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'sub']);
    expect(payload).toMatchObject({ aud: 'mcp', sub: agent.agentId, iss: core.issuer });
    // Even a malformed resource is not looked at.
    const ignored = await http.call('POST', url(PATHS.oauthToken), {
      headers: { 'x-agent-token': agent.agentToken },
      body: { domain: 'mcp.example', resource: 42 },
    });
    expect(ignored.status).toBe(200);
  });
});

describe('key endpoints', () => {
  test('JWKS is the enveloped-only document', async () => {
    const r = await http.call('GET', url(PATHS.jwks), { headers: CURL });
    expect(r.status).toBe(200);
    expect(Object.keys(r.json).sort()).toEqual(['data', 'ok']);
    expect(r.json.ok).toBe(true);
    expect(r.json.data.keys.length).toBeGreaterThanOrEqual(1);
    expect(r.json.data.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
    expect(r.headers['cache-control']).toBe('public, max-age=60');
  });

  test('AS metadata: jwks_uri is relative and resolves to the JWKS both ways', async () => {
    for (const path of [
      core.apiBase + PATHS.oauthMetadata,
      `${core.url}/.well-known/oauth-authorization-server`,
    ]) {
      const r = await http.call('GET', path, { headers: CURL });
      expect(r.status).toBe(200);
      expect(r.json.issuer).toBe(core.issuer);
      expect(r.json.jwks_uri).toBe('/api/v1/core/.well-known/jwks.json');
      // The Python MCP verifier: `base_url + jwks_uri` (base_url = the origin);
      // RFC 3986 resolution on the origin or on the API base.
      for (const resolved of [
        core.url + r.json.jwks_uri,
        new URL(r.json.jwks_uri, core.url).href,
        new URL(r.json.jwks_uri, `${core.apiBase}/`).href,
      ]) {
        const keys = await http.call('GET', resolved, { headers: CURL });
        expect(keys.status, resolved).toBe(200);
        expect(keys.json.data.keys.length).toBeGreaterThanOrEqual(1);
      }
    }
  });

  const allowed = [
    'curl/8.5.0',
    'python-httpx/0.27.2',
    'lime-sites-sdk/1.0.0',
    'lime-sites-sdk/1.0.0 node/20.20.2',
    'Mozilla/5.0 (X11; Linux x86_64)',
    'Wget/1.21.4',
  ];
  const refused = [
    undefined,
    '',
    '   ',
    'node',
    'Node/20.20.2',
    'undici',
    'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)',
    'axios/1.7.2',
    'got (https://github.com/sindresorhus/got)',
    'Deno/1.46.0',
    'Bun/1.1.0',
    'Python-urllib/3.12',
    'python-requests/2.32.3',
    'Python/3.12 aiohttp/3.9.5',
    'Go-http-client/1.1',
    'Java/17.0.2',
    'Java-http-client/17.0.2',
    'okhttp/4.12.0',
    'Apache-HttpClient/4.5.14 (Java/17)',
    'Ruby',
    'libwww-perl/6.72',
  ];
  const keyPaths = () => [
    core.apiBase + PATHS.jwks,
    core.apiBase + PATHS.oauthMetadata,
    `${core.url}/.well-known/oauth-authorization-server`,
  ];

  test.each(allowed)('User-Agent %j is served', async (ua) => {
    for (const path of keyPaths()) {
      expect((await http.call('GET', path, { headers: { 'user-agent': ua } })).status).toBe(200);
    }
  });

  test.each(refused.map((ua) => [ua ?? '(none)', ua] as const))(
    'User-Agent %s is refused with 403',
    async (_name, ua) => {
      for (const path of keyPaths()) {
        const r = await http.call('GET', path, {
          headers: ua === undefined ? {} : { 'user-agent': ua },
        });
        expect(r.status, path).toBe(403);
        expect(String(r.headers['content-type'])).toMatch(/^text\/plain/);
        expect(r.text).toBe('error code: 1010');
      }
    },
  );

  test('the filter covers the key endpoints only', async () => {
    const { site } = await provision(core);
    // undici.request sends no User-Agent at all.
    const r = await http.call('POST', url(PATHS.createLoginRequest), {
      headers: { 'x-site-token': site.siteToken },
      body: {},
    });
    expect(r.status).toBe(200);
    expect(
      (await http.call('GET', url(PATHS.loginChallenge(r.json.data.login_request_id)))).status,
    ).toBe(200);
  });

  test("jwksShape overrides the profile's default", async () => {
    const raw = await startTestCore({ profile: 'hosted', jwksShape: 'raw' });
    try {
      const r = await http.call('GET', raw.apiBase + PATHS.jwks, { headers: CURL });
      expect(Object.keys(r.json)).toEqual(['keys']);
      expect(r.json.keys.length).toBeGreaterThanOrEqual(1);
    } finally {
      await raw.close();
    }
  });
});
