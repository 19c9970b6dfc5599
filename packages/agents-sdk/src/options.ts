import type { FetchLike } from '@lime/wire';

/** A `fetch`-compatible function (the global `fetch`, undici's, or a test double). */
export type { FetchLike };

/**
 * Options of {@link LimeAgent}. Every field is optional; durations are in
 * milliseconds.
 *
 * @example
 * const agent = new LimeAgent({ timeout: 10_000, maxRetries: 4 });
 */
export interface LimeAgentOptions {
  /**
   * The agent token (`at_…`). Sent only to the LIME Core, as `X-Agent-Token`.
   * @default process.env.LIME_AGENT_TOKEN
   */
  agentToken?: string | undefined;
  /**
   * The API base of the LIME Core (`https://lime.pics/api/v1`); an origin
   * without `/api/v1` is accepted too.
   * @default process.env.LIME_API_BASE, else 'https://lime.pics/api/v1'
   */
  apiBase?: string | undefined;
  /**
   * Timeout of one HTTP attempt to the Core, milliseconds.
   * @default 30_000
   */
  timeout?: number | undefined;
  /**
   * Retries after the first attempt for idempotent Core calls (GET, token
   * requests) on connection errors, timeouts, 408, 429 and 5xx. Approve is
   * never retried blindly (see {@link LimeAgent.login}).
   * @default 2
   */
  maxRetries?: number | undefined;
  /**
   * First retry delay, milliseconds; doubles per retry, with jitter. A
   * `Retry-After` from the server (up to `retryMaxDelay`) takes precedence.
   * @default 500
   */
  retryBaseDelay?: number | undefined;
  /**
   * Largest retry delay, milliseconds (also the largest `Retry-After` honoured).
   * @default 8_000
   */
  retryMaxDelay?: number | undefined;
  /**
   * Longest time one proof-of-work solve may take, milliseconds; then
   * `PowTimeoutError`.
   * @default 60_000
   */
  powTimeout?: number | undefined;
  /**
   * Worker threads for proof of work.
   * @default all available cores (`os.availableParallelism()`)
   */
  powWorkers?: number | undefined;
  /**
   * An MCP access token is renewed when it has less than this left to live,
   * milliseconds.
   * @default 30_000
   */
  mcpTokenRefreshSkew?: number | undefined;
  /**
   * Send the MCP server URL as RFC 8707 `resource` when requesting an MCP
   * token (PROTOCOL §7 extension); the token's `aud` then names that URL.
   * Tokens are cached per URL instead of per domain when on.
   * @default false
   */
  mcpResource?: boolean | undefined;
  /**
   * Allow `http:` MCP servers on hosts other than `localhost`. Off by
   * default: the bearer would cross the network in clear text (the MCP
   * authorization spec requires HTTPS except for loopback).
   * @default false
   */
  allowInsecureMcp?: boolean | undefined;
  /**
   * Which line of the MCP TypeScript SDK the MCP lane loads (an optional
   * peer): the monolithic 1.x `@modelcontextprotocol/sdk` (`'v1'`) or the
   * split 2.x `@modelcontextprotocol/client` (`'v2'`). `'auto'` takes 1.x
   * when installed, else 2.x.
   * @default 'auto'
   */
  mcpSdk?: 'auto' | 'v1' | 'v2' | undefined;
  /**
   * `fetch` used for every HTTP request (Core and MCP servers).
   * @default the global `fetch` with a keep-alive undici `Agent` as dispatcher
   */
  fetch?: FetchLike | undefined;
}
