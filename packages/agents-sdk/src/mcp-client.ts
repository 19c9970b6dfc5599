import type { FetchLike } from '@lime/wire';
import { ConfigurationError } from '@lime/wire';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type {
  CallToolRequest,
  CallToolResult,
  GetPromptRequest,
  GetPromptResult,
  Implementation,
  ListPromptsRequest,
  ListPromptsResult,
  ListResourcesRequest,
  ListResourcesResult,
  ListResourceTemplatesRequest,
  ListResourceTemplatesResult,
  ListToolsRequest,
  ListToolsResult,
  LoggingLevel,
  ProgressToken,
  ReadResourceRequest,
  ReadResourceResult,
  ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import { abortable } from './internal/abortable.js';
import { loadMcpSdk, type McpSdk } from './internal/load-mcp-sdk.js';
import type { McpTarget } from './internal/mcp-target.js';
import { SDK_NAME, SDK_VERSION } from './internal/version.js';
import type { CallOptions } from './types.js';

/**
 * Per-call options of the MCP facade: the MCP SDK's own (`signal`, `timeout`
 * in milliseconds, `onprogress`…).
 *
 * @example
 * await agent.mcp(url).callTool('search', { q: 'x' }, { timeout: 10_000, signal });
 */
export type McpRequestOptions = RequestOptions;

interface Connection {
  sdk: McpSdk;
  client: Client;
  transport: StreamableHTTPClientTransport;
  /** Calls running on it; a stale connection is closed when this drops to 0. */
  active: number;
  /** The server forgot this session; no new calls go to it. */
  stale: boolean;
}

/** What an {@link McpClient} gets from its agent (internal wiring). */
export interface McpClientWiring {
  target: McpTarget;
  /** `fetch` that attaches the bearer per request (see `createBearerFetch`). */
  fetch: FetchLike;
  /** Called once when this client is closed, so the agent drops it from its pool. */
  onClose(): void;
  /** Which MCP SDK line to load. @default 'auto' */
  mcpSdk?: 'auto' | 'v1' | 'v2';
}

/**
 * One MCP server, reached over streamable HTTP with this agent's MCP access
 * token. Get it from {@link LimeAgent.mcp}; the agent keeps one per URL, and
 * parallel calls share its single MCP session.
 *
 * Every HTTP request carries the domain's current bearer (refreshed lazily
 * before expiry). A `401` refreshes the token and retries once, then raises
 * `McpAuthenticationError`; a `404` for an expired session opens a new
 * session and retries the call once. Results are the MCP SDK's own types.
 *
 * @example
 * const tools = agent.mcp('tools.example.com');
 * const { tools: list } = await tools.listTools();
 * const result = await tools.callTool('search', { query: 'lime' });
 */
export class McpClient implements AsyncDisposable {
  /** The streamable HTTP endpoint. */
  readonly url: URL;
  /** The token domain (PROTOCOL §7). */
  readonly domain: string;
  private readonly wiring: McpClientWiring;
  private pending: Promise<Connection> | undefined;
  private current: Connection | undefined;
  private closed = false;

  /** @internal Use {@link LimeAgent.mcp}. */
  constructor(wiring: McpClientWiring) {
    this.wiring = wiring;
    this.url = new URL(wiring.target.url.href);
    this.domain = wiring.target.domain;
  }

  /**
   * The connected MCP SDK `Client`, for anything the facade does not cover
   * (subscriptions, completion, notifications). It is shared: do not close it
   * yourself; call {@link McpClient.close}.
   *
   * @example
   * const client = await agent.mcp('tools.example.com').getClient();
   * await client.complete({ ref: { type: 'ref/prompt', name: 'p' }, argument: { name: 'a', value: 'x' } });
   */
  async getClient(options: CallOptions = {}): Promise<Client> {
    return (await this.connection(options.signal)).client;
  }

  /**
   * `tools/list`.
   * @example const { tools } = await agent.mcp(url).listTools();
   */
  listTools(
    params?: ListToolsRequest['params'],
    options?: McpRequestOptions,
  ): Promise<ListToolsResult> {
    return this.run((c) => c.listTools(params, options), options);
  }

  /**
   * `tools/call`, by name and arguments or with the full MCP params.
   * @example const result = await agent.mcp(url).callTool('add', { a: 1, b: 2 });
   */
  callTool(
    name: string,
    args?: Record<string, unknown>,
    options?: McpRequestOptions,
  ): Promise<CallToolResult>;
  callTool(params: CallToolRequest['params'], options?: McpRequestOptions): Promise<CallToolResult>;
  callTool(
    nameOrParams: string | CallToolRequest['params'],
    argsOrOptions?: Record<string, unknown> | McpRequestOptions,
    maybeOptions?: McpRequestOptions,
  ): Promise<CallToolResult> {
    let params: CallToolRequest['params'];
    let options: McpRequestOptions | undefined;
    if (typeof nameOrParams === 'string') {
      params = {
        name: nameOrParams,
        arguments: argsOrOptions as Record<string, unknown> | undefined,
      };
      options = maybeOptions;
    } else {
      params = nameOrParams;
      options = argsOrOptions as McpRequestOptions | undefined;
    }
    // Without a result schema the SDK validates against CallToolResultSchema,
    // so the compatibility variant of its return type cannot occur here.
    return this.run(
      async (c, sdk) => (await sdk.callTool(c, params, options)) as CallToolResult,
      options,
    );
  }

  /**
   * `resources/list`.
   * @example const { resources } = await agent.mcp(url).listResources();
   */
  listResources(
    params?: ListResourcesRequest['params'],
    options?: McpRequestOptions,
  ): Promise<ListResourcesResult> {
    return this.run((c) => c.listResources(params, options), options);
  }

  /**
   * `resources/templates/list`.
   * @example const { resourceTemplates } = await agent.mcp(url).listResourceTemplates();
   */
  listResourceTemplates(
    params?: ListResourceTemplatesRequest['params'],
    options?: McpRequestOptions,
  ): Promise<ListResourceTemplatesResult> {
    return this.run((c) => c.listResourceTemplates(params, options), options);
  }

  /**
   * `resources/read`.
   * @example const { contents } = await agent.mcp(url).readResource({ uri: 'file:///readme' });
   */
  readResource(
    params: ReadResourceRequest['params'],
    options?: McpRequestOptions,
  ): Promise<ReadResourceResult> {
    return this.run((c) => c.readResource(params, options), options);
  }

  /**
   * `prompts/list`.
   * @example const { prompts } = await agent.mcp(url).listPrompts();
   */
  listPrompts(
    params?: ListPromptsRequest['params'],
    options?: McpRequestOptions,
  ): Promise<ListPromptsResult> {
    return this.run((c) => c.listPrompts(params, options), options);
  }

  /**
   * `prompts/get`.
   * @example const { messages } = await agent.mcp(url).getPrompt({ name: 'greet', arguments: { who: 'x' } });
   */
  getPrompt(
    params: GetPromptRequest['params'],
    options?: McpRequestOptions,
  ): Promise<GetPromptResult> {
    return this.run((c) => c.getPrompt(params, options), options);
  }

  /**
   * `ping`: resolves when the server answers.
   * @example await agent.mcp(url).ping();
   */
  async ping(options?: McpRequestOptions): Promise<void> {
    await this.run((c) => c.ping(options), options);
  }

  /**
   * `logging/setLevel`: the least severe level of log messages the server
   * should send (they arrive as `notifications/message`; see `getClient()`).
   * @example await agent.mcp(url).setLoggingLevel('warning');
   */
  async setLoggingLevel(level: LoggingLevel, options?: McpRequestOptions): Promise<void> {
    await this.run((c) => c.setLoggingLevel(level, options), options);
  }

  /**
   * Send `notifications/progress` for a request the server made to this
   * client that carried `progressToken`. To receive progress of a call you
   * make, pass `{ onprogress }` in its options instead.
   * @example await agent.mcp(url).sendProgressNotification(token, 50, 100, 'half way');
   */
  async sendProgressNotification(
    progressToken: ProgressToken,
    progress: number,
    total?: number,
    message?: string,
    options: CallOptions = {},
  ): Promise<void> {
    await this.run(
      (c) =>
        c.notification({
          method: 'notifications/progress',
          params: {
            progressToken,
            progress,
            ...(total === undefined ? {} : { total }),
            ...(message === undefined ? {} : { message }),
          },
        }),
      options,
    );
  }

  /**
   * The capabilities the server announced in `initialize` (connects first if needed).
   * @example const caps = await agent.mcp(url).getServerCapabilities();
   */
  async getServerCapabilities(options: CallOptions = {}): Promise<ServerCapabilities | undefined> {
    return (await this.connection(options.signal)).client.getServerCapabilities();
  }

  /**
   * The server's name and version from `initialize` (connects first if needed).
   * @example const { name } = (await agent.mcp(url).getServerVersion()) ?? {};
   */
  async getServerVersion(options: CallOptions = {}): Promise<Implementation | undefined> {
    return (await this.connection(options.signal)).client.getServerVersion();
  }

  /** The MCP session id, when a session is open. */
  get sessionId(): string | undefined {
    return this.current?.transport.sessionId;
  }

  /**
   * End the MCP session (HTTP `DELETE`, best effort) and close the
   * connection. The agent's next {@link LimeAgent.mcp} call for this URL
   * creates a new client. Idempotent.
   *
   * @example
   * await agent.mcp(url).close();
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wiring.onClose();
    const conn = this.current ?? (await this.pending?.catch(() => undefined));
    this.pending = undefined;
    this.current = undefined;
    if (!conn) return;
    // The server would otherwise hold the session until it times out.
    await conn.transport.terminateSession().catch(() => {});
    await conn.client.close().catch(() => {});
  }

  /** `await using mcp = agent.mcp(url)` closes it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private connection(signal: AbortSignal | undefined): Promise<Connection> {
    if (this.closed) {
      return Promise.reject(
        new ConfigurationError(
          `the MCP client for ${this.url.href} was closed; call agent.mcp() again`,
        ),
      );
    }
    if (!this.pending) {
      // Not tied to one caller's signal: every parallel caller shares it.
      const pending = this.connect();
      this.pending = pending;
      pending.then(
        (conn) => {
          if (this.pending === pending) this.current = conn;
          else void conn.client.close().catch(() => {});
        },
        () => {
          if (this.pending === pending) this.pending = undefined;
        },
      );
    }
    return abortable(this.pending, signal);
  }

  private async connect(): Promise<Connection> {
    // Loaded on first use: login-only workers never install or parse the MCP SDK.
    const sdk = await loadMcpSdk(this.wiring.mcpSdk ?? 'auto');
    const client = new sdk.Client({ name: SDK_NAME, version: SDK_VERSION }, { capabilities: {} });
    const transport = new sdk.StreamableHTTPClientTransport(this.url, {
      fetch: this.wiring.fetch,
    });
    // Errors of the background event stream surface on the next call instead.
    client.onerror = () => {};
    client.onclose = () => {
      if (this.current?.client === client) {
        this.current = undefined;
        this.pending = undefined;
      }
    };
    await client.connect(transport);
    return { sdk, client, transport, active: 0, stale: false };
  }

  /**
   * Run one MCP call; when the server says the session is gone (404 on a
   * request that carried a session id), open a new session and run it once
   * more. A 404 means the server did not process the message, so the
   * repeat is not a duplicate.
   */
  private async run<T>(
    op: (client: Client, sdk: McpSdk) => Promise<T>,
    options?: McpRequestOptions,
  ): Promise<T> {
    const conn = await this.connection(options?.signal);
    const hadSession = conn.transport.sessionId !== undefined;
    try {
      return await this.using(conn, op);
    } catch (error) {
      const expired = conn.sdk.sessionGone(error);
      if (!(hadSession && expired)) throw error;
      const fresh = await this.reconnect(conn, options?.signal);
      return await this.using(fresh, op);
    }
  }

  private async using<T>(
    conn: Connection,
    op: (client: Client, sdk: McpSdk) => Promise<T>,
  ): Promise<T> {
    conn.active++;
    try {
      return await op(conn.client, conn.sdk);
    } finally {
      conn.active--;
      if (conn.stale && conn.active === 0) void conn.client.close().catch(() => {});
    }
  }

  private reconnect(stale: Connection, signal: AbortSignal | undefined): Promise<Connection> {
    // Parallel calls that saw the same expiry share one new session; the old
    // client is closed once its last running call has settled.
    if (!stale.stale) {
      stale.stale = true;
      if (stale.active === 0) void stale.client.close().catch(() => {});
    }
    if (this.current === stale) {
      this.current = undefined;
      this.pending = undefined;
    }
    return this.connection(signal);
  }
}
