import { LimeAgent } from 'lime-agents-sdk';
import { type Core, startCore } from 'lime-core';
import { runAgentWorker } from 'lime-example-agent-worker';
import { startEdgeMcpServer } from 'lime-example-edge-mcp-server';
import { startMcpServer } from 'lime-example-mcp-server';
import { startSiteBackend } from 'lime-example-site-backend';
import { createStepPrinter } from './step-printer.js';

/** Credentials of a hosted (or any already running) Core. */
export interface HostedCore {
  /** API base with `/api/v1`, e.g. `https://lime.pics/api/v1`. */
  apiBase: string;
  /** A site token (`st_…`) of a site you own. */
  siteToken: string;
  /** An agent token (`at_…`) of an agent you own. */
  agentToken: string;
}

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Where each line goes. @default console.log */
  print?: (line: string) => void;
  /** Run against this Core instead of starting the embedded one. */
  hosted?: HostedCore;
  /** PoW difficulty of the embedded Core (leading zero bits). @default 15, as hosted */
  powDifficulty?: number;
  /** Give up after this long, milliseconds. @default 60_000 */
  timeout?: number;
}

/** What the demo proved, for tests. */
export interface DemoResult {
  agentId: string;
  userId: string;
  loginRequestId: string;
  /** The claims the site verified. */
  passport: Record<string, unknown>;
  /** `whoami` as answered by the express MCP server. */
  whoami: Record<string, unknown>;
  /** `whoami` as answered by the edge (Hono, web-standard) MCP server. */
  edgeWhoami: Record<string, unknown>;
  totalMs: number;
}

/**
 * The whole system in one process: a Core (embedded, or hosted when
 * `hosted` is given), the example site backend, the example MCP servers
 * (express and edge), and the example agent worker going through headless
 * login, a site session and an MCP tool call. Every step is printed as it
 * happens, with its duration and who did it. Everything it started is
 * stopped before it returns or throws.
 *
 * @example
 * const result = await runDemo({ powDifficulty: 8, print: () => {} });
 * console.log(result.whoami.agentId === result.agentId); // true
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const out = createStepPrinter(options.print ?? ((line) => console.log(line)));
  const cleanup: Array<() => Promise<void>> = [];
  const signal = AbortSignal.timeout(options.timeout ?? 60_000);
  let passport: Record<string, unknown> | undefined;
  try {
    // 1. A Core, and a site and an agent registered with it.
    let apiBase: string;
    let siteToken: string;
    let agentToken: string;
    if (options.hosted) {
      ({ apiBase, siteToken, agentToken } = options.hosted);
      out.header(`LIME demo against ${apiBase}`);
    } else {
      const difficulty = options.powDifficulty ?? 15;
      const t = out.now();
      const core: Core = await startCore({ powDifficulty: difficulty });
      cleanup.push(() => core.close());
      out.header(`LIME demo — embedded Core, proof-of-work difficulty ${difficulty}`);
      out.step('core', `reference Core listening on ${core.apiBase}`, out.since(t));
      const site = await core.admin.createSite({ name: 'Example Shop' });
      const agent = await core.admin.createAgent({
        displayName: 'demo-agent',
        description: 'the example agent worker',
        userKycLevel: 2,
        agentReputation: 87,
      });
      out.step(
        'core',
        `provisioned site ${site.siteId} "Example Shop" and agent ${agent.agentId} "demo-agent" (owner ${agent.userId})`,
      );
      ({ apiBase } = core);
      ({ siteToken } = site);
      ({ agentToken } = agent);
    }

    // 2. The site backend and the MCP tool servers, each on its own port.
    let t = out.now();
    const backend = await startSiteBackend({
      apiBase,
      siteToken,
      loginTimeout: 30_000,
      onEvent: (event) => {
        if (event.type === 'login-started') {
          out.step('site', `created login request ${event.loginRequestId}`, event.durationMs);
        } else if (event.type === 'passport-verified') {
          passport = { ...event.passport.claims };
          out.step(
            'site',
            `POST /login/finish: the passport answers ${event.passport.requestId}, the request this client started; claimed (jti single use)`,
          );
        } else if (event.type === 'session-opened') {
          out.step('site', `opened a session for agent ${event.session.agentId}`);
        } else if (event.type === 'login-failed') {
          out.step('site', `login ${event.loginRequestId} failed: ${event.code}`);
        }
      },
    });
    cleanup.push(() => backend.close());
    // Watch the site's event stream: passports arrive here, already verified.
    const stopWatching = new AbortController();
    cleanup.push(async () => stopWatching.abort());
    void (async () => {
      for await (const event of backend.site.events({ signal: stopWatching.signal })) {
        if (event.type === 'login') {
          const p = event.passport;
          out.step(
            'site',
            `passport for ${p.requestId} arrived on the event stream (event id ${event.eventId ?? '-'}), verified: RS256 signature, audience, issuer, lifetime`,
          );
          out.detail({
            'agent (sub)': p.agentId,
            'owner (user_id)': p.userId,
            site_id: p.siteId,
            request_id: p.requestId,
            jti: p.jti,
            user_kyc_level: p.userKycLevel,
            agent_reputation: p.agentReputation,
            issuer: p.issuer,
            lifetime: `${Math.round((p.expiresAt.getTime() - p.issuedAt.getTime()) / 1000)} s`,
          });
        } else if (event.type === 'disconnected') {
          out.step('site', `event stream dropped (${event.error.code}), reconnecting`);
        } else if (event.type === 'rejected') {
          out.step('site', `refused a passport for ${event.requestId}: ${event.error.reason}`);
        }
      }
    })();
    out.step(
      'site',
      `example site backend (express) on ${backend.url}, event stream open`,
      out.since(t),
    );

    t = out.now();
    const onToolCall =
      (server: string) => (call: { agentId: string; clientId: string; scopes: string[] }) =>
        out.step(
          server,
          `whoami called by agent ${call.agentId} (client_id ${call.clientId}, scope ${call.scopes.join(' ') || '-'}) — bearer verified`,
        );
    const mcp = await startMcpServer({ apiBase, onToolCall: onToolCall('mcp') });
    cleanup.push(() => mcp.close());
    out.step('mcp', `example MCP server (MCP SDK + express) on ${mcp.url}`, out.since(t));
    t = out.now();
    const edge = await startEdgeMcpServer({ apiBase, onToolCall: onToolCall('edge') });
    cleanup.push(() => edge.close());
    out.step('edge', `example edge MCP server (Hono, web-standard) on ${edge.url}`, out.since(t));

    // 3. The agent: headless login, session, MCP tool call.
    const agent = new LimeAgent({ apiBase, agentToken });
    cleanup.push(() => agent.close());
    const result = await runAgentWorker({
      agent,
      siteUrl: backend.url,
      mcpUrl: mcp.url,
      signal,
      onStep: (step) => {
        if (step.type === 'login-requested') {
          out.step(
            'agent',
            `POST /login/start → login request ${step.loginRequestId}`,
            step.durationMs,
          );
        } else if (step.type === 'login-approved') {
          out.step(
            'agent',
            `solved the proof of work and approved ${step.loginRequestId} at the Core`,
            step.durationMs,
          );
        } else if (step.type === 'session-opened') {
          out.step(
            'agent',
            `POST /login/finish + GET /me → session cookie, the site knows us as ${step.agentId}`,
            step.durationMs,
          );
        } else if (step.type === 'tool-called') {
          out.step(
            'agent',
            `got an MCP token for ${new URL(mcp.url).hostname}, tools/call whoami → ${describeWhoami(step.result)}`,
            step.durationMs,
          );
        }
      },
    });
    t = out.now();
    const edgeResult = await agent.mcp(edge.url).callTool('whoami', {}, { signal });
    const edgeWhoami = parseToolJson(edgeResult);
    out.step(
      'agent',
      `tools/call whoami on the edge server → ${describeWhoami(edgeWhoami)}`,
      out.since(t),
    );

    // 4. Everyone agrees on who the agent is.
    const agentId = result.session.agentId;
    for (const [who, seen] of [
      ['express MCP server', result.whoami?.agentId],
      ['edge MCP server', edgeWhoami.agentId],
      ['passport', passport?.sub],
    ] as const) {
      if (seen !== agentId)
        throw new Error(`${who} saw agent ${String(seen)}, the site saw ${agentId}`);
    }
    const totalMs = out.since(0);
    out.footer(
      `✓ agent ${agentId} logged into the site and called both MCP servers — ${Math.round(totalMs)} ms`,
    );
    return {
      agentId,
      userId: result.session.userId,
      loginRequestId: result.loginRequestId,
      passport: passport ?? {},
      whoami: result.whoami ?? {},
      edgeWhoami,
      totalMs,
    };
  } finally {
    for (const close of cleanup.reverse()) await close().catch(() => {});
  }
}

/** One line for a `whoami` answer. */
function describeWhoami(answer: unknown): string {
  const a = answer as Record<string, unknown>;
  const scopes = Array.isArray(a.scopes) ? a.scopes.join(' ') : String(a.scopes);
  return `"you are ${String(a.agentId)}" (scope ${scopes}, token for ${String(a.domain)}, expires ${String(a.expiresAt)})`;
}

function parseToolJson(result: unknown): Record<string, unknown> {
  const r = result as { content?: Array<{ type: string; text?: string }>; isError?: boolean };
  const text = r.content?.find((c) => c.type === 'text')?.text;
  if (r.isError || text === undefined) {
    throw new Error(`tool call failed: ${JSON.stringify(result).slice(0, 300)}`);
  }
  return JSON.parse(text) as Record<string, unknown>;
}
