// The login story every web framework must tell the same way over HTTP, with
// a real agent against the reference Core: the express, Fastify and Hono
// servers of login-handlers.test.ts and the real Next.js app of
// examples/site-next each run it.
import type { LimeAgent } from 'lime-agents-sdk';
import { expect } from 'vitest';

/** One answer of the site, its JSON body parsed. */
export interface SiteAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: loosely typed for assertions
  body: any;
  setCookies: string[];
}

/** A browser-like client: keeps the cookies it is given. */
export interface BrowserClient {
  jar: Map<string, string>;
  call(path: string, method?: string, headers?: Record<string, string>): Promise<SiteAnswer>;
}

/** A browser-like client of the site at `base` (`http://host:port`). */
export function client(base: string): BrowserClient {
  const jar = new Map<string, string>();
  return {
    jar,
    async call(path, method = 'POST', headers = {}) {
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      const res = await fetch(base + path, {
        method,
        headers: { ...(cookie ? { cookie } : {}), ...headers },
        redirect: 'manual',
      });
      const setCookies = res.headers.getSetCookie();
      for (const c of setCookies) {
        const [pair] = c.split(';');
        const eq = pair!.indexOf('=');
        const name = pair!.slice(0, eq);
        const value = pair!.slice(eq + 1);
        if (value === '' || /Max-Age=0/.test(c)) jar.delete(name);
        else jar.set(name, value);
      }
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null, setCookies };
    },
  };
}

/** The agent that logs in, and how to look into the site's sessions. */
export interface LoginStoryOptions {
  agent: LimeAgent;
  agentId: string;
  userId: string;
  /** The session the site's `onLogin` opened for this `sid` cookie value, if any. */
  session(sid: string): Promise<{ agentId: string; requestId: string } | undefined>;
  /** How many sessions the site's `onLogin` opened so far (the story expects a fresh site). */
  sessionCount(): Promise<number>;
}

/**
 * start → the agent approves → finish opens a session (and clears the login
 * cookie); a replayed finish is 409 and opens none; no cookie, or a forged
 * one, is 400.
 */
export async function loginStory(base: string, options: LoginStoryOptions): Promise<void> {
  const { agent, agentId, userId } = options;
  const browser = client(base);
  const start = await browser.call('/login/start');
  expect(start.status).toBe(201);
  expect(start.body.loginRequestId).toMatch(/^lr_/);
  const loginCookie = start.setCookies.find((c) => c.startsWith('lime_login='))!;
  expect(loginCookie).toMatch(/; HttpOnly/);
  expect(loginCookie).toMatch(/; SameSite=Lax/);
  expect(loginCookie).not.toMatch(/; Secure/); // plain http in the test
  expect(loginCookie).toMatch(/; Max-Age=\d+/);
  const stolenCookie = browser.jar.get('lime_login')!;

  await agent.login(start.body.loginRequestId);
  const finish = await browser.call('/login/finish');
  expect(finish).toMatchObject({ status: 200, body: { agentId, userId } });
  // The session starts here, in the finish response; the login cookie is cleared.
  const sid = browser.jar.get('sid');
  expect(sid).toBeDefined();
  expect(await options.session(sid!)).toMatchObject({
    agentId,
    requestId: start.body.loginRequestId,
  });
  expect(browser.jar.has('lime_login')).toBe(false);
  expect(finish.setCookies.find((c) => c.startsWith('sid='))).toMatch(/HttpOnly; SameSite=Lax/);

  // A replayed finish (the old login cookie) is refused, and creates no session.
  const replay = client(base);
  replay.jar.set('lime_login', stolenCookie);
  const again = await replay.call('/login/finish');
  expect(again.status).toBe(409);
  expect(again.body.error).toBe('LOGIN_ALREADY_FINISHED');
  expect(replay.jar.has('sid')).toBe(false);
  expect(await options.sessionCount()).toBe(1);

  // Nobody finishes a login they did not start, or with a forged cookie.
  const stranger = await client(base).call('/login/finish');
  expect(stranger.status).toBe(400);
  expect(stranger.body.error).toBe('NO_PENDING_LOGIN');
  const forger = client(base);
  forger.jar.set('lime_login', `${stolenCookie.slice(0, -4)}AAAA`);
  expect((await forger.call('/login/finish')).status).toBe(400);
}
