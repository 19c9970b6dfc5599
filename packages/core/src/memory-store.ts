import type { LoginStatus } from '@lime/wire';
import type {
  AgentRecord,
  BindingRecord,
  CoreStore,
  EventReplay,
  LoginRequestRecord,
  SiteRecord,
  StoredEvent,
} from './store.js';

interface SiteLog {
  events: StoredEvent[];
  /** Index of the first retained event in `events`. */
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
  private readonly requests = new Map<string, LoginRequestRecord>();
  private readonly bindings = new Map<string, BindingRecord>();
  private readonly logs = new Map<string, SiteLog>();

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

  async putLoginRequest(request: LoginRequestRecord): Promise<void> {
    this.requests.set(request.id, request);
  }

  async getLoginRequest(id: string): Promise<LoginRequestRecord | undefined> {
    return this.requests.get(id);
  }

  async transitionLoginRequest(
    id: string,
    from: readonly LoginStatus[],
    patch: Partial<Omit<LoginRequestRecord, 'id' | 'siteId'>>,
  ): Promise<LoginRequestRecord | undefined> {
    // Check and write happen in one synchronous step: that is the atomicity.
    const cur = this.requests.get(id);
    if (!cur || !from.includes(cur.status)) return undefined;
    const next = { ...cur, ...patch, id, siteId: cur.siteId };
    this.requests.set(id, next);
    return next;
  }

  async deleteLoginRequestsEndedBefore(before: number): Promise<number> {
    // Map iteration follows insertion, which follows expiry closely enough:
    // stop at the first request still inside the window.
    let n = 0;
    for (const [id, r] of this.requests) {
      if (r.expiresAt >= before) break;
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
      log = { events: [], head: 0, lastId: 0, prunedThrough: 0 };
      this.logs.set(siteId, log);
    }
    return log;
  }

  async appendEvent(siteId: string, data: string, at: number): Promise<StoredEvent> {
    const log = this.log(siteId);
    log.lastId += 1;
    const event: StoredEvent = { id: log.lastId, siteId, data, at };
    log.events.push(event);
    return event;
  }

  async lastEventId(siteId: string): Promise<number> {
    return this.logs.get(siteId)?.lastId ?? 0;
  }

  async eventsAfter(siteId: string, afterId: number): Promise<EventReplay> {
    const log = this.logs.get(siteId);
    if (!log) return { events: [], truncated: afterId > 0, lastId: 0 };
    const first = log.events[log.head];
    const truncated = afterId < log.prunedThrough || afterId > log.lastId;
    // Ids are dense, so the position of id `afterId + 1` is computed, not searched.
    const start = first ? log.head + Math.max(0, afterId + 1 - first.id) : log.events.length;
    return { events: log.events.slice(start), truncated, lastId: log.lastId };
  }

  async pruneEvents(before: number, siteId?: string): Promise<void> {
    const one = siteId === undefined ? undefined : this.logs.get(siteId);
    const logs = siteId === undefined ? this.logs.values() : one ? [one] : [];
    for (const log of logs) {
      let head = log.head;
      while (head < log.events.length && log.events[head]!.at < before) {
        log.prunedThrough = log.events[head]!.id;
        head++;
      }
      if (head === log.events.length) {
        log.events = [];
        log.head = 0;
      } else if (head > 1024 && head * 2 > log.events.length) {
        log.events = log.events.slice(head);
        log.head = 0;
      } else {
        log.head = head;
      }
    }
  }

  async close(): Promise<void> {}
}
