// Near its memory bound the Core sheds load (503 OVERLOADED + Retry-After,
// in the envelope) on the calls that make it hold more, instead of dying
// with "heap out of memory"; everything else keeps working.
import { isFailureEnvelope, PATHS } from '@lime/wire';
import { afterAll, describe, expect, test } from 'vitest';
import { approve, createRequest, httpClient, provision, startTestCore } from './helpers.js';

const http = httpClient();
afterAll(() => http.close());

describe.each(['core', 'hosted'] as const)('profile %s', (profile) => {
  test('over maxHeapBytes: create and approve answer 503 OVERLOADED with Retry-After', async () => {
    const c = await startTestCore({ profile, powDifficulty: 0, maxHeapBytes: 1 });
    try {
      const { site, agent } = await provision(c);
      const create = await http.call('POST', c.apiBase + PATHS.createLoginRequest, {
        headers: { 'x-site-token': site.siteToken },
        body: {},
      });
      expect(create.status).toBe(503);
      expect(isFailureEnvelope(create.json)).toBe(true);
      expect(create.json.error.code).toBe('OVERLOADED');
      expect(Number(create.headers['retry-after'])).toBeGreaterThan(0);
      const approved = await http.call('POST', c.apiBase + PATHS.approveLoginRequest('lr_x'), {
        headers: { 'x-agent-token': agent.agentToken },
        body: { pow_nonce: '0' },
      });
      expect(approved.status).toBe(503);
      expect(approved.json.error.code).toBe('OVERLOADED');
      expect(approved.headers['retry-after']).toBe(create.headers['retry-after']);
      // Credentials are still checked first, and reads still work.
      const anonymous = await http.call('POST', c.apiBase + PATHS.createLoginRequest, {
        body: {},
      });
      expect(anonymous.status).toBe(401);
      expect(
        (
          await http.call('GET', c.apiBase + PATHS.jwks, {
            headers: { 'user-agent': 'curl/8.5.0' },
          })
        ).status,
      ).toBe(200);
    } finally {
      await c.close();
    }
  });
});

test('under the bound (and with `false`) nothing is shed', async () => {
  for (const maxHeapBytes of [Number.MAX_SAFE_INTEGER, false] as const) {
    const c = await startTestCore({ powDifficulty: 0, maxHeapBytes });
    try {
      const { site, agent } = await provision(c);
      const id = await createRequest(http, c, site.siteToken);
      expect((await approve(http, c, id, agent.agentToken)).status).toBe(200);
    } finally {
      await c.close();
    }
  }
});

test('maxHeapBytes is validated', async () => {
  await expect(startTestCore({ maxHeapBytes: 0 })).rejects.toThrow(/maxHeapBytes/);
  await expect(startTestCore({ maxHeapBytes: 1.5 })).rejects.toThrow(/maxHeapBytes/);
});
