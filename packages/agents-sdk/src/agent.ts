import type { AgentProfileData } from '@lime/wire';
import { ConfigurationError, HEADERS, HttpClient, PATHS } from '@lime/wire';
import type {
  CallToolResult,
  GetPromptResult,
  LoggingLevel,
  ProgressToken,
  Prompt,
  ReadResourceResult,
  Resource,
  ResourceTemplate,
  ServerCapabilities,
  Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { OAuthCapabilityError } from './errors.js';
import { createTransport, type Transport } from './internal/default-transport.js';
import { runLogin } from './internal/login-flow.js';
import { LimeOAuthClientProvider } from './internal/mcp-auth-provider.js';
import { type BearerSource, createBearerFetch } from './internal/mcp-fetch.js';
import { type McpTarget, resolveMcpTarget } from './internal/mcp-target.js';
import { McpTokenCache } from './internal/mcp-token-cache.js';
import { parseProfile } from './internal/profile.js';
import { type ResolvedOptions, resolveOptions } from './internal/resolve-options.js';
import { validateTokenResponse } from './internal/token-response.js';
import { SDK_NAME, SDK_VERSION } from './internal/version.js';
import { McpClient, type McpRequestOptions } from './mcp-client.js';
import type { LimeAgentOptions } from './options.js';
import { solvePow } from './pow/index.js';
import type {
  AgentProfile,
  CallOptions,
  LimeMcpAuth,
  LoginOptions,
  LoginResult,
  McpAccessToken,
  McpTokenOptions,
} from './types.js';

/**
 * A LIME agent: approves headless site logins (with proof of work solved on
 * worker threads) and reaches MCP servers with short-lived MCP access
 * tokens. The agent token goes only to the LIME Core (`X-Agent-Token`); MCP
 * servers only ever see MCP access tokens (`Authorization: Bearer`).
 *
 * @example
 * import { LimeAgent } from 'lime-agents-sdk';
 *
 * await using agent = new LimeAgent(); // reads LIME_AGENT_TOKEN, LIME_API_BASE
 * const login = await agent.login(requestIdFromTheSite);
 * console.log(`approved for site ${login.siteId} until ${login.expiresAt.toISOString()}`);
 */
export class LimeAgent implements AsyncDisposable {
  /** The API base in use (`https://lime.pics/api/v1` unless configured). */
  readonly apiBase: string;
  private readonly options: ResolvedOptions;
  private readonly transport: Transport;
  private readonly http: HttpClient;
  private readonly tokens: McpTokenCache;
  private readonly mcpClients = new Map<string, McpClient>();
  private closed = false;

  /**
   * @throws AuthenticationError (`MISSING_AGENT_TOKEN`) when no agent token
   *   is given or in `LIME_AGENT_TOKEN`; (`INVALID_AGENT_TOKEN`) for a site
   *   token or a JWT passed as agent token.
   * @throws TypeError naming the option when an option is invalid.
   */
  constructor(options: LimeAgentOptions = {}) {
    this.options = resolveOptions(options);
    this.apiBase = this.options.apiBase;
    this.transport = createTransport(this.options.fetch);
    this.http = new HttpClient({
      apiBase: this.options.apiBase,
      headers: { 'user-agent': `${SDK_NAME}/${SDK_VERSION}` },
      timeoutMs: this.options.timeout,
      maxRetries: this.options.maxRetries,
      retryBaseDelayMs: this.options.retryBaseDelay,
      retryMaxDelayMs: this.options.retryMaxDelay,
      // HttpClient never follows a redirect off the API origin: the agent token stays home.
      fetch: this.transport.fetch,
    });
    this.tokens = new McpTokenCache(
      (domain, resource) => this.requestMcpToken(domain, resource),
      this.options.mcpTokenRefreshSkew,
    );
  }

  /**
   * Approve a headless login request a site handed to this agent: read its
   * proof-of-work challenge, solve it off the main thread, approve.
   *
   * The id is trimmed; an empty id raises `ValidationError` before any I/O.
   * Approve is never retried blindly: after an ambiguous failure (no answer,
   * timeout, 5xx) the request is read again and approve is sent once more
   * with the same nonce. The Core answers `200` again only to the agent that
   * won (PROTOCOL §3.4 extension), so that settles it; `ConflictError` means
   * another agent approved first.
   *
   * @throws ValidationError empty id, or `INVALID_POW`.
   * @throws NotFoundError / ExpiredError unknown or expired request.
   * @throws ConflictError (`REQUEST_ALREADY_APPROVED`) another agent won.
   * @throws AuthenticationError the Core refused the agent token.
   * @throws PowTimeoutError the proof of work ran past `powTimeout`.
   * @throws AbortError the signal fired.
   *
   * Every error names the step that failed in `error.step` (`'challenge'`,
   * `'solve'`, `'approve'`). The agent token is checked (`GET` profile) while
   * the challenge is read and solved, so a refused token stops the login
   * within one round trip, with that `AuthenticationError` (step
   * `'approve'`), instead of after the proof of work. `onProgress` reports
   * each step and, while solving, hashes done and the estimated time left.
   *
   * @example
   * const { siteId, expiresAt } = await agent.login(' lr_abc123 ', {
   *   signal: AbortSignal.timeout(30_000),
   *   onProgress: ({ step, pow }) => console.log(step, pow?.hashes ?? ''),
   * });
   */
  async login(requestId: string, options: LoginOptions = {}): Promise<LoginResult> {
    this.assertOpen();
    const { powTimeout, powWorkers } = this.options;
    return runLogin(
      {
        http: this.http,
        agentToken: this.options.agentToken,
        solve: async (challenge, difficulty, signal, onProgress) => {
          // §3.3: difficulty 0 accepts any nonce; no need to wake the pool.
          if (difficulty <= 0) return '0';
          const solution = await solvePow(challenge, difficulty, {
            signal,
            timeoutMs: powTimeout,
            ...(powWorkers === undefined ? {} : { workers: powWorkers }),
            ...(onProgress === undefined ? {} : { onProgress }),
          });
          return solution.nonce;
        },
        // Not retried: a refusal is what it looks for, and approve decides anyway.
        checkAgentToken: (signal) =>
          this.http.request('GET', PATHS.agentProfile, {
            signal,
            idempotent: false,
            headers: { [HEADERS.agentToken]: this.options.agentToken },
          }),
      },
      requestId,
      options,
    );
  }

  /**
   * The agent's profile (PROTOCOL §3.6).
   *
   * @example
   * const { agentId, displayName, agentReputation } = await agent.getProfile();
   */
  async getProfile(options: CallOptions = {}): Promise<AgentProfile> {
    this.assertOpen();
    const { data, headers } = await this.http.request<AgentProfileData>('GET', PATHS.agentProfile, {
      signal: options.signal,
      headers: { [HEADERS.agentToken]: this.options.agentToken },
    });
    return parseProfile(data, headers);
  }

  /**
   * An MCP access token for the MCP server at `target` (a URL or a bare
   * host; the port is ignored, IP addresses and userinfo are refused).
   * Tokens are cached per domain and renewed lazily once they have less than
   * `mcpTokenRefreshSkew` to live; parallel calls for one domain share one
   * token request. Send the token only to that MCP server.
   *
   * @throws ValidationError the target is not usable.
   * @throws OAuthCapabilityError (`OAUTH_CAPABILITY_DENIED`, a `PermissionDeniedError`) the agent may not use MCP.
   * @throws AuthenticationError (`invalid_client`) the Core refused the agent token.
   * @throws InvalidResponseError the token answer was not exactly PROTOCOL §7's.
   *
   * @example
   * const { accessToken, expiresAt } = await agent.getMcpAccessToken('https://tools.example.com/mcp');
   */
  async getMcpAccessToken(
    target: string | URL,
    options: McpTokenOptions = {},
  ): Promise<McpAccessToken> {
    this.assertOpen();
    const resolved = resolveMcpTarget(target, this.options.allowInsecureMcp);
    return this.tokens.get({
      domain: resolved.domain,
      resource: this.options.mcpResource ? resolved.resource : undefined,
      forceRefresh: options.forceRefresh,
      signal: options.signal,
    });
  }

  /**
   * The MCP client for `target` (a URL, or a bare host meaning
   * `https://host/mcp`). One client per URL is kept and shared: parallel calls
   * are multiplexed on its session. Nothing is sent until the first call.
   *
   * @example
   * const { tools } = await agent.mcp('tools.example.com').listTools();
   * const result = await agent.mcp('https://tools.example.com/mcp').callTool('echo', { text: 'hi' });
   */
  mcp(target: string | URL): McpClient {
    this.assertOpen();
    const resolved = resolveMcpTarget(target, this.options.allowInsecureMcp);
    const key = resolved.url.href;
    const existing = this.mcpClients.get(key);
    if (existing) return existing;
    const client: McpClient = new McpClient({
      target: resolved,
      fetch: createBearerFetch(this.transport.fetch, this.bearerSource(resolved)),
      mcpSdk: this.options.mcpSdk,
      onClose: () => {
        if (this.mcpClients.get(key) === client) this.mcpClients.delete(key);
      },
    });
    this.mcpClients.set(key, client);
    return client;
  }

  /**
   * LIME authentication for any MCP client (the official MCP SDK, the Vercel
   * AI SDK, the OpenAI Agents SDK, LangChain.js…): a `fetch` that puts the
   * server's current MCP access token on every request and, on a `401`,
   * refreshes it once and replays the request; and the same as an MCP SDK
   * `authProvider` for clients that take only that. Tokens come from this
   * agent's cache (shared with {@link LimeAgent.mcp}), so a long-lived client
   * keeps working across token expiry. Nothing is sent until the first request.
   *
   * @throws ValidationError the target is not usable (before any I/O).
   *
   * @example
   * import { Client } from '@modelcontextprotocol/sdk/client/index.js';
   * import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
   *
   * const auth = agent.mcpAuth('https://tools.example.com/mcp');
   * const client = new Client({ name: 'my-agent', version: '1.0.0' });
   * await client.connect(new StreamableHTTPClientTransport(auth.url, { fetch: auth.fetch }));
   */
  mcpAuth(target: string | URL): LimeMcpAuth {
    this.assertOpen();
    const resolved = resolveMcpTarget(target, this.options.allowInsecureMcp);
    const source = this.bearerSource(resolved);
    return {
      url: new URL(resolved.url.href),
      domain: resolved.domain,
      fetch: createBearerFetch(this.transport.fetch, source),
      authProvider: new LimeOAuthClientProvider(source, resolved, this.apiBase),
    };
  }

  // ── one-call MCP shortcuts, as in the Python agent ─────────────────────
  // Each is `this.mcp(target).<method>(…)`: the same pooled client, session
  // and token. List calls return the bare list, as Python's do (one page).

  /**
   * The server's tools (one `tools/list` page), like Python's `list_tools`.
   * @example const tools = await agent.listTools('tools.example.com');
   */
  async listTools(target: string | URL, options?: McpRequestOptions): Promise<Tool[]> {
    return (await this.mcp(target).listTools(undefined, options)).tools;
  }

  /**
   * Call a tool, like Python's `call_tool`.
   * @example const result = await agent.callTool('tools.example.com', 'search', { q: 'lime' });
   */
  callTool(
    target: string | URL,
    name: string,
    args: Record<string, unknown> = {},
    options?: McpRequestOptions,
  ): Promise<CallToolResult> {
    return this.mcp(target).callTool(name, args, options);
  }

  /**
   * The server's resources (one page), like Python's `list_resources`.
   * @example const resources = await agent.listResources('tools.example.com');
   */
  async listResources(target: string | URL, options?: McpRequestOptions): Promise<Resource[]> {
    return (await this.mcp(target).listResources(undefined, options)).resources;
  }

  /**
   * The server's resource templates (one page), like Python's `list_resource_templates`.
   * @example const templates = await agent.listResourceTemplates('tools.example.com');
   */
  async listResourceTemplates(
    target: string | URL,
    options?: McpRequestOptions,
  ): Promise<ResourceTemplate[]> {
    return (await this.mcp(target).listResourceTemplates(undefined, options)).resourceTemplates;
  }

  /**
   * The server's prompts (one page), like Python's `list_prompts`.
   * @example const prompts = await agent.listPrompts('tools.example.com');
   */
  async listPrompts(target: string | URL, options?: McpRequestOptions): Promise<Prompt[]> {
    return (await this.mcp(target).listPrompts(undefined, options)).prompts;
  }

  /**
   * Read one resource by URI, like Python's `read_resource`.
   * @example const { contents } = await agent.readResource('tools.example.com', 'docs://readme');
   */
  readResource(
    target: string | URL,
    uri: string,
    options?: McpRequestOptions,
  ): Promise<ReadResourceResult> {
    return this.mcp(target).readResource({ uri }, options);
  }

  /**
   * A rendered prompt, like Python's `get_prompt`.
   * @example const { messages } = await agent.getPrompt('tools.example.com', 'greet', { who: 'x' });
   */
  getPrompt(
    target: string | URL,
    name: string,
    args: Record<string, string> = {},
    options?: McpRequestOptions,
  ): Promise<GetPromptResult> {
    return this.mcp(target).getPrompt({ name, arguments: args }, options);
  }

  /**
   * `logging/setLevel`, like Python's `set_logging_level`.
   * @example await agent.setLoggingLevel('tools.example.com', 'warning');
   */
  setLoggingLevel(
    target: string | URL,
    level: LoggingLevel,
    options?: McpRequestOptions,
  ): Promise<void> {
    return this.mcp(target).setLoggingLevel(level, options);
  }

  /**
   * `ping`, like Python's `send_ping`.
   * @example await agent.sendPing('tools.example.com');
   */
  sendPing(target: string | URL, options?: McpRequestOptions): Promise<void> {
    return this.mcp(target).ping(options);
  }

  /**
   * The capabilities the server announced (`{}` when it announced none),
   * like Python's `get_server_capabilities`.
   * @example const { tools } = await agent.getServerCapabilities('tools.example.com');
   */
  async getServerCapabilities(
    target: string | URL,
    options: CallOptions = {},
  ): Promise<ServerCapabilities> {
    return (await this.mcp(target).getServerCapabilities(options)) ?? {};
  }

  /**
   * `notifications/progress` for a server request that carried
   * `progressToken`, like Python's `send_progress_notification`.
   * @example await agent.sendProgressNotification('tools.example.com', token, 1, 2);
   */
  sendProgressNotification(
    target: string | URL,
    progressToken: ProgressToken,
    progress: number,
    total?: number,
    options: CallOptions & { message?: string } = {},
  ): Promise<void> {
    return this.mcp(target).sendProgressNotification(
      progressToken,
      progress,
      total,
      options.message,
      options,
    );
  }

  /**
   * End every MCP session (HTTP `DELETE`), forget cached tokens and release
   * the keep-alive connections. Idempotent. The proof-of-work pool is shared
   * by all agents of the process and unref'd; `shutdownPowPool()` stops it.
   *
   * @example
   * await agent.close();
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const clients = [...this.mcpClients.values()];
    await Promise.allSettled(clients.map((c) => c.close()));
    this.tokens.close();
    await this.transport.close();
  }

  /** `await using agent = new LimeAgent()` closes it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private bearerSource(target: McpTarget): BearerSource {
    const resource = this.options.mcpResource ? target.resource : undefined;
    return {
      domain: target.domain,
      origin: target.url.origin,
      token: (signal) => this.tokens.get({ domain: target.domain, resource, signal }),
      invalidate: (refused) => this.tokens.invalidate(target.domain, resource, refused),
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new ConfigurationError('this LimeAgent was closed; create a new one');
  }

  private async requestMcpToken(domain: string, resource: string | undefined) {
    let answer: { data: unknown; headers: Headers };
    try {
      answer = await this.http.request<unknown>('POST', PATHS.oauthToken, {
        // Issuing a token changes nothing the caller could observe twice: safe to retry.
        idempotent: true,
        shape: 'raw',
        body: resource === undefined ? { domain } : { domain, resource },
        headers: { [HEADERS.agentToken]: this.options.agentToken },
      });
    } catch (error) {
      // OAUTH_CAPABILITY_DENIED → OAuthCapabilityError, at any status but 429 (as in Python).
      throw OAuthCapabilityError.from(error);
    }
    return validateTokenResponse(answer.data, answer.headers);
  }
}
