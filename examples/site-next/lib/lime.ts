// The site's one LimeSite and its login handlers, shared by every route of
// this server process. Two things about Next.js shape this file:
//
// - `next build` imports every route module to collect its configuration, so
//   nothing is created at import time: the LimeSite (which needs
//   LIME_SITE_TOKEN and opens the event stream) is made by the first request.
// - A module is not always evaluated once per process: `next dev --webpack`
//   compiles each route on its own, with its own copy of this module, and an
//   edit re-runs it (HMR). So the instance lives on `globalThis`: the route
//   that starts a login and the one that finishes it share the site, the
//   cookie secret and the sessions.
import { randomBytes } from 'node:crypto';
import { createLoginHandlers, LimeSite, type LoginHandlers } from 'lime-sites-sdk';

/** What the site remembers about a logged-in agent. */
export interface Session {
  agentId: string;
  /** The agent's owner; `null` when the passport names none. */
  userId: string | null;
  loginRequestId: string;
}

/** Name of the session cookie `onLogin` sets. */
export const SESSION_COOKIE = 'sid';

interface Lime {
  site: LimeSite;
  login: LoginHandlers;
  /** In memory to keep the example short: use your session store. */
  sessions: Map<string, Session>;
}

const shared = globalThis as typeof globalThis & { limeSiteNext?: Lime };

function lime(): Lime {
  shared.limeSiteNext ??= createLime();
  return shared.limeSiteNext;
}

function createLime(): Lime {
  const site = new LimeSite(); // reads LIME_SITE_TOKEN and LIME_API_BASE
  const sessions = new Map<string, Session>();
  const login = createLoginHandlers({
    site,
    // The same on every instance of the site; random per process when unset.
    secret: process.env.LOGIN_COOKIE_SECRET,
    onLogin: (passport) => {
      const sid = randomBytes(24).toString('base64url'); // a new session id: no fixation
      sessions.set(sid, {
        agentId: passport.agentId,
        userId: passport.userId,
        loginRequestId: passport.requestId,
      });
      console.log(`session opened for agent ${passport.agentId} (login ${passport.requestId})`);
      return { sessionCookie: { name: SESSION_COOKIE, value: sid, maxAge: 3_600_000 } };
    },
  });
  console.log(`LimeSite ready (Core ${site.apiBase})`);
  return { site, login, sessions };
}

/**
 * The login endpoints, one line per route:
 * `export const POST = login.finish; // app/login/finish/route.ts`
 */
export const login: LoginHandlers = {
  start: (request) => lime().login.start(request),
  finish: (request) => lime().login.finish(request),
  startBinding: (request) => lime().login.startBinding(request),
  finishBinding: (request) => lime().login.finishBinding(request),
};

/** The session a `sid` cookie value names, if any. */
export function sessionOf(sid: string | undefined): Session | undefined {
  return sid === undefined ? undefined : lime().sessions.get(sid);
}
