// The whole system under load and a hostile network: 20 agents log into 5
// sites at once through one Core while every site's event stream is severed
// twice mid-run (a TCP proxy in front of the Core kills the socket, as a load
// balancer or a flaky network would). Every passport must still be verified
// exactly once, and every agent must then call an MCP tool successfully.
import { shutdownPowPool } from 'lime-agents-sdk';
import { type Core, startCore } from 'lime-core';
import { type AgentWorkerResult, runAgentWorker } from 'lime-example-agent-worker';
import { type McpServerHandle, startMcpServer } from 'lime-example-mcp-server';
import { type SiteBackend, startSiteBackend } from 'lime-example-site-backend';
import type { SiteEvent } from 'lime-sites-sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type StreamCuttingProxy,
  startStreamCuttingProxy,
} from './support/stream-cutting-proxy.js';

const SITES = 5;
const AGENTS_PER_SITE = 4;

interface SiteUnderTest {
  proxy: StreamCuttingProxy;
  backend: SiteBackend;
  /** Every event the site's SDK emitted, in order. */
  events: SiteEvent[];
  /** `passport-verified` notifications of the example app, by request id. */
  verified: Map<string, number>;
  stopEvents: AbortController;
  approvals: number;
  /** Cut right after the site's 1st approval, possibly before its stream saw any event. */
  firstCut?: Promise<number>;
  /** Cut after the site's 3rd approval, once the stream has reconnected from the first cut. */
  secondCut?: Promise<number>;
  cutsDone: Promise<void>;
  markCutsDone: () => void;
}

let core: Core;
let mcp: McpServerHandle;
const sites: SiteUnderTest[] = [];
const agents: Array<{ agentId: string; agentToken: string; site: number }> = [];
const whoamiCalls: string[] = [];

beforeAll(async () => {
  // Difficulty 12 keeps the proof of work real (solved in the worker pool) but cheap.
  core = await startCore({ powDifficulty: 12, retryMs: 50 });
  mcp = await startMcpServer({
    apiBase: core.apiBase,
    onToolCall: (call) => whoamiCalls.push(call.agentId),
  });
  for (let s = 0; s < SITES; s++) {
    const { siteToken } = await core.admin.createSite({ name: `site-${s}` });
    const proxy = await startStreamCuttingProxy(core.url);
    const verified = new Map<string, number>();
    const backend = await startSiteBackend({
      apiBase: `${proxy.url}/api/v1`,
      siteToken,
      loginTimeout: 30_000,
      siteOptions: { reconnectMinDelay: 20, reconnectMaxDelay: 200 },
      onEvent: (e) => {
        if (e.type === 'passport-verified') {
          verified.set(e.passport.requestId, (verified.get(e.passport.requestId) ?? 0) + 1);
        }
      },
    });
    const events: SiteEvent[] = [];
    const stopEvents = new AbortController();
    void (async () => {
      for await (const event of backend.site.events({ signal: stopEvents.signal })) {
        events.push(event);
      }
    })();
    let markCutsDone!: () => void;
    const cutsDone = new Promise<void>((resolve) => {
      markCutsDone = resolve;
    });
    sites.push({
      proxy,
      backend,
      events,
      verified,
      stopEvents,
      approvals: 0,
      cutsDone,
      markCutsDone,
    });
  }
  for (let i = 0; i < SITES * AGENTS_PER_SITE; i++) {
    const { agentId, agentToken } = await core.admin.createAgent({ displayName: `agent-${i}` });
    agents.push({ agentId, agentToken, site: i % SITES });
  }
}, 60_000);

afterAll(async () => {
  for (const s of sites) {
    s.stopEvents.abort();
    await s.backend.close();
    await s.proxy.close();
  }
  await mcp?.close();
  await core?.close();
  await shutdownPowPool(); // the proof-of-work worker threads
});

/**
 * The first cut comes right after the site's 1st approval — often before the
 * stream delivered any event, which is lossless only because the Core gives
 * every fresh stream a resume position (an `id:` on its first frame). The
 * second comes after the 3rd approval, once the stream reconnected.
 */
function onApproved(site: SiteUnderTest): void {
  site.approvals++;
  if (site.approvals === 1) site.firstCut = site.proxy.cutStream();
  if (site.approvals === 3) {
    site.secondCut = site.firstCut!.then(() => site.proxy.cutStream());
    void site.secondCut.then(() => site.markCutsDone());
  }
}

it('20 agents log into 5 sites while every stream is cut twice; each passport verified once; every agent calls MCP', async () => {
  const run = async (a: (typeof agents)[number], index: number): Promise<AgentWorkerResult> => {
    const site = sites[a.site]!;
    // Each site's last agent starts only once both cuts happened, so at least
    // one login of every site is in flight across the severed streams.
    if (Math.floor(index / SITES) === AGENTS_PER_SITE - 1) await site.cutsDone;
    return runAgentWorker({
      apiBase: core.apiBase,
      agentToken: a.agentToken,
      siteUrl: site.backend.url,
      mcpUrl: mcp.url,
      onStep: (step) => {
        if (step.type === 'login-approved') onApproved(site);
      },
    });
  };
  const results = await Promise.all(agents.map(run)).catch((error) => {
    // On failure, show what each site saw: it is the only way to debug a lost event.
    for (const [i, s] of sites.entries()) {
      console.error(
        `site ${i}: stream requests with Last-Event-ID ${JSON.stringify(s.proxy.streamLastEventIds)}; events`,
        s.events.map((e) => [
          e.type,
          'requestId' in e ? e.requestId : '',
          'eventId' in e ? e.eventId : '',
        ]),
      );
    }
    throw error;
  });

  // Every agent got a session as itself and the MCP server saw it.
  results.forEach((result, i) => {
    expect(result.session.agentId).toBe(agents[i]!.agentId);
    expect(result.whoami?.agentId).toBe(agents[i]!.agentId);
  });
  expect(new Set(whoamiCalls)).toEqual(new Set(agents.map((a) => a.agentId)));

  for (const [s, site] of sites.entries()) {
    // Both cuts severed a live stream, and the SDK reconnected after each.
    expect(await site.firstCut).toBeGreaterThanOrEqual(1);
    expect(await site.secondCut).toBeGreaterThanOrEqual(1);
    expect(site.proxy.cuts, `site ${s} cuts`).toBeGreaterThanOrEqual(2);
    expect(site.proxy.streamConnections, `site ${s} stream connections`).toBeGreaterThanOrEqual(3);
    // Every reconnect resumed from the last event the site had seen.
    const resumedFrom = site.proxy.streamLastEventIds.slice(1);
    expect(
      resumedFrom.every((id) => id !== null && /^[0-9a-f]+-\d+$/.test(id)),
      `site ${s} Last-Event-IDs`,
    ).toBe(true);
    const disconnects = site.events.filter((e) => e.type === 'disconnected').length;
    expect(disconnects, `site ${s} disconnects`).toBeGreaterThanOrEqual(2);

    // Exactly one verified passport per login request of this site, none refused.
    const mine = results.filter((_, i) => agents[i]!.site === s).map((r) => r.loginRequestId);
    expect(mine).toHaveLength(AGENTS_PER_SITE);
    const logins = site.events.flatMap((e) => (e.type === 'login' ? [e.requestId] : []));
    expect([...logins].sort()).toEqual([...mine].sort());
    expect(site.events.filter((e) => e.type === 'rejected' || e.type === 'resync')).toEqual([]);
    expect([...site.verified.entries()].sort()).toEqual(mine.map((id) => [id, 1]).sort());
  }
  const jtis = sites.flatMap((s) =>
    s.events.flatMap((e) => (e.type === 'login' ? [e.passport.jti] : [])),
  );
  expect(new Set(jtis).size).toBe(SITES * AGENTS_PER_SITE);
});
