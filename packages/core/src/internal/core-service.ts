import { createHash, randomUUID } from 'node:crypto';
import {
  type AgentProfileData,
  type ApproveData,
  type ApprovedEvent,
  AUDIENCE,
  type CreateBindingRequestData,
  type CreateLoginRequestData,
  domainProblem,
  type ExpiredEvent,
  isValidNonce,
  type LoginChallengeData,
  type LoginStatus,
  MAX_POW_DIFFICULTY,
  MCP_AUTH_DOCS_URL,
  MCP_DEFAULT_SCOPE,
  meetsDifficulty,
  type OAuthTokenResponse,
  PATHS,
  type PassportClaims,
  powPreimage,
  toApiBase,
} from '@lime/wire';
import type { ResolvedCoreOptions } from '../options.js';
import type { CreatedAgentResult, CreatedSiteResult } from '../start-core.js';
import type {
  AgentRecord,
  BindingRecord,
  CoreStore,
  LoginRequestRecord,
  SiteRecord,
  StoredEvent,
} from '../store.js';
import {
  hashesEqual,
  hashToken,
  newToken,
  newUnprefixedToken,
  plausibleToken,
  TOKEN_PREFIX,
} from './credentials.js';
import type { EventHub } from './event-hub.js';
import { ExpiryQueue } from './expiry-queue.js';
import { newChallenge, newId } from './ids.js';
import { CoreProblem, invalidField, isPlainObject, jsonType } from './problem.js';
import type { SigningKeyring } from './signing-keys.js';

/** Version of the passport claim set this Core issues. */
const PASSPORT_VERSION = 1;

function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

function optionalString(body: Record<string, unknown>, field: string, max: number): string | null {
  const v = body[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.length > max) {
    throw invalidField(field, `must be a string of at most ${max} characters, got ${jsonType(v)}`);
  }
  return v;
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
}

/** An absolute https URL (http only for loopback hosts), no fragment, no userinfo. */
function redirectTarget(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) {
    throw invalidField(field, `must be an absolute URL string, got ${jsonType(value)}`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidField(field, 'must be an absolute URL');
  }
  const httpsOrLoopback =
    url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
  if (!httpsOrLoopback || url.hash || url.username || url.password) {
    throw invalidField(
      field,
      'must be an https URL (http only for localhost) without fragment or userinfo',
    );
  }
  return url.href;
}

/**
 * §3.1b answer. The approval fields are extras of the reference Core
 * (profile 'core' only), present once the request was approved.
 */
export interface LoginRequestStatusData {
  login_request_id: string;
  status: LoginStatus;
  expires_at: string;
  approved_at?: string;
  approved_agent_id?: string;
}

/** Fields accepted when creating an agent. */
export interface AgentInput {
  displayName?: string | null;
  avatarUrl?: string | null;
  description?: string | null;
  userId?: string;
  userKycLevel?: number | string | null;
  agentReputation?: number | null;
  oauthAllowed?: boolean;
}

/**
 * The Core's behaviour, independent of HTTP: credentials, login requests,
 * events, passports, bindings, MCP tokens and the admin operations. Throws
 * {@link CoreProblem} for every refusal.
 */
export class CoreService {
  private readonly expiries = new ExpiryQueue();
  private readonly siteChains = new Map<string, Promise<unknown>>();
  private sweepRun: Promise<number> | undefined;
  powDifficulty: number;
  hub!: EventHub;

  /** Hosted profile: every [core]/[extension] behaviour off (see the README). */
  readonly hosted: boolean;

  constructor(
    readonly options: ResolvedCoreOptions,
    readonly store: CoreStore,
    readonly keys: SigningKeyring,
    /** Public origin; set once the server listens. */
    public issuer: string,
    /** Names the event log in every event id (see event-ids.ts). */
    readonly eventEpoch: string,
  ) {
    this.powDifficulty = options.powDifficulty;
    this.hosted = options.profile === 'hosted';
  }

  /** A fresh id: `prefix_<random>` (core) or a UUID (hosted, like the platform). */
  private newId(prefix: Parameters<typeof newId>[0]): string {
    return this.hosted ? randomUUID() : newId(prefix);
  }

  /** A fresh site or agent token: `st_…`/`at_…` (core) or unprefixed hex (hosted). */
  private newCredential(kind: 'site' | 'agent'): string {
    return this.hosted ? newUnprefixedToken() : newToken(TOKEN_PREFIX[kind]);
  }

  /** 404 for an unknown (or, on the site route, foreign) login request. */
  private requestNotFound(): CoreProblem {
    return new CoreProblem(
      404,
      this.hosted ? 'SITE_LOGIN_REQUEST_NOT_FOUND' : 'REQUEST_NOT_FOUND',
      'no login request has this id',
    );
  }

  get apiBase(): string {
    return toApiBase(this.issuer);
  }

  now(): number {
    return this.options.clock();
  }

  // ── credentials ────────────────────────────────────────────────────────

  async authenticateSite(header: string | string[] | undefined): Promise<SiteRecord> {
    if (typeof header !== 'string' || header.length === 0) {
      throw new CoreProblem(401, 'SITE_TOKEN_MISSING', 'send the site token in X-Site-Token');
    }
    const hash = plausibleToken(header) ? hashToken(header) : '';
    const site = hash ? await this.store.findSiteByTokenHash(hash) : undefined;
    if (!site?.tokenHash || !hashesEqual(site.tokenHash, hash)) {
      throw new CoreProblem(
        401,
        'SITE_TOKEN_INVALID',
        'the X-Site-Token is not a valid site token (revoked, rotated or mistyped)',
      );
    }
    if (site.suspended) {
      throw new CoreProblem(403, 'SITE_SUSPENDED', 'this site is suspended');
    }
    return site;
  }

  async authenticateAgent(header: string | string[] | undefined): Promise<AgentRecord> {
    if (typeof header !== 'string' || header.length === 0) {
      throw new CoreProblem(401, 'MISSING_AGENT_TOKEN', 'send the agent token in X-Agent-Token');
    }
    const hash = plausibleToken(header) ? hashToken(header) : '';
    const agent = hash ? await this.store.findAgentByTokenHash(hash) : undefined;
    if (!agent?.tokenHash || !hashesEqual(agent.tokenHash, hash)) {
      throw new CoreProblem(
        401,
        'INVALID_AGENT_TOKEN',
        'the X-Agent-Token is not a valid agent token (revoked, rotated, mistyped, or a JWT)',
      );
    }
    return agent;
  }

  // ── login requests (§3) ────────────────────────────────────────────────

  async createLoginRequest(site: SiteRecord, body: unknown): Promise<CreateLoginRequestData> {
    if (!isPlainObject(body))
      throw invalidField('body', `must be a JSON object, got ${jsonType(body)}`);
    const redirectUrl =
      body.redirect_url === undefined || body.redirect_url === null
        ? null
        : redirectTarget(body.redirect_url, 'redirect_url');
    const now = this.now();
    const record: LoginRequestRecord = {
      id: this.newId('lr'),
      siteId: site.siteId,
      challenge: newChallenge(),
      difficulty: this.powDifficulty,
      status: 'PENDING',
      createdAt: now,
      expiresAt: now + this.options.requestTtlMs,
      approvedAgentId: null,
      approvedAt: null,
      redirectUrl,
    };
    await this.store.putLoginRequest(record);
    this.expiries.push(record.expiresAt, record.id);
    return {
      login_request_id: record.id,
      status: 'PENDING',
      expires_at: rfc3339(record.expiresAt),
    };
  }

  /** The request, after expiring it if its time has come. */
  private async liveRequest(id: string): Promise<LoginRequestRecord> {
    const record = await this.store.getLoginRequest(id);
    if (!record) throw this.requestNotFound();
    return this.expireIfDue(record);
  }

  /** The record, or its expired successor when its time has come. */
  private async expireIfDue(record: LoginRequestRecord): Promise<LoginRequestRecord> {
    const id = record.id;
    if (record.status === 'PENDING' && this.now() >= record.expiresAt) {
      return (
        (await this.expire(record.id)) ??
        ((await this.store.getLoginRequest(id)) as LoginRequestRecord)
      );
    }
    return record;
  }

  /**
   * §3.1b: one of the site's own login requests. Another site's id answers
   * exactly like an unknown one (no oracle for ids of other sites).
   */
  async siteLoginRequest(site: SiteRecord, id: string): Promise<LoginRequestStatusData> {
    const found = await this.store.getLoginRequest(id);
    if (!found || found.siteId !== site.siteId) throw this.requestNotFound();
    const r = await this.expireIfDue(found);
    const data: LoginRequestStatusData = {
      login_request_id: r.id,
      status: r.status,
      expires_at: rfc3339(r.expiresAt),
    };
    // Extras only the reference Core is known to give.
    if (!this.hosted && r.approvedAgentId !== null && r.approvedAt !== null) {
      data.approved_at = rfc3339(r.approvedAt);
      data.approved_agent_id = r.approvedAgentId;
    }
    return data;
  }

  async getChallenge(id: string): Promise<LoginChallengeData> {
    const r = await this.liveRequest(id);
    if (r.status === 'EXPIRED') throw expiredProblem();
    return {
      request_id: r.id,
      status: r.status,
      pow_challenge: r.challenge,
      pow_difficulty: r.difficulty,
      expires_at: rfc3339(r.expiresAt),
    };
  }

  async approve(agent: AgentRecord, id: string, body: unknown): Promise<ApproveData> {
    if (!isPlainObject(body))
      throw invalidField('body', `must be a JSON object, got ${jsonType(body)}`);
    const nonce = body.pow_nonce;
    if (this.hosted && (nonce === undefined || nonce === null || nonce === '')) {
      throw new CoreProblem(400, 'MISSING_POW_NONCE', "send the proof of work as 'pow_nonce'");
    }
    if (typeof nonce !== 'string') {
      throw invalidField('pow_nonce', `must be a decimal string, got ${jsonType(nonce)}`);
    }
    let r = await this.liveRequest(id);
    if (r.status === 'EXPIRED') throw expiredProblem();
    // [extension] the winner may repeat its approval; the hosted profile has
    // no such exception: every approve of a non-pending request is a 409.
    const winnerRepeat = !this.hosted && r.approvedAgentId === agent.agentId;
    if (r.status !== 'PENDING' && !winnerRepeat) throw alreadyApproved();
    if (!isValidNonce(nonce)) {
      throw new CoreProblem(
        400,
        'INVALID_POW',
        'pow_nonce must be a decimal string without sign or leading zeros, at most 2^53 − 1',
      );
    }
    if (!this.checkPow(r, nonce)) {
      throw new CoreProblem(
        400,
        'INVALID_POW',
        `SHA-256(pow_challenge + pow_nonce) does not have ${r.difficulty} leading zero bits`,
      );
    }
    if (r.status !== 'PENDING') return approveData(r);

    const now = this.now();
    const won = await this.store.transitionLoginRequest(id, ['PENDING'], {
      status: 'APPROVED',
      approvedAgentId: agent.agentId,
      approvedAt: now,
    });
    if (!won) {
      // Someone else moved it first: the winner (maybe us, concurrently) or expiry.
      r = (await this.store.getLoginRequest(id)) ?? r;
      if (r.status === 'EXPIRED') throw expiredProblem();
      if (this.hosted || r.approvedAgentId !== agent.agentId) throw alreadyApproved();
      return approveData(r);
    }
    const passport = await this.signPassport(won, agent, now);
    const event: ApprovedEvent = {
      type: 'approved',
      login_request_id: won.id,
      agent_passport_jwt: passport,
    };
    if (won.redirectUrl) event.redirect_url = won.redirectUrl;
    const delivered = await this.emit(won.siteId, JSON.stringify(event));
    if (delivered > 0) {
      const after = await this.store.transitionLoginRequest(id, ['APPROVED'], {
        status: 'DELIVERED',
      });
      if (after) return approveData(after);
    }
    return approveData((await this.store.getLoginRequest(id)) ?? won);
  }

  private checkPow(r: LoginRequestRecord, nonce: string): boolean {
    if (r.difficulty <= 0) return true;
    const digest = createHash('sha256').update(powPreimage(r.challenge, nonce)).digest();
    return meetsDifficulty(digest, r.difficulty);
  }

  private signPassport(r: LoginRequestRecord, agent: AgentRecord, now: number): Promise<string> {
    const iat = seconds(now);
    if (this.hosted) {
      // Only the claims the Python site SDK README lists, plus the `aud` its
      // verifier requires: no iss, sub, jti, site_id, passport_version.
      return this.keys.sign({
        agent_id: agent.agentId,
        user_id: agent.userId,
        user_kyc_level: agent.userKycLevel,
        agent_reputation: agent.agentReputation,
        request_id: r.id,
        aud: AUDIENCE.sitePassport,
        exp: iat + this.options.passportTtlSeconds,
        iat,
      });
    }
    const claims: PassportClaims = {
      iss: this.issuer,
      sub: agent.agentId,
      aud: AUDIENCE.sitePassport,
      iat,
      exp: iat + this.options.passportTtlSeconds,
      jti: randomUUID(),
      request_id: r.id,
      site_id: r.siteId,
      user_id: agent.userId,
      user_kyc_level: agent.userKycLevel,
      agent_reputation: agent.agentReputation,
      passport_version: PASSPORT_VERSION,
    };
    return this.keys.sign(claims);
  }

  /** Expire a pending request now and emit `expired`. Undefined when it was not pending. */
  async expire(id: string): Promise<LoginRequestRecord | undefined> {
    const r = await this.store.transitionLoginRequest(id, ['PENDING'], { status: 'EXPIRED' });
    if (!r) return undefined;
    const event: ExpiredEvent = { type: 'expired', login_request_id: r.id };
    await this.emit(r.siteId, JSON.stringify(event));
    return r;
  }

  /**
   * Append an event to the site's log and broadcast it. Per site, appends and
   * broadcasts run one after another, so connections see ids in order.
   */
  private emit(siteId: string, data: string): Promise<number> {
    const prev = this.siteChains.get(siteId);
    const run = this.hosted
      ? // No log, no ids, no replay: one connection gets it, or nobody does.
        async () => this.hub.deliverToOne(siteId, data)
      : async () => {
          const now = this.now();
          const event = await this.store.appendEvent(siteId, data, now);
          const delivered = this.hub.publish(event);
          // The log is bounded by count as well as by time.
          await this.store.pruneEvents(
            now - this.options.retentionMs,
            siteId,
            this.options.maxEventsPerSite,
          );
          return delivered;
        };
    const next = prev ? prev.then(run, run) : run();
    this.siteChains.set(siteId, next);
    const cleanup = () => {
      if (this.siteChains.get(siteId) === next) this.siteChains.delete(siteId);
    };
    next.then(cleanup, cleanup);
    return next;
  }

  /** A replayed `approved` event reached a connection: the request is delivered. */
  onReplayed(event: StoredEvent): void {
    if (!event.data.startsWith('{"type":"approved"')) return;
    try {
      const parsed = JSON.parse(event.data) as ApprovedEvent;
      void this.store
        .transitionLoginRequest(parsed.login_request_id, ['APPROVED'], { status: 'DELIVERED' })
        .catch(() => undefined);
    } catch {
      // Stored data is always our own JSON; nothing to do if it is not.
    }
  }

  /**
   * At start: put the pending requests an earlier Core left in the store
   * into the expiry queue, so they expire (and emit `expired`) on time.
   * Returns how many were loaded.
   */
  async loadPendingExpiries(): Promise<number> {
    const pending = (await this.store.listPendingLoginRequests?.()) ?? [];
    for (const r of pending) this.expiries.push(r.expiresAt, r.id);
    return pending.length;
  }

  /** O(1) check run on every request: is any request due to expire? */
  expiryDue(): boolean {
    return this.expiries.peekTime() <= this.now();
  }

  /**
   * Expire every due request. Returns how many expired. Concurrent callers
   * share the sweep in progress.
   */
  sweepExpired(): Promise<number> {
    this.sweepRun ??= this.runSweep().finally(() => {
      this.sweepRun = undefined;
    });
    return this.sweepRun;
  }

  private async runSweep(): Promise<number> {
    let n = 0;
    while (this.expiries.peekTime() <= this.now()) {
      const id = this.expiries.pop()!;
      if (await this.expire(id)) n++;
    }
    return n;
  }

  /** Drop one site's events older than the retention window (before a replay). */
  async pruneSiteEvents(siteId: string): Promise<void> {
    await this.store.pruneEvents(this.now() - this.options.retentionMs, siteId);
  }

  /** Drop events and finished requests older than the retention window. */
  async pruneRetention(): Promise<void> {
    const before = this.now() - this.options.retentionMs;
    await this.store.pruneEvents(before);
    await this.store.deleteLoginRequestsEndedBefore(before);
  }

  // ── agent profile (§3.6) ───────────────────────────────────────────────

  profile(agent: AgentRecord): AgentProfileData {
    return {
      agent_id: agent.agentId,
      user_id: agent.userId,
      display_name: agent.displayName,
      avatar_url: agent.avatarUrl,
      description: agent.description,
      user_kyc_level: agent.userKycLevel,
      agent_reputation: agent.agentReputation,
    };
  }

  // ── bindings (§5) ──────────────────────────────────────────────────────

  connectUrl(bindingId: string): string {
    return `${this.issuer}/connect/bindings/${encodeURIComponent(bindingId)}`;
  }

  async createBinding(site: SiteRecord, body: unknown): Promise<CreateBindingRequestData> {
    if (!isPlainObject(body))
      throw invalidField('body', `must be a JSON object, got ${jsonType(body)}`);
    const redirectUri = redirectTarget(body.redirect_uri, 'redirect_uri');
    const now = this.now();
    const record: BindingRecord = {
      id: this.newId('bnd'),
      siteId: site.siteId,
      redirectUri,
      status: 'PENDING',
      createdAt: now,
      expiresAt: now + this.options.bindingTtlMs,
      agentId: null,
    };
    await this.store.putBinding(record);
    return {
      binding_id: record.id,
      connect_url: this.connectUrl(record.id),
      status: record.status,
      expires_at: rfc3339(record.expiresAt),
    };
  }

  async bindingStatus(id: string): Promise<Record<string, unknown>> {
    const b = await this.store.getBinding(id);
    if (!b) throw new CoreProblem(404, 'NOT_FOUND', 'no binding request has this id');
    const status = b.status === 'PENDING' && this.now() >= b.expiresAt ? 'EXPIRED' : b.status;
    return {
      binding_id: b.id,
      site_id: b.siteId,
      status,
      expires_at: rfc3339(b.expiresAt),
      how_to_complete:
        'the reference Core completes bindings through its admin API: POST /admin/v1/bindings/{binding_id}/complete',
    };
  }

  async completeBinding(
    bindingId: string,
    agentId: string,
  ): Promise<{ passport: string; redirectUrl: string }> {
    const b = await this.store.getBinding(bindingId);
    if (!b) throw new CoreProblem(404, 'NOT_FOUND', 'no binding request has this id');
    const agent = await this.store.getAgent(agentId);
    if (!agent) throw new CoreProblem(404, 'NOT_FOUND', 'no agent has this id');
    const now = this.now();
    if (b.status === 'PENDING' && now >= b.expiresAt) {
      await this.store.transitionBinding(b.id, ['PENDING'], { status: 'EXPIRED' });
      throw new CoreProblem(410, 'REQUEST_EXPIRED', 'the binding request expired');
    }
    if (b.status === 'EXPIRED') {
      throw new CoreProblem(410, 'REQUEST_EXPIRED', 'the binding request expired');
    }
    const done = await this.store.transitionBinding(b.id, ['PENDING'], {
      status: 'COMPLETED',
      agentId,
    });
    if (!done)
      throw new CoreProblem(409, 'BINDING_ALREADY_COMPLETED', 'the binding was completed already');
    const iat = seconds(now);
    const exp = iat + this.options.bindingPassportTtlSeconds;
    const passport = await this.keys.sign(
      this.hosted
        ? // What the Python binding verifier requires, the agent as `agent_id`.
          {
            agent_id: agent.agentId,
            user_id: agent.userId,
            binding_id: b.id,
            aud: AUDIENCE.bindingPassport,
            exp,
            iat,
          }
        : {
            iss: this.issuer,
            sub: agent.agentId,
            aud: AUDIENCE.bindingPassport,
            iat,
            exp,
            jti: randomUUID(),
            binding_id: b.id,
            site_id: b.siteId,
            user_id: agent.userId,
          },
    );
    const url = new URL(b.redirectUri);
    url.searchParams.set('passport', passport);
    return { passport, redirectUrl: url.href };
  }

  // ── MCP OAuth lane (§7) ────────────────────────────────────────────────

  async mcpToken(agent: AgentRecord, body: unknown): Promise<OAuthTokenResponse> {
    if (!agent.oauthAllowed) {
      throw new CoreProblem(
        403,
        'OAUTH_CAPABILITY_DENIED',
        'this agent is not allowed to obtain MCP access tokens',
      );
    }
    if (!isPlainObject(body))
      throw oauthInvalid('body', `must be a JSON object, got ${jsonType(body)}`);
    const problem = domainProblem(body.domain);
    if (problem) throw oauthInvalid('domain', problem);
    const domain = body.domain as string;
    let resource: string | undefined;
    // [extension] RFC 8707 `resource`: the hosted profile does not know it
    // and ignores it like any other unknown field.
    if (body.resource !== undefined && !this.hosted) {
      if (typeof body.resource !== 'string' || body.resource.length > 2048) {
        throw oauthInvalid(
          'resource',
          `must be an absolute URL string, got ${jsonType(body.resource)}`,
        );
      }
      let url: URL | undefined;
      try {
        url = new URL(body.resource);
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.hash) {
        throw oauthInvalid(
          'resource',
          'must be an absolute http(s) URL without fragment (RFC 8707)',
        );
      }
      if (url.hostname !== domain) {
        throw oauthInvalid('resource', `host must equal domain '${domain}'`);
      }
      resource = body.resource;
    }
    const iat = seconds(this.now());
    const ttl = this.options.mcpTokenTtlSeconds;
    const registered = {
      iss: this.issuer,
      sub: agent.agentId,
      aud: resource ? [AUDIENCE.mcp, resource] : AUDIENCE.mcp,
      iat,
      exp: iat + ttl,
      jti: randomUUID(),
    };
    // [extension] claims: `domain`, `client_id`, `scope`; not in the hosted profile.
    const token = await this.keys.sign(
      this.hosted
        ? registered
        : { ...registered, domain, client_id: agent.agentId, scope: MCP_DEFAULT_SCOPE },
    );
    return { access_token: token, token_type: 'Bearer', expires_in: ttl };
  }

  authorizationServerMetadata(): Record<string, unknown> {
    const api = this.apiBase;
    return {
      issuer: this.issuer,
      // Required by generic OAuth clients (the MCP SDK's discovery fails with a
      // schema error without it). LIME has no interactive authorization: it
      // points at the page that says how agents authenticate, so such a client
      // stops with its own "no dynamic client registration" error instead.
      authorization_endpoint: MCP_AUTH_DOCS_URL,
      service_documentation: MCP_AUTH_DOCS_URL,
      token_endpoint: api + PATHS.oauthToken,
      // Hosted: a relative jwks_uri, path-absolute so that both RFC 3986
      // resolution (on the origin or the API base) and the Python verifier's
      // `base_url + jwks_uri` find the JWKS.
      jwks_uri: this.hosted ? new URL(api + PATHS.jwks).pathname : api + PATHS.jwks,
      grant_types_supported: ['client_credentials'],
      response_types_supported: ['token'],
      token_endpoint_auth_methods_supported: ['none'],
      scopes_supported: [MCP_DEFAULT_SCOPE],
    };
  }

  // ── admin (§8) ─────────────────────────────────────────────────────────

  async createSite(input: { name?: unknown }): Promise<CreatedSiteResult> {
    const name = input.name ?? 'site';
    if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
      throw invalidField('name', 'must be a string of 1 to 200 characters');
    }
    const siteToken = this.newCredential('site');
    const siteId = this.newId('site');
    await this.store.putSite({
      siteId,
      name,
      tokenHash: hashToken(siteToken),
      suspended: false,
      createdAt: this.now(),
    });
    return { siteId, siteToken, name };
  }

  async createAgent(input: Record<string, unknown>): Promise<CreatedAgentResult> {
    const displayName = optionalString(input, 'displayName', 200);
    const avatarUrl = optionalString(input, 'avatarUrl', 2048);
    const description = optionalString(input, 'description', 2000);
    const userId = optionalString(input, 'userId', 200) ?? this.newId('usr');
    const kyc = input.userKycLevel ?? null;
    if (kyc !== null && typeof kyc !== 'number' && typeof kyc !== 'string') {
      throw invalidField('userKycLevel', 'must be a number, a string or null');
    }
    const rep = input.agentReputation ?? null;
    if (rep !== null && (typeof rep !== 'number' || !Number.isFinite(rep))) {
      throw invalidField('agentReputation', 'must be a finite number or null');
    }
    const oauthAllowed = input.oauthAllowed ?? true;
    if (typeof oauthAllowed !== 'boolean') throw invalidField('oauthAllowed', 'must be a boolean');
    const agentToken = this.newCredential('agent');
    const agentId = this.newId('agt');
    const record: AgentRecord = {
      agentId,
      userId,
      displayName,
      avatarUrl,
      description,
      userKycLevel: kyc as number | string | null,
      agentReputation: rep as number | null,
      tokenHash: hashToken(agentToken),
      oauthAllowed,
      createdAt: this.now(),
    };
    await this.store.putAgent(record);
    return {
      agentId,
      agentToken,
      userId,
      displayName,
      avatarUrl,
      description,
      userKycLevel: record.userKycLevel,
      agentReputation: record.agentReputation,
      oauthAllowed,
    };
  }

  async rotateSiteToken(siteId: string): Promise<{ siteToken: string }> {
    const siteToken = this.newCredential('site');
    const site = await this.store.updateSite(siteId, { tokenHash: hashToken(siteToken) });
    if (!site) throw unknown('site');
    this.hub.closeSite(siteId, {
      type: 'error',
      code: 'SITE_TOKEN_INVALID',
      message: 'the site token was rotated; reconnect with the new one',
    });
    return { siteToken };
  }

  async revokeSiteToken(siteId: string): Promise<void> {
    const site = await this.store.updateSite(siteId, { tokenHash: null });
    if (!site) throw unknown('site');
    this.hub.closeSite(siteId, {
      type: 'error',
      code: 'SITE_TOKEN_INVALID',
      message: 'the site token was revoked',
    });
  }

  async setSiteSuspended(siteId: string, suspended: boolean): Promise<void> {
    const site = await this.store.updateSite(siteId, { suspended });
    if (!site) throw unknown('site');
    if (suspended) {
      this.hub.closeSite(siteId, {
        type: 'error',
        code: 'SITE_SUSPENDED',
        message: 'this site is suspended',
      });
    }
  }

  async rotateAgentToken(agentId: string): Promise<{ agentToken: string }> {
    const agentToken = this.newCredential('agent');
    const agent = await this.store.updateAgent(agentId, { tokenHash: hashToken(agentToken) });
    if (!agent) throw unknown('agent');
    return { agentToken };
  }

  async revokeAgentToken(agentId: string): Promise<void> {
    if (!(await this.store.updateAgent(agentId, { tokenHash: null }))) throw unknown('agent');
  }

  async setAgentOAuthAllowed(agentId: string, allowed: boolean): Promise<void> {
    if (typeof allowed !== 'boolean') throw invalidField('allowed', 'must be a boolean');
    if (!(await this.store.updateAgent(agentId, { oauthAllowed: allowed }))) throw unknown('agent');
  }

  setPowDifficulty(difficulty: unknown): void {
    if (
      typeof difficulty !== 'number' ||
      !Number.isInteger(difficulty) ||
      difficulty < 0 ||
      difficulty > MAX_POW_DIFFICULTY
    ) {
      throw invalidField('difficulty', `must be an integer from 0 to ${MAX_POW_DIFFICULTY}`);
    }
    this.powDifficulty = difficulty;
  }

  async expireLoginRequest(id: string): Promise<void> {
    const r = await this.store.getLoginRequest(id);
    if (!r) throw this.requestNotFound();
    if (r.status !== 'PENDING') {
      throw new CoreProblem(
        409,
        'REQUEST_ALREADY_APPROVED',
        `the request is ${r.status}, not PENDING`,
      );
    }
    await this.expire(id);
  }
}

function approveData(r: LoginRequestRecord): ApproveData {
  return {
    request_id: r.id,
    site_id: r.siteId,
    status: r.status === 'DELIVERED' ? 'DELIVERED' : 'APPROVED',
    expires_at: rfc3339(r.expiresAt),
    approved_agent_id: r.approvedAgentId ?? '',
  };
}

function expiredProblem(): CoreProblem {
  return new CoreProblem(410, 'REQUEST_EXPIRED', 'the login request expired before approval');
}

function alreadyApproved(): CoreProblem {
  return new CoreProblem(
    409,
    'REQUEST_ALREADY_APPROVED',
    'another agent approved this login request first',
  );
}

function unknown(what: 'site' | 'agent'): CoreProblem {
  return new CoreProblem(404, 'NOT_FOUND', `no ${what} has this id`);
}

/** §7: a raw RFC 6749 `invalid_request` (the HTTP layer renders it). */
function oauthInvalid(field: string, problem: string): CoreProblem {
  return new CoreProblem(400, 'VALIDATION_ERROR', `${field} ${problem}`, { field });
}
