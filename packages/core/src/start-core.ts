import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { AbortError, errorClassFor, failureEnvelope, type LimeError, toApiBase } from '@lime/wire';
import { CoreService } from './internal/core-service.js';
import { CoreState } from './internal/core-state.js';
import { hashToken, newToken, TOKEN_PREFIX } from './internal/credentials.js';
import { EventHub } from './internal/event-hub.js';
import { EPOCH_PATTERN, newEpoch } from './internal/event-ids.js';
import { createHttpApi } from './internal/http-api.js';
import { CoreProblem } from './internal/problem.js';
import { RecordKeepingStore } from './internal/record-keeping-store.js';
import { type KeyringFormat, keyActivation, SigningKeyring } from './internal/signing-keys.js';
import { MemoryStore } from './memory-store.js';
import {
  type CoreOptions,
  type CoreProfile,
  type ResolvedCoreOptions,
  resolveCoreOptions,
} from './options.js';

/**
 * Optional cancellation of an admin call.
 *
 * @example
 * await core.admin.createSite({ name: 'x' }, { signal: AbortSignal.timeout(1_000) });
 */
export interface CallOptions {
  signal?: AbortSignal;
}

/**
 * Input of {@link CoreAdmin.createSite}.
 *
 * @example
 * await core.admin.createSite({ name: 'shop' });
 */
export interface CreateSiteInput {
  /** Display name. @default 'site' */
  name?: string;
}

/**
 * Result of {@link CoreAdmin.createSite}. The token is shown only here.
 *
 * @example
 * const { siteId, siteToken } = await core.admin.createSite();
 */
export interface CreatedSiteResult {
  siteId: string;
  siteToken: string;
  name: string;
}

/**
 * Input of {@link CoreAdmin.createAgent}: the §3.6 profile fields.
 *
 * @example
 * await core.admin.createAgent({ displayName: 'bot', userKycLevel: 2, agentReputation: 0.9 });
 */
export interface CreateAgentInput {
  /** @default null */
  displayName?: string | null;
  /** @default null */
  avatarUrl?: string | null;
  /** @default null */
  description?: string | null;
  /** The owner's id (`user_id` claim). @default a fresh `usr_…` id */
  userId?: string;
  /** @default null */
  userKycLevel?: number | string | null;
  /** @default null */
  agentReputation?: number | null;
  /** May the agent obtain MCP access tokens (§7). @default true */
  oauthAllowed?: boolean;
}

/**
 * Result of {@link CoreAdmin.createAgent}. The token is shown only here.
 *
 * @example
 * const { agentId, agentToken, userId } = await core.admin.createAgent({ displayName: 'bot' });
 */
export interface CreatedAgentResult {
  agentId: string;
  agentToken: string;
  userId: string;
  displayName: string | null;
  avatarUrl: string | null;
  description: string | null;
  userKycLevel: number | string | null;
  agentReputation: number | null;
  oauthAllowed: boolean;
}

/**
 * In-process provisioning and control of a running Core (PROTOCOL.md §8).
 * The same operations are served over HTTP under `/admin/v1`. Refusals
 * throw `LimeError` subclasses (`NotFoundError`, `ValidationError`, …).
 *
 * @example
 * const { siteId, siteToken } = await core.admin.createSite({ name: 'shop' });
 * const { agentId, agentToken } = await core.admin.createAgent({ displayName: 'bot' });
 */
export interface CoreAdmin {
  createSite(input?: CreateSiteInput, options?: CallOptions): Promise<CreatedSiteResult>;
  createAgent(input?: CreateAgentInput, options?: CallOptions): Promise<CreatedAgentResult>;
  /** New site token; the old one stops working and open streams close with an `error` event. */
  rotateSiteToken(siteId: string, options?: CallOptions): Promise<{ siteToken: string }>;
  revokeSiteToken(siteId: string, options?: CallOptions): Promise<void>;
  /** Suspended sites get 403 `SITE_SUSPENDED`; their streams close. */
  suspendSite(siteId: string, options?: CallOptions): Promise<void>;
  unsuspendSite(siteId: string, options?: CallOptions): Promise<void>;
  rotateAgentToken(agentId: string, options?: CallOptions): Promise<{ agentToken: string }>;
  revokeAgentToken(agentId: string, options?: CallOptions): Promise<void>;
  /** `false` → the token endpoint answers 403 `OAUTH_CAPABILITY_DENIED`. */
  setAgentOAuthAllowed(agentId: string, allowed: boolean, options?: CallOptions): Promise<void>;
  /**
   * Publish a new signing key (first in the JWKS). `activate`:
   * `'scheduled'` (default) — it signs after `signingKeyActivationDelayMs`
   * (65 s), once verifiers have refetched the JWKS; `'now'` (or `true`) —
   * it signs at once (tests); `false` — only after
   * {@link activateSigningKey}. The key it replaces stays published for
   * `signingKeyRetireAfterMs`, then is unpublished; at most
   * `maxPublishedSigningKeys` keys are published. `activatesAt` (ms since
   * the epoch) is when a scheduled key starts signing, else null.
   */
  rotateSigningKey(
    options?: CallOptions & { activate?: SigningKeyActivation },
  ): Promise<{ kid: string; activatesAt: number | null }>;
  /** Make a published key the signing key. */
  activateSigningKey(kid: string, options?: CallOptions): Promise<void>;
  /** Remove a (non-active) key from the JWKS: tokens it signed stop verifying. */
  retireSigningKey(kid: string, options?: CallOptions): Promise<void>;
  /**
   * The active kid, every published kid (newest first, as in the JWKS), and
   * the key scheduled to sign next, if any.
   */
  signingKeys(options?: CallOptions): Promise<{
    activeKid: string;
    publishedKids: string[];
    scheduled?: { kid: string; activatesAt: number };
  }>;
  /** What the hosted connect page does: pick `agentId` for a binding (§5). */
  completeBinding(
    bindingId: string,
    agentId: string,
    options?: CallOptions,
  ): Promise<{ passport: string; redirectUrl: string }>;
  /** Difficulty of login requests created from now on. */
  setPowDifficulty(difficulty: number, options?: CallOptions): Promise<void>;
  /** Expire a pending login request now (emits `expired`). */
  expireLoginRequest(requestId: string, options?: CallOptions): Promise<void>;
  /**
   * Run the expiry and retention sweep now (it also runs on a timer and
   * lazily on every request). Returns how many requests expired.
   */
  sweep(options?: CallOptions): Promise<{ expired: number }>;
}

/**
 * A running reference Core.
 *
 * @example
 * const core = await startCore({ powDifficulty: 0 });
 * console.log(core.apiBase); // http://127.0.0.1:PORT/api/v1
 * await core.close();
 */
export interface Core {
  /** Listening origin, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** `url + '/api/v1'`: what the SDKs take as `LIME_API_BASE`. */
  readonly apiBase: string;
  /** The `iss` of every token (`publicUrl`, else `url`). */
  readonly issuer: string;
  /** The port actually bound. */
  readonly port: number;
  /** `'core'` or `'hosted'` (see {@link CoreOptions.profile}). */
  readonly profile: CoreProfile;
  /** Bearer token of the `/admin/v1` HTTP API. */
  readonly adminToken: string;
  /** In-process admin operations. */
  readonly admin: CoreAdmin;
  /** Stop listening, end open event streams cleanly, release the store. */
  close(options?: CallOptions): Promise<void>;
}

/**
 * When a rotated signing key starts signing (see {@link CoreAdmin.rotateSigningKey}):
 * `'scheduled'` after `signingKeyActivationDelayMs`, `'now'` or `true` at once,
 * `false` when activated by hand.
 *
 * @example
 * await core.admin.rotateSigningKey({ activate: 'now' });
 */
export type SigningKeyActivation = 'scheduled' | 'now' | boolean;

function toLimeError(err: unknown): unknown {
  if (!(err instanceof CoreProblem)) return err;
  const Cls = errorClassFor(err.status, err.code);
  return new Cls(err.code, err.message, { status: err.status, detail: err.detail });
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.removeListener('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** A complete raw HTTP/1.1 answer with an envelope body, closing the connection. */
function rawEnvelopeResponse(
  status: string,
  envelope: object,
  headers: Record<string, string> = {},
): string {
  const body = JSON.stringify(envelope);
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\n${extra}Connection: close\r\n\r\n${body}`;
}

function clientErrorResponse(code: string | undefined): string {
  const tooLarge = code === 'HPE_HEADER_OVERFLOW';
  return tooLarge
    ? rawEnvelopeResponse(
        '431 Request Header Fields Too Large',
        failureEnvelope('REQUEST_HEADER_FIELDS_TOO_LARGE', 'the request headers are too large'),
      )
    : rawEnvelopeResponse(
        '400 Bad Request',
        failureEnvelope('VALIDATION_ERROR', 'malformed HTTP request', { field: 'request' }),
      );
}

/**
 * Start the reference LIME Core: the whole of PROTOCOL.md in one process,
 * listening on 127.0.0.1 and a free port by default.
 *
 * @example
 * import { startCore } from 'lime-core';
 * const core = await startCore({ powDifficulty: 0 });
 * const { siteToken } = await core.admin.createSite({ name: 'shop' });
 * const { agentToken } = await core.admin.createAgent({ displayName: 'bot' });
 * // …point the SDKs at core.apiBase…
 * await core.close();
 */
export async function startCore(options: CoreOptions = {}, call: CallOptions = {}): Promise<Core> {
  const opts = resolveCoreOptions(options);
  call.signal?.throwIfAborted();
  const state =
    opts.stateDir === undefined
      ? undefined
      : await CoreState.open(opts.stateDir, opts.profile, opts.log);
  try {
    return await launch(opts, state);
  } catch (err) {
    // Release the state directory: a Core started again (on a free port…) may use it.
    await state?.close();
    throw err;
  }
}

async function launch(opts: ResolvedCoreOptions, state: CoreState | undefined): Promise<Core> {
  const saved = state?.saved;
  const hosted = opts.profile === 'hosted';
  const keyFormat: KeyringFormat = {
    typ: !hosted,
    jwksShape: opts.jwksShape,
    clock: opts.clock,
    activationDelayMs: opts.signingKeyActivationDelayMs,
    retireAfterMs: opts.signingKeyRetireAfterMs,
    maxPublished: opts.maxPublishedSigningKeys,
    onChange: state && (() => state.saveSoon()),
  };
  const keys = saved
    ? SigningKeyring.restore(opts.keySize, saved.keyring, opts.signingKey, keyFormat)
    : await SigningKeyring.create(opts.keySize, opts.signingKey, keyFormat);
  // A given adminToken is used, not saved: the saved one comes back without it.
  const keptAdminToken = state && (saved?.adminToken ?? newToken(TOKEN_PREFIX.admin));
  const adminToken = opts.adminToken ?? keptAdminToken ?? newToken(TOKEN_PREFIX.admin);
  const keptRecords =
    state && !opts.store
      ? await RecordKeepingStore.create(saved ?? { sites: [], agents: [] }, () => state.save())
      : undefined;
  const store = opts.store ?? keptRecords ?? new MemoryStore();
  if (state && keptAdminToken) {
    state.sources = {
      keyring: () => keys.snapshot(),
      records: keptRecords && (() => keptRecords.records()),
      adminToken: keptAdminToken,
      issuer: saved?.issuer ?? null,
    };
    // Before listening: a directory that cannot be written fails the start.
    await state.save();
  }
  // The epoch names the event log in every event id (§3.5): the store's own
  // when it keeps one (a restart with the same store resumes seamlessly),
  // else a fresh one (a restart answers old ids with resync).
  const epoch = (await store.eventLogEpoch?.()) ?? newEpoch();
  if (typeof epoch !== 'string' || !EPOCH_PATTERN.test(epoch)) {
    throw new TypeError(
      'CoreStore.eventLogEpoch() must return 1–64 characters of [A-Za-z0-9_] (no "-")',
    );
  }
  const service = new CoreService(opts, store, keys, opts.publicUrl ?? '', epoch);
  const hub = new EventHub(store, {
    profile: opts.profile,
    retryMs: opts.retryMs,
    keepaliveMs: opts.keepaliveMs,
    epoch,
    onReplayed: (event) => service.onReplayed(event),
  });
  service.hub = hub;
  // A reused store may hold pending requests of an earlier Core: expire them on time.
  await service.loadPendingExpiries();
  const http = createHttpApi({
    service,
    hub,
    options: opts,
    adminTokenHash: hashToken(adminToken),
  });

  const server = createServer(
    // A request without Host is refused by the router, in the envelope,
    // not by Node's bare 400.
    { keepAliveTimeout: 65_000, requestTimeout: 30_000, requireHostHeader: false },
    http.listener,
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Malformed HTTP never reaches the router; answer it in the envelope too.
    if (socket.writable) socket.end(clientErrorResponse(err.code));
    else socket.destroy();
  });
  // `Expect:` other than 100-continue: Node would answer a bare 417.
  server.on('checkExpectation', http.refuseExpectation);
  // CONNECT never reaches the request listener: Node would drop the connection.
  server.on('connect', (_req, socket: Socket) => {
    const answer = rawEnvelopeResponse(
      '405 Method Not Allowed',
      failureEnvelope('METHOD_NOT_ALLOWED', 'CONNECT is not served: this is not a proxy'),
    );
    if (socket.writable) socket.end(answer);
    else socket.destroy();
  });
  const port = await listen(server, opts.port, opts.host);
  const url = `http://${hostForUrl(opts.host)}:${port}`;
  service.issuer = opts.publicUrl ?? url;
  if (state?.sources && state.sources.issuer !== service.issuer) {
    const before = state.sources.issuer;
    if (before !== null) {
      opts.log?.({
        level: 'warn',
        message: `the issuer is ${service.issuer}, it was ${before} when ${state.file} was last used: tokens minted before carry the old 'iss' and verifiers refuse them (keep the port, or set publicUrl, to keep the issuer)`,
      });
    }
    state.sources.issuer = service.issuer;
    state.saveSoon();
  }

  const sweep = async (): Promise<number> => {
    const expired = await service.sweepExpired();
    await service.pruneRetention();
    http.pruneLimiters();
    return expired;
  };
  const timer = setInterval(() => {
    sweep().catch((err: unknown) =>
      opts.log?.({
        level: 'error',
        message: `sweep failed: ${err instanceof Error ? err.name : typeof err}`,
      }),
    );
  }, opts.sweepIntervalMs);
  timer.unref();

  const run = async <T>(o: CallOptions | undefined, fn: () => Promise<T> | T): Promise<T> => {
    if (o?.signal?.aborted) throw new AbortError();
    try {
      return await fn();
    } catch (err) {
      throw toLimeError(err) as LimeError;
    }
  };

  const admin: CoreAdmin = {
    createSite: (input = {}, o) => run(o, () => service.createSite({ name: input.name })),
    createAgent: (input = {}, o) =>
      run(o, () => service.createAgent(input as Record<string, unknown>)),
    rotateSiteToken: (siteId, o) => run(o, () => service.rotateSiteToken(siteId)),
    revokeSiteToken: (siteId, o) => run(o, () => service.revokeSiteToken(siteId)),
    suspendSite: (siteId, o) => run(o, () => service.setSiteSuspended(siteId, true)),
    unsuspendSite: (siteId, o) => run(o, () => service.setSiteSuspended(siteId, false)),
    rotateAgentToken: (agentId, o) => run(o, () => service.rotateAgentToken(agentId)),
    revokeAgentToken: (agentId, o) => run(o, () => service.revokeAgentToken(agentId)),
    setAgentOAuthAllowed: (agentId, allowed, o) =>
      run(o, () => service.setAgentOAuthAllowed(agentId, allowed)),
    rotateSigningKey: (o) => run(o, () => keys.rotate(keyActivation(o?.activate))),
    activateSigningKey: (kid, o) =>
      run(o, () => {
        if (!keys.activate(kid))
          throw new CoreProblem(404, 'NOT_FOUND', 'no published signing key has this kid');
      }),
    retireSigningKey: (kid, o) =>
      run(o, () => {
        const r = keys.retire(kid);
        if (r === 'unknown')
          throw new CoreProblem(404, 'NOT_FOUND', 'no published signing key has this kid');
        if (r === 'active') {
          throw new CoreProblem(
            409,
            'KEY_IN_USE',
            'the active signing key cannot be retired; rotate first',
          );
        }
      }),
    signingKeys: (o) =>
      run(o, () => {
        const scheduled = keys.scheduled();
        return {
          activeKid: keys.activeKid,
          publishedKids: keys.publishedKids(),
          ...(scheduled ? { scheduled } : {}),
        };
      }),
    completeBinding: (bindingId, agentId, o) =>
      run(o, () => service.completeBinding(bindingId, agentId)),
    setPowDifficulty: (difficulty, o) => run(o, () => service.setPowDifficulty(difficulty)),
    expireLoginRequest: (id, o) => run(o, () => service.expireLoginRequest(id)),
    sweep: (o) => run(o, async () => ({ expired: await sweep() })),
  };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      clearInterval(timer);
      hub.closeAll();
      const force = setTimeout(() => server.closeAllConnections(), 2_000);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      server.closeIdleConnections();
    })
      .then(() => (opts.store ? undefined : store.close()))
      .then(() => state?.close());
    return closing;
  };

  return {
    url,
    apiBase: toApiBase(url),
    issuer: service.issuer,
    port,
    profile: opts.profile,
    adminToken,
    admin,
    close: (o) => run(o, close),
  };
}
