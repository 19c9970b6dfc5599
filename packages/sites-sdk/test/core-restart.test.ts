// A Core restart, seen from a connected LimeSite over real HTTP and SSE:
// with the same store the stream resumes with no resync; with a fresh event
// log (a new store that only carries the site and the agent over) the site is
// told (`resync`), and no login approved after the restart is lost — the old
// resume id names the old log, so it is never misread as a position in the
// new one.
import { LimeAgent } from 'lime-agents-sdk';
import { type Core, MemoryStore, startCore } from 'lime-core';
import { LimeSite, type SiteEvent } from 'lime-sites-sdk';
import { afterEach, describe, expect, it } from 'vitest';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function scenario(keepStore: boolean) {
  const first = new MemoryStore();
  let core: Core = await startCore({ powDifficulty: 0, store: first });
  const port = Number(new URL(core.url).port);
  const { siteId, siteToken } = await core.admin.createSite({ name: 'restart' });
  const { agentId, agentToken } = await core.admin.createAgent({ displayName: 'restart-bot' });
  const site = new LimeSite({
    siteToken,
    apiBase: core.apiBase,
    reconnectMinDelay: 50,
    jwks: { minRefreshInterval: 100 },
  });
  const agent = new LimeAgent({ apiBase: core.apiBase, agentToken });
  const events: SiteEvent[] = [];
  const iterate = (async () => {
    for await (const e of site.events()) events.push(e);
  })();
  cleanups.push(async () => {
    await site.close();
    await iterate;
    await agent.close();
    await core.close();
  });

  // One login before the restart: the site holds a resume id of the first log.
  const before = await site.createLoginRequest();
  const w1 = site.waitForLogin(before.loginRequestId, { timeout: 15_000 });
  await agent.login(before.loginRequestId);
  await w1;
  expect(site.lastEventId).toBeDefined();

  await core.close();
  let store = first;
  if (!keepStore) {
    store = new MemoryStore(); // a fresh event log: only the site and the agent carried over
    await store.putSite((await first.getSite(siteId))!);
    await store.putAgent((await first.getAgent(agentId))!);
  }
  core = await startCore({ powDifficulty: 0, store, port });

  // A login created and approved after the restart.
  const after = await site.createLoginRequest();
  const w2 = site.waitForLogin(after.loginRequestId, { timeout: 15_000 });
  await agent.login(after.loginRequestId);
  const passport = await w2;
  return { passport, after, events };
}

describe('Core restart', () => {
  it('same store: resumes, no resync, the next login completes', async () => {
    const { passport, after, events } = await scenario(true);
    expect(passport.requestId).toBe(after.loginRequestId);
    expect(events.some((e) => e.type === 'resync')).toBe(false);
  });

  it('fresh event log: the site is told (resync) and the login approved after the restart completes', async () => {
    const { passport, after, events } = await scenario(false);
    expect(passport.requestId).toBe(after.loginRequestId);
    expect(events.some((e) => e.type === 'resync')).toBe(true);
  });
});
