// The web-standard login handlers mounted on the real frameworks — express
// (through lime-sites-sdk/express), Fastify (lime-sites-sdk/fastify) and Hono
// (on @hono/node-server, one line per route) — with a real agent (LimeAgent)
// logging in against the reference Core. Next.js App Router routes
// (`export const POST = login.finish`) are tested in a real Next app, built
// and served by Next: examples/site-next (`--project site-next`), which tells
// the same story (helpers/login-story.ts).
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { LimeAgent } from 'lime-agents-sdk';
import { type Core, startCore } from 'lime-core';
import {
  createLoginHandlers,
  LimeSite,
  type LoginHandlers,
  type LoginHandlersOptions,
  MemoryReplayStore,
  type Passport,
  type ReplayStore,
} from 'lime-sites-sdk';
import { toExpressHandler } from 'lime-sites-sdk/express';
import { toFastifyHandler } from 'lime-sites-sdk/fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginStory } from './helpers/login-story.js';

let core: Core;
let siteToken: string;
let agent: LimeAgent;
let agentId: string;
let userId: string;
const cleanups: Array<() => Promise<unknown> | unknown> = [];
const SECRET = 'a test secret of at least 32 bytes, shared by instances';

beforeAll(async () => {
  core = await startCore({ powDifficulty: 0 });
  ({ siteToken } = await core.admin.createSite({ name: 'handlers' }));
  const created = await core.admin.createAgent({ displayName: 'handler bot' });
  ({ agentId, userId } = created);
  agent = new LimeAgent({ apiBase: core.apiBase, agentToken: created.agentToken });
});
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await agent?.close();
  await core?.close();
});

/** A site and its handlers; sessions are what onLogin created (sid → passport). */
function newHandlers(extra: Partial<LoginHandlersOptions> = {}, replayStore?: ReplayStore) {
  const site = new LimeSite({ siteToken, apiBase: core.apiBase, issuer: core.issuer, replayStore });
  cleanups.push(() => site.close());
  const sessions = new Map<string, Passport>();
  const login = createLoginHandlers({
    site,
    secret: SECRET,
    waitTimeout: 10_000,
    onLogin: (passport) => {
      const sid = crypto.randomUUID();
      sessions.set(sid, passport);
      return { sessionCookie: { name: 'sid', value: sid, maxAge: 3_600_000 } };
    },
    ...extra,
  });
  return { site, login, sessions };
}

/** The shared story, told to a site whose sessions are `sessions`. */
function story(base: string, sessions: Map<string, Passport>) {
  return loginStory(base, {
    agent,
    agentId,
    userId,
    session: async (sid) => sessions.get(sid),
    sessionCount: async () => sessions.size,
  });
}

async function listening(server: { address(): AddressInfo | string | null }) {
  const address = server.address() as AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

describe('login handlers on real frameworks, with a real agent and the reference Core', () => {
  it('express (lime-sites-sdk/express)', async () => {
    const { login, sessions } = newHandlers();
    const app = express();
    app.post('/login/start', toExpressHandler(login.start));
    app.post('/login/finish', toExpressHandler(login.finish));
    const server = app.listen(0, '127.0.0.1');
    cleanups.push(() => new Promise((r) => server.close(r)));
    await new Promise((r) => server.once('listening', r));
    await story(await listening(server), sessions);
  });

  it('Fastify (lime-sites-sdk/fastify)', async () => {
    const { login, sessions } = newHandlers();
    const app = Fastify();
    app.post('/login/start', toFastifyHandler(login.start));
    app.post('/login/finish', toFastifyHandler(login.finish));
    await app.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => app.close());
    await story(await listening(app.server), sessions);
  });

  it('Hono on @hono/node-server (one line per route)', async () => {
    const { login, sessions } = newHandlers();
    const app = new Hono();
    app.post('/login/start', (c) => login.start(c.req.raw));
    app.post('/login/finish', (c) => login.finish(c.req.raw));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    cleanups.push(() => new Promise((r) => server.close(r)));
    await new Promise((r) => server.once('listening', r));
    await story(await listening(server as never), sessions);
  });
});

describe('login handlers: the answers', () => {
  const call = (
    handler: (r: Request) => Promise<Response>,
    cookie?: string,
    url = 'http://site.test/login',
  ) => handler(new Request(url, { method: 'POST', headers: cookie ? { cookie } : {} }));
  const cookieOf = (res: Response, name = 'lime_login') =>
    res.headers
      .getSetCookie()
      .find((c) => c.startsWith(`${name}=`))!
      .split(';')[0]!;

  async function started(login: LoginHandlers, url?: string) {
    const res = await call(login.start, undefined, url);
    const body = (await res.json()) as { loginRequestId: string };
    return { res, id: body.loginRequestId, cookie: cookieOf(res) };
  }

  it('sets Secure on https, and honours secureCookie', async () => {
    const { login } = newHandlers();
    const https = await started(login, 'https://site.test/login/start');
    expect(https.res.headers.getSetCookie()[0]).toMatch(/; Secure/);
    const { login: forced } = newHandlers({ secureCookie: true });
    expect((await started(forced)).res.headers.getSetCookie()[0]).toMatch(/; Secure/);
  });

  it('a login started on one instance finishes on another with the same secret, not with another secret', async () => {
    const shared = new MemoryReplayStore(); // stands in for Redis (redis-three-instances.test.ts)
    const a = newHandlers({}, shared);
    const b = newHandlers({}, shared);
    const c = newHandlers({ secret: 'another secret, also at least 32 bytes long' }, shared);
    await Promise.all([a.site.connect(), b.site.connect(), c.site.connect()]);
    const { id, cookie } = await started(a.login);
    await agent.login(id);
    const foreign = await call(c.login.finish, cookie);
    expect(foreign.status).toBe(400);
    const res = await call(b.login.finish, cookie);
    expect(res.status).toBe(200);
    expect(b.sessions.size).toBe(1);
    expect(a.sessions.size).toBe(0);
    // And the replay on the first instance, which also received the passport, is refused.
    expect((await call(a.login.finish, cookie)).status).toBe(409);
  });

  it('not approved in time: 504, the cookie is kept, and finishing again succeeds', async () => {
    const { login, sessions } = newHandlers({ waitTimeout: 200 });
    const { id, cookie } = await started(login);
    const early = await call(login.finish, cookie);
    expect(early.status).toBe(504);
    expect(((await early.json()) as { error: string }).error).toBe('LOGIN_PENDING');
    expect(early.headers.getSetCookie()).toEqual([]);
    await agent.login(id);
    await expect.poll(async () => (await call(login.finish, cookie)).status).toBe(200);
    expect(sessions.size).toBe(1);
  });

  it('the client going away stops the wait (the request signal)', async () => {
    const { login } = newHandlers({ waitTimeout: 30_000 });
    const { cookie } = await started(login);
    const controller = new AbortController();
    const waiting = login.finish(
      new Request('http://site.test/login/finish', {
        method: 'POST',
        headers: { cookie },
        signal: controller.signal,
      }),
    );
    setTimeout(() => controller.abort(), 50);
    const res = await waiting;
    expect(res.status).toBe(408);
  });

  it('expired: 410 and the cookie is cleared', async () => {
    const { login } = newHandlers();
    const { id, cookie } = await started(login);
    await core.admin.expireLoginRequest(id);
    const res = await call(login.finish, cookie);
    expect(res.status).toBe(410);
    expect(res.headers.getSetCookie()[0]).toMatch(/^lime_login=; Max-Age=0/);
  });

  it('onLogin may answer with its own Response (the login cookie is still cleared); a throwing onLogin is a 500', async () => {
    const { login } = newHandlers({
      onLogin: (passport) =>
        Response.redirect(`https://site.test/welcome?agent=${passport.agentId}`, 303),
    });
    const first = await started(login);
    await agent.login(first.id);
    const res = await call(login.finish, first.cookie);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`https://site.test/welcome?agent=${agentId}`);
    expect(res.headers.getSetCookie()[0]).toMatch(/^lime_login=; Max-Age=0/);

    const { login: failing } = newHandlers({
      onLogin: () => {
        throw new Error('session store down');
      },
    });
    const second = await started(failing);
    await agent.login(second.id);
    const failed = await call(failing.finish, second.cookie);
    expect(failed.status).toBe(500);
    expect(await failed.text()).not.toMatch(/session store down/);
  });

  it('validates its options with a TypeError naming the field', () => {
    const site = new LimeSite({ siteToken, apiBase: core.apiBase });
    cleanups.push(() => site.close());
    const onLogin = () => ({});
    expect(() => createLoginHandlers({ site, onLogin, secret: 'short' })).toThrow(
      /secret must be at least 32 bytes/,
    );
    expect(() => createLoginHandlers({ site, onLogin: undefined as never })).toThrow(/onLogin/);
    expect(() => createLoginHandlers({ site, onLogin, waitTimeout: -1 })).toThrow(/waitTimeout/);
    expect(() => createLoginHandlers({ site, onLogin, cookieName: 'a b' })).toThrow(/cookieName/);
    expect(() => createLoginHandlers({ site, onLogin, bindingRedirectUri: '/x' })).toThrow(
      /bindingRedirectUri/,
    );
  });

  it('binding: start redirects to the connect page, the callback links the agent once, for this browser only', async () => {
    const linked: string[] = [];
    const { login } = newHandlers({
      bindingRedirectUri: 'https://site.test/lime/bound',
      onBinding: (binding) => {
        linked.push(binding.agentId ?? '(none)');
        return { body: { linked: binding.agentId } };
      },
    });
    const start = await call(login.startBinding, undefined, 'https://site.test/lime/bind');
    expect(start.status).toBe(303);
    const connectUrl = start.headers.get('location')!;
    expect(connectUrl).toMatch(/^http/);
    const cookie = cookieOf(start, 'lime_binding');
    expect(start.headers.getSetCookie()[0]).toMatch(/HttpOnly; Secure; SameSite=Lax/);
    // Which binding: the signed cookie says; the Core's admin API plays the connect page.
    const other = await call(login.startBinding, undefined, 'https://site.test/lime/bind');
    const otherCookie = cookieOf(other, 'lime_binding');
    const bindingId = decodeURIComponent(connectUrl.split('/').pop()!); // the Core's …/connect/bindings/{id}
    const { redirectUrl } = await core.admin.completeBinding(bindingId, agentId);
    const callbackUrl = `https://site.test/lime/bound${new URL(redirectUrl).search}`;
    const get = (c?: string) =>
      login.finishBinding(new Request(callbackUrl, { headers: c ? { cookie: c } : {} }));

    expect((await get()).status).toBe(400); // no binding in progress
    expect((await get(otherCookie)).status).toBe(401); // another browser's binding
    const done = await get(cookie);
    expect(done.status).toBe(200);
    expect(await done.json()).toEqual({ linked: agentId });
    expect((await get(cookie)).status).toBe(409); // replayed callback
    expect(linked).toEqual([agentId]);
  });
});
