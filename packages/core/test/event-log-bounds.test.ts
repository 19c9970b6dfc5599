// The event log is bounded by count as well as time, and a retained login
// (request record + `approved` event) stays small in the heap.
import { generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PATHS } from '@lime/wire';
import fc from 'fast-check';
import { type LoginRequestRecord, MemoryStore } from 'lime-core';
import { afterAll, describe, expect, test } from 'vitest';
import {
  createRequest,
  httpClient,
  openStream,
  provision,
  significant,
  startTestCore,
  streamEpoch,
} from './helpers.js';

const http = httpClient();
afterAll(() => http.close());

describe('maxEventsPerSite', () => {
  test('keeps the newest N events; resuming from before them gets resync', async () => {
    const c = await startTestCore({ powDifficulty: 0, maxEventsPerSite: 3 });
    try {
      const { site } = await provision(c);
      const epoch = await streamEpoch(c, site.siteToken);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const id = await createRequest(http, c, site.siteToken);
        await c.admin.expireLoginRequest(id);
        ids.push(id);
      }
      const url = c.apiBase + PATHS.loginEvents;
      const behind = await openStream(url, site.siteToken, { lastEventId: `${epoch}-1` });
      const got = significant(await behind.until((m) => significant(m).length >= 4));
      expect(got[0]!.data).toEqual({ type: 'resync' });
      expect(got.slice(1).map((m) => m.data.login_request_id)).toEqual(ids.slice(2));
      await behind.close();
      const inside = await openStream(url, site.siteToken, { lastEventId: `${epoch}-2` });
      const ok = significant(await inside.until((m) => significant(m).length >= 3));
      expect(ok.map((m) => m.data.login_request_id)).toEqual(ids.slice(2));
      await inside.close();
    } finally {
      await c.close();
    }
  });

  test('is validated', async () => {
    await expect(startTestCore({ maxEventsPerSite: 0 })).rejects.toThrow(/maxEventsPerSite/);
  });
});

// A passport-shaped JWT: real base64url segments, RS256-sized signature.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const HEADER = Buffer.from(
  JSON.stringify({ alg: 'RS256', kid: randomBytes(32).toString('base64url'), typ: 'JWT' }),
).toString('base64url');
function passport(requestId: string): string {
  const payload = Buffer.from(
    JSON.stringify({
      iss: 'http://127.0.0.1:40123',
      sub: `agt_${randomBytes(16).toString('base64url')}`,
      aud: 'lime-site-login',
      iat: 1_800_000_000,
      exp: 1_800_000_060,
      jti: randomUUID(),
      request_id: requestId,
      site_id: `site_${randomBytes(16).toString('base64url')}`,
      user_id: `usr_${randomBytes(16).toString('base64url')}`,
      user_kyc_level: 2,
      agent_reputation: 0.75,
      passport_version: 1,
    }),
  ).toString('base64url');
  const input = `${HEADER}.${payload}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

describe('MemoryStore keeps what it was given', () => {
  test('events read back exactly as appended (packed or not)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ redirect: fc.option(fc.webUrl(), { nil: undefined }) }).map(({ redirect }) =>
            JSON.stringify({
              type: 'approved',
              login_request_id: `lr_${randomBytes(16).toString('base64url')}`,
              agent_passport_jwt: passport('lr_x'),
              ...(redirect === undefined ? {} : { redirect_url: redirect }),
            }),
          ),
          fc.string().map((s) => JSON.stringify({ type: 'approved', login_request_id: s })),
          fc.string({ unit: 'grapheme' }),
          // Non-canonical base64url (stray bits in the last character) stays text.
          fc.constant(
            '{"type":"approved","login_request_id":"lr_a","agent_passport_jwt":"eyJh.eyJi.abd"}',
          ),
        ),
        async (data) => {
          const store = new MemoryStore();
          await store.appendEvent('s', data, 1_700_000_000_123);
          const { events } = await store.eventsAfter('s', 0);
          expect(events).toEqual([{ id: 1, siteId: 's', data, at: 1_700_000_000_123 }]);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('request records read back exactly as put and transitioned', async () => {
    const store = new MemoryStore();
    const r: LoginRequestRecord = {
      id: 'lr_1',
      siteId: 'site_1',
      challenge: randomBytes(32).toString('hex'),
      difficulty: 15,
      status: 'PENDING',
      createdAt: 1_700_000_000_001,
      expiresAt: 1_700_000_300_001,
      approvedAgentId: null,
      approvedAt: null,
      redirectUrl: 'https://site.example/back',
    };
    await store.putLoginRequest(r);
    expect(await store.getLoginRequest('lr_1')).toEqual(r);
    const odd = { ...r, id: 'lr_2', challenge: 'Not-Hex' };
    await store.putLoginRequest(odd);
    expect(await store.getLoginRequest('lr_2')).toEqual(odd);
    const next = await store.transitionLoginRequest('lr_1', ['PENDING'], {
      status: 'APPROVED',
      approvedAgentId: 'agt_1',
      approvedAt: 1_700_000_010_000.5,
    });
    expect(next).toEqual({
      ...r,
      status: 'APPROVED',
      approvedAgentId: 'agt_1',
      approvedAt: 1_700_000_010_000.5,
    });
    expect(await store.getLoginRequest('lr_1')).toEqual(next);
  });
});

describe('heap per retained login', () => {
  test('a request record and its `approved` event cost at most 1,200 bytes in the store', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { getHeapStatistics } = await import('node:v8');
    const heap = () => {
      gc();
      gc();
      return getHeapStatistics().used_heap_size;
    };
    const n = 5_000;
    const site = `site_${randomBytes(16).toString('base64url')}`;
    const agent = `agt_${randomBytes(16).toString('base64url')}`;
    const store = new MemoryStore();
    const before = heap();
    // What the Core hands the store; it keeps no copy once stored.
    const inputs = Array.from({ length: n }, () => {
      const id = `lr_${randomBytes(16).toString('base64url')}`;
      return {
        id,
        data: JSON.stringify({
          type: 'approved',
          login_request_id: id,
          agent_passport_jwt: passport(id),
        }),
      };
    });
    const now = Date.now();
    for (const { id, data } of inputs) {
      await store.putLoginRequest({
        id: `${id}`,
        siteId: site,
        challenge: randomBytes(32).toString('hex'),
        difficulty: 0,
        status: 'PENDING',
        createdAt: now,
        expiresAt: now + 300_000,
        approvedAgentId: null,
        approvedAt: null,
        redirectUrl: null,
      });
      await store.transitionLoginRequest(id, ['PENDING'], {
        status: 'APPROVED',
        approvedAgentId: agent,
        approvedAt: now + 1,
      });
      await store.appendEvent(site, data, now + 1);
      await store.transitionLoginRequest(id, ['APPROVED'], { status: 'DELIVERED' });
    }
    inputs.length = 0;
    const perLogin = (heap() - before) / n;
    expect((await store.eventsAfter(site, 0)).events).toHaveLength(n);
    // Kept as JSON text and plain records this was ~1,700 bytes.
    expect(perLogin).toBeLessThanOrEqual(1_200);
  });
});
