// PROTOCOL.md §3.5 and its [extension]: broadcast, ids, retry, keepalive,
// Last-Event-ID replay without gaps or duplicates, resync, expiry events.
import { isFailureEnvelope, PATHS } from '@lime/wire';
import fc from 'fast-check';
import type { Core } from 'lime-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  approve,
  createRequest,
  EVENT_ID,
  epochOf,
  httpClient,
  openStream,
  provision,
  type SseMessage,
  seq,
  significant,
  startTestCore,
  streamEpoch,
} from './helpers.js';

const http = httpClient();
let offset = 0;
let core: Core;

beforeAll(async () => {
  core = await startTestCore({
    powDifficulty: 0,
    clock: () => Date.now() + offset,
    keepaliveMs: 60,
    sweepIntervalMs: 20,
    retentionMs: 60_000,
  });
});
afterAll(async () => {
  await core.close();
  await http.close();
});

const eventsUrl = () => core.apiBase + PATHS.loginEvents;
const FRAME = /^retry: \d+\n\n((id: [A-Za-z0-9_]+-\d+\n)?data: \{[^\n]*\}\n\n)*$/;

describe('stream basics', () => {
  test('retry first, ids on approved, one-line JSON data, DELIVERED after delivery', async () => {
    const { site, agent } = await provision(core);
    const stream = await openStream(eventsUrl(), site.siteToken);
    expect(stream.status).toBe(200);
    expect(String(stream.headers['content-type'])).toMatch(/^text\/event-stream/);
    expect(stream.headers['cache-control']).toMatch(/no-cache/);
    expect(stream.headers['x-request-id']).toMatch(/\S/);
    const id = await createRequest(http, core, site.siteToken);
    const r = await approve(http, core, id, agent.agentToken);
    expect(r.json.data.status).toBe('DELIVERED');
    const ch = await http.call('GET', core.apiBase + PATHS.loginChallenge(id));
    expect(ch.json.data.status).toBe('DELIVERED');
    const msgs = significant(await stream.until((m) => significant(m).length >= 1));
    expect(msgs[0]).toEqual({
      id: expect.stringMatching(EVENT_ID),
      data: { type: 'approved', login_request_id: id, agent_passport_jwt: expect.any(String) },
    });
    expect(seq(msgs[0]!.id)).toBe('1');
    expect(stream.retry).toBe(1000);
    expect(stream.raw.startsWith('retry: 1000\n\n')).toBe(true);
    expect(stream.raw).toMatch(FRAME);
    await stream.close();
  });

  test('without a stream the request stays APPROVED; a replay makes it DELIVERED', async () => {
    const { site, agent } = await provision(core);
    const id = await createRequest(http, core, site.siteToken);
    const r = await approve(http, core, id, agent.agentToken);
    expect(r.json.data.status).toBe('APPROVED');
    const stream = await openStream(eventsUrl(), site.siteToken, { lastEventId: '0' });
    await stream.until((m) => significant(m).length >= 1);
    const again = await approve(http, core, id, agent.agentToken);
    expect(again.json.data.status).toBe('DELIVERED');
    await stream.close();
  });

  test('every connection of a site gets every event; other sites get none', async () => {
    const { site, agent } = await provision(core);
    const other = await core.admin.createSite({ name: 'other' });
    const streams = await Promise.all([1, 2, 3].map(() => openStream(eventsUrl(), site.siteToken)));
    const foreign = await openStream(eventsUrl(), other.siteToken);
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const id = await createRequest(http, core, site.siteToken);
      await approve(http, core, id, agent.agentToken);
      ids.push(id);
    }
    for (const s of streams) {
      const msgs = significant(await s.until((m) => significant(m).length >= 3));
      expect(msgs.map((m) => seq(m.id))).toEqual(['1', '2', '3']);
      expect(msgs.map((m) => m.data.login_request_id)).toEqual(ids);
      await s.close();
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(significant(foreign.messages)).toEqual([]);
    await foreign.close();
  });

  test('a keepalive every keepaliveMs: never more often, never much later', async () => {
    const { site } = await provision(core);
    const opened = performance.now();
    const stream = await openStream(eventsUrl(), site.siteToken);
    // The first frame is the resume position (id 0: no events yet), then
    // the periodic keepalives, which carry no id.
    const periodicOf = (m: typeof stream.messages) => m.slice(1);
    await stream.until((m) => periodicOf(m).filter((x) => x.data.type === 'keepalive').length >= 4);
    expect(stream.messages[0]).toMatchObject({ data: { type: 'keepalive' } });
    expect(seq(stream.messages[0]!.id)).toBe('0');
    const periodic = periodicOf(stream.messages);
    const times = [opened, ...periodic.map((m) => m.at)];
    // keepaliveMs is 60 here. Server timers never fire early, so the k-th
    // keepalive cannot arrive before k × 60 ms after the stream opened…
    periodic.forEach((m, i) => {
      expect(m.at - opened).toBeGreaterThanOrEqual((i + 1) * 60 - 5);
    });
    // …and none comes much later than the interval (slack for a loaded machine).
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    for (const gap of gaps) expect(gap).toBeLessThanOrEqual(60 + 1_000);
    expect(periodic.every((m) => m.id === undefined && m.data.type === 'keepalive')).toBe(true);
    await stream.close();
  });

  test('401/403/400 before the stream starts, as envelopes', async () => {
    const missing = await http.call('GET', eventsUrl());
    expect(missing.status).toBe(401);
    expect(missing.json.error.code).toBe('SITE_TOKEN_MISSING');
    const wrong = await http.call('GET', eventsUrl(), { headers: { 'x-site-token': 'st_nope' } });
    expect(wrong.json.error.code).toBe('SITE_TOKEN_INVALID');
    const { site } = await provision(core);
    for (const bad of ['abc', '-1', '01', '1.5', '99999999999999999']) {
      const r = await http.call('GET', eventsUrl(), {
        headers: { 'x-site-token': site.siteToken, 'last-event-id': bad },
      });
      expect(r.status).toBe(400);
      expect(isFailureEnvelope(r.json)).toBe(true);
      expect(r.json.error.detail.field).toBe('Last-Event-ID');
    }
    await core.admin.suspendSite(site.siteId);
    const sus = await http.call('GET', eventsUrl(), {
      headers: { 'x-site-token': site.siteToken },
    });
    expect(sus.status).toBe(403);
    expect(sus.json.error.code).toBe('SITE_SUSPENDED');
  });

  test('rotating the site token ends open streams with an error event', async () => {
    const { site } = await provision(core);
    const stream = await openStream(eventsUrl(), site.siteToken);
    await core.admin.rotateSiteToken(site.siteId);
    await stream.done;
    expect(stream.messages.at(-1)?.data).toMatchObject({
      type: 'error',
      code: 'SITE_TOKEN_INVALID',
    });
  });
});

describe('expiry', () => {
  test('a request that times out unapproved emits `expired` (timer sweep on the injected clock)', async () => {
    const { site } = await provision(core);
    const stream = await openStream(eventsUrl(), site.siteToken);
    const id = await createRequest(http, core, site.siteToken);
    offset += 301_000;
    const msgs = significant(await stream.until((m) => significant(m).length >= 1));
    expect(msgs[0]!.data).toEqual({ type: 'expired', login_request_id: id });
    expect(seq(msgs[0]!.id)).toBe('1');
    const ch = await http.call('GET', core.apiBase + PATHS.loginChallenge(id));
    expect(ch.status).toBe(410);
    await stream.close();
  });

  test('admin.sweep() expires due requests at once; lazily, any request notices', async () => {
    const local = { now: Date.now() };
    const c = await startTestCore({
      powDifficulty: 0,
      clock: () => local.now,
      requestTtlMs: 1_000,
      sweepIntervalMs: 3_600_000,
    });
    try {
      const { site } = await provision(c);
      const stream = await openStream(c.apiBase + PATHS.loginEvents, site.siteToken);
      const a = await createRequest(http, c, site.siteToken);
      const b = await createRequest(http, c, site.siteToken);
      expect(await c.admin.sweep()).toEqual({ expired: 0 });
      local.now += 1_000;
      expect(await c.admin.sweep()).toEqual({ expired: 2 });
      const msgs = significant(await stream.until((m) => significant(m).length >= 2));
      expect(msgs.map((m) => m.data)).toEqual([
        { type: 'expired', login_request_id: a },
        { type: 'expired', login_request_id: b },
      ]);
      // Lazy path: no timer, no admin call — the next request triggers the sweep.
      const d = await createRequest(http, c, site.siteToken);
      local.now += 1_000;
      await http.call('GET', c.apiBase + PATHS.jwks);
      const all = significant(await stream.until((m) => significant(m).length >= 3));
      expect(all[2]!.data).toEqual({ type: 'expired', login_request_id: d });
      expect(seq(all[2]!.id)).toBe('3');
      await stream.close();
    } finally {
      await c.close();
    }
  });

  test('admin expiry emits `expired` once; a later approve gets 410', async () => {
    const { site, agent } = await provision(core);
    const stream = await openStream(eventsUrl(), site.siteToken);
    const id = await createRequest(http, core, site.siteToken);
    await core.admin.expireLoginRequest(id);
    await expect(core.admin.expireLoginRequest(id)).rejects.toMatchObject({ status: 409 });
    const r = await approve(http, core, id, agent.agentToken);
    expect(r.status).toBe(410);
    await new Promise((res) => setTimeout(res, 30));
    const got = significant(stream.messages);
    expect(got.map((m) => m.data)).toEqual([{ type: 'expired', login_request_id: id }]);
    expect(got.map((m) => seq(m.id))).toEqual(['1']);
    await stream.close();
  });
});

describe('resumable delivery', () => {
  test('Last-Event-ID replays retained events after n, then continues live', async () => {
    const { site, agent } = await provision(core);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = await createRequest(http, core, site.siteToken);
      await approve(http, core, id, agent.agentToken);
      ids.push(id);
    }
    const epoch = await streamEpoch(core, site.siteToken);
    const stream = await openStream(eventsUrl(), site.siteToken, { lastEventId: `${epoch}-2` });
    await stream.until((m) => significant(m).length >= 3);
    const id6 = await createRequest(http, core, site.siteToken);
    await approve(http, core, id6, agent.agentToken);
    const msgs = significant(await stream.until((m) => significant(m).length >= 4));
    expect(msgs.map((m) => m.id)).toEqual(['3', '4', '5', '6'].map((n) => `${epoch}-${n}`));
    expect(msgs.map((m) => m.data.login_request_id)).toEqual([...ids.slice(2), id6]);
    await stream.close();
  });

  test('a fresh stream gets a resume position, so a cut before its first event loses nothing', async () => {
    const { site, agent } = await provision(core);
    // history the new stream must not replay
    await approve(http, core, await createRequest(http, core, site.siteToken), agent.agentToken);
    const first = await openStream(eventsUrl(), site.siteToken);
    const [position] = await first.until((m) => m.some((x) => x.id !== undefined));
    expect(position).toMatchObject({ data: { type: 'keepalive' } });
    expect(seq(position!.id)).toBe('1');
    await first.close(); // cut before any event of this connection
    const missed: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = await createRequest(http, core, site.siteToken);
      await approve(http, core, id, agent.agentToken);
      missed.push(id);
    }
    const again = await openStream(eventsUrl(), site.siteToken, { lastEventId: position!.id });
    const msgs = significant(await again.until((m) => significant(m).length >= 3));
    expect(msgs.map((m) => m.id)).toEqual(
      ['2', '3', '4'].map((n) => `${epochOf(position!.id)}-${n}`),
    );
    expect(msgs.map((m) => m.data.login_request_id)).toEqual(missed);
    await again.close();
  });

  test('cut anywhere, reconnect with Last-Event-ID: every event exactly once, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: 8 }),
        async (cuts) => {
          const { site, agent } = await provision(core);
          const total = 12;
          const produced: string[] = [];
          const producer = (async () => {
            for (let i = 0; i < total; i++) {
              const id = await createRequest(http, core, site.siteToken);
              if (i % 3 === 2) await core.admin.expireLoginRequest(id);
              else await approve(http, core, id, agent.agentToken);
              produced.push(id);
              await new Promise((r) => setTimeout(r, 1));
            }
          })();
          const seen: Array<Omit<SseMessage, 'at'>> = [];
          let last = '0';
          let round = 0;
          while (seen.length < total) {
            const cut = round < cuts.length ? cuts[round] : undefined;
            round++;
            const s = await openStream(eventsUrl(), site.siteToken, {
              lastEventId: last,
              ...(cut === undefined ? {} : { cutAfterBytes: cut }),
            });
            if (cut === undefined) {
              await s.until((m) => seen.length + significant(m).length >= total, 10_000);
              await s.close();
            } else {
              await Promise.race([s.done, new Promise((r) => setTimeout(r, 300))]);
              await s.close();
            }
            for (const m of significant(s.messages)) {
              expect(m.data.type).not.toBe('resync');
              seen.push(m);
              last = m.id!;
            }
          }
          await producer;
          expect(seen.map((m) => seq(m.id))).toEqual(produced.map((_, i) => String(i + 1)));
          expect(seen.map((m) => m.data.login_request_id)).toEqual(produced);
        },
      ),
      { numRuns: 12 },
    );
  });

  test('resync when Last-Event-ID is older than the retention window', async () => {
    const local = { now: Date.now() };
    const c = await startTestCore({ powDifficulty: 0, clock: () => local.now, retentionMs: 1_000 });
    try {
      const { site, agent } = await provision(c);
      for (let i = 0; i < 2; i++) {
        await approve(http, c, await createRequest(http, c, site.siteToken), agent.agentToken);
      }
      local.now += 2_000;
      const id3 = await createRequest(http, c, site.siteToken);
      await approve(http, c, id3, agent.agentToken);
      const url = c.apiBase + PATHS.loginEvents;
      const epoch = await streamEpoch(c, site.siteToken);

      const behind = await openStream(url, site.siteToken, { lastEventId: `${epoch}-1` });
      const got = significant(await behind.until((m) => significant(m).length >= 2));
      expect(got[0]!.data).toEqual({ type: 'resync' });
      expect(got[0]!.id).toBeUndefined();
      expect(got[1]).toMatchObject({ id: `${epoch}-3`, data: { login_request_id: id3 } });
      await behind.close();

      const current = await openStream(url, site.siteToken, { lastEventId: `${epoch}-2` });
      const ok = significant(await current.until((m) => significant(m).length >= 1));
      await new Promise((r) => setTimeout(r, 30));
      expect(significant(current.messages).map((m) => m.id)).toEqual([`${epoch}-3`]);
      expect(ok[0]!.data.type).toBe('approved');
      await current.close();

      const future = await openStream(url, site.siteToken, { lastEventId: `${epoch}-99` });
      const f = significant(await future.until((m) => significant(m).length >= 1));
      expect(f[0]!.data).toEqual({ type: 'resync' });
      await future.close();
    } finally {
      await c.close();
    }
  });

  test('close() ends open streams cleanly', async () => {
    const c = await startTestCore({ powDifficulty: 0 });
    const { site } = await provision(c);
    const streams = await Promise.all(
      [1, 2].map(() => openStream(c.apiBase + PATHS.loginEvents, site.siteToken)),
    );
    const started = Date.now();
    await c.close();
    await Promise.all(streams.map((s) => s.done));
    expect(Date.now() - started).toBeLessThan(1_500);
    for (const s of streams) {
      expect(s.ended).toBe(true);
      expect(s.raw).toMatch(FRAME);
    }
  });
});
