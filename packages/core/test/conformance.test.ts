// PROTOCOL.md §2–§7 endpoint by endpoint: status, envelope, code, headers.
import { createHash } from 'node:crypto';
import {
  API_PREFIX,
  isFailureEnvelope,
  isSuccessEnvelope,
  meetsDifficulty,
  PATHS,
  powPreimage,
} from '@lime/wire';
import type { Core } from 'lime-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  approve,
  createRequest,
  type HttpResult,
  httpClient,
  provision,
  solvePow,
  startTestCore,
} from './helpers.js';

let core: Core;
const http = httpClient();
let siteToken: string;
let agentToken: string;
let agentId: string;
let siteId: string;

beforeAll(async () => {
  core = await startTestCore({ powDifficulty: 4 });
  const p = await provision(core);
  siteToken = p.site.siteToken;
  siteId = p.site.siteId;
  agentToken = p.agent.agentToken;
  agentId = p.agent.agentId;
});
afterAll(async () => {
  await core.close();
  await http.close();
});

const url = (path: string) => core.apiBase + path;

function expectFailure(r: HttpResult, status: number, code: string) {
  expect(r.status, r.text).toBe(status);
  expect(String(r.headers['content-type'])).toMatch(/^application\/json/);
  expect(isFailureEnvelope(r.json), r.text).toBe(true);
  expect(r.json.error.code).toBe(code);
  expect(r.headers['x-request-id']).toMatch(/\S/);
}

function expectSuccess(r: HttpResult, status = 200) {
  expect(r.status, r.text).toBe(status);
  expect(String(r.headers['content-type'])).toMatch(/^application\/json/);
  expect(isSuccessEnvelope(r.json), r.text).toBe(true);
  expect(r.headers['x-request-id']).toMatch(/\S/);
  return r.json.data;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe('§3.1 create a login request', () => {
  test('201 with id, PENDING and an RFC 3339 expiry', async () => {
    const before = Date.now();
    const r = await http.call('POST', url(PATHS.createLoginRequest), {
      headers: { 'x-site-token': siteToken },
      body: {},
    });
    const data = expectSuccess(r, 201);
    expect(Object.keys(data).sort()).toEqual(['expires_at', 'login_request_id', 'status']);
    expect(data.login_request_id).toMatch(/^lr_[A-Za-z0-9_-]{16,}$/);
    expect(data.status).toBe('PENDING');
    expect(data.expires_at).toMatch(RFC3339);
    const exp = Date.parse(data.expires_at);
    expect(exp).toBeGreaterThanOrEqual(before + 300_000 - 5);
    expect(exp).toBeLessThanOrEqual(Date.now() + 300_000);
    expect(r.headers['cache-control']).toBe('no-store');
  });

  test('an empty body without content type is {}', async () => {
    const r = await http.call('POST', url(PATHS.createLoginRequest), {
      headers: { 'x-site-token': siteToken },
    });
    expectSuccess(r, 201);
  });

  test('401 SITE_TOKEN_MISSING / SITE_TOKEN_INVALID', async () => {
    expectFailure(
      await http.call('POST', url(PATHS.createLoginRequest), { body: {} }),
      401,
      'SITE_TOKEN_MISSING',
    );
    expectFailure(
      await http.call('POST', url(PATHS.createLoginRequest), {
        headers: { 'x-site-token': `st_${'A'.repeat(43)}` },
        body: {},
      }),
      401,
      'SITE_TOKEN_INVALID',
    );
    // An agent token is not a site token.
    expectFailure(
      await http.call('POST', url(PATHS.createLoginRequest), {
        headers: { 'x-site-token': agentToken },
        body: {},
      }),
      401,
      'SITE_TOKEN_INVALID',
    );
  });

  test('403 SITE_SUSPENDED, and back after unsuspend', async () => {
    const s = await core.admin.createSite({ name: 'suspended' });
    await core.admin.suspendSite(s.siteId);
    expectFailure(
      await http.call('POST', url(PATHS.createLoginRequest), {
        headers: { 'x-site-token': s.siteToken },
        body: {},
      }),
      403,
      'SITE_SUSPENDED',
    );
    await core.admin.unsuspendSite(s.siteId);
    await createRequest(http, core, s.siteToken);
  });

  test('rotated and revoked site tokens stop working', async () => {
    const s = await core.admin.createSite({ name: 'rotating' });
    const { siteToken: fresh } = await core.admin.rotateSiteToken(s.siteId);
    expect(fresh).not.toBe(s.siteToken);
    expect(fresh).toMatch(/^st_[A-Za-z0-9_-]{43}$/);
    const old = await http.call('POST', url(PATHS.createLoginRequest), {
      headers: { 'x-site-token': s.siteToken },
      body: {},
    });
    expectFailure(old, 401, 'SITE_TOKEN_INVALID');
    await createRequest(http, core, fresh);
    await core.admin.revokeSiteToken(s.siteId);
    expectFailure(
      await http.call('POST', url(PATHS.createLoginRequest), {
        headers: { 'x-site-token': fresh },
        body: {},
      }),
      401,
      'SITE_TOKEN_INVALID',
    );
  });

  test('400 VALIDATION_ERROR names the field; 415 non-JSON; 413 too large', async () => {
    const h = { 'x-site-token': siteToken };
    const arr = await http.call('POST', url(PATHS.createLoginRequest), { headers: h, body: [] });
    expectFailure(arr, 400, 'VALIDATION_ERROR');
    expect(arr.json.error.detail.field).toBe('body');
    const bad = await http.call('POST', url(PATHS.createLoginRequest), {
      headers: { ...h, 'content-type': 'application/json' },
      rawBody: '{"a":',
    });
    expectFailure(bad, 400, 'VALIDATION_ERROR');
    expect(bad.json.error.detail.field).toBe('body');
    const redirect = await http.call('POST', url(PATHS.createLoginRequest), {
      headers: h,
      body: { redirect_url: 42 },
    });
    expectFailure(redirect, 400, 'VALIDATION_ERROR');
    expect(redirect.json.error.message).toContain('redirect_url');
    expect(redirect.json.error.detail.field).toBe('redirect_url');
    expectFailure(
      await http.call('POST', url(PATHS.createLoginRequest), {
        headers: { ...h, 'content-type': 'text/plain' },
        rawBody: '{}',
      }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expectFailure(
      await http.call('POST', url(PATHS.createLoginRequest), {
        headers: { ...h, 'content-type': 'application/json' },
        rawBody: JSON.stringify({ pad: 'x'.repeat(20_000) }),
      }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
  });
});

describe('§3.2 read the challenge', () => {
  test('200 with a 64-hex challenge and the difficulty', async () => {
    const id = await createRequest(http, core, siteToken);
    const r = await http.call('GET', url(PATHS.loginChallenge(id)));
    const data = expectSuccess(r);
    expect(Object.keys(data).sort()).toEqual([
      'expires_at',
      'pow_challenge',
      'pow_difficulty',
      'request_id',
      'status',
    ]);
    expect(data.request_id).toBe(id);
    expect(data.status).toBe('PENDING');
    expect(data.pow_challenge).toMatch(/^[0-9a-f]{64}$/);
    expect(data.pow_difficulty).toBe(4);
    expect(data.expires_at).toMatch(RFC3339);
  });

  test('404 REQUEST_NOT_FOUND, also for odd ids', async () => {
    for (const id of ['lr_nope', 'x', '%', 'a b', 'lr_🙂', 'a/b']) {
      expectFailure(
        await http.call('GET', url(PATHS.loginChallenge(id))),
        404,
        'REQUEST_NOT_FOUND',
      );
    }
  });

  test('410 REQUEST_EXPIRED after expiry', async () => {
    const id = await createRequest(http, core, siteToken);
    await core.admin.expireLoginRequest(id);
    expectFailure(await http.call('GET', url(PATHS.loginChallenge(id))), 410, 'REQUEST_EXPIRED');
  });

  test('difficulty changes apply to new requests', async () => {
    await core.admin.setPowDifficulty(2);
    const id = await createRequest(http, core, siteToken);
    const r = await http.call('GET', url(PATHS.loginChallenge(id)));
    expect(r.json.data.pow_difficulty).toBe(2);
    await core.admin.setPowDifficulty(4);
    await expect(core.admin.setPowDifficulty(65)).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
    });
  });
});

describe('§3.4 approve', () => {
  const approveUrl = (id: string) => url(PATHS.approveLoginRequest(id));

  test('200 with the documented fields; the winner may ask again', async () => {
    const id = await createRequest(http, core, siteToken);
    const r = await approve(http, core, id, agentToken);
    const data = expectSuccess(r);
    expect(data).toEqual({
      request_id: id,
      site_id: siteId,
      status: 'APPROVED',
      expires_at: expect.stringMatching(RFC3339),
      approved_agent_id: agentId,
    });
    const again = await approve(http, core, id, agentToken);
    expect(expectSuccess(again)).toEqual(data);
    const ch = await http.call('GET', url(PATHS.loginChallenge(id)));
    expect(ch.json.data.status).toBe('APPROVED');
  });

  test('409 REQUEST_ALREADY_APPROVED for every other agent', async () => {
    const id = await createRequest(http, core, siteToken);
    expectSuccess(await approve(http, core, id, agentToken));
    const other = await core.admin.createAgent({ displayName: 'late' });
    expectFailure(await approve(http, core, id, other.agentToken), 409, 'REQUEST_ALREADY_APPROVED');
  });

  test('401 MISSING_AGENT_TOKEN / INVALID_AGENT_TOKEN (a site token or a JWT is not one)', async () => {
    const id = await createRequest(http, core, siteToken);
    expectFailure(
      await http.call('POST', approveUrl(id), { body: { pow_nonce: '0' } }),
      401,
      'MISSING_AGENT_TOKEN',
    );
    for (const token of [
      'at_wrong',
      siteToken,
      'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
      'x'.repeat(600),
    ]) {
      expectFailure(
        await http.call('POST', approveUrl(id), {
          headers: { 'x-agent-token': token },
          body: { pow_nonce: '0' },
        }),
        401,
        'INVALID_AGENT_TOKEN',
      );
    }
    const ch = await http.call('GET', url(PATHS.loginChallenge(id)));
    expect(ch.json.data.status).toBe('PENDING');
  });

  test('an MCP access token is rejected as X-Agent-Token', async () => {
    const tok = await http.call('POST', url(PATHS.oauthToken), {
      headers: { 'x-agent-token': agentToken },
      body: { domain: 'mcp.example.com' },
    });
    expect(tok.status).toBe(200);
    const id = await createRequest(http, core, siteToken);
    expectFailure(
      await http.call('POST', approveUrl(id), {
        headers: { 'x-agent-token': tok.json.access_token },
        body: { pow_nonce: '0' },
      }),
      401,
      'INVALID_AGENT_TOKEN',
    );
    expectFailure(
      await http.call('GET', url(PATHS.agentProfile), {
        headers: { 'x-agent-token': tok.json.access_token },
      }),
      401,
      'INVALID_AGENT_TOKEN',
    );
  });

  test('400 INVALID_POW for malformed and wrong nonces; VALIDATION_ERROR for a non-string', async () => {
    const id = await createRequest(http, core, siteToken);
    const h = { 'x-agent-token': agentToken };
    for (const nonce of [
      '',
      '01',
      '-1',
      '+1',
      '1.0',
      ' 1',
      '1 ',
      '1e3',
      '0x1',
      '9007199254740992',
      '12345678901234567',
      '١',
    ]) {
      const r = await http.call('POST', approveUrl(id), { headers: h, body: { pow_nonce: nonce } });
      expectFailure(r, 400, 'INVALID_POW');
    }
    const ch = await http.call('GET', url(PATHS.loginChallenge(id)));
    const good = solvePow(ch.json.data.pow_challenge, 4);
    // A nonce that does not meet difficulty 4.
    let wrong = 0;
    while (
      meetsDifficulty(
        createHash('sha256')
          .update(powPreimage(ch.json.data.pow_challenge, String(wrong)))
          .digest(),
        4,
      )
    ) {
      wrong++;
    }
    expectFailure(
      await http.call('POST', approveUrl(id), { headers: h, body: { pow_nonce: String(wrong) } }),
      400,
      'INVALID_POW',
    );
    for (const v of [0, null, true, ['0'], { n: 0 }]) {
      const r = await http.call('POST', approveUrl(id), { headers: h, body: { pow_nonce: v } });
      expectFailure(r, 400, 'VALIDATION_ERROR');
      expect(r.json.error.detail.field).toBe('pow_nonce');
    }
    expectFailure(
      await http.call('POST', approveUrl(id), { headers: h, body: {} }),
      400,
      'VALIDATION_ERROR',
    );
    // Still approvable: none of this changed state.
    const ok = await http.call('POST', approveUrl(id), { headers: h, body: { pow_nonce: good } });
    expectSuccess(ok);
  });

  test('404 REQUEST_NOT_FOUND and 410 REQUEST_EXPIRED', async () => {
    expectFailure(await approve(http, core, 'lr_missing', agentToken), 404, 'REQUEST_NOT_FOUND');
    const id = await createRequest(http, core, siteToken);
    const ch = await http.call('GET', url(PATHS.loginChallenge(id)));
    await core.admin.expireLoginRequest(id);
    const r = await http.call('POST', approveUrl(id), {
      headers: { 'x-agent-token': agentToken },
      body: { pow_nonce: solvePow(ch.json.data.pow_challenge, 4) },
    });
    expectFailure(r, 410, 'REQUEST_EXPIRED');
  });

  test('revoked and rotated agent tokens', async () => {
    const a = await core.admin.createAgent({ displayName: 'rot' });
    const { agentToken: fresh } = await core.admin.rotateAgentToken(a.agentId);
    expect(fresh).toMatch(/^at_[A-Za-z0-9_-]{43}$/);
    const id = await createRequest(http, core, siteToken);
    expectFailure(await approve(http, core, id, a.agentToken), 401, 'INVALID_AGENT_TOKEN');
    await core.admin.revokeAgentToken(a.agentId);
    expectFailure(await approve(http, core, id, fresh), 401, 'INVALID_AGENT_TOKEN');
  });
});

describe('§3.6 agent profile', () => {
  test('200 with the profile fields', async () => {
    const a = await core.admin.createAgent({
      displayName: 'Profiled',
      avatarUrl: 'https://img.example/a.png',
      description: 'does things',
      userId: 'usr_owner',
      userKycLevel: 3,
      agentReputation: 0.9,
    });
    const r = await http.call('GET', url(PATHS.agentProfile), {
      headers: { 'x-agent-token': a.agentToken },
    });
    expect(expectSuccess(r)).toEqual({
      agent_id: a.agentId,
      user_id: 'usr_owner',
      display_name: 'Profiled',
      avatar_url: 'https://img.example/a.png',
      description: 'does things',
      user_kyc_level: 3,
      agent_reputation: 0.9,
    });
  });

  test('401 without or with a wrong token', async () => {
    expectFailure(await http.call('GET', url(PATHS.agentProfile)), 401, 'MISSING_AGENT_TOKEN');
    expectFailure(
      await http.call('GET', url(PATHS.agentProfile), { headers: { 'x-agent-token': 'at_x' } }),
      401,
      'INVALID_AGENT_TOKEN',
    );
  });
});

describe('§5 binding requests', () => {
  test('201 with id, connect_url, status, expiry; completed through admin', async () => {
    const r = await http.call('POST', url(PATHS.createBindingRequest), {
      headers: { 'x-site-token': siteToken },
      body: { redirect_uri: 'https://app.example/linked?x=1' },
    });
    const data = expectSuccess(r, 201);
    expect(data.binding_id).toMatch(/^bnd_/);
    expect(data.status).toBe('PENDING');
    expect(data.expires_at).toMatch(RFC3339);
    expect(data.connect_url.startsWith(core.url)).toBe(true);
    const page = await http.call('GET', data.connect_url);
    expect(expectSuccess(page).binding_id).toBe(data.binding_id);
    const done = await core.admin.completeBinding(data.binding_id, agentId);
    const back = new URL(done.redirectUrl);
    expect(back.origin + back.pathname).toBe('https://app.example/linked');
    expect(back.searchParams.get('x')).toBe('1');
    expect(back.searchParams.get('passport')).toBe(done.passport);
    await expect(core.admin.completeBinding(data.binding_id, agentId)).rejects.toMatchObject({
      status: 409,
    });
    await expect(core.admin.completeBinding('bnd_nope', agentId)).rejects.toMatchObject({
      status: 404,
    });
  });

  test('400 for a missing or non-https redirect_uri; 401 without site token', async () => {
    const h = { 'x-site-token': siteToken };
    for (const redirect_uri of [
      undefined,
      7,
      'relative/path',
      'ftp://x.example/',
      'http://evil.example/',
      'https://a.example/#frag',
    ]) {
      const r = await http.call('POST', url(PATHS.createBindingRequest), {
        headers: h,
        body: { redirect_uri },
      });
      expectFailure(r, 400, 'VALIDATION_ERROR');
      expect(r.json.error.detail.field).toBe('redirect_uri');
    }
    expectSuccess(
      await http.call('POST', url(PATHS.createBindingRequest), {
        headers: h,
        body: { redirect_uri: 'http://localhost:3000/cb' },
      }),
      201,
    );
    expectFailure(
      await http.call('POST', url(PATHS.createBindingRequest), {
        body: { redirect_uri: 'https://a.example/' },
      }),
      401,
      'SITE_TOKEN_MISSING',
    );
  });
});

describe('§6 JWKS', () => {
  test('one document with raw keys and the enveloped copy, cacheable', async () => {
    const r = await http.call('GET', url(PATHS.jwks));
    expect(r.status).toBe(200);
    expect(String(r.headers['content-type'])).toMatch(/^application\/json/);
    expect(r.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    expect(r.json.ok).toBe(true);
    expect(r.json.data.keys).toEqual(r.json.keys);
    expect(r.json.keys.length).toBeGreaterThanOrEqual(1);
    for (const k of r.json.keys) {
      expect(Object.keys(k).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
      expect(k).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256', e: 'AQAB' });
      expect(Buffer.from(k.n, 'base64url').length * 8).toBeGreaterThanOrEqual(2048);
    }
  });
});

describe('§7 MCP OAuth lane', () => {
  const tokenUrl = () => url(PATHS.oauthToken);

  test('200 raw with exactly access_token, token_type, expires_in and no-store', async () => {
    const r = await http.call('POST', tokenUrl(), {
      headers: { 'x-agent-token': agentToken },
      body: { domain: 'mcp.example.com' },
    });
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(Object.keys(r.json).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    expect(r.json.token_type).toBe('Bearer');
    expect(r.json.expires_in).toBe(300);
  });

  test('401 invalid_client raw for a missing or wrong agent token', async () => {
    const variants: Record<string, string>[] = [
      {},
      { 'x-agent-token': 'at_nope' },
      { 'x-agent-token': siteToken },
    ];
    for (const headers of variants) {
      const r = await http.call('POST', tokenUrl(), {
        headers,
        body: { domain: 'mcp.example.com' },
      });
      expect(r.status).toBe(401);
      expect(Object.keys(r.json).sort()).toEqual(['error', 'error_description']);
      expect(r.json.error).toBe('invalid_client');
      expect(r.headers['cache-control']).toBe('no-store');
    }
  });

  test('400 invalid_request raw for bad domains, resources and bodies', async () => {
    const h = { 'x-agent-token': agentToken };
    const bodies: unknown[] = [
      {},
      { domain: '' },
      { domain: 'MCP.example.com' },
      { domain: 'mcp.example.com:443' },
      { domain: '10.0.0.1' },
      { domain: 'user@mcp.example.com' },
      { domain: '[::1]' },
      { domain: 42 },
      { domain: 'mcp.example.com', resource: 'not a url' },
      { domain: 'mcp.example.com', resource: 'https://other.example/mcp' },
      { domain: 'mcp.example.com', resource: 5 },
      [],
    ];
    for (const body of bodies) {
      const r = await http.call('POST', tokenUrl(), { headers: h, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error).toBe('invalid_request');
      expect(typeof r.json.error_description).toBe('string');
      expect(r.json.ok).toBeUndefined();
    }
    const malformed = await http.call('POST', tokenUrl(), {
      headers: { ...h, 'content-type': 'application/json' },
      rawBody: '{',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error).toBe('invalid_request');
    const form = await http.call('POST', tokenUrl(), {
      headers: { ...h, 'content-type': 'application/x-www-form-urlencoded' },
      rawBody: 'domain=mcp.example.com',
    });
    expect(form.status).toBe(415);
    expect(form.json.error).toBe('invalid_request');
  });

  test('403 OAUTH_CAPABILITY_DENIED in the envelope', async () => {
    const a = await core.admin.createAgent({ displayName: 'no-oauth' });
    await core.admin.setAgentOAuthAllowed(a.agentId, false);
    const r = await http.call('POST', tokenUrl(), {
      headers: { 'x-agent-token': a.agentToken },
      body: { domain: 'mcp.example.com' },
    });
    expectFailure(r, 403, 'OAUTH_CAPABILITY_DENIED');
    await core.admin.setAgentOAuthAllowed(a.agentId, true);
    const ok = await http.call('POST', tokenUrl(), {
      headers: { 'x-agent-token': a.agentToken },
      body: { domain: 'mcp.example.com' },
    });
    expect(ok.status).toBe(200);
  });

  test('RFC 8414 metadata, raw, at the API path and the well-known origin path', async () => {
    for (const u of [
      url(PATHS.oauthMetadata),
      `${core.url}/.well-known/oauth-authorization-server`,
    ]) {
      const r = await http.call('GET', u);
      expect(r.status).toBe(200);
      expect(r.json.ok).toBeUndefined();
      expect(r.json.issuer).toBe(core.issuer);
      expect(r.json.token_endpoint).toBe(core.apiBase + PATHS.oauthToken);
      expect(r.json.jwks_uri).toBe(core.apiBase + PATHS.jwks);
      expect(Array.isArray(r.json.grant_types_supported)).toBe(true);
    }
  });
});

describe('§2 generic behaviour', () => {
  test('unknown routes are 404 envelopes; wrong methods 405 with Allow', async () => {
    for (const p of [
      '/',
      '/nope',
      `${API_PREFIX}/nope`,
      `${API_PREFIX}/modules/agent-login`,
      '/api/v2/x',
    ]) {
      expectFailure(await http.call('GET', core.url + p), 404, 'NOT_FOUND');
    }
    const r = await http.call('DELETE', url(PATHS.createLoginRequest));
    expectFailure(r, 405, 'METHOD_NOT_ALLOWED');
    expect(r.headers.allow).toBe('POST');
    expectFailure(
      await http.call('POST', url(PATHS.jwks), { body: {} }),
      405,
      'METHOD_NOT_ALLOWED',
    );
    expectFailure(
      await http.call('PUT', url(PATHS.loginChallenge('lr_x'))),
      405,
      'METHOD_NOT_ALLOWED',
    );
  });

  test('X-Request-Id: generated, or echoed when the client sent a sane one', async () => {
    const a = await http.call('GET', url(PATHS.jwks));
    const b = await http.call('GET', url(PATHS.jwks));
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
    const c = await http.call('GET', url(PATHS.jwks), { headers: { 'x-request-id': 'trace-123' } });
    expect(c.headers['x-request-id']).toBe('trace-123');
    const d = await http.call('GET', url(PATHS.jwks), {
      headers: { 'x-request-id': 'bad id\twith tab' },
    });
    expect(d.headers['x-request-id']).not.toContain('bad');
  });

  test('a trailing slash and a query string are tolerated', async () => {
    const r = await http.call('GET', `${url(PATHS.jwks)}/?x=1`);
    expect(r.status).toBe(200);
  });
});

describe('§8 admin HTTP API', () => {
  const admin = (path: string, body: unknown = {}, token = core.adminToken) =>
    http.call('POST', `${core.url}/admin/v1${path}`, {
      headers: { authorization: `Bearer ${token}` },
      body,
    });

  test('401 without the admin token, for every route', async () => {
    for (const p of ['/sites', '/agents', '/signing-keys/rotate', '/pow-difficulty']) {
      expectFailure(await admin(p, {}, 'wrong-token-wrong-token'), 401, 'UNAUTHORIZED');
      expectFailure(
        await http.call('POST', `${core.url}/admin/v1${p}`, { body: {} }),
        401,
        'UNAUTHORIZED',
      );
    }
  });

  test('provision a site and an agent over HTTP and log in with them', async () => {
    const s = expectSuccess(await admin('/sites', { name: 'http site' }), 201);
    expect(s.site_token).toMatch(/^st_/);
    const a = expectSuccess(
      await admin('/agents', {
        display_name: 'http bot',
        user_kyc_level: 1,
        agent_reputation: 0.5,
      }),
      201,
    );
    expect(a.agent_token).toMatch(/^at_/);
    expect(a.display_name).toBe('http bot');
    const id = await createRequest(http, core, s.site_token);
    expectSuccess(await approve(http, core, id, a.agent_token));

    const rs = expectSuccess(await admin(`/sites/${s.site_id}/token/rotate`));
    expect(rs.site_token).not.toBe(s.site_token);
    expectSuccess(await admin(`/sites/${s.site_id}/suspend`));
    expectSuccess(await admin(`/sites/${s.site_id}/unsuspend`));
    expectSuccess(await admin(`/sites/${s.site_id}/token/revoke`));
    const ra = expectSuccess(await admin(`/agents/${a.agent_id}/token/rotate`));
    expect(ra.agent_token).toMatch(/^at_/);
    expectSuccess(await admin(`/agents/${a.agent_id}/oauth`, { allowed: false }));
    expectFailure(
      await admin(`/agents/${a.agent_id}/oauth`, { allowed: 'no' }),
      400,
      'VALIDATION_ERROR',
    );
    expectSuccess(await admin(`/agents/${a.agent_id}/token/revoke`));
    expectFailure(await admin('/agents/agt_nope/token/rotate'), 404, 'NOT_FOUND');
    expectFailure(await admin('/sites/site_nope/suspend'), 404, 'NOT_FOUND');
  });

  test('difficulty, expiry, keys and bindings over HTTP', async () => {
    expectFailure(await admin('/pow-difficulty', { difficulty: -1 }), 400, 'VALIDATION_ERROR');
    expect(expectSuccess(await admin('/pow-difficulty', { difficulty: 4 })).difficulty).toBe(4);
    const id = await createRequest(http, core, siteToken);
    expectSuccess(await admin(`/login-requests/${id}/expire`));
    expectFailure(await admin(`/login-requests/${id}/expire`), 409, 'REQUEST_ALREADY_APPROVED');
    expectFailure(await admin('/login-requests/lr_nope/expire'), 404, 'REQUEST_NOT_FOUND');

    const listed = expectSuccess(
      await http.call('GET', `${core.url}/admin/v1/signing-keys`, {
        headers: { authorization: `Bearer ${core.adminToken}` },
      }),
    );
    expect(listed.published).toContain(listed.active_kid);
    expect(expectSuccess(await admin('/sweep')).expired).toBe(0);
    const rot = expectSuccess(await admin('/signing-keys/rotate', { activate: false }));
    const before = (await core.admin.signingKeys()).activeKid;
    expect(rot.active_kid).toBe(before);
    expectSuccess(await admin(`/signing-keys/${rot.kid}/activate`));
    expect((await core.admin.signingKeys()).activeKid).toBe(rot.kid);
    expectFailure(await admin(`/signing-keys/${rot.kid}/retire`), 409, 'KEY_IN_USE');
    expectSuccess(await admin(`/signing-keys/${before}/retire`));
    expectFailure(await admin(`/signing-keys/${before}/retire`), 404, 'NOT_FOUND');

    const b = await http.call('POST', url(PATHS.createBindingRequest), {
      headers: { 'x-site-token': siteToken },
      body: { redirect_uri: 'https://app.example/cb' },
    });
    const done = expectSuccess(
      await admin(`/bindings/${b.json.data.binding_id}/complete`, { agent_id: agentId }),
    );
    expect(done.redirect_url).toContain('passport=');
    expectFailure(
      await admin('/bindings/bnd_x/complete', { agent_id: 5 }),
      400,
      'VALIDATION_ERROR',
    );
  });
});
