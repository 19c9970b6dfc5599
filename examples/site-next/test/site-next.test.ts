// The Next.js App Router for real: this app, built by `next build` and served
// by `next start` (and `next dev`) in a child process, its login routes one
// line each (`export const POST = login.finish`), with a real agent logging in
// through the reference Core. It tells the same story as the express, Fastify
// and Hono servers of packages/sites-sdk/test/login-handlers.test.ts, then 20
// logins at once, and shows one LimeSite per server process.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { LimeAgent } from 'lime-agents-sdk';
import { type Core, type CoreLogEntry, startCore } from 'lime-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, loginStory } from '../../../packages/sites-sdk/test/helpers/login-story.js';
import { appDir, type NextServer, nextBuild, startNext } from './next-process.js';

let core: Core;
let agent: LimeAgent;
let agentId: string;
let userId: string;
let siteEnv: Record<string, string>;
let buildOutput: string;
const coreLog: CoreLogEntry[] = [];
const servers: NextServer[] = [];

/** Event streams opened at the Core (each LimeSite holds one). */
const streamsOpened = () =>
  coreLog.filter((e) => e.method === 'GET' && e.path?.endsWith('/modules/agent-login/events'))
    .length;

/** Login request ids of the sessions the app's onLogin opened, from its log. */
const sessionsOpened = (server: NextServer) =>
  [...server.output().matchAll(/session opened for agent \S+ \(login (\S+)\)/g)].map((m) => m[1]!);

beforeAll(async () => {
  // Next serves the SDK as users get it: the package's built entry, not its sources.
  try {
    createRequire(`${appDir}package.json`).resolve('lime-sites-sdk');
  } catch (error) {
    throw new Error('lime-sites-sdk is not built: run `pnpm build` first', { cause: error });
  }
  core = await startCore({ powDifficulty: 0, log: (entry) => coreLog.push(entry) });
  const { siteToken } = await core.admin.createSite({ name: 'next' });
  const created = await core.admin.createAgent({ displayName: 'next bot' });
  ({ agentId, userId } = created);
  agent = new LimeAgent({ apiBase: core.apiBase, agentToken: created.agentToken });
  siteEnv = { LIME_SITE_TOKEN: siteToken, LIME_API_BASE: core.apiBase };
  // Built without any LIME_ variable, as in a CI that holds no secrets.
  buildOutput = await nextBuild();
}, 240_000);

afterAll(async () => {
  for (const server of servers.splice(0)) await server.close();
  await agent?.close();
  await core?.close();
});

async function serve(command: 'start' | 'dev', extraArgs: string[] = []): Promise<NextServer> {
  const server = await startNext(command, siteEnv, extraArgs);
  servers.push(server);
  return server;
}

/** The shared story, with the app's /me and log as the window on its sessions. */
function story(server: NextServer) {
  return loginStory(server.url, {
    agent,
    agentId,
    userId,
    async session(sid) {
      const me = await client(server.url).call('/me', 'GET', { cookie: `sid=${sid}` });
      if (me.status !== 200) return undefined;
      return { agentId: me.body.agentId, requestId: me.body.loginRequestId };
    },
    sessionCount: async () => sessionsOpened(server).length,
  });
}

describe('next build', () => {
  it('bundles lime-sites-sdk once, into a chunk every route loads, and creates no LimeSite', () => {
    const server = join(appDir, '.next/server');
    const routes = ['login/start', 'login/finish', 'me'].map((route) =>
      readFileSync(join(server, 'app', route, 'route.js'), 'utf8'),
    );
    const chunks = readdirSync(join(server, 'chunks')).filter((f) => f.endsWith('.js'));
    // A message only the SDK's createLoginHandlers holds.
    const sdkChunks = chunks.filter((f) =>
      readFileSync(join(server, 'chunks', f), 'utf8').includes('options with `site` and `onLogin`'),
    );
    expect(sdkChunks).toHaveLength(1);
    for (const route of routes) expect(route).toContain(`server/chunks/${sdkChunks[0]}`);
    // The build imported the routes without LIME_SITE_TOKEN: nothing ran at import time.
    expect(buildOutput).toMatch(/Collecting page data/);
    expect(buildOutput).not.toMatch(/LimeSite ready/);
    expect(streamsOpened()).toBe(0);
  });
});

describe('next start', () => {
  let next: NextServer;
  beforeAll(async () => {
    next = await serve('start');
  }, 90_000);

  it('logs an agent in through the one-line routes, and /me knows the session', async () => {
    expect((await client(next.url).call('/me', 'GET')).status).toBe(401);
    await story(next);
  });

  it('20 logins at once each complete exactly once, each into its own session', async () => {
    const before = sessionsOpened(next).length;
    const ids = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const browser = client(next.url);
        const start = await browser.call('/login/start');
        expect(start.status).toBe(201);
        const loginRequestId: string = start.body.loginRequestId;
        const loginCookie = browser.jar.get('lime_login')!;
        await agent.login(loginRequestId);
        expect(await browser.call('/login/finish')).toMatchObject({
          status: 200,
          body: { agentId, userId },
        });
        expect(await browser.call('/me', 'GET')).toMatchObject({
          status: 200,
          body: { agentId, userId, loginRequestId },
        });
        const replay = client(next.url);
        replay.jar.set('lime_login', loginCookie);
        expect((await replay.call('/login/finish')).status).toBe(409);
        return loginRequestId;
      }),
    );
    expect(new Set(ids).size).toBe(20);
    const opened = sessionsOpened(next).slice(before);
    expect(opened.toSorted()).toEqual(ids.toSorted());
  });

  it('one LimeSite in the server process: every route shares it (one event stream)', () => {
    expect(next.output().match(/LimeSite ready/g)).toHaveLength(1);
    expect(streamsOpened()).toBe(1);
  });
});

// Dev mode is where one module can be evaluated more than once per process:
// with webpack each route is compiled, and holds its module copies, on its own.
describe.each([
  ['Turbopack', []],
  ['webpack', ['--webpack']],
])('next dev (%s)', (_bundler, args) => {
  it('logs an agent in, the finish route seeing the login the start route began', async () => {
    const streams = streamsOpened();
    const next = await serve('dev', args);
    await story(next);
    expect(next.output().match(/LimeSite ready/g)).toHaveLength(1);
    expect(streamsOpened()).toBe(streams + 1);
    await next.close();
  }, 120_000);
});
