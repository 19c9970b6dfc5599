import { AbortError, LimeError } from '@lime/wire';
import {
  InvalidPassportError,
  LoginExpiredError,
  LoginRequestNotFoundError,
  PassportNotReceivedError,
} from './errors.js';
import {
  type CookieAttributes,
  isCookieName,
  readCookie,
  serializeCookie,
} from './internal/cookies.js';
import { randomBase64Url, ValueSigner } from './internal/signed-value.js';
import type { LimeSite } from './lime-site.js';
import type { BindingPassport, Passport } from './passport.js';

/**
 * The session cookie your `onLogin`/`onBinding` callback asks the finish
 * response to set.
 *
 * @example
 * const cookie: SessionCookie = { name: 'sid', value: await sessions.create(passport.agentId) };
 */
export interface SessionCookie {
  name: string;
  /** Cookie-safe characters only (base64url is): anything else throws. */
  value: string;
  /** Lifetime, milliseconds. @default undefined (a browser-session cookie) */
  maxAge?: number;
  /** @default '/' */
  path?: string;
  /** @default undefined (host-only) */
  domain?: string;
  /** @default 'Lax' */
  sameSite?: 'Lax' | 'Strict' | 'None';
  /** @default as the login cookie: the `secureCookie` option */
  secure?: boolean;
  /** @default true */
  httpOnly?: boolean;
}

/**
 * What `onLogin`/`onBinding` returns when it does not build the whole
 * `Response` itself.
 *
 * @example
 * onLogin: async (passport) => ({
 *   sessionCookie: { name: 'sid', value: await sessions.create(passport.agentId) },
 *   body: { agentId: passport.agentId },
 * })
 */
export interface LoginResult {
  /** Set on the finish response — the one place the new session starts (no fixation). */
  sessionCookie?: SessionCookie;
  /** JSON body. @default { agentId, userId } (binding: { agentId, bindingId }) */
  body?: unknown;
  /** @default 200 */
  status?: number;
  /** Extra response headers. @default {} */
  headers?: HeadersInit;
}

/**
 * Options of {@link createLoginHandlers}.
 *
 * @example
 * createLoginHandlers({
 *   site,
 *   secret: process.env.LOGIN_COOKIE_SECRET,
 *   onLogin: async (passport) => ({
 *     sessionCookie: { name: 'sid', value: await sessions.create(passport) },
 *   }),
 * });
 */
export interface LoginHandlersOptions {
  /** Your one `LimeSite` of this process (its `replayStore` makes claims single use across instances). */
  site: LimeSite;
  /**
   * Called once per login, in the finish request, with a passport that is
   * verified and already claimed (no other finish, on any instance sharing
   * the replay store, gets it). Create the user's session here — a **new**
   * session id — and return its cookie (or your own `Response`). If it
   * throws, the answer is 500 and the passport is spent: the login must be
   * started again.
   */
  onLogin: (
    passport: Passport,
    request: Request,
  ) => LoginResult | Response | Promise<LoginResult | Response>;
  /**
   * Key that signs the login and binding cookies (HMAC-SHA-256): a string
   * or bytes, at least 32 bytes. Give every instance of your site the same
   * one, so a login started on one instance finishes on any other.
   * @default 32 random bytes per process (one instance only)
   */
  secret?: string | Uint8Array;
  /**
   * Longest a finish request waits for the agent's approval, milliseconds.
   * On timeout it answers 504 and keeps the login cookie, so the client may
   * call finish again. @default 60_000
   */
  waitTimeout?: number;
  /** Name of the cookie binding a login to the client that started it. @default 'lime_login' */
  cookieName?: string;
  /** Path of the login and binding cookies. @default '/' */
  cookiePath?: string;
  /**
   * `Secure` on the cookies: `'auto'` sets it when the request URL is
   * `https:` — behind a proxy that terminates TLS, set `true`.
   * @default 'auto'
   */
  secureCookie?: boolean | 'auto';
  /**
   * Called once per binding, in the binding callback (`finishBinding`), with
   * a binding passport that is verified, claimed, and for the binding this
   * browser started. Link `binding.agentId` to the signed-in user (read your
   * session from `request`). Required for the binding handlers.
   * @default undefined (startBinding/finishBinding answer 501)
   */
  onBinding?: (
    binding: BindingPassport,
    request: Request,
  ) => LoginResult | Response | Promise<LoginResult | Response>;
  /**
   * Absolute URL of your `finishBinding` route (the Core sends the browser
   * back there with `?passport=`). Required for the binding handlers.
   * @default undefined
   */
  bindingRedirectUri?: string;
  /** Name of the cookie binding a binding request to the browser. @default 'lime_binding' */
  bindingCookieName?: string;
}

/**
 * Web-standard login endpoints (`Request → Response`), from
 * {@link createLoginHandlers}. Each is a plain function: mount it as a route
 * (`export const POST = login.finish` in Next.js) or through an adapter.
 *
 * @example
 * app.post('/login/start', (c) => login.start(c.req.raw)); // Hono
 */
export interface LoginHandlers {
  /**
   * `POST`: create a login request, bind it to this client (an HttpOnly,
   * SameSite=Lax, signed cookie) and answer `201 { loginRequestId, expiresAt }`
   * — hand `loginRequestId` to the agent.
   */
  start(request: Request): Promise<Response>;
  /**
   * `POST`, with the login cookie: wait for the agent's approval (up to
   * `waitTimeout`, or until the client goes away), claim the passport once,
   * call `onLogin` and answer with its session cookie. Failures are JSON
   * `{ error, message }`: 400 no login in progress, 410 expired or gone,
   * 409 already finished, 401 passport refused, 504 not approved yet (call
   * again), 503 keys or replay store unavailable (call again), 502 the Core
   * failed.
   */
  finish(request: Request): Promise<Response>;
  /**
   * `GET`/`POST` from a signed-in user: create a binding request, bind it to
   * this browser (cookie) and redirect (303) to the Core's connect page.
   */
  startBinding(request: Request): Promise<Response>;
  /**
   * `GET` at `bindingRedirectUri?passport=…`: verify and claim the binding
   * passport for the binding this browser started, then call `onBinding`.
   */
  finishBinding(request: Request): Promise<Response>;
}

/** Version of the signed cookie payload. */
const COOKIE_VERSION = 1;

/**
 * Login endpoints as a library: the binding of a login request to the
 * client that started it, the wait, the single-use claim and the error
 * answers — your callback only creates the session.
 *
 * Nothing is kept in memory: the cookie carries the request id, signed, so
 * with several instances (one `secret`, one shared `replayStore` such as
 * {@link RedisReplayStore}) a finish may land on any instance — each
 * receives every passport — and exactly one finish per login succeeds; a
 * replayed finish is refused. Creating the handlers opens the site's event
 * stream, so passports of logins started elsewhere reach this instance.
 *
 * @example
 * const login = createLoginHandlers({
 *   site: new LimeSite(),
 *   onLogin: async (passport) => ({ sessionCookie: { name: 'sid', value: await newSession(passport) } }),
 * });
 * export const POST = login.finish; // app/login/finish/route.ts (Next.js)
 */
export function createLoginHandlers(options: LoginHandlersOptions): LoginHandlers {
  const config = resolveHandlerOptions(options);
  const { site, signer } = config;
  // Every instance must receive every passport before its finish arrives.
  site.connect().catch(() => {
    // Reported to the site's onError; finish answers the error if it persists.
  });

  const cookieAttributes = (request: Request, maxAge: number): CookieAttributes => ({
    maxAge,
    path: config.cookiePath,
    sameSite: 'Lax',
    httpOnly: true,
    secure: secureFor(config.secureCookie, request),
  });

  const readSigned = async (
    request: Request,
    name: string,
    kind: 'login' | 'binding',
  ): Promise<{ id: string; expiresAt: number } | 'missing' | 'foreign'> => {
    const raw = readCookie(request.headers.get('cookie'), name);
    if (raw === undefined || raw === '') return 'missing';
    const payload = await signer.verify(raw);
    if (
      payload === undefined ||
      payload.v !== COOKIE_VERSION ||
      payload.k !== kind ||
      typeof payload.id !== 'string' ||
      typeof payload.exp !== 'number'
    ) {
      return 'foreign';
    }
    return { id: payload.id, expiresAt: payload.exp };
  };

  const signCookie = (kind: 'login' | 'binding', id: string, expiresAt: number) =>
    // The nonce makes every cookie unguessable and distinct, even for one id.
    signer.sign({ v: COOKIE_VERSION, k: kind, id, exp: expiresAt, n: randomBase64Url(16) });

  const clear = (request: Request, name: string) =>
    serializeCookie(name, '', cookieAttributes(request, 0));

  return {
    start: async (request) => {
      try {
        const login = await site.createLoginRequest({ signal: request.signal });
        const expiresAt = login.expiresAt.getTime();
        const value = await signCookie('login', login.loginRequestId, expiresAt);
        const headers = new Headers({ 'cache-control': 'no-store' });
        headers.append(
          'set-cookie',
          serializeCookie(
            config.cookieName,
            value,
            cookieAttributes(request, Math.max(0, expiresAt - Date.now())),
          ),
        );
        return json(
          201,
          { loginRequestId: login.loginRequestId, expiresAt: login.expiresAt.toISOString() },
          headers,
        );
      } catch (error) {
        return errorResponse(error, undefined);
      }
    },

    finish: async (request) => {
      const pending = await readSigned(request, config.cookieName, 'login');
      if (typeof pending === 'string') {
        return json(400, {
          error: 'NO_PENDING_LOGIN',
          message:
            pending === 'missing'
              ? 'no login in progress for this client — call the login start endpoint first (and send its cookie back)'
              : `the login cookie was not signed with this server's secret — start the login again${config.secretGenerated ? ' (with several instances, give each one the same `secret`)' : ''}`,
        });
      }
      const clearCookie = clear(request, config.cookieName);
      if (Date.now() >= pending.expiresAt) {
        return json(
          410,
          { error: 'LOGIN_EXPIRED', message: 'the login request expired — start again' },
          withCookie(clearCookie),
        );
      }
      let passport: Passport;
      try {
        passport = await site.waitForLogin(pending.id, {
          timeout: config.waitTimeout,
          signal: request.signal,
        });
      } catch (error) {
        return errorResponse(error, clearCookie);
      }
      return callback(
        () => options.onLogin(passport, request),
        { agentId: passport.agentId, userId: passport.userId },
        clearCookie,
        request,
      );
    },

    startBinding: async (request) => {
      if (!options.onBinding || config.bindingRedirectUri === undefined) return bindingOff();
      try {
        const binding = await site.createBindingRequest({
          redirectUri: config.bindingRedirectUri,
          signal: request.signal,
        });
        const expiresAt = binding.expiresAt.getTime();
        const value = await signCookie('binding', binding.bindingId, expiresAt);
        const headers = new Headers({ location: binding.connectUrl, 'cache-control': 'no-store' });
        headers.append(
          'set-cookie',
          serializeCookie(
            config.bindingCookieName,
            value,
            cookieAttributes(request, Math.max(0, expiresAt - Date.now())),
          ),
        );
        return new Response(null, { status: 303, headers });
      } catch (error) {
        return errorResponse(error, undefined);
      }
    },

    finishBinding: async (request) => {
      const onBinding = options.onBinding;
      if (!onBinding || config.bindingRedirectUri === undefined) return bindingOff();
      const pending = await readSigned(request, config.bindingCookieName, 'binding');
      if (typeof pending === 'string') {
        return json(400, {
          error: 'NO_PENDING_BINDING',
          message: 'no binding in progress for this browser — start the binding again',
        });
      }
      const clearCookie = clear(request, config.bindingCookieName);
      const jwt = new URL(request.url).searchParams.get('passport');
      if (!jwt) {
        return json(400, {
          error: 'NO_PASSPORT',
          message: 'the binding callback came without ?passport= — start the binding again',
        });
      }
      let binding: BindingPassport;
      try {
        binding = await site.verifyBindingPassport(jwt, {
          expectedBindingId: pending.id,
          signal: request.signal,
        });
      } catch (error) {
        return errorResponse(error, clearCookie);
      }
      return callback(
        () => onBinding(binding, request),
        { agentId: binding.agentId, bindingId: binding.bindingId },
        clearCookie,
        request,
      );
    },
  };

  /** Run the user's callback and turn its answer into the final response. */
  async function callback(
    run: () => LoginResult | Response | Promise<LoginResult | Response>,
    defaultBody: unknown,
    clearCookie: string,
    request: Request,
  ): Promise<Response> {
    let result: LoginResult | Response;
    try {
      result = await run();
    } catch {
      return json(
        500,
        {
          error: 'SESSION_FAILED',
          message: 'the login was verified but the session could not be created — start again',
        },
        withCookie(clearCookie),
      );
    }
    if (result instanceof Response) {
      // Copy: a Response's headers may be immutable (Response.redirect()).
      const headers = new Headers(result.headers);
      headers.append('set-cookie', clearCookie);
      if (!headers.has('cache-control')) headers.set('cache-control', 'no-store');
      return new Response(result.body, {
        status: result.status,
        statusText: result.statusText,
        headers,
      });
    }
    const headers = new Headers(result?.headers);
    headers.set('cache-control', 'no-store');
    headers.append('set-cookie', clearCookie);
    const session = result?.sessionCookie;
    if (session) {
      headers.append(
        'set-cookie',
        serializeCookie(session.name, session.value, {
          maxAge: session.maxAge,
          path: session.path,
          domain: session.domain,
          sameSite: session.sameSite,
          httpOnly: session.httpOnly,
          secure: session.secure ?? secureFor(config.secureCookie, request),
        }),
      );
    }
    return json(result?.status ?? 200, result?.body ?? defaultBody, headers);
  }
}

interface ResolvedHandlerOptions {
  site: LimeSite;
  signer: ValueSigner;
  secretGenerated: boolean;
  waitTimeout: number;
  cookieName: string;
  cookiePath: string;
  secureCookie: boolean | 'auto';
  bindingRedirectUri: string | undefined;
  bindingCookieName: string;
}

function resolveHandlerOptions(options: LoginHandlersOptions): ResolvedHandlerOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createLoginHandlers: options with `site` and `onLogin` are required');
  }
  const site = options.site;
  if (typeof site !== 'object' || site === null || typeof site.waitForLogin !== 'function') {
    throw new TypeError('createLoginHandlers: site must be your LimeSite');
  }
  if (typeof options.onLogin !== 'function') {
    throw new TypeError('createLoginHandlers: onLogin must be a function that creates the session');
  }
  if (options.onBinding !== undefined && typeof options.onBinding !== 'function') {
    throw new TypeError('createLoginHandlers: onBinding must be a function');
  }
  let secret: Uint8Array<ArrayBuffer>;
  const secretGenerated = options.secret === undefined;
  if (options.secret === undefined) {
    secret = crypto.getRandomValues(new Uint8Array(32));
  } else if (typeof options.secret === 'string') {
    secret = new TextEncoder().encode(options.secret);
  } else if (options.secret instanceof Uint8Array) {
    secret = new Uint8Array(options.secret);
  } else {
    throw new TypeError('createLoginHandlers: secret must be a string or a Uint8Array');
  }
  if (secret.length < 32) {
    throw new TypeError(
      `createLoginHandlers: secret must be at least 32 bytes, got ${secret.length} — e.g. \`openssl rand -base64 32\``,
    );
  }
  const waitTimeout = options.waitTimeout ?? 60_000;
  if (!Number.isFinite(waitTimeout) || waitTimeout <= 0) {
    throw new TypeError(
      `createLoginHandlers: waitTimeout must be a positive number of ms, got ${String(waitTimeout)}`,
    );
  }
  const cookieName = options.cookieName ?? 'lime_login';
  const bindingCookieName = options.bindingCookieName ?? 'lime_binding';
  for (const [field, name] of [
    ['cookieName', cookieName],
    ['bindingCookieName', bindingCookieName],
  ] as const) {
    if (typeof name !== 'string' || !isCookieName(name)) {
      throw new TypeError(`createLoginHandlers: ${field} must be a cookie name (a token)`);
    }
  }
  const cookiePath = options.cookiePath ?? '/';
  if (typeof cookiePath !== 'string' || !cookiePath.startsWith('/')) {
    throw new TypeError(`createLoginHandlers: cookiePath must start with '/'`);
  }
  const secureCookie = options.secureCookie ?? 'auto';
  if (secureCookie !== 'auto' && typeof secureCookie !== 'boolean') {
    throw new TypeError(`createLoginHandlers: secureCookie must be true, false or 'auto'`);
  }
  const bindingRedirectUri = options.bindingRedirectUri;
  if (bindingRedirectUri !== undefined && !/^https?:\/\/[^/]/i.test(bindingRedirectUri)) {
    throw new TypeError('createLoginHandlers: bindingRedirectUri must be an absolute http(s) URL');
  }
  return {
    site,
    signer: new ValueSigner(secret),
    secretGenerated,
    waitTimeout,
    cookieName,
    cookiePath,
    secureCookie,
    bindingRedirectUri,
    bindingCookieName,
  };
}

function secureFor(setting: boolean | 'auto', request: Request): boolean {
  if (setting !== 'auto') return setting;
  try {
    return new URL(request.url).protocol === 'https:';
  } catch {
    return true;
  }
}

function json(status: number, body: unknown, headers: Headers = new Headers()): Response {
  headers.set('content-type', 'application/json; charset=utf-8');
  if (!headers.has('cache-control')) headers.set('cache-control', 'no-store');
  return new Response(JSON.stringify(body), { status, headers });
}

function withCookie(cookie: string): Headers {
  const headers = new Headers();
  headers.append('set-cookie', cookie);
  return headers;
}

function bindingOff(): Response {
  return json(501, {
    error: 'BINDING_NOT_CONFIGURED',
    message: 'createLoginHandlers() was given no onBinding/bindingRedirectUri',
  });
}

/**
 * Map an SDK error to the answer a client can act on. `clearCookie` is set
 * when the login (or binding) cannot complete any more; transient failures
 * keep the cookie so the client can call again.
 */
function errorResponse(error: unknown, clearCookie: string | undefined): Response {
  const done = (status: number, code: string, message: string, extra?: HeadersInit) => {
    const headers = new Headers(extra);
    if (clearCookie !== undefined) headers.append('set-cookie', clearCookie);
    return json(status, { error: code, message }, headers);
  };
  const retry = (status: number, code: string, message: string) =>
    json(status, { error: code, message }, new Headers({ 'retry-after': '1' }));
  if (error instanceof LoginExpiredError) {
    return done(
      410,
      error.code,
      'the login request expired before an agent approved it — start again',
    );
  }
  if (error instanceof LoginRequestNotFoundError) {
    return done(410, error.code, 'the LIME Core does not know this login request — start again');
  }
  if (error instanceof PassportNotReceivedError) {
    return done(
      410,
      error.code,
      'the login was approved but its passport never reached this site — start again',
    );
  }
  if (error instanceof InvalidPassportError) {
    if (error.reason === 'jwks_unavailable' || error.reason === 'replay_check_failed') {
      return retry(
        503,
        error.code,
        error.reason === 'jwks_unavailable'
          ? 'the signing keys could not be loaded — try finishing again shortly'
          : 'the replay store is unavailable, so the login cannot be completed safely now — try finishing again shortly',
      );
    }
    if (error.reason === 'replayed') {
      return done(
        409,
        'LOGIN_ALREADY_FINISHED',
        'this login was already finished — start a new one',
      );
    }
    return done(401, error.code, `the passport was refused (${error.reason}) — start again`);
  }
  if (error instanceof AbortError) {
    return json(408, { error: error.code, message: 'the request was aborted' });
  }
  if (error instanceof LimeError && error.code === 'TIMEOUT') {
    return json(504, {
      error: 'LOGIN_PENDING',
      message: 'no approval arrived in time — call finish again once the agent has approved',
    });
  }
  if (error instanceof LimeError && error.code === 'STREAM_CLOSED') {
    return retry(503, error.code, 'the site is shutting down — try again');
  }
  if (error instanceof LimeError) {
    return json(502, { error: error.code, message: 'the LIME Core call failed' });
  }
  return json(500, { error: 'INTERNAL', message: 'unexpected error' });
}
