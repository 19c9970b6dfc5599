import { MemoryStore } from '../memory-store.js';
import type { AgentRecord, SiteRecord } from '../store.js';

/**
 * The store of a Core with a state directory and no `store` of its own: a
 * {@link MemoryStore} that also keeps the current site and agent records
 * apart and reports every change, so that the state file is saved before
 * the change (a new token, a rotation, a revocation) is answered. Login
 * requests, bindings and event logs stay in memory only.
 */
export class RecordKeepingStore extends MemoryStore {
  private readonly keptSites = new Map<string, SiteRecord>();
  private readonly keptAgents = new Map<string, AgentRecord>();
  /** Set once the saved records are loaded: loading them is not a change. */
  private onChange: (() => Promise<void>) | undefined;

  static async create(
    records: { sites: readonly SiteRecord[]; agents: readonly AgentRecord[] },
    onChange: () => Promise<void>,
  ): Promise<RecordKeepingStore> {
    const store = new RecordKeepingStore();
    for (const site of records.sites) await store.putSite(site);
    for (const agent of records.agents) await store.putAgent(agent);
    store.onChange = onChange;
    return store;
  }

  /** The current sites and agents, for the state file. */
  records(): { sites: SiteRecord[]; agents: AgentRecord[] } {
    return { sites: [...this.keptSites.values()], agents: [...this.keptAgents.values()] };
  }

  override async putSite(site: SiteRecord): Promise<void> {
    await super.putSite(site);
    this.keptSites.set(site.siteId, site);
    await this.onChange?.();
  }

  override async updateSite(
    siteId: string,
    patch: Partial<Omit<SiteRecord, 'siteId'>>,
  ): Promise<SiteRecord | undefined> {
    const next = await super.updateSite(siteId, patch);
    if (next) {
      this.keptSites.set(siteId, next);
      await this.onChange?.();
    }
    return next;
  }

  override async putAgent(agent: AgentRecord): Promise<void> {
    await super.putAgent(agent);
    this.keptAgents.set(agent.agentId, agent);
    await this.onChange?.();
  }

  override async updateAgent(
    agentId: string,
    patch: Partial<Omit<AgentRecord, 'agentId'>>,
  ): Promise<AgentRecord | undefined> {
    const next = await super.updateAgent(agentId, patch);
    if (next) {
      this.keptAgents.set(agentId, next);
      await this.onChange?.();
    }
    return next;
  }
}
