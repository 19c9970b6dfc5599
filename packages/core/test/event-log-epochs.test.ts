// PROTOCOL.md §3.5: event ids name their log. After a restart on the same
// store, old ids resume seamlessly; after a restart on a new log, an old id
// is foreign: `resync` first, then the new log's retained events — whether
// the new log is behind or already past the old id's position.
import { PATHS } from '@lime/wire';
import { type Core, MemoryStore } from 'lime-core';
import { afterAll, describe, expect, test } from 'vitest';
import {
  approve,
  createRequest,
  EVENT_ID,
  httpClient,
  openStream,
  provision,
  significant,
  startTestCore,
} from './helpers.js';

const http = httpClient();
const started: Core[] = [];
afterAll(async () => {
  await Promise.all(started.map((c) => c.close()));
  await http.close();
});

async function start(store: MemoryStore): Promise<Core> {
  const c = await startTestCore({ powDifficulty: 0, store });
  started.push(c);
  return c;
}

/** Produce `n` events on the site's log (approve or expire), return the request ids. */
async function produce(c: Core, siteToken: string, agentToken: string, n: number) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = await createRequest(http, c, siteToken);
    if (i % 2 === 0) await approve(http, c, id, agentToken);
    else await c.admin.expireLoginRequest(id);
    ids.push(id);
  }
  return ids;
}

/** Read the events of a first Core on `store` and return the last id the client saw. */
async function firstLife(store: MemoryStore, events: number) {
  const first = await start(store);
  const { site, agent } = await provision(first);
  const s = await openStream(first.apiBase + PATHS.loginEvents, site.siteToken);
  await produce(first, site.siteToken, agent.agentToken, events);
  const seen = significant(await s.until((m) => significant(m).length >= events));
  await s.close();
  await first.close();
  return { site, agent, lastId: seen.at(-1)!.id! };
}

/** Sites and agents survive in a new store only if copied: re-provision by hand. */
async function carryOver(from: MemoryStore, to: MemoryStore, siteId: string, agentId: string) {
  await to.putSite((await from.getSite(siteId))!);
  await to.putAgent((await from.getAgent(agentId))!);
}

describe('event ids across restarts', () => {
  test('ids are `<epoch>-<n>`, the same epoch for every site of one log', async () => {
    const c = await start(new MemoryStore());
    const a = await provision(c);
    const b = await provision(c);
    const ids: string[] = [];
    for (const p of [a, b]) {
      const s = await openStream(c.apiBase + PATHS.loginEvents, p.site.siteToken);
      await produce(c, p.site.siteToken, p.agent.agentToken, 1);
      ids.push(significant(await s.until((m) => significant(m).length >= 1))[0]!.id!);
      await s.close();
    }
    for (const id of ids) expect(id).toMatch(EVENT_ID);
    expect(ids[0]!.split('-')[0]).toBe(ids[1]!.split('-')[0]);
  });

  test('a restart that keeps the store resumes old ids with no resync', async () => {
    const store = new MemoryStore();
    const { site, agent, lastId } = await firstLife(store, 2);
    const second = await start(store);
    const missed = await produce(second, site.siteToken, agent.agentToken, 3);
    const s = await openStream(second.apiBase + PATHS.loginEvents, site.siteToken, {
      lastEventId: lastId,
    });
    const got = significant(await s.until((m) => significant(m).length >= 3));
    await new Promise((r) => setTimeout(r, 30));
    expect(significant(s.messages).map((m) => m.data.type)).not.toContain('resync');
    expect(got.map((m) => m.data.login_request_id)).toEqual(missed);
    await s.close();
  });

  test('a new log behind the old id: resync, then every retained event of the new log', async () => {
    const old = new MemoryStore();
    const { site, agent, lastId } = await firstLife(old, 4);
    const fresh = new MemoryStore();
    await carryOver(old, fresh, site.siteId, agent.agentId);
    const second = await start(fresh);
    const newer = await produce(second, site.siteToken, agent.agentToken, 2);
    const s = await openStream(second.apiBase + PATHS.loginEvents, site.siteToken, {
      lastEventId: lastId,
    });
    const got = significant(await s.until((m) => significant(m).length >= 3));
    expect(got[0]!.data).toEqual({ type: 'resync' });
    expect(got.slice(1).map((m) => m.data.login_request_id)).toEqual(newer);
    await s.close();
  });

  test('a new log already past the old id: resync too, and nothing of it skipped', async () => {
    const old = new MemoryStore();
    const { site, agent, lastId } = await firstLife(old, 2);
    const fresh = new MemoryStore();
    await carryOver(old, fresh, site.siteId, agent.agentId);
    const second = await start(fresh);
    const newer = await produce(second, site.siteToken, agent.agentToken, 5);
    const s = await openStream(second.apiBase + PATHS.loginEvents, site.siteToken, {
      lastEventId: lastId,
    });
    const got = significant(await s.until((m) => significant(m).length >= 6));
    expect(got[0]!.data).toEqual({ type: 'resync' });
    expect(got.slice(1).map((m) => m.data.login_request_id)).toEqual(newer);
    // The new ids are not the old ones: a client de-duplicating by id drops nothing.
    expect(got.slice(1).map((m) => m.id)).not.toContain(lastId);
    await s.close();
  });

  test('a bare number (ids before epochs) is foreign; a bare 0 replays everything', async () => {
    const c = await start(new MemoryStore());
    const { site, agent } = await provision(c);
    const ids = await produce(c, site.siteToken, agent.agentToken, 3);
    const legacy = await openStream(c.apiBase + PATHS.loginEvents, site.siteToken, {
      lastEventId: '2',
    });
    const got = significant(await legacy.until((m) => significant(m).length >= 4));
    expect(got[0]!.data).toEqual({ type: 'resync' });
    expect(got.slice(1).map((m) => m.data.login_request_id)).toEqual(ids);
    await legacy.close();
    const zero = await openStream(c.apiBase + PATHS.loginEvents, site.siteToken, {
      lastEventId: '0',
    });
    const all = significant(await zero.until((m) => significant(m).length >= 3));
    await new Promise((r) => setTimeout(r, 30));
    expect(significant(zero.messages)).toHaveLength(3);
    expect(all.map((m) => m.data.login_request_id)).toEqual(ids);
    await zero.close();
  });
});

describe('resume position in the response head', () => {
  test('a fresh stream states its position before any byte: resuming from it misses nothing', async () => {
    const c = await start(new MemoryStore());
    const { site, agent } = await provision(c);
    await produce(c, site.siteToken, agent.agentToken, 2);
    // Open, read only the head, and drop the stream (a cut before the first id: line).
    const ac = new AbortController();
    const res = await fetch(c.apiBase + PATHS.loginEvents, {
      headers: { 'x-site-token': site.siteToken, accept: 'text/event-stream' },
      signal: ac.signal,
    });
    const head = res.headers.get('x-lime-last-event-id');
    ac.abort();
    expect(head).toMatch(EVENT_ID);
    // Events published after the cut come back from that position, with no resync.
    const later = await produce(c, site.siteToken, agent.agentToken, 2);
    const s = await openStream(c.apiBase + PATHS.loginEvents, site.siteToken, {
      lastEventId: head!,
    });
    const got = significant(await s.until((m) => significant(m).length >= 2));
    await s.close();
    const data = got.map((m) => m.data as { type?: string; login_request_id?: string });
    expect(data.map((d) => d.login_request_id)).toEqual(later);
    expect(data.some((d) => d.type === 'resync')).toBe(false);
  });

  test('the hosted profile sends no position (it has no resume)', async () => {
    const c = await startTestCore({ powDifficulty: 0, profile: 'hosted' });
    started.push(c);
    const { site } = await provision(c);
    const ac = new AbortController();
    const res = await fetch(c.apiBase + PATHS.loginEvents, {
      headers: { 'x-site-token': site.siteToken, accept: 'text/event-stream' },
      signal: ac.signal,
    });
    expect(res.headers.get('x-lime-last-event-id')).toBeNull();
    ac.abort();
  });
});
