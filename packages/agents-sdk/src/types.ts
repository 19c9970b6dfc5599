/**
 * Options every async call of the SDK takes.
 *
 * @example
 * await agent.getProfile({ signal: AbortSignal.timeout(5_000) });
 */
export interface CallOptions {
  /** Cancels the call; it then rejects with `AbortError` (code `ABORTED`). */
  signal?: AbortSignal | undefined;
}

/**
 * What {@link LimeAgent.login} returns: the approved login request (PROTOCOL
 * §3.4). The passport itself goes to the site, never to the agent.
 *
 * @example
 * const { siteId, expiresAt } = await agent.login(requestId);
 */
export interface LoginResult {
  /** The login request id, as the Core knows it. */
  requestId: string;
  /** The site that created the request. */
  siteId: string;
  /** `APPROVED`, or `DELIVERED` once a site connection received the passport. */
  status: 'APPROVED' | 'DELIVERED';
  /** When the login request expires. */
  expiresAt: Date;
  /** The agent whose approval won: this agent. */
  approvedAgentId: string;
}

/**
 * The agent's profile (PROTOCOL §3.6), in camelCase.
 *
 * @example
 * const { agentId, displayName } = await agent.getProfile();
 */
export interface AgentProfile {
  agentId: string;
  /** The owner (user) of the agent; the Core may call it `owner_id`. */
  userId: string | null;
  displayName: string | null;
  avatarUrl: string | null;
  description: string | null;
  /** The owner's KYC level; the Core may call it `owner_kyc_level`. */
  userKycLevel: number | string | null;
  agentReputation: number | null;
}

/**
 * An MCP access token (PROTOCOL §7) for one MCP server domain. Send it only to
 * that MCP server, as `Authorization: Bearer …`.
 *
 * @example
 * const { accessToken } = await agent.getMcpAccessToken('tools.example.com');
 */
export interface McpAccessToken {
  /** The JWT. Never log it. */
  accessToken: string;
  tokenType: 'Bearer';
  /** Lifetime the Core announced, seconds. */
  expiresIn: number;
  /** Local time at which the token expires (receive time + `expiresIn`). */
  expiresAt: Date;
  /** The normalised MCP server domain the token was issued for. */
  domain: string;
  /** The RFC 8707 `resource` sent with the request, when `mcpResource` is on. */
  resource: string | undefined;
}

/**
 * Options of {@link LimeAgent.getMcpAccessToken}.
 *
 * @example
 * await agent.getMcpAccessToken('tools.example.com', { forceRefresh: true });
 */
export interface McpTokenOptions extends CallOptions {
  /** Ignore a cached token and fetch a new one. @default false */
  forceRefresh?: boolean | undefined;
}
