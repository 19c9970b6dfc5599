// End to end: three site instances (express + the login handlers) on one
// real Redis (RedisReplayStore) and one signing secret, behind a round-robin
// front — every HTTP call goes to the next instance, so a login's finish
// usually lands on another instance than its start — while real agents
// (LimeAgent) approve against the reference Core, which broadcasts every
// passport to every instance. Each login must complete exactly once, and a
// replayed finish on yet another instance must be refused.
//
// LIME_REDIS_E2E_LOGINS sets the number of logins: 300 by default, to stay
// well under a minute on CI; LIME_REDIS_E2E_LOGINS=1000 is the full run (about
// 45–65 s on two cores).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';
import { LimeAgent } from 'lime-agents-sdk';
import { type Core, startCore } from 'lime-core';
import { createLoginHandlers, LimeSite, RedisReplayStore } from 'lime-sites-sdk';
import { toExpressHandler } from 'lime-sites-sdk/express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, skipRedis, startRedis } from './helpers/redis-server.js';

const LOGINS = Number(process.env.LIME_REDIS_E2E_LOGINS ?? 300);
const CONCURRENCY = 25;
const AGENTS = 5;
const SECRET = 'e2e: one signing secret for the three instances';

describe.skipIf(skipRedis)('three site instances on one Redis, round robin', () => {
  let redis: RedisServer;
  let core: Core;
  const instances: Array<{ site: LimeSite; client: Redis; server: Server; url: string }> = [];
  const agents: LimeAgent[] = [];
  /** login request id → instances whose onLogin ran for it. */
  const completed = new Map<string, number[]>();

  beforeAll(async () => {
    redis = await startRedis();
    core = await startCore({ powDifficulty: 0, rateLimits: false });
    const { siteToken } = await core.admin.createSite({ name: 'three instances' });
    for (let i = 0; i < AGENTS; i++) {
      const { agentToken } = await core.admin.createAgent({ displayName: `e2e bot ${i}` });
      agents.push(new LimeAgent({ apiBase: core.apiBase, agentToken }));
    }
    for (let i = 0; i < 3; i++) {
      const client = new Redis(redis.url);
      const site = new LimeSite({
        siteToken,
        apiBase: core.apiBase,
        issuer: core.issuer,
        replayStore: new RedisReplayStore({ client }),
        outcomeBufferSize: LOGINS + 100,
      });
      const login = createLoginHandlers({
        site,
        secret: SECRET,
        waitTimeout: 30_000,
        onLogin: (passport) => {
          const list = completed.get(passport.requestId) ?? [];
          list.push(i);
          completed.set(passport.requestId, list);
          return { sessionCookie: { name: 'sid', value: crypto.randomUUID() } };
        },
      });
      const app = express();
      app.post('/login/start', toExpressHandler(login.start));
      app.post('/login/finish', toExpressHandler(login.finish));
      const server = app.listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      await site.connect();
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      instances.push({ site, client, server, url });
    }
  }, 60_000);

  afterAll(async () => {
    for (const { site, client, server } of instances) {
      await new Promise((r) => server.close(r));
      await site.close();
      client.disconnect();
    }
    for (const a of agents) await a.close();
    await core?.close();
    await redis?.stop();
  });

  it(`${LOGINS} logins: each completes exactly once, wherever its finish lands; replays are refused`, async () => {
    let next = 0;
    /** The round-robin front: each call goes to the next instance. */
    const front = async (path: string, cookie?: string) => {
      const index = next++ % instances.length;
      const res = await fetch(instances[index]!.url + path, {
        method: 'POST',
        headers: cookie ? { cookie } : {},
      });
      return { index, res };
    };
    let crossInstance = 0;
    let replaysRefused = 0;
    const failures: string[] = [];

    const one = async (n: number) => {
      const start = await front('/login/start');
      if (start.res.status !== 201) throw new Error(`start answered ${start.res.status}`);
      const { loginRequestId } = (await start.res.json()) as { loginRequestId: string };
      const cookie = start.res.headers.getSetCookie()[0]!.split(';')[0]!;
      await agents[n % AGENTS]!.login(loginRequestId);
      const finish = await front('/login/finish', cookie);
      if (finish.res.status !== 200) {
        failures.push(`${loginRequestId}: finish ${finish.res.status} ${await finish.res.text()}`);
        return;
      }
      await finish.res.arrayBuffer();
      if (finish.index !== start.index) crossInstance++;
      const replay = await front('/login/finish', cookie);
      await replay.res.arrayBuffer();
      if (replay.res.status === 409) replaysRefused++;
      else failures.push(`${loginRequestId}: replayed finish answered ${replay.res.status}`);
    };

    const started = performance.now();
    let cursor = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (cursor < LOGINS) await one(cursor++);
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const exactlyOnce = [...completed.values()].filter((list) => list.length === 1).length;
    console.log(
      `three instances, one Redis: ${LOGINS} logins in ${seconds.toFixed(1)} s (${(LOGINS / seconds).toFixed(0)}/s), ` +
        `${exactlyOnce} completed exactly once, ${crossInstance} finished on another instance than their start, ` +
        `${replaysRefused} replayed finishes refused`,
    );
    expect(failures).toEqual([]);
    expect(completed.size).toBe(LOGINS);
    expect(exactlyOnce).toBe(LOGINS);
    expect(replaysRefused).toBe(LOGINS);
    expect(crossInstance).toBeGreaterThan(0);
  }, 300_000);
});
