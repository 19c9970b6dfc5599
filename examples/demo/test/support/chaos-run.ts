// The chaos run behind `chaos.test.ts` (a CI-sized count) and
// `pnpm chaos` (1,000 logins × three seeds): several sites with several
// backend instances each, every instance's traffic to the Core through its
// own seeded chaos proxy (refusals, stream cuts, stalls, trickles), agents
// logging in concurrently, and a Core restart that keeps its store halfway.
// It counts what a user would see: logins approved at the Core whose passport
// never reached the site (lost), passports handed to a handler twice on one
// instance (duplicated), and `waitForLogin` failures by reason.
import { LimeAgent } from 'lime-agents-sdk';
import { type Core, MemoryStore, startCore } from 'lime-core';
import { LimeSite, MemoryReplayStore } from 'lime-sites-sdk';
import { type ChaosStats, noChaosYet, seededRandom, startChaosProxy } from './chaos-proxy.js';

export interface ChaosRunOptions {
  seed: number;
  logins: number;
  sites?: number;
  instancesPerSite?: number;
  agents?: number;
  /** Logins in flight at once. @default 20 */
  concurrency?: number;
  /** Restart the Core (same store, same port) when this share of logins has started. @default 0.5 */
  restartAt?: number | false;
  /** Progress lines. @default none */
  log?: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  logins: number;
  approved: number;
  delivered: number;
  lost: number;
  duplicated: number;
  waitFailures: Record<string, number>;
  notCreated: number;
  notApproved: number;
  restarts: number;
  proxies: ChaosStats;
  longestGapMs: number;
  resumesAbandoned: number;
  elapsedMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runChaos(options: ChaosRunOptions): Promise<ChaosReport> {
  const started = Date.now();
  const random = seededRandom(options.seed);
  const siteCount = options.sites ?? 5;
  const instancesPerSite = options.instancesPerSite ?? 2;
  const agentCount = options.agents ?? 20;
  const concurrency = options.concurrency ?? 20;
  const log = options.log ?? (() => {});
  const store = new MemoryStore();
  const coreOptions = { powDifficulty: 0, store, rateLimits: false as const };
  let core: Core = await startCore(coreOptions);
  const port = Number(new URL(core.url).port);
  const apiBase = core.apiBase;

  const report: ChaosReport = {
    seed: options.seed,
    logins: options.logins,
    approved: 0,
    delivered: 0,
    lost: 0,
    duplicated: 0,
    waitFailures: {},
    notCreated: 0,
    notApproved: 0,
    restarts: 0,
    proxies: noChaosYet(),
    longestGapMs: 0,
    resumesAbandoned: 0,
    elapsedMs: 0,
  };

  const proxies: Array<Awaited<ReturnType<typeof startChaosProxy>>> = [];
  const sites: LimeSite[][] = [];
  // requestId → instance index → handler deliveries
  const deliveries = new Map<string, Map<number, number>>();
  let instanceIndex = 0;
  for (let s = 0; s < siteCount; s++) {
    const { siteToken } = await core.admin.createSite({ name: `chaos-${s}` });
    const replayStore = new MemoryReplayStore(); // shared by the site's instances
    const instances: LimeSite[] = [];
    for (let i = 0; i < instancesPerSite; i++) {
      const proxy = await startChaosProxy({
        target: core.url,
        seed: options.seed * 1_000 + s * 10 + i,
      });
      proxies.push(proxy);
      const site = new LimeSite({
        siteToken,
        apiBase: `${proxy.url}/api/v1`,
        replayStore,
        reconnectMinDelay: 50,
        statusCheckInterval: 10_000,
        timeout: 5_000,
        maxRetries: 4,
      });
      const me = instanceIndex++;
      site.onLogin((requestId, passport) => {
        if (!passport) return;
        const perInstance = deliveries.get(requestId) ?? new Map<number, number>();
        deliveries.set(requestId, perInstance);
        perInstance.set(me, (perInstance.get(me) ?? 0) + 1);
      });
      instances.push(site);
    }
    sites.push(instances);
  }
  const agents: LimeAgent[] = [];
  for (let a = 0; a < agentCount; a++) {
    const { agentToken } = await core.admin.createAgent({ displayName: `chaos-agent-${a}` });
    agents.push(new LimeAgent({ apiBase, agentToken, maxRetries: 0 }));
  }

  let next = 0;
  let restarting: Promise<void> | undefined;
  const restartAfter =
    options.restartAt === false
      ? Number.POSITIVE_INFINITY
      : Math.floor(options.logins * (options.restartAt ?? 0.5));

  const restart = async () => {
    log(`restarting the Core (same store, port ${port}) after ${next} logins started`);
    await core.close();
    core = await startCore({ ...coreOptions, port });
    report.restarts++;
  };

  const oneLogin = async (k: number) => {
    const siteIndex = k % siteCount;
    const instances = sites[siteIndex]!;
    const site = instances[Math.floor(random() * instances.length)]!;
    const agent = agents[k % agentCount]!;
    let requestId: string | undefined;
    for (let attempt = 0; attempt < 40 && !requestId; attempt++) {
      try {
        requestId = (await site.createLoginRequest()).loginRequestId;
      } catch {
        await sleep(250); // refused by the proxy, or the Core restarting: nothing was created
      }
    }
    if (!requestId) {
      report.notCreated++;
      return;
    }
    const waited = site.waitForLogin(requestId, { timeout: 150_000 }).then(
      () => 'ok',
      (error: unknown) => {
        const e = error as { code?: string; reason?: string };
        return `${e.code ?? 'ERROR'}${e.reason ? `:${e.reason}` : ''}`;
      },
    );
    let approved = false;
    for (let attempt = 0; attempt < 40 && !approved; attempt++) {
      try {
        await agent.login(requestId);
        approved = true;
      } catch (error) {
        // Approve is idempotent for the winner: a lost answer is asked again.
        if ((error as { status?: number }).status === 409) break;
        await sleep(250);
      }
    }
    if (approved) report.approved++;
    else report.notApproved++;
    const outcome = await waited;
    if (outcome === 'ok') report.delivered++;
    else {
      report.waitFailures[outcome] = (report.waitFailures[outcome] ?? 0) + 1;
      if (approved) report.lost++;
    }
  };

  const worker = async () => {
    for (;;) {
      if (next === restartAfter && !restarting) restarting = restart();
      if (restarting && next >= restartAfter) await restarting;
      if (next >= options.logins) return;
      const k = next++;
      await oneLogin(k);
      if (k % 100 === 99) log(`${k + 1} logins done`);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
    // Late handler deliveries (another instance) settle within a moment.
    await sleep(500);
    for (const perInstance of deliveries.values()) {
      for (const count of perInstance.values()) if (count > 1) report.duplicated += count - 1;
    }
    for (const p of proxies) {
      for (const [key, value] of Object.entries(p.stats)) {
        report.proxies[key as keyof ChaosStats] += value;
      }
    }
    report.longestGapMs = Math.max(...sites.flat().map((s) => s.stats().longestGapMs));
    report.resumesAbandoned = sites.flat().reduce((n, s) => n + s.stats().resumesAbandoned, 0);
  } finally {
    await Promise.all(sites.flat().map((s) => s.close()));
    await Promise.all(agents.map((a) => a.close()));
    await Promise.all(proxies.map((p) => p.close()));
    await core.close();
  }
  report.elapsedMs = Date.now() - started;
  return report;
}

/** One line per run, for the test output and the script. */
export function formatChaosReport(r: ChaosReport): string {
  const failures = Object.entries(r.waitFailures)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return (
    `seed ${r.seed}: ${r.logins} logins, ${r.approved} approved, ${r.delivered} delivered, ` +
    `lost ${r.lost}, duplicated ${r.duplicated}, waitForLogin failures ${failures || 0}, ` +
    `not created ${r.notCreated}, not approved ${r.notApproved}, restarts ${r.restarts}; ` +
    `proxy: ${r.proxies.streams} streams, ${r.proxies.cuts} cuts, ${r.proxies.stalls} stalls, ` +
    `${r.proxies.trickles} trickles, ${r.proxies.refused} refused; longest stream gap ` +
    `${r.longestGapMs} ms; resumes given up ${r.resumesAbandoned}; ${(r.elapsedMs / 1000).toFixed(1)} s`
  );
}
