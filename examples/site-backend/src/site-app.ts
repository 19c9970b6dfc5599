import { randomBytes } from 'node:crypto';
import express from 'express';
import {
  InvalidPassportError,
  LimeError,
  type LimeSite,
  LoginExpiredError,
  type Passport,
} from 'lime-sites-sdk';

/** What the site remembers about a logged-in agent (the verified passport, trimmed). */
export interface AgentSession {
  agentId: string;
  /** The agent's owner; `null` when the passport names none (the hosted platform may omit it). */
  userId: string | null;
  userKycLevel: number | string | null;
  agentReputation: number | null;
  loginRequestId: string;
  /** The passport's `jti`, when it has one. */
  passportId: string | undefined;
  openedAt: string;
}

/** Things the site backend did, for logs and the demo's step-by-step output. */
export type SiteBackendEvent =
  | { type: 'login-started'; loginRequestId: string; expiresAt: Date; durationMs: number }
  | { type: 'passport-verified'; passport: Passport; waitedMs: number }
  | { type: 'session-opened'; session: AgentSession }
  | { type: 'login-failed'; loginRequestId: string; code: string; message: string };

/** Options of {@link createSiteApp}. */
export interface SiteAppOptions {
  /** Longest `POST /login/finish` waits for the agent's approval, ms. @default 120_000 */
  loginTimeout?: number;
  /** Set the `Secure` flag on cookies (do so behind HTTPS). @default false */
  secureCookies?: boolean;
  /** Called for each step (never receives a secret). */
  onEvent?: (event: SiteBackendEvent) => void;
}

/** Cookie binding a pending login request to the client that started it. */
export const LOGIN_COOKIE = 'lime_login';
/** Session cookie. */
export const SESSION_COOKIE = 'sid';

/**
 * The site's express app: an agent (or a browser) starts a login, hands the
 * request id to the agent worker, finishes the login once approved, and from
 * then on is known by its session cookie.
 *
 * - `POST /login/start` → `201 {loginRequestId, expiresAt}` and a `lime_login` cookie
 * - `POST /login/finish` (with that cookie) → waits for the verified passport,
 *   `200 {agentId, userId}` and a `sid` session cookie
 * - `GET /me` (with `sid`) → `200 {agent}`; `401` without a session
 * - `POST /logout` → ends the session
 *
 * The login request id is bound to the client that started it (the
 * `lime_login` cookie), so nobody can finish a login they did not start; the
 * SDK has already checked the passport's signature, audience, lifetime,
 * `request_id` and single use before `waitForLogin` resolves.
 *
 * @example
 * const site = new LimeSite({ siteToken: process.env.LIME_SITE_TOKEN });
 * createSiteApp(site).listen(3000);
 */
export function createSiteApp(site: LimeSite, options: SiteAppOptions = {}): express.Express {
  const loginTimeout = options.loginTimeout ?? 120_000;
  const emit = options.onEvent ?? (() => {});
  const cookie: express.CookieOptions = {
    httpOnly: true,
    sameSite: 'lax',
    secure: options.secureCookies ?? false,
    path: '/',
  };
  // In memory to keep the example short; use your session store in production.
  const pendingLogins = new Map<string, string>(); // lime_login handle → login request id
  const sessions = new Map<string, AgentSession>(); // sid → session

  const app = express();
  app.disable('x-powered-by');

  app.post('/login/start', async (_req, res) => {
    const started = performance.now();
    try {
      const { loginRequestId, expiresAt } = await site.createLoginRequest();
      const handle = randomToken();
      pendingLogins.set(handle, loginRequestId);
      res.cookie(LOGIN_COOKIE, handle, { ...cookie, maxAge: expiresAt.getTime() - Date.now() });
      emit({
        type: 'login-started',
        loginRequestId,
        expiresAt,
        durationMs: performance.now() - started,
      });
      res.status(201).json({ loginRequestId, expiresAt: expiresAt.toISOString() });
    } catch (error) {
      sendError(res, error);
    }
  });

  app.post('/login/finish', async (req, res) => {
    const handle = readCookie(req, LOGIN_COOKIE);
    const loginRequestId = handle === undefined ? undefined : pendingLogins.get(handle);
    if (handle === undefined || loginRequestId === undefined) {
      res.status(400).json({
        error: 'NO_PENDING_LOGIN',
        message: 'no login in progress for this client — call POST /login/start first',
      });
      return;
    }
    // Stop waiting when the client goes away.
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const started = performance.now();
    try {
      const passport = await site.waitForLogin(loginRequestId, {
        timeout: loginTimeout,
        signal: abort.signal,
      });
      emit({ type: 'passport-verified', passport, waitedMs: performance.now() - started });
      pendingLogins.delete(handle);
      const session: AgentSession = {
        agentId: passport.agentId,
        userId: passport.userId,
        userKycLevel: passport.userKycLevel,
        agentReputation: passport.agentReputation,
        loginRequestId: passport.requestId,
        passportId: passport.jti,
        openedAt: new Date().toISOString(),
      };
      const sid = randomToken();
      sessions.set(sid, session);
      emit({ type: 'session-opened', session });
      res.clearCookie(LOGIN_COOKIE, cookie);
      res.cookie(SESSION_COOKIE, sid, { ...cookie, maxAge: 3_600_000 });
      res.json({ agentId: session.agentId, userId: session.userId });
    } catch (error) {
      pendingLogins.delete(handle);
      const code = error instanceof LimeError ? error.code : 'INTERNAL';
      emit({ type: 'login-failed', loginRequestId, code, message: String(error) });
      sendError(res, error);
    }
  });

  app.get('/me', (req, res) => {
    const sid = readCookie(req, SESSION_COOKIE);
    const session = sid === undefined ? undefined : sessions.get(sid);
    if (!session) {
      res.status(401).json({ error: 'NOT_LOGGED_IN', message: 'log in with POST /login/start' });
      return;
    }
    res.json({ agent: session });
  });

  app.post('/logout', (req, res) => {
    const sid = readCookie(req, SESSION_COOKIE);
    if (sid !== undefined) sessions.delete(sid);
    res.clearCookie(SESSION_COOKIE, cookie);
    res.status(204).end();
  });

  return app;
}

/** Map SDK errors to HTTP answers the client can act on. */
function sendError(res: express.Response, error: unknown): void {
  if (res.headersSent || res.destroyed) return;
  if (error instanceof LoginExpiredError) {
    res.status(410).json({ error: error.code, message: 'the login request expired — start again' });
  } else if (error instanceof InvalidPassportError) {
    res.status(401).json({ error: error.code, message: 'the passport was refused' });
  } else if (error instanceof LimeError && error.code === 'TIMEOUT') {
    res.status(504).json({ error: error.code, message: 'no approval arrived in time' });
  } else if (error instanceof LimeError) {
    res.status(502).json({ error: error.code, message: 'the LIME Core call failed' });
  } else {
    res.status(500).json({ error: 'INTERNAL', message: 'unexpected error' });
  }
}

function randomToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Read one cookie without a cookie-parser dependency. */
function readCookie(req: express.Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name)
      return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}
