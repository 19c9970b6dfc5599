// §4 passports, §5 binding passports, §7 MCP tokens: exact claims, and every
// token verifies with jose against the served JWKS until its key is retired.
import { AUDIENCE, MCP_FORBIDDEN_CLAIMS, PATHS } from '@lime/wire';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
} from 'jose';
import { type Core, MemoryStore } from 'lime-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  approve,
  createRequest,
  httpClient,
  openStream,
  provision,
  seq,
  significant,
  startTestCore,
} from './helpers.js';

const http = httpClient();
let core: Core;

beforeAll(async () => {
  core = await startTestCore({ powDifficulty: 0 });
});
afterAll(async () => {
  await core.close();
  await http.close();
});

/** The served JWKS as a jose key set, fetched now (no cache). */
async function servedKeys(c: Core) {
  const r = await http.call('GET', c.apiBase + PATHS.jwks);
  return createLocalJWKSet({ keys: r.json.keys });
}

/** Log in once and return the passport the site stream received. */
async function mintPassport(c: Core, p: Awaited<ReturnType<typeof provision>>) {
  const stream = await openStream(c.apiBase + PATHS.loginEvents, p.site.siteToken);
  const id = await createRequest(http, c, p.site.siteToken);
  await approve(http, c, id, p.agent.agentToken);
  const msgs = significant(await stream.until((m) => significant(m).length >= 1));
  await stream.close();
  return { id, passport: msgs[0]!.data.agent_passport_jwt as string };
}

async function mintMcpToken(c: Core, agentToken: string, body: object) {
  const r = await http.call('POST', c.apiBase + PATHS.oauthToken, {
    headers: { 'x-agent-token': agentToken },
    body,
  });
  expect(r.status).toBe(200);
  return r.json.access_token as string;
}

describe('§4 site passport', () => {
  test('exact claims, RS256 header with kid, 60 s, verifies with createRemoteJWKSet', async () => {
    const p = await provision(core);
    const { id, passport } = await mintPassport(core, p);
    const header = decodeProtectedHeader(passport);
    expect(header).toEqual({ alg: 'RS256', kid: expect.any(String), typ: 'JWT' });
    const meta = await http.call('GET', core.apiBase + PATHS.oauthMetadata);
    const jwks = createRemoteJWKSet(new URL(meta.json.jwks_uri));
    const { payload } = await jwtVerify(passport, jwks, {
      issuer: core.issuer,
      audience: AUDIENCE.sitePassport,
      algorithms: ['RS256'],
    });
    expect(Object.keys(payload).sort()).toEqual(
      [
        'iss',
        'sub',
        'aud',
        'iat',
        'exp',
        'jti',
        'request_id',
        'site_id',
        'user_id',
        'user_kyc_level',
        'agent_reputation',
        'passport_version',
      ].sort(),
    );
    expect(payload).toMatchObject({
      iss: core.issuer,
      sub: p.agent.agentId,
      aud: 'lime-site-login',
      request_id: id,
      site_id: p.site.siteId,
      user_id: p.agent.userId,
      user_kyc_level: 2,
      agent_reputation: 0.75,
      passport_version: 1,
    });
    expect(payload.exp! - payload.iat!).toBe(60);
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(5);
    expect(payload.jti).toMatch(/\S{16,}/);
  });

  test('each passport has its own jti', async () => {
    const p = await provision(core);
    const a = decodeJwt((await mintPassport(core, p)).passport);
    const b = decodeJwt((await mintPassport(core, p)).passport);
    expect(a.jti).not.toBe(b.jti);
  });
});

describe('§7 MCP access token', () => {
  test('claims: domain, client_id, scope; no passport claims; 300 s', async () => {
    const p = await provision(core);
    const token = await mintMcpToken(core, p.agent.agentToken, { domain: 'mcp.example.com' });
    const { payload, protectedHeader } = await jwtVerify(token, await servedKeys(core), {
      issuer: core.issuer,
      audience: AUDIENCE.mcp,
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(Object.keys(payload).sort()).toEqual(
      ['iss', 'sub', 'aud', 'iat', 'exp', 'jti', 'domain', 'client_id', 'scope'].sort(),
    );
    expect(payload).toMatchObject({
      sub: p.agent.agentId,
      aud: 'mcp',
      domain: 'mcp.example.com',
      client_id: p.agent.agentId,
      scope: 'mcp',
    });
    for (const c of MCP_FORBIDDEN_CLAIMS) expect(payload).not.toHaveProperty(c);
    expect(payload.exp! - payload.iat!).toBe(300);
  });

  test('resource (RFC 8707) → aud ["mcp", resource]', async () => {
    const p = await provision(core);
    const resource = 'https://mcp.example.com/mcp';
    const token = await mintMcpToken(core, p.agent.agentToken, {
      domain: 'mcp.example.com',
      resource,
    });
    const { payload } = await jwtVerify(token, await servedKeys(core), { audience: resource });
    expect(payload.aud).toEqual(['mcp', resource]);
  });

  test('mcpTokenTtlSeconds and passportTtlSeconds are honoured', async () => {
    const c = await startTestCore({
      powDifficulty: 0,
      mcpTokenTtlSeconds: 90,
      passportTtlSeconds: 30,
    });
    try {
      const p = await provision(c);
      const r = await http.call('POST', c.apiBase + PATHS.oauthToken, {
        headers: { 'x-agent-token': p.agent.agentToken },
        body: { domain: 'a.example' },
      });
      expect(r.json.expires_in).toBe(90);
      const t = decodeJwt(r.json.access_token);
      expect(t.exp! - t.iat!).toBe(90);
      const pass = decodeJwt((await mintPassport(c, p)).passport);
      expect(pass.exp! - pass.iat!).toBe(30);
    } finally {
      await c.close();
    }
  });
});

describe('§5 binding passport', () => {
  test('aud lime-binding, binding_id, at most 60 s, verifies', async () => {
    const p = await provision(core);
    const b = await http.call('POST', core.apiBase + PATHS.createBindingRequest, {
      headers: { 'x-site-token': p.site.siteToken },
      body: { redirect_uri: 'https://app.example/cb' },
    });
    const { passport } = await core.admin.completeBinding(b.json.data.binding_id, p.agent.agentId);
    const { payload } = await jwtVerify(passport, await servedKeys(core), {
      issuer: core.issuer,
      audience: AUDIENCE.bindingPassport,
    });
    expect(payload.binding_id).toBe(b.json.data.binding_id);
    expect(payload.sub).toBe(p.agent.agentId);
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(60);
  });
});

describe('§6 key rotation with overlap', () => {
  test('every minted token verifies until its key is retired, then fails', async () => {
    const c = await startTestCore({ powDifficulty: 0 });
    try {
      const p = await provision(c);
      const firstKid = (await c.admin.signingKeys()).activeKid;
      const old = [
        (await mintPassport(c, p)).passport,
        (await mintPassport(c, p)).passport,
        await mintMcpToken(c, p.agent.agentToken, { domain: 'mcp.example.com' }),
      ];
      const { kid } = await c.admin.rotateSigningKey({ activate: 'now' });
      expect(kid).not.toBe(firstKid);
      const jwks = await http.call('GET', c.apiBase + PATHS.jwks);
      expect(jwks.json.keys.map((k: { kid: string }) => k.kid).sort()).toEqual(
        [firstKid, kid].sort(),
      );
      const fresh = [
        (await mintPassport(c, p)).passport,
        await mintMcpToken(c, p.agent.agentToken, { domain: 'mcp.example.com' }),
      ];
      for (const t of fresh) expect(decodeProtectedHeader(t).kid).toBe(kid);
      // Overlap: old and new tokens both verify.
      let keys = await servedKeys(c);
      for (const t of [...old, ...fresh]) await jwtVerify(t, keys, { issuer: c.issuer });
      await expect(c.admin.retireSigningKey(kid)).rejects.toMatchObject({ status: 409 });
      await c.admin.retireSigningKey(firstKid);
      keys = await servedKeys(c);
      for (const t of old) {
        await expect(jwtVerify(t, keys)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
      }
      for (const t of fresh) await jwtVerify(t, keys, { issuer: c.issuer });
      await expect(c.admin.retireSigningKey(firstKid)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await c.close();
    }
  });

  test('a key can be published before it signs', async () => {
    const c = await startTestCore({ powDifficulty: 0 });
    try {
      const p = await provision(c);
      const before = (await c.admin.signingKeys()).activeKid;
      const { kid } = await c.admin.rotateSigningKey({ activate: false });
      const keys = await c.admin.signingKeys();
      expect(keys.activeKid).toBe(before);
      expect(keys.publishedKids).toContain(kid);
      const t1 = await mintMcpToken(c, p.agent.agentToken, { domain: 'a.example' });
      expect(decodeProtectedHeader(t1).kid).toBe(before);
      await c.admin.activateSigningKey(kid);
      const t2 = await mintMcpToken(c, p.agent.agentToken, { domain: 'a.example' });
      expect(decodeProtectedHeader(t2).kid).toBe(kid);
    } finally {
      await c.close();
    }
  });

  test('a restart with the same signingKey and store keeps tokens and event ids valid', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const store = new MemoryStore();
    const first = await startTestCore({ powDifficulty: 0, store, signingKey: pem });
    const p = await provision(first);
    const { passport } = await mintPassport(first, p);
    await first.close();
    const second = await startTestCore({ powDifficulty: 0, store, signingKey: privateKey });
    try {
      await jwtVerify(passport, await servedKeys(second), { audience: AUDIENCE.sitePassport });
      const again = await mintPassport(second, p);
      expect(decodeProtectedHeader(again.passport).kid).toBe(decodeProtectedHeader(passport).kid);
      const replay = await openStream(second.apiBase + PATHS.loginEvents, p.site.siteToken, {
        lastEventId: '0',
      });
      const ids = significant(await replay.until((m) => significant(m).length >= 2)).map(
        (m) => m.id,
      );
      expect(ids.map(seq)).toEqual(['1', '2']);
      await replay.close();
    } finally {
      await second.close();
    }
  });

  test('publicUrl is the issuer everywhere', async () => {
    const c = await startTestCore({ powDifficulty: 0, publicUrl: 'https://core.example/' });
    try {
      expect(c.issuer).toBe('https://core.example');
      const p = await provision(c);
      const t = await mintMcpToken(c, p.agent.agentToken, { domain: 'a.example' });
      expect(decodeJwt(t).iss).toBe('https://core.example');
      const meta = await http.call('GET', c.apiBase + PATHS.oauthMetadata);
      expect(meta.json.issuer).toBe('https://core.example');
      expect(meta.json.jwks_uri).toBe(`https://core.example/api/v1${PATHS.jwks}`);
    } finally {
      await c.close();
    }
  });
});
