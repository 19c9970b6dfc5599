import type { LoginStatus } from '@lime/wire';
import { newEpoch } from './internal/event-ids.js';
import {
  exactCopy,
  type PackedEventData,
  packEventData,
  unpackEventData,
} from './internal/event-packing.js';
import type {
  AgentRecord,
  BindingRecord,
  CoreStore,
  EventReplay,
  LoginRequestRecord,
  SiteRecord,
  StoredEvent,
} from './store.js';

/**
 * A login request as the store keeps it: times relative to the store's
 * `base` (small integers, not boxed numbers), the hex challenge as its
 * bytes (`{ text }` when it is not lowercase hex). Handed out as a fresh
 * {@link LoginRequestRecord}.
 */
class PackedRequest {
  constructor(
    readonly id: string,
    readonly siteId: string,
    readonly challenge: string | { text: string },
    readonly difficulty: number,
    readonly status: LoginStatus,
    readonly createdAt: number,
    readonly expiresAt: number,
    readonly approvedAgentId: string | null,
    readonly approvedAt: number | null,
    readonly redirectUrl: string | null,
  ) {}
}

const HEX = /^(?:[0-9a-f]{2})+$/;

/** Distinct JWT headers interned at most (one per signing key in practice). */
const MAX_INTERNED = 64;

/**
 * One site's log. Ids are dense, so an event is its index: event `i` has
 * id `firstId + i`, data `data[i]` (packed) and time `at[i]` (relative to
 * the store's `base`: a small integer). No object per event.
 */
interface SiteLog {
  data: PackedEventData[];
  at: number[];
  /** Id of `data[0]`. */
  firstId: number;
  /** Index of the first retained event. */
  head: number;
  lastId: number;
  /** Highest id dropped by retention (0 when none). */
  prunedThrough: number;
}

/**
 * The default {@link CoreStore}: everything in process memory, every
 * operation O(1) (amortized). Records are replaced, never mutated, so a
 * record you hold is a stable snapshot.
 *
 * @example
 * const core = await startCore({ store: new MemoryStore() });
 */
export class MemoryStore implements CoreStore {
  private readonly sites = new Map<string, SiteRecord>();
  private readonly siteByToken = new Map<string, string>();
  private readonly agents = new Map<string, AgentRecord>();
  private readonly agentByToken = new Map<string, string>();
  private readonly requests = new Map<string, PackedRequest>();
  /** Origin of the relative times kept in packed records (ms since the epoch). */
  private readonly base = Date.now();
  private readonly bindings = new Map<string, BindingRecord>();
  private readonly logs = new Map<string, SiteLog>();
  /** The logs live as long as this object: so does their epoch. */
  private readonly epoch = newEpoch();
  private readonly interned = new Map<string, string>();
  private readonly intern = (s: string): string => {
    const known = this.interned.get(s);
    if (known !== undefined) return known;
    const copy = exactCopy(s);
    if (this.interned.size < MAX_INTERNED) this.interned.set(copy, copy);
    return copy;
  };
  private readonly requestIdOf = (id: string): string | undefined => this.requests.get(id)?.id;

  async eventLogEpoch(): Promise<string> {
    return this.epoch;
  }

  async putSite(site: SiteRecord): Promise<void> {
    this.replaceSite(site);
  }

  async getSite(siteId: string): Promise<SiteRecord | undefined> {
    return this.sites.get(siteId);
  }

  async findSiteByTokenHash(tokenHash: string): Promise<SiteRecord | undefined> {
    const id = this.siteByToken.get(tokenHash);
    return id === undefined ? undefined : this.sites.get(id);
  }

  async updateSite(
    siteId: string,
    patch: Partial<Omit<SiteRecord, 'siteId'>>,
  ): Promise<SiteRecord | undefined> {
    const cur = this.sites.get(siteId);
    if (!cur) return undefined;
    const next = { ...cur, ...patch, siteId };
    this.replaceSite(next);
    return next;
  }

  private replaceSite(site: SiteRecord): void {
    const prev = this.sites.get(site.siteId);
    if (prev?.tokenHash) this.siteByToken.delete(prev.tokenHash);
    this.sites.set(site.siteId, site);
    if (site.tokenHash) this.siteByToken.set(site.tokenHash, site.siteId);
  }

  async putAgent(agent: AgentRecord): Promise<void> {
    this.replaceAgent(agent);
  }

  async getAgent(agentId: string): Promise<AgentRecord | undefined> {
    return this.agents.get(agentId);
  }

  async findAgentByTokenHash(tokenHash: string): Promise<AgentRecord | undefined> {
    const id = this.agentByToken.get(tokenHash);
    return id === undefined ? undefined : this.agents.get(id);
  }

  async updateAgent(
    agentId: string,
    patch: Partial<Omit<AgentRecord, 'agentId'>>,
  ): Promise<AgentRecord | undefined> {
    const cur = this.agents.get(agentId);
    if (!cur) return undefined;
    const next = { ...cur, ...patch, agentId };
    this.replaceAgent(next);
    return next;
  }

  private replaceAgent(agent: AgentRecord): void {
    const prev = this.agents.get(agent.agentId);
    if (prev?.tokenHash) this.agentByToken.delete(prev.tokenHash);
    this.agents.set(agent.agentId, agent);
    if (agent.tokenHash) this.agentByToken.set(agent.tokenHash, agent.agentId);
  }

  /** `id`: the string instance to keep (shared with packed events of the request). */
  private pack(r: LoginRequestRecord, id = exactCopy(r.id)): PackedRequest {
    const base = this.base;
    return new PackedRequest(
      id,
      r.siteId,
      HEX.test(r.challenge)
        ? Buffer.from(r.challenge, 'hex').toString('latin1')
        : { text: r.challenge },
      r.difficulty,
      r.status,
      r.createdAt - base,
      r.expiresAt - base,
      r.approvedAgentId,
      r.approvedAt === null ? null : r.approvedAt - base,
      r.redirectUrl,
    );
  }

  private unpack(p: PackedRequest): LoginRequestRecord {
    const base = this.base;
    return {
      id: p.id,
      siteId: p.siteId,
      challenge:
        typeof p.challenge === 'string'
          ? Buffer.from(p.challenge, 'latin1').toString('hex')
          : p.challenge.text,
      difficulty: p.difficulty,
      status: p.status,
      createdAt: p.createdAt + base,
      expiresAt: p.expiresAt + base,
      approvedAgentId: p.approvedAgentId,
      approvedAt: p.approvedAt === null ? null : p.approvedAt + base,
      redirectUrl: p.redirectUrl,
    };
  }

  async putLoginRequest(request: LoginRequestRecord): Promise<void> {
    this.requests.set(request.id, this.pack(request));
  }

  async getLoginRequest(id: string): Promise<LoginRequestRecord | undefined> {
    const p = this.requests.get(id);
    return p && this.unpack(p);
  }

  async transitionLoginRequest(
    id: string,
    from: readonly LoginStatus[],
    patch: Partial<Omit<LoginRequestRecord, 'id' | 'siteId'>>,
  ): Promise<LoginRequestRecord | undefined> {
    // Check and write happen in one synchronous step: that is the atomicity.
    const cur = this.requests.get(id);
    if (!cur || !from.includes(cur.status)) return undefined;
    const next = { ...this.unpack(cur), ...patch, id: cur.id, siteId: cur.siteId };
    this.requests.set(id, this.pack(next, cur.id));
    return next;
  }

  async listPendingLoginRequests(): Promise<Array<Pick<LoginRequestRecord, 'id' | 'expiresAt'>>> {
    const pending: Array<Pick<LoginRequestRecord, 'id' | 'expiresAt'>> = [];
    for (const r of this.requests.values()) {
      if (r.status === 'PENDING') pending.push({ id: r.id, expiresAt: r.expiresAt + this.base });
    }
    return pending;
  }

  async deleteLoginRequestsEndedBefore(before: number): Promise<number> {
    // Map iteration follows insertion, which follows expiry closely enough:
    // stop at the first request still inside the window.
    let n = 0;
    for (const [id, r] of this.requests) {
      if (r.expiresAt + this.base >= before) break;
      if (r.status === 'PENDING') continue;
      this.requests.delete(id);
      n++;
    }
    for (const [id, b] of this.bindings) {
      if (b.expiresAt >= before) break;
      this.bindings.delete(id);
    }
    return n;
  }

  async putBinding(binding: BindingRecord): Promise<void> {
    this.bindings.set(binding.id, binding);
  }

  async getBinding(id: string): Promise<BindingRecord | undefined> {
    return this.bindings.get(id);
  }

  async transitionBinding(
    id: string,
    from: readonly BindingRecord['status'][],
    patch: Partial<Omit<BindingRecord, 'id' | 'siteId'>>,
  ): Promise<BindingRecord | undefined> {
    const cur = this.bindings.get(id);
    if (!cur || !from.includes(cur.status)) return undefined;
    const next = { ...cur, ...patch, id, siteId: cur.siteId };
    this.bindings.set(id, next);
    return next;
  }

  private log(siteId: string): SiteLog {
    let log = this.logs.get(siteId);
    if (!log) {
      log = { data: [], at: [], firstId: 1, head: 0, lastId: 0, prunedThrough: 0 };
      this.logs.set(siteId, log);
    }
    return log;
  }

  async appendEvent(siteId: string, data: string, at: number): Promise<StoredEvent> {
    const log = this.log(siteId);
    log.lastId += 1;
    if (log.data.length === 0) log.firstId = log.lastId;
    // Retained packed (about half the heap of the JSON text); the caller
    // gets the event as given.
    log.data.push(packEventData(data, this.intern, this.requestIdOf));
    log.at.push(at - this.base);
    return { id: log.lastId, siteId, data, at };
  }

  async lastEventId(siteId: string): Promise<number> {
    return this.logs.get(siteId)?.lastId ?? 0;
  }

  async eventsAfter(siteId: string, afterId: number): Promise<EventReplay> {
    const log = this.logs.get(siteId);
    if (!log) return { events: [], truncated: afterId > 0, lastId: 0 };
    const truncated = afterId < log.prunedThrough || afterId > log.lastId;
    // Ids are dense, so the position of id `afterId + 1` is computed, not searched.
    const start = Math.max(log.head, afterId + 1 - log.firstId);
    const events: StoredEvent[] = [];
    for (let i = start; i < log.data.length; i++) {
      events.push({
        id: log.firstId + i,
        siteId,
        data: unpackEventData(log.data[i]!),
        at: log.at[i]! + this.base,
      });
    }
    return { events, truncated, lastId: log.lastId };
  }

  async pruneEvents(before: number, siteId?: string, keepLast?: number): Promise<void> {
    const one = siteId === undefined ? undefined : this.logs.get(siteId);
    const logs = siteId === undefined ? this.logs.values() : one ? [one] : [];
    const limit = before - this.base;
    for (const log of logs) {
      const length = log.data.length;
      let head = log.head;
      // By count: at most `keepLast` events stay.
      if (keepLast !== undefined && length - head > keepLast) head = length - keepLast;
      // By time: events older than `before` go.
      while (head < length && log.at[head]! < limit) head++;
      if (head > log.head) log.prunedThrough = log.firstId + head - 1;
      if (head === length) {
        log.data = [];
        log.at = [];
        log.firstId = log.lastId + 1;
        log.head = 0;
      } else if (head > 1024 && head * 2 > length) {
        log.data = log.data.slice(head);
        log.at = log.at.slice(head);
        log.firstId += head;
        log.head = 0;
      } else {
        // Let the packed data go now; the slot is reclaimed at the next slice.
        for (let i = log.head; i < head; i++) log.data[i] = '';
        log.head = head;
      }
    }
  }

  async close(): Promise<void> {}
}
