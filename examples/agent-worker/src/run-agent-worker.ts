import { LimeAgent } from 'lime-agents-sdk';

/** A step the agent worker took, for logs and the demo's output. */
export type AgentWorkerStep =
  | { type: 'login-requested'; loginRequestId: string; durationMs: number }
  | { type: 'login-approved'; loginRequestId: string; siteId: string; durationMs: number }
  | { type: 'session-opened'; agentId: string; userId: string; durationMs: number }
  | { type: 'tool-called'; tool: string; result: unknown; durationMs: number };

/** Options of {@link runAgentWorker}. */
export interface AgentWorkerOptions {
  /**
   * The agent to act as. When absent one is made from `apiBase`/`agentToken`
   * (or `LIME_API_BASE`/`LIME_AGENT_TOKEN`) and closed at the end.
   */
  agent?: LimeAgent;
  /** API base of the Core. @default process.env.LIME_API_BASE, else hosted */
  apiBase?: string;
  /** The agent token (`at_…`). @default process.env.LIME_AGENT_TOKEN */
  agentToken?: string;
  /** Origin of the example site backend, e.g. `http://127.0.0.1:3000`. */
  siteUrl: string;
  /** URL of an MCP server with a `whoami` tool; skipped when absent. */
  mcpUrl?: string;
  /** Called after each step. */
  onStep?: (step: AgentWorkerStep) => void;
  /** Cancels the whole run. */
  signal?: AbortSignal;
}

/** What one run of the agent worker achieved. */
export interface AgentWorkerResult {
  loginRequestId: string;
  /** What the site's protected `/me` route says about us. */
  session: { agentId: string; userId: string; [field: string]: unknown };
  /** The MCP server's answer to `whoami`, parsed from its JSON text. */
  whoami: Record<string, unknown> | undefined;
}

/**
 * The agent side of the whole story: ask the site for a login request, log
 * in headlessly (proof of work + approval at the Core, inside
 * `agent.login`), finish the login at the site and read the protected page
 * with the session cookie, then call the MCP server's `whoami` tool with a
 * LIME bearer (`agent.mcp()` fetches and renews the token by itself).
 *
 * The agent never sees the passport: the Core hands it to the site.
 *
 * @example
 * const result = await runAgentWorker({ siteUrl: 'http://127.0.0.1:3000', mcpUrl: 'http://localhost:3001/mcp' });
 * console.log(result.session.agentId, result.whoami);
 */
export async function runAgentWorker(options: AgentWorkerOptions): Promise<AgentWorkerResult> {
  const own = options.agent === undefined;
  const agent =
    options.agent ??
    new LimeAgent({
      ...(options.apiBase === undefined ? {} : { apiBase: options.apiBase }),
      ...(options.agentToken === undefined ? {} : { agentToken: options.agentToken }),
    });
  const step = options.onStep ?? (() => {});
  const { signal } = options;
  const cookies = new CookieJar();
  try {
    // 1. The site creates a login request for us and remembers us by a cookie.
    let t = performance.now();
    const started = await cookies.fetchJson<{ loginRequestId: string }>(
      new URL('/login/start', options.siteUrl),
      { method: 'POST', signal },
    );
    const { loginRequestId } = started;
    step({ type: 'login-requested', loginRequestId, durationMs: performance.now() - t });

    // 2. Solve the proof of work and approve the request at the Core.
    t = performance.now();
    const approval = await agent.login(loginRequestId, { signal });
    step({
      type: 'login-approved',
      loginRequestId,
      siteId: approval.siteId,
      durationMs: performance.now() - t,
    });

    // 3. The site has received and verified the passport: collect the session.
    t = performance.now();
    await cookies.fetchJson(new URL('/login/finish', options.siteUrl), { method: 'POST', signal });
    const me = await cookies.fetchJson<{ agent: AgentWorkerResult['session'] }>(
      new URL('/me', options.siteUrl),
      { signal },
    );
    step({
      type: 'session-opened',
      agentId: me.agent.agentId,
      userId: me.agent.userId,
      durationMs: performance.now() - t,
    });

    // 4. Call a tool on the MCP server with a LIME bearer.
    let whoami: Record<string, unknown> | undefined;
    if (options.mcpUrl !== undefined) {
      t = performance.now();
      const result = await agent.mcp(options.mcpUrl).callTool('whoami', {}, { signal });
      whoami = parseToolJson(result);
      step({
        type: 'tool-called',
        tool: 'whoami',
        result: whoami,
        durationMs: performance.now() - t,
      });
    }
    return { loginRequestId, session: me.agent, whoami };
  } finally {
    if (own) await agent.close();
  }
}

/** The example tools answer with one text block holding JSON. */
function parseToolJson(result: unknown): Record<string, unknown> {
  const r = result as { content?: Array<{ type: string; text?: string }>; isError?: boolean };
  const text = r.content?.find((c) => c.type === 'text')?.text;
  if (r.isError || text === undefined) {
    throw new Error(`tool call failed: ${JSON.stringify(result).slice(0, 300)}`);
  }
  return JSON.parse(text) as Record<string, unknown>;
}

/** Just enough of a cookie jar to talk to one site from Node. */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  async fetchJson<T = unknown>(url: URL, init: RequestInit = {}): Promise<T> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) {
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    }
    const res = await fetch(url, { ...init, headers });
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const body = (await res.json().catch(() => ({}))) as T & { error?: string; message?: string };
    if (!res.ok) {
      throw new Error(
        `${init.method ?? 'GET'} ${url.pathname} answered ${res.status} ${body.error ?? ''}: ${body.message ?? ''}`,
      );
    }
    return body;
  }
}
