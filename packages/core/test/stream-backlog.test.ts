// PROTOCOL.md §3.5 resumable delivery under load: a reconnect far behind
// (10,000 events, ~10 MiB) resumes completely, at the reader's pace, with
// live events queued after the replay — over real HTTP, read raw.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { PATHS } from '@lime/wire';
import { type Core, MemoryStore } from 'lime-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRequest, httpClient, provision, startTestCore } from './helpers.js';

const BACKLOG = 10_000;
// About the size of a real `approved` event (a passport is ~900 characters).
const FAKE_PASSPORT = `eyJ${'x'.repeat(880)}`;

const http = httpClient();
let core: Core;
let store: MemoryStore;

beforeAll(async () => {
  store = new MemoryStore();
  core = await startTestCore({ powDifficulty: 0, store, retentionMs: 3_600_000 });
});
afterAll(async () => {
  await core.close();
  await http.close();
});

interface RawFrame {
  id: string | undefined;
  data: { type: string; login_request_id?: string };
}

/**
 * A raw SSE reader: node:http, frames split on blank lines, no parser in
 * between. `delayMs` pauses the socket after every 32 KiB (a slow reader).
 */
function rawStream(siteToken: string, lastEventId: string | undefined, delayMs: number) {
  const frames: RawFrame[] = [];
  let buffer = '';
  let sincePause = 0;
  let ended = false;
  let res: IncomingMessage | undefined;
  const waiters: Array<() => void> = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  const url = new URL(core.apiBase + PATHS.loginEvents);
  const req = httpRequest(url, {
    headers: {
      'x-site-token': siteToken,
      accept: 'text/event-stream',
      ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
    },
  });
  const opened = new Promise<number>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (r) => {
      res = r;
      r.setEncoding('utf8');
      r.on('data', (chunk: string) => {
        buffer += chunk;
        let cut = buffer.indexOf('\n\n');
        while (cut !== -1) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let id: string | undefined;
          let data: string | undefined;
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) id = line.slice(4);
            else if (line.startsWith('data: ')) data = line.slice(6);
          }
          if (data !== undefined) frames.push({ id, data: JSON.parse(data) });
          cut = buffer.indexOf('\n\n');
        }
        // Every HTTP chunk is one frame: pause per 32 KiB read, not per chunk.
        sincePause += chunk.length;
        if (delayMs > 0 && sincePause >= 32_768) {
          sincePause = 0;
          r.pause();
          setTimeout(() => r.resume(), delayMs);
        }
        wake();
      });
      const end = () => {
        ended = true;
        wake();
      };
      r.on('end', end);
      r.on('close', end);
      r.on('error', end);
      resolve(r.statusCode ?? 0);
    });
  });
  req.end();
  return {
    opened,
    frames,
    significant: () => frames.filter((f) => f.data.type !== 'keepalive'),
    async until(pred: () => boolean, timeoutMs: number): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!pred()) {
        if (ended) throw new Error(`stream ended after ${frames.length} frames`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timeout after ${frames.length} frames`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(left, 250));
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
    close() {
      res?.destroy();
      req.destroy();
    },
  };
}

/** A site whose log holds BACKLOG events; returns its token and the resume id before them. */
async function siteWithBacklog() {
  const { site, agent } = await provision(core);
  const fresh = rawStream(site.siteToken, undefined, 0);
  await fresh.opened;
  await fresh.until(() => fresh.frames.some((f) => f.id !== undefined), 5_000);
  const position = fresh.frames.find((f) => f.id !== undefined)!.id!;
  fresh.close();
  const now = Date.now();
  for (let i = 0; i < BACKLOG; i++) {
    const data = JSON.stringify({
      type: 'approved',
      login_request_id: `lr_backlog_${i}`,
      agent_passport_jwt: FAKE_PASSPORT,
    });
    await store.appendEvent(site.siteId, data, now);
  }
  return { site, agent, position };
}

function expectContiguous(frames: RawFrame[], total: number) {
  expect(frames.some((f) => f.data.type === 'resync')).toBe(false);
  const ids = frames.map((f) => f.id);
  expect(new Set(ids).size).toBe(ids.length); // no duplicates
  expect(frames).toHaveLength(total); // no gaps
  // In order: the numeric tail of each id increases by one.
  const tails = ids.map((id) => Number(/(\d+)$/.exec(id ?? '')?.[1]));
  tails.forEach((n, i) => {
    if (i > 0) expect(n).toBe(tails[i - 1]! + 1);
  });
}

describe('resume of a large backlog', () => {
  test('10,000 events (~10 MiB) behind: every one arrives, in order, then live', async () => {
    const { site, position } = await siteWithBacklog();
    const s = rawStream(site.siteToken, position, 0);
    expect(await s.opened).toBe(200);
    await s.until(() => s.significant().length >= BACKLOG, 30_000);
    const live = await createRequest(http, core, site.siteToken);
    await core.admin.expireLoginRequest(live);
    await s.until(() => s.significant().length >= BACKLOG + 1, 10_000);
    const got = s.significant();
    expectContiguous(got, BACKLOG + 1);
    expect(got[0]!.data.login_request_id).toBe('lr_backlog_0');
    expect(got.at(-1)!.data).toEqual({ type: 'expired', login_request_id: live });
    s.close();
  }, 60_000);

  test('a slow reader gets the whole backlog; live events published meanwhile follow it', async () => {
    const { site, position } = await siteWithBacklog();
    const s = rawStream(site.siteToken, position, 25);
    expect(await s.opened).toBe(200);
    // Live events while the replay is still being read.
    await s.until(() => s.significant().length >= 100, 10_000);
    const live: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = await createRequest(http, core, site.siteToken);
      await core.admin.expireLoginRequest(id);
      live.push(id);
    }
    expect(s.significant().length).toBeLessThan(BACKLOG); // still replaying
    await s.until(() => s.significant().length >= BACKLOG + live.length, 50_000);
    await new Promise((r) => setTimeout(r, 50));
    const got = s.significant();
    expectContiguous(got, BACKLOG + live.length);
    expect(got.slice(BACKLOG).map((f) => f.data.login_request_id)).toEqual(live);
    s.close();
  }, 90_000);
});
