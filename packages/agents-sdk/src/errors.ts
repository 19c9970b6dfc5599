import {
  ApiError,
  ConfigurationError,
  LimeError,
  type LimeErrorCode,
  type LimeErrorOptions,
  PermissionDeniedError,
} from '@lime/wire';

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

/**
 * The Core refused to issue an MCP access token because this agent may not
 * use the MCP OAuth lane (`OAUTH_CAPABILITY_DENIED`, 403, PROTOCOL §7): the
 * agent token is valid, the capability is off. Enable it for the agent in
 * the LIME portal. A {@link PermissionDeniedError}, so existing
 * `instanceof PermissionDeniedError` checks keep working; the Python
 * agent's `OAuthCapabilityError`.
 *
 * @example
 * try {
 *   await agent.getMcpAccessToken('tools.example.com');
 * } catch (e) {
 *   if (e instanceof OAuthCapabilityError) console.error('enable MCP for this agent in the portal');
 * }
 */
export class OAuthCapabilityError extends PermissionDeniedError {
  constructor(code: LimeErrorCode, message: string, options: LimeErrorOptions = {}) {
    super(code, message, options);
  }

  /** The same error as an {@link OAuthCapabilityError}, when its code says so. */
  static from(error: unknown): unknown {
    if (
      error instanceof ApiError &&
      !(error instanceof OAuthCapabilityError) &&
      error.code === 'OAUTH_CAPABILITY_DENIED' &&
      error.status !== 429
    ) {
      return new OAuthCapabilityError(
        error.code,
        `${error.message} — this agent may not use MCP; enable the MCP (OAuth) capability for it in the LIME portal`,
        {
          cause: error,
          ...(error.status === undefined ? {} : { status: error.status }),
          ...(error.headers === undefined ? {} : { headers: error.headers }),
          ...(error.requestId === undefined ? {} : { requestId: error.requestId }),
          ...(error.detail === undefined ? {} : { detail: error.detail }),
        },
      );
    }
    return error;
  }
}

/** The optional peer dependency that the MCP lane loads. */
export const MCP_SDK_PACKAGE = '@modelcontextprotocol/sdk';
/** The MCP SDK's 2.x client package, the other line the MCP lane runs on. */
export const MCP_CLIENT_V2_PACKAGE = '@modelcontextprotocol/client';

/**
 * The MCP lane was used (`agent.mcp()`, `agent.listTools()`…) but the
 * official MCP SDK, an optional peer dependency of `lime-agents-sdk`, is not
 * installed in either line. Install it next to this package: `npm install
 * @modelcontextprotocol/sdk` (1.x) or `npm install @modelcontextprotocol/client`
 * (2.x). Login-only workers never need it. A
 * {@link ConfigurationError} (code `CONFIGURATION_ERROR`).
 *
 * @example
 * try {
 *   await agent.listTools('tools.example.com');
 * } catch (e) {
 *   if (e instanceof McpSdkMissingError) console.error(`npm install ${e.packageName}`);
 * }
 */
export class McpSdkMissingError extends ConfigurationError {
  /** The package to install: `@modelcontextprotocol/sdk`. */
  readonly packageName = MCP_SDK_PACKAGE;

  constructor(options: LimeErrorOptions = {}) {
    super(
      `the MCP lane of lime-agents-sdk needs the official MCP SDK, which is not installed — ` +
        `run \`npm install ${MCP_SDK_PACKAGE}\` (or the 2.x \`${MCP_CLIENT_V2_PACKAGE}\`; an optional peer dependency, ` +
        'left out so that login-only workers stay small)',
      options,
    );
  }
}
