import { LimeError, type LimeErrorOptions } from '@lime/wire';

/**
 * An MCP resource server refused the agent's bearer twice in a row: the SDK
 * fetched a fresh token after the first `401` and the server still said no.
 * The agent token itself was accepted by the Core (otherwise the token
 * request would have raised an `AuthenticationError`), so this points at the
 * MCP server: it does not trust this Core, expects another audience or
 * `resource`, or its clock is off.
 *
 * @example
 * try {
 *   await agent.mcp('tools.example.com').listTools();
 * } catch (e) {
 *   if (e instanceof McpAuthenticationError) console.error(e.domain, e.wwwAuthenticate);
 * }
 */
export class McpAuthenticationError extends LimeError {
  /** The MCP server domain whose tokens were refused. */
  readonly domain: string;
  /** The server's `WWW-Authenticate` header, when it sent one. */
  readonly wwwAuthenticate: string | undefined;

  constructor(
    message: string,
    options: LimeErrorOptions & { domain: string; wwwAuthenticate?: string | undefined },
  ) {
    super('MCP_AUTHENTICATION_FAILED', message, options);
    this.domain = options.domain;
    this.wwwAuthenticate = options.wwwAuthenticate;
  }
}
