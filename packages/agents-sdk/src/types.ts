import type { FetchLike } from '@lime/wire';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { PowProgress } from './pow/index.js';

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
 * The steps of {@link LimeAgent.login}: read the request's challenge (PROTOCOL
 * §3.2), solve its proof of work (§3.3), approve (§3.4). Every error
 * `login()` throws names the step that failed in its `step` field.
 *
 * @example
 * try { await agent.login(id) } catch (e) {
 *   if (e instanceof LimeError) console.error(`login failed at ${e.step}: ${e.message}`);
 * }
 */
export type LoginStep = 'challenge' | 'solve' | 'approve';

/**
 * What {@link LoginOptions.onProgress} receives: the step now running and,
 * while solving, how far the proof of work has come.
 *
 * @example
 * await agent.login(id, {
 *   onProgress: ({ step, pow }) =>
 *     console.log(step, pow ? `${pow.hashes} hashes, ~${Math.round(pow.estimatedRemainingMs ?? 0)} ms left` : ''),
 * });
 */
export interface LoginProgress {
  step: LoginStep;
  /** The request's proof-of-work difficulty, once the challenge was read. */
  difficulty: number | undefined;
  /** While solving: hashes done, rate, estimated time left (`undefined` otherwise). */
  pow: PowProgress | undefined;
}

/**
 * Options of {@link LimeAgent.login}.
 *
 * @example
 * await agent.login(id, { signal: AbortSignal.timeout(30_000), onProgress: console.log });
 */
export interface LoginOptions extends CallOptions {
  /**
   * Called when a step starts, and about every 250 ms while the proof of work
   * runs on worker threads (once when it is solved). Must not throw; an
   * exception it throws is ignored.
   */
  onProgress?: ((progress: LoginProgress) => void) | undefined;
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

/**
 * LIME authentication for one MCP server, for any MCP client: what
 * {@link LimeAgent.mcpAuth} returns. Give a client `fetch` where it takes
 * one (every framework built on `fetch` does); give `authProvider` where it
 * only takes an MCP SDK `OAuthClientProvider` (LangChain.js MCP adapters).
 *
 * @example
 * const auth = agent.mcpAuth('https://tools.example.com/mcp');
 * const transport = new StreamableHTTPClientTransport(auth.url, { fetch: auth.fetch });
 */
export interface LimeMcpAuth {
  /** The MCP endpoint (a bare host `tools.example.com` means `https://tools.example.com/mcp`). */
  url: URL;
  /** The token domain (PROTOCOL §7): lowercase host, no port. */
  domain: string;
  /**
   * A `fetch` that puts the server's current LIME access token on every
   * request to the MCP server's origin (renewed before it expires). On a
   * `401` it fetches one new token — one request however many calls saw the
   * 401 — and replays the request once; a second `401` throws
   * `McpAuthenticationError`. Requests to other origins get no bearer.
   */
  fetch: FetchLike;
  /**
   * The same tokens as an `OAuthClientProvider` of `@modelcontextprotocol/sdk`
   * 1.x: the SDK's transport asks it for the current token before every
   * request, and it never lets the SDK start OAuth discovery. A `401` fails
   * the call with `McpAuthenticationError` and the next request carries a
   * new token (the SDK's provider contract cannot replay a request; `fetch`
   * can).
   */
  authProvider: OAuthClientProvider;
}
