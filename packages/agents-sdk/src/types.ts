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
 * A `200` answer to approve means the approval happened. As in the Python
 * agent, `approved_agent_id` may be missing and `status` may be any string:
 * `login()` then still succeeds and says what was odd in `warnings`.
 *
 * @example
 * const { siteId, expiresAt, warnings } = await agent.login(requestId);
 * if (warnings.length > 0) console.warn('odd approve answer:', warnings);
 */
export interface LoginResult {
  /** The login request id, as the Core knows it (the id you passed when the answer names none). */
  requestId: string;
  /** The site that created the request. */
  siteId: string;
  /**
   * `APPROVED`, or `DELIVERED` once a site connection received the passport.
   * Any other string the server sent is passed through (and reported in
   * `warnings`); `undefined` when it sent none.
   */
  status: 'APPROVED' | 'DELIVERED' | (string & {}) | undefined;
  /** When the login request expires. */
  expiresAt: Date;
  /**
   * The agent whose approval won: this agent. `undefined` when the answer
   * did not say (the hosted platform may leave it out).
   */
  approvedAgentId: string | undefined;
  /**
   * What was odd about the approve answer (a missing `approved_agent_id`, an
   * unexpected `status`), one sentence each; empty for the documented
   * answer. The approval stands either way.
   */
  warnings: string[];
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
