// §3.4: exactly one approval ever wins, also under concurrency.
import { PATHS } from '@lime/wire';
import { type Core, MemoryStore } from 'lime-core';
import { afterAll, describe, expect, test } from 'vitest';
import {
  createRequest,
  httpClient,
  openStream,
  significant,
  solvePow,
  startTestCore,
} from './helpers.js';

const http = httpClient();
afterAll(() => http.close());

const STORE_METHODS = [
  'putSite',
  'getSite',
  'findSiteByTokenHash',
  'updateSite',
  'putAgent',
  'getAgent',
  'findAgentByTokenHash',
  'updateAgent',
  'putLoginRequest',
  'getLoginRequest',
  'transitionLoginRequest',
  'deleteLoginRequestsEndedBefore',
  'putBinding',
  'getBinding',
  'transitionBinding',
  'appendEvent',
  'eventsAfter',
  'pruneEvents',
];

/** A store whose every call takes a random few event-loop turns, to shuffle interleavings. */
class JitteryStore extends MemoryStore {
  constructor() {
    super();
    const proto = MemoryStore.prototype as unknown as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(MemoryStore.prototype)) {
      const fn = proto[name];
      // Only the CoreStore methods; private helpers stay synchronous.
      if (!STORE_METHODS.includes(name) || typeof fn !== 'function') continue;
      (this as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
        const turns = Math.floor(Math.random() * 4);
        for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
        return (fn as (...a: unknown[]) => Promise<unknown>).apply(this, args);
      };
    }
  }
}

async function race(core: Core, sameAgent: boolean) {
  const site = await core.admin.createSite({ name: 'race' });
  const agents = await Promise.all(
    Array.from({ length: sameAgent ? 1 : 50 }, (_, i) =>
      core.admin.createAgent({ displayName: `racer ${i}` }),
    ),
  );
  const stream = await openStream(core.apiBase + PATHS.loginEvents, site.siteToken);
  const id = await createRequest(http, core, site.siteToken);
  const ch = await http.call('GET', core.apiBase + PATHS.loginChallenge(id));
  const nonce = solvePow(ch.json.data.pow_challenge, ch.json.data.pow_difficulty);
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      http.call('POST', core.apiBase + PATHS.approveLoginRequest(id), {
        headers: { 'x-agent-token': agents[i % agents.length]!.agentToken },
        body: { pow_nonce: nonce },
      }),
    ),
  );
  await stream.until((m) => significant(m).length >= 1);
  // Give any (wrong) second event time to show up.
  await new Promise((r) => setTimeout(r, 100));
  const events = significant(stream.messages);
  await stream.close();
  return { results, events, agents };
}

describe('50 concurrent approvals of one request', () => {
  for (const store of ['memory', 'jittery'] as const) {
    test(`different agents: exactly one 200 and one passport (${store} store)`, async () => {
      const core = await startTestCore({
        powDifficulty: 3,
        ...(store === 'jittery' ? { store: new JitteryStore() } : {}),
      });
      try {
        const { results, events, agents } = await race(core, false);
        const won = results.filter((r) => r.status === 200);
        const lost = results.filter((r) => r.status === 409);
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(49);
        for (const r of lost) expect(r.json.error.code).toBe('REQUEST_ALREADY_APPROVED');
        expect(events).toHaveLength(1);
        expect(events[0]!.data.type).toBe('approved');
        const winner = won[0]!.json.data.approved_agent_id;
        expect(agents.map((a) => a.agentId)).toContain(winner);
        const payload = JSON.parse(
          Buffer.from(events[0]!.data.agent_passport_jwt.split('.')[1], 'base64url').toString(),
        );
        expect(payload.sub).toBe(winner);
      } finally {
        await core.close();
      }
    });
  }

  test('the same agent 50 times: every answer is the winner’s 200, still one passport', async () => {
    const core = await startTestCore({ powDifficulty: 0, store: new JitteryStore() });
    try {
      const { results, events, agents } = await race(core, true);
      expect(results.every((r) => r.status === 200)).toBe(true);
      for (const r of results) expect(r.json.data.approved_agent_id).toBe(agents[0]!.agentId);
      expect(events).toHaveLength(1);
    } finally {
      await core.close();
    }
  });

  test('approval racing expiry: exactly one of approved/expired', async () => {
    const core = await startTestCore({ powDifficulty: 0, store: new JitteryStore() });
    try {
      const site = await core.admin.createSite({ name: 'race' });
      const agent = await core.admin.createAgent({ displayName: 'a' });
      const stream = await openStream(core.apiBase + PATHS.loginEvents, site.siteToken);
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const id = await createRequest(http, core, site.siteToken);
        ids.push(id);
        const [r] = await Promise.all([
          http.call('POST', core.apiBase + PATHS.approveLoginRequest(id), {
            headers: { 'x-agent-token': agent.agentToken },
            body: { pow_nonce: '0' },
          }),
          core.admin.expireLoginRequest(id).catch(() => undefined),
        ]);
        expect([200, 410]).toContain(r.status);
      }
      await stream.until((m) => significant(m).length >= 20);
      await new Promise((r) => setTimeout(r, 50));
      const events = significant(stream.messages);
      expect(events.map((e) => e.data.login_request_id)).toEqual(ids);
      await stream.close();
    } finally {
      await core.close();
    }
  });
});
