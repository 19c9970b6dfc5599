// Credentials stored as hashes, limits (body, rate), and no secret in any
// response, error message or log line.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { PATHS } from '@lime/wire';
import { type AgentRecord, type CoreLogEntry, MemoryStore, type SiteRecord } from 'lime-core';
import { request } from 'undici';
import { afterAll, describe, expect, test } from 'vitest';
import {
  approve,
  createRequest,
  httpClient,
  openStream,
  provision,
  significant,
  startTestCore,
} from './helpers.js';

const http = httpClient();
afterAll(() => http.close());

class RecordingStore extends MemoryStore {
  readonly written: unknown[] = [];
  override async putSite(site: SiteRecord) {
    this.written.push(site);
    return super.putSite(site);
  }
  override async putAgent(agent: AgentRecord) {
    this.written.push(agent);
    return super.putAgent(agent);
  }
  override async updateSite(id: string, patch: Partial<SiteRecord>) {
    this.written.push(patch);
    return super.updateSite(id, patch);
  }
  override async updateAgent(id: string, patch: Partial<AgentRecord>) {
    this.written.push(patch);
    return super.updateAgent(id, patch);
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('credentials', () => {
  test('tokens are at_/st_ + 32 random bytes base64url and stored only as SHA-256', async () => {
    const store = new RecordingStore();
    const core = await startTestCore({ powDifficulty: 0, store });
    try {
      const { site, agent } = await provision(core);
      const { siteToken } = await core.admin.rotateSiteToken(site.siteId);
      const { agentToken } = await core.admin.rotateAgentToken(agent.agentId);
      for (const t of [site.siteToken, siteToken]) expect(t).toMatch(/^st_[A-Za-z0-9_-]{43}$/);
      for (const t of [agent.agentToken, agentToken]) expect(t).toMatch(/^at_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(siteToken.slice(3), 'base64url')).toHaveLength(32);
      const dump = JSON.stringify(store.written);
      for (const t of [site.siteToken, siteToken, agent.agentToken, agentToken]) {
        expect(dump).not.toContain(t);
        expect(dump).not.toContain(t.slice(3));
      }
      expect((await store.getSite(site.siteId))?.tokenHash).toBe(sha256(siteToken));
      expect((await store.getAgent(agent.agentId))?.tokenHash).toBe(sha256(agentToken));
    } finally {
      await core.close();
    }
  });

  test('no secret in responses, error messages or logs', async () => {
    const logs: CoreLogEntry[] = [];
    const core = await startTestCore({ powDifficulty: 0, log: (e) => logs.push(e) });
    try {
      const { site, agent } = await provision(core);
      const stream = await openStream(core.apiBase + PATHS.loginEvents, site.siteToken);
      const id = await createRequest(http, core, site.siteToken);
      const ok = await approve(http, core, id, agent.agentToken);
      const passport = significant(await stream.until((m) => significant(m).length >= 1))[0]!.data
        .agent_passport_jwt as string;
      await stream.close();
      const mcp = await http.call('POST', core.apiBase + PATHS.oauthToken, {
        headers: { 'x-agent-token': agent.agentToken },
        body: { domain: 'mcp.example.com' },
      });
      const secrets = [
        site.siteToken,
        agent.agentToken,
        core.adminToken,
        passport,
        mcp.json.access_token,
      ];
      const texts = [ok.text];
      // Wrong credentials that look real must not be echoed back either.
      const fakeSite = `st_${'Q'.repeat(43)}`;
      const fakeAgent = `at_${'Z'.repeat(43)}`;
      const fakeAdmin = 'adm_not-the-admin-token-at-all';
      texts.push(
        (
          await http.call('POST', core.apiBase + PATHS.createLoginRequest, {
            headers: { 'x-site-token': fakeSite },
            body: {},
          })
        ).text,
        (
          await http.call('POST', core.apiBase + PATHS.approveLoginRequest(id), {
            headers: { 'x-agent-token': fakeAgent },
            body: { pow_nonce: '0' },
          })
        ).text,
        (
          await http.call('POST', core.apiBase + PATHS.oauthToken, {
            headers: { 'x-agent-token': fakeAgent },
            body: { domain: 'x.example' },
          })
        ).text,
        (
          await http.call('POST', `${core.url}/admin/v1/sites`, {
            headers: { authorization: `Bearer ${fakeAdmin}` },
            body: {},
          })
        ).text,
      );
      for (const text of texts) {
        for (const s of [...secrets, fakeSite, fakeAgent, fakeAdmin]) expect(text).not.toContain(s);
      }
      expect(logs.length).toBeGreaterThan(5);
      const logText = JSON.stringify(logs);
      for (const s of [...secrets, fakeSite, fakeAgent, fakeAdmin])
        expect(logText).not.toContain(s);
      expect(logs.some((l) => l.status === 401)).toBe(true);
    } finally {
      await core.close();
    }
  });
});

describe('limits', () => {
  test('413 past maxBodyBytes, also for chunked bodies; the Core keeps serving', async () => {
    const core = await startTestCore({ powDifficulty: 0, maxBodyBytes: 256 });
    try {
      const { site } = await provision(core);
      const url = core.apiBase + PATHS.createLoginRequest;
      const big = JSON.stringify({ pad: 'x'.repeat(400) });
      const r1 = await http.call('POST', url, {
        headers: { 'x-site-token': site.siteToken, 'content-type': 'application/json' },
        rawBody: big,
      });
      expect(r1.status).toBe(413);
      expect(r1.json.error.code).toBe('PAYLOAD_TOO_LARGE');
      const chunked = await request(url, {
        method: 'POST',
        headers: { 'x-site-token': site.siteToken, 'content-type': 'application/json' },
        body: Readable.from([Buffer.from(big.slice(0, 200)), Buffer.from(big.slice(200))]),
      });
      expect(chunked.statusCode).toBe(413);
      expect(JSON.parse(await chunked.body.text()).error.code).toBe('PAYLOAD_TOO_LARGE');
      await createRequest(http, core, site.siteToken);
    } finally {
      await core.close();
    }
  });

  test('429 RATE_LIMIT_EXCEEDED with Retry-After, per IP', async () => {
    // A frozen clock: no refill between the calls, however slow the machine.
    const frozen = Date.now();
    const core = await startTestCore({
      powDifficulty: 0,
      clock: () => frozen,
      rateLimits: { perIp: { burst: 5, perSecond: 0.5 }, perCredential: false },
    });
    try {
      const statuses: number[] = [];
      let limited: Awaited<ReturnType<typeof http.call>> | undefined;
      for (let i = 0; i < 8; i++) {
        const r = await http.call('GET', core.apiBase + PATHS.jwks);
        statuses.push(r.status);
        if (r.status === 429) limited = r;
      }
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(statuses.slice(5)).toEqual([429, 429, 429]);
      expect(limited!.json.error.code).toBe('RATE_LIMIT_EXCEEDED');
      expect(limited!.headers['retry-after']).toMatch(/^[1-9]\d*$/);
      expect(limited!.headers['retry-after']).toBe('2');
    } finally {
      await core.close();
    }
  });

  test('429 per credential: one noisy site does not limit another; the clock refills', async () => {
    const clock = { now: Date.now() };
    const core = await startTestCore({
      powDifficulty: 0,
      clock: () => clock.now,
      rateLimits: { perCredential: { burst: 3, perSecond: 1 } },
    });
    try {
      const a = await core.admin.createSite({ name: 'noisy' });
      const b = await core.admin.createSite({ name: 'quiet' });
      const call = (token: string) =>
        http.call('POST', core.apiBase + PATHS.createLoginRequest, {
          headers: { 'x-site-token': token },
          body: {},
        });
      for (let i = 0; i < 3; i++) expect((await call(a.siteToken)).status).toBe(201);
      const limited = await call(a.siteToken);
      expect(limited.status).toBe(429);
      expect(limited.headers['retry-after']).toBe('1');
      expect((await call(b.siteToken)).status).toBe(201);
      clock.now += 1_000;
      expect((await call(a.siteToken)).status).toBe(201);
      // The token endpoint keeps the envelope for 429.
      const agent = await core.admin.createAgent({});
      const tok = () =>
        http.call('POST', core.apiBase + PATHS.oauthToken, {
          headers: { 'x-agent-token': agent.agentToken },
          body: { domain: 'a.example' },
        });
      for (let i = 0; i < 3; i++) expect((await tok()).status).toBe(200);
      const r = await tok();
      expect(r.status).toBe(429);
      expect(r.json.error.code).toBe('RATE_LIMIT_EXCEEDED');
    } finally {
      await core.close();
    }
  });
});
