import type { IncomingMessage, ServerResponse } from 'node:http';
import { API_PREFIX, HEADERS, PATHS, successEnvelope } from '@lime/wire';
import type { ResolvedCoreOptions } from '../options.js';
import type { CoreService } from './core-service.js';
import { hashesEqual, hashToken, plausibleToken } from './credentials.js';
import type { EventHub } from './event-hub.js';
import { parseEventId, type ResumePosition } from './event-ids.js';
import { HeapGuard } from './heap-guard.js';
import { envelopeBody, oauthErrorBody, readJsonBody, sendJson } from './http-io.js';
import { requestIdFactory } from './ids.js';
import { CoreProblem, invalidField, isPlainObject } from './problem.js';
import { RateLimiter } from './rate-limiter.js';
import { PARAM, Router } from './router.js';
import { keyActivation } from './signing-keys.js';
import { REFUSAL_BODY, refusesUserAgent } from './user-agent-filter.js';

/**
 * Prefix of the admin API (PROTOCOL.md §8; the routes are this Core's own).
 *
 * @example
 * await fetch(`${core.url}${ADMIN_PREFIX}/sites`, { method: 'POST', headers: { authorization: `Bearer ${core.adminToken}` } });
 */
export const ADMIN_PREFIX = '/admin/v1';

interface Reply {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  params: string[];
  /** Headers every answer carries (request id). */
  base: Record<string, string>;
  body(): Promise<unknown>;
  limit(key: string): void;
}

interface Route {
  /** Errors as raw RFC 6749 bodies (the §7 token endpoint). */
  oauth?: boolean;
  handle(ctx: Ctx): Promise<Reply | null>;
}

const NO_STORE = { 'Cache-Control': 'no-store' };
/** `Retry-After` of a shed request, seconds: long enough for a GC or a retention sweep. */
const OVERLOAD_RETRY_AFTER_S = 5;
const REQUEST_ID_SYNTAX = /^[A-Za-z0-9._:-]{1,128}$/;

function ok(data: object, status = 200): Reply {
  return { status, body: JSON.stringify(successEnvelope(data)) };
}

function api(path: string): string {
  return API_PREFIX + path;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** `/a/b/` → `/a/b`; the query is dropped. */
function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const q = url.indexOf('?');
  let path = q === -1 ? url : url.slice(0, q);
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return path;
}

export interface HttpApiDeps {
  service: CoreService;
  hub: EventHub;
  options: ResolvedCoreOptions;
  adminTokenHash: string;
}

/** Build the request listener of the Core's HTTP server. */
export function createHttpApi(deps: HttpApiDeps) {
  const { service, hub, options, adminTokenHash } = deps;
  const hosted = options.profile === 'hosted';
  const nextRequestId = requestIdFactory();
  const { perIp, perCredential } = options.rateLimits;
  const ipLimiter = perIp ? new RateLimiter(perIp, options.clock) : undefined;
  const credLimiter = perCredential ? new RateLimiter(perCredential, options.clock) : undefined;

  const heap = new HeapGuard(options.maxHeapBytes, (over, used) =>
    options.log?.({
      level: over ? 'warn' : 'info',
      message: over
        ? `heap ${Math.round(used / 1048576)} MB is over maxHeapBytes: shedding creates and approves (503)`
        : `heap ${Math.round(used / 1048576)} MB is back under maxHeapBytes`,
    }),
  );
  /** Near the memory bound, refuse the calls that make the Core hold more. */
  const shedLoad = () => {
    if (heap.overloaded()) {
      throw new CoreProblem(
        503,
        'OVERLOADED',
        `the Core is near its memory bound; retry after ${OVERLOAD_RETRY_AFTER_S} s`,
        { retry_after: OVERLOAD_RETRY_AFTER_S },
        { 'Retry-After': String(OVERLOAD_RETRY_AFTER_S) },
      );
    }
  };

  const site = async (ctx: Ctx) => {
    const s = await service.authenticateSite(header(ctx.req, HEADERS.siteToken));
    ctx.limit(`site:${s.siteId}`);
    return s;
  };
  const agent = async (ctx: Ctx) => {
    const a = await service.authenticateAgent(header(ctx.req, HEADERS.agentToken));
    ctx.limit(`agent:${a.agentId}`);
    return a;
  };
  const admin = (ctx: Ctx) => {
    const auth = header(ctx.req, 'authorization') ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7).trim() : '';
    if (!plausibleToken(token) || !hashesEqual(hashToken(token), adminTokenHash)) {
      throw new CoreProblem(
        401,
        'UNAUTHORIZED',
        'send the admin token as Authorization: Bearer <admin token>',
      );
    }
    ctx.limit('admin');
  };

  const router = new Router<Route>();
  const P = PARAM;
  const param = (ctx: Ctx) => ctx.params[0]!;

  // ── §3 login ────────────────────────────────────────────────────────────
  router.add('POST', api(PATHS.createLoginRequest), {
    async handle(ctx) {
      const s = await site(ctx);
      shedLoad();
      // §3.1: "201 (hosted may answer 200)"; the hosted profile answers 200.
      return ok(await service.createLoginRequest(s, await ctx.body()), hosted ? 200 : 201);
    },
  });
  router.add('GET', api(PATHS.loginRequest('\0')), {
    async handle(ctx) {
      const s = await site(ctx);
      return ok(await service.siteLoginRequest(s, param(ctx)));
    },
  });
  router.add('GET', api(PATHS.loginChallenge('\0')), {
    async handle(ctx) {
      return ok(await service.getChallenge(param(ctx)));
    },
  });
  router.add('POST', api(PATHS.approveLoginRequest('\0')), {
    async handle(ctx) {
      const a = await agent(ctx);
      shedLoad();
      const body = await ctx.body();
      return ok(await service.approve(a, param(ctx), body));
    },
  });
  router.add('GET', api(PATHS.loginEvents), {
    async handle(ctx) {
      const s = await site(ctx);
      // Hosted: no resume; Last-Event-ID is ignored, every stream is fresh.
      const raw = hosted ? undefined : header(ctx.req, HEADERS.lastEventId);
      let resume: ResumePosition | undefined;
      if (raw !== undefined && raw.trim() !== '') {
        resume = parseEventId(raw.trim(), service.eventEpoch);
        if (!resume) {
          throw invalidField(
            HEADERS.lastEventId,
            "must be an event id this stream sent ('<epoch>-<n>')",
          );
        }
        await service.pruneSiteEvents(s.siteId);
      }
      await hub.open(s.siteId, ctx.res, resume, ctx.base);
      return null;
    },
  });
  router.add('GET', api(PATHS.agentProfile), {
    async handle(ctx) {
      return ok(service.profile(await agent(ctx)));
    },
  });

  // ── §5 bindings ────────────────────────────────────────────────────────
  router.add('POST', api(PATHS.createBindingRequest), {
    async handle(ctx) {
      const s = await site(ctx);
      return ok(await service.createBinding(s, await ctx.body()), 201);
    },
  });
  router.add('GET', `/connect/bindings/${P}`, {
    async handle(ctx) {
      return ok(await service.bindingStatus(param(ctx)));
    },
  });

  // ── §6 keys, §7 OAuth ──────────────────────────────────────────────────
  /** Hosted profile: the edge filter of the key endpoints (see user-agent-filter.ts). */
  const edgeRefusal = (ctx: Ctx): Reply | null =>
    hosted && refusesUserAgent(header(ctx.req, 'user-agent'))
      ? {
          status: 403,
          body: REFUSAL_BODY,
          headers: { 'Content-Type': 'text/plain; charset=utf-8' },
        }
      : null;
  const jwks: Route = {
    async handle(ctx) {
      const refused = edgeRefusal(ctx);
      if (refused) return refused;
      return {
        status: 200,
        body: service.keys.jwksJson(),
        headers: { 'Cache-Control': `public, max-age=${options.jwksMaxAgeSeconds}` },
      };
    },
  };
  router.add('GET', api(PATHS.jwks), jwks);
  const metadata: Route = {
    async handle(ctx) {
      const refused = edgeRefusal(ctx);
      if (refused) return refused;
      return {
        status: 200,
        body: JSON.stringify(service.authorizationServerMetadata()),
        headers: { 'Cache-Control': 'public, max-age=300' },
      };
    },
  };
  router.add('GET', api(PATHS.oauthMetadata), metadata);
  router.add('GET', '/.well-known/oauth-authorization-server', metadata);
  router.add('POST', api(PATHS.oauthToken), {
    oauth: true,
    async handle(ctx) {
      const a = await agent(ctx);
      const token = await service.mcpToken(a, await ctx.body());
      return { status: 200, body: JSON.stringify(token), headers: { Pragma: 'no-cache' } };
    },
  });

  // ── §8 admin ───────────────────────────────────────────────────────────
  const adminRoute = (
    method: string,
    path: string,
    run: (ctx: Ctx, body: Record<string, unknown>) => Promise<object>,
    status = 200,
  ) => {
    router.add(method, ADMIN_PREFIX + path, {
      async handle(ctx) {
        admin(ctx);
        const body = await ctx.body();
        if (!isPlainObject(body)) throw invalidField('body', 'must be a JSON object');
        return ok(await run(ctx, body), status);
      },
    });
  };
  adminRoute(
    'POST',
    '/sites',
    async (_ctx, body) => {
      const s = await service.createSite({ name: body.name });
      return { site_id: s.siteId, site_token: s.siteToken, name: s.name };
    },
    201,
  );
  adminRoute('POST', `/sites/${P}/token/rotate`, async (ctx) => {
    const r = await service.rotateSiteToken(param(ctx));
    return { site_id: param(ctx), site_token: r.siteToken };
  });
  adminRoute('POST', `/sites/${P}/token/revoke`, async (ctx) => {
    await service.revokeSiteToken(param(ctx));
    return { site_id: param(ctx), revoked: true };
  });
  adminRoute('POST', `/sites/${P}/suspend`, async (ctx) => {
    await service.setSiteSuspended(param(ctx), true);
    return { site_id: param(ctx), suspended: true };
  });
  adminRoute('POST', `/sites/${P}/unsuspend`, async (ctx) => {
    await service.setSiteSuspended(param(ctx), false);
    return { site_id: param(ctx), suspended: false };
  });
  adminRoute(
    'POST',
    '/agents',
    async (_ctx, body) => {
      const a = await service.createAgent({
        displayName: body.display_name,
        avatarUrl: body.avatar_url,
        description: body.description,
        userId: body.user_id,
        userKycLevel: body.user_kyc_level,
        agentReputation: body.agent_reputation,
        oauthAllowed: body.oauth_allowed,
      });
      return {
        agent_id: a.agentId,
        agent_token: a.agentToken,
        user_id: a.userId,
        display_name: a.displayName,
        avatar_url: a.avatarUrl,
        description: a.description,
        user_kyc_level: a.userKycLevel,
        agent_reputation: a.agentReputation,
        oauth_allowed: a.oauthAllowed,
      };
    },
    201,
  );
  adminRoute('POST', `/agents/${P}/token/rotate`, async (ctx) => {
    const r = await service.rotateAgentToken(param(ctx));
    return { agent_id: param(ctx), agent_token: r.agentToken };
  });
  adminRoute('POST', `/agents/${P}/token/revoke`, async (ctx) => {
    await service.revokeAgentToken(param(ctx));
    return { agent_id: param(ctx), revoked: true };
  });
  adminRoute('POST', `/agents/${P}/oauth`, async (ctx, body) => {
    if (typeof body.allowed !== 'boolean') throw invalidField('allowed', 'must be a boolean');
    await service.setAgentOAuthAllowed(param(ctx), body.allowed);
    return { agent_id: param(ctx), oauth_allowed: body.allowed };
  });
  adminRoute('POST', '/signing-keys/rotate', async (_ctx, body) => {
    const { kid, activatesAt } = await service.keys.rotate(keyActivation(body.activate));
    return {
      kid,
      active_kid: service.keys.activeKid,
      activates_at: activatesAt === null ? null : new Date(activatesAt).toISOString(),
    };
  });
  adminRoute('POST', `/signing-keys/${P}/activate`, async (ctx) => {
    if (!service.keys.activate(param(ctx))) {
      throw new CoreProblem(404, 'NOT_FOUND', 'no published signing key has this kid');
    }
    return { active_kid: service.keys.activeKid };
  });
  adminRoute('POST', `/signing-keys/${P}/retire`, async (ctx) => {
    const result = service.keys.retire(param(ctx));
    if (result === 'unknown')
      throw new CoreProblem(404, 'NOT_FOUND', 'no published signing key has this kid');
    if (result === 'active') {
      throw new CoreProblem(
        409,
        'KEY_IN_USE',
        'the active signing key cannot be retired; rotate first',
      );
    }
    return { retired: param(ctx), published: service.keys.publishedKids() };
  });
  adminRoute('POST', `/bindings/${P}/complete`, async (ctx, body) => {
    if (typeof body.agent_id !== 'string') throw invalidField('agent_id', 'must be a string');
    const r = await service.completeBinding(param(ctx), body.agent_id);
    return { passport: r.passport, redirect_url: r.redirectUrl };
  });
  adminRoute('GET', '/signing-keys', async () => ({
    active_kid: service.keys.activeKid,
    published: service.keys.publishedKids(),
  }));
  adminRoute('POST', '/sweep', async () => {
    const expired = await service.sweepExpired();
    await service.pruneRetention();
    return { expired };
  });
  adminRoute('POST', '/pow-difficulty', async (_ctx, body) => {
    service.setPowDifficulty(body.difficulty);
    return { difficulty: service.powDifficulty };
  });
  adminRoute('POST', `/login-requests/${P}/expire`, async (ctx) => {
    await service.expireLoginRequest(param(ctx));
    return { request_id: param(ctx), status: 'EXPIRED' };
  });

  function fail(
    res: ServerResponse,
    route: Route | undefined,
    problem: CoreProblem,
    base: Record<string, string>,
  ) {
    const headers = { ...base, ...NO_STORE, ...problem.headers };
    // §7: the token endpoint answers raw RFC 6749 errors, except the
    // capability refusal and rate limiting, which keep the envelope.
    const raw = route?.oauth && problem.status !== 403 && problem.status !== 429;
    sendJson(res, problem.status, raw ? oauthErrorBody(problem) : envelopeBody(problem), headers);
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const given = req.headers['x-request-id'];
    const requestId =
      typeof given === 'string' && REQUEST_ID_SYNTAX.test(given) ? given : nextRequestId();
    const base: Record<string, string> = { [HEADERS.requestId]: requestId };
    const started = options.log ? performance.now() : 0;
    let route: Route | undefined;
    try {
      // Lazy expiry: O(1) check; the sweep itself runs beside this request
      // (the request's own login request is re-checked where it is read).
      if (service.expiryDue()) {
        service.sweepExpired().catch(() => undefined);
      }
      // HTTP/1.1 requires Host (RFC 9112 §3.2); HTTP/1.0 may omit it.
      if (req.httpVersion === '1.1' && req.headers.host === undefined) {
        throw new CoreProblem(
          400,
          'VALIDATION_ERROR',
          'an HTTP/1.1 request must carry a Host header',
          { field: 'Host' },
          { Connection: 'close' },
        );
      }
      const path = pathOf(req.url);
      const match = router.match(path);
      if (!match)
        throw new CoreProblem(404, 'NOT_FOUND', 'no such endpoint; see PROTOCOL.md for the routes');
      route = match.methods.get(req.method ?? '');
      if (!route) {
        const allow = [...match.methods.keys()].join(', ');
        throw new CoreProblem(
          405,
          'METHOD_NOT_ALLOWED',
          `use ${allow} on this endpoint`,
          undefined,
          {
            Allow: allow,
          },
        );
      }
      if (ipLimiter) {
        const wait = ipLimiter.take(req.socket.remoteAddress ?? 'unknown');
        if (wait > 0) throw rateLimited(wait);
      }
      const ctx: Ctx = {
        req,
        res,
        params: match.params,
        base,
        body: () => readJsonBody(req, options.maxBodyBytes),
        limit(key) {
          const wait = credLimiter?.take(key) ?? 0;
          if (wait > 0) throw rateLimited(wait);
        },
      };
      const reply = await route.handle(ctx);
      if (reply)
        sendJson(res, reply.status, reply.body, { ...base, ...NO_STORE, ...reply.headers });
    } catch (err) {
      if (err instanceof CoreProblem) {
        fail(res, route, err, base);
      } else {
        options.log?.({
          level: 'error',
          message: `internal error: ${err instanceof Error ? err.name : typeof err}`,
          requestId,
        });
        fail(
          res,
          route,
          new CoreProblem(500, 'INTERNAL_ERROR', 'the Core failed to handle this request'),
          base,
        );
      }
    }
    if (options.log) {
      options.log({
        level: 'info',
        message: 'request',
        requestId,
        method: req.method ?? '',
        path: pathOf(req.url).slice(0, 200),
        status: res.statusCode,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      });
    }
  }

  return {
    listener(req: IncomingMessage, res: ServerResponse): void {
      dispatch(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    },
    /** 'checkExpectation': an `Expect:` this server does not meet → 417, in the envelope. */
    refuseExpectation(req: IncomingMessage, res: ServerResponse): void {
      const given = req.headers['x-request-id'];
      const requestId =
        typeof given === 'string' && REQUEST_ID_SYNTAX.test(given) ? given : nextRequestId();
      sendJson(
        res,
        417,
        envelopeBody(
          new CoreProblem(417, 'EXPECTATION_FAILED', "only 'Expect: 100-continue' is supported", {
            field: 'Expect',
          }),
        ),
        { [HEADERS.requestId]: requestId, ...NO_STORE, Connection: 'close' },
      );
      // The body (if any) is never read: the connection closes after the answer.
      req.resume();
    },
    pruneLimiters(): void {
      ipLimiter?.prune();
      credLimiter?.prune();
    },
  };
}

function rateLimited(seconds: number): CoreProblem {
  return new CoreProblem(
    429,
    'RATE_LIMIT_EXCEEDED',
    `too many requests; retry after ${seconds} s`,
    { retry_after: seconds },
    { 'Retry-After': String(seconds) },
  );
}
