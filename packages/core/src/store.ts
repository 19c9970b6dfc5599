import type { LoginStatus } from '@lime/wire';

/**
 * A site (relying party). `tokenHash` is the hex SHA-256 of its site token.
 *
 * @example
 * const site: SiteRecord | undefined = await store.getSite(siteId);
 */
export interface SiteRecord {
  siteId: string;
  name: string;
  /** Hex SHA-256 of the current site token, or `null` when revoked. */
  tokenHash: string | null;
  suspended: boolean;
  createdAt: number;
}

/**
 * An agent and the profile fields of PROTOCOL.md §3.6.
 *
 * @example
 * const agent: AgentRecord | undefined = await store.getAgent(agentId);
 */
export interface AgentRecord {
  agentId: string;
  userId: string;
  displayName: string | null;
  avatarUrl: string | null;
  description: string | null;
  userKycLevel: number | string | null;
  agentReputation: number | null;
  /** Hex SHA-256 of the current agent token, or `null` when revoked. */
  tokenHash: string | null;
  /** Whether the agent may obtain MCP access tokens (§7). */
  oauthAllowed: boolean;
  createdAt: number;
}

/**
 * A headless login request (§3). Times are ms since the epoch.
 *
 * @example
 * const request: LoginRequestRecord | undefined = await store.getLoginRequest(id);
 */
export interface LoginRequestRecord {
  id: string;
  siteId: string;
  challenge: string;
  difficulty: number;
  status: LoginStatus;
  createdAt: number;
  expiresAt: number;
  approvedAgentId: string | null;
  approvedAt: number | null;
  redirectUrl: string | null;
}

/**
 * A binding request (§5).
 *
 * @example
 * const binding: BindingRecord | undefined = await store.getBinding(bindingId);
 */
export interface BindingRecord {
  id: string;
  siteId: string;
  redirectUri: string;
  status: 'PENDING' | 'COMPLETED' | 'EXPIRED';
  createdAt: number;
  expiresAt: number;
  agentId: string | null;
}

/**
 * A retained login event of one site. `data` is the one-line JSON of the SSE frame.
 *
 * @example
 * const event: StoredEvent = await store.appendEvent(siteId, '{"type":"expired"}', Date.now());
 */
export interface StoredEvent {
  /** Per-site, strictly increasing, starting at 1. */
  id: number;
  siteId: string;
  data: string;
  at: number;
}

/**
 * Result of {@link CoreStore.eventsAfter}.
 *
 * @example
 * const { events, truncated } = await store.eventsAfter(siteId, 41);
 */
export interface EventReplay {
  /** Retained events with id greater than the one asked for, in id order. */
  events: StoredEvent[];
  /** True when events after the given id were already dropped by retention. */
  truncated: boolean;
  /** The site's last assigned event id (0 when none). */
  lastId: number;
}

/**
 * Storage of the Core. Every method is async so that a database can sit
 * behind it; {@link MemoryStore} is the default. Implementations must make
 * {@link CoreStore.transitionLoginRequest} and
 * {@link CoreStore.transitionBinding} atomic (compare-and-set), and
 * {@link CoreStore.appendEvent} must assign ids in call order.
 *
 * @example
 * const core = await startCore({ store: new MemoryStore() });
 */
export interface CoreStore {
  putSite(site: SiteRecord): Promise<void>;
  getSite(siteId: string): Promise<SiteRecord | undefined>;
  /** The site whose current token hashes to `tokenHash`. */
  findSiteByTokenHash(tokenHash: string): Promise<SiteRecord | undefined>;
  updateSite(
    siteId: string,
    patch: Partial<Omit<SiteRecord, 'siteId'>>,
  ): Promise<SiteRecord | undefined>;

  putAgent(agent: AgentRecord): Promise<void>;
  getAgent(agentId: string): Promise<AgentRecord | undefined>;
  findAgentByTokenHash(tokenHash: string): Promise<AgentRecord | undefined>;
  updateAgent(
    agentId: string,
    patch: Partial<Omit<AgentRecord, 'agentId'>>,
  ): Promise<AgentRecord | undefined>;

  putLoginRequest(request: LoginRequestRecord): Promise<void>;
  getLoginRequest(id: string): Promise<LoginRequestRecord | undefined>;
  /**
   * Atomically apply `patch` if the request's status is one of `from`.
   * Returns the updated record, or `undefined` when the id is unknown or the
   * status did not match (nothing changed).
   */
  transitionLoginRequest(
    id: string,
    from: readonly LoginStatus[],
    patch: Partial<Omit<LoginRequestRecord, 'id' | 'siteId'>>,
  ): Promise<LoginRequestRecord | undefined>;
  /** Forget requests that ended before `before` (ms). */
  deleteLoginRequestsEndedBefore(before: number): Promise<number>;
  /**
   * Optional. Every request still `PENDING`, with its expiry time. Read once
   * at start, so that a Core restarted on this store expires the requests
   * an earlier Core created (and emits their `expired` events). Without it,
   * such requests expire only when read.
   */
  listPendingLoginRequests?(): Promise<Array<Pick<LoginRequestRecord, 'id' | 'expiresAt'>>>;

  putBinding(binding: BindingRecord): Promise<void>;
  getBinding(id: string): Promise<BindingRecord | undefined>;
  transitionBinding(
    id: string,
    from: readonly BindingRecord['status'][],
    patch: Partial<Omit<BindingRecord, 'id' | 'siteId'>>,
  ): Promise<BindingRecord | undefined>;

  /** Append an event to a site's log, assigning the next id. */
  appendEvent(siteId: string, data: string, at: number): Promise<StoredEvent>;
  /** Retained events of a site with id > `afterId`. */
  eventsAfter(siteId: string, afterId: number): Promise<EventReplay>;
  /** Id of the site's newest event (0 when it has none yet). */
  lastEventId(siteId: string): Promise<number>;
  /**
   * Drop events older than `before` (ms) from one site's log, or from every
   * site's; with `keepLast`, also all but the newest `keepLast` events of
   * each log pruned. Dropped events count as lost for `eventsAfter`
   * (`truncated`).
   */
  pruneEvents(before: number, siteId?: string, keepLast?: number): Promise<void>;
  /**
   * Optional. The epoch of this store's event logs: 1–64 characters of
   * `[A-Za-z0-9_]`, the same for as long as the logs (and their ids) are
   * kept, and different for every new set of logs. It prefixes every event
   * id (`<epoch>-<n>`, PROTOCOL.md §3.5), so that a Core restarted on the
   * same store resumes `Last-Event-ID`s without a resync, and one restarted
   * on new logs recognises old ids as foreign. Without it, the Core picks a
   * fresh epoch at every start (a restart answers old ids with `resync`).
   */
  eventLogEpoch?(): Promise<string>;

  /** Release resources. */
  close(): Promise<void>;
}
