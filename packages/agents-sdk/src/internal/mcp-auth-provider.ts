import { MCP_AUTH_DOCS_URL, PATHS } from '@lime/wire';
import type {
  OAuthClientProvider,
  OAuthDiscoveryState,
} from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { McpAuthenticationError } from '../errors.js';
import type { McpAccessToken } from '../types.js';
import type { BearerSource } from './mcp-fetch.js';
import type { McpTarget } from './mcp-target.js';
import { SDK_NAME } from './version.js';

/**
 * The MCP SDK 1.x `OAuthClientProvider` for one MCP server, backed by the
 * agent's token cache. The SDK's transport calls `tokens()` before every
 * HTTP request, so each request carries the current LIME token (renewed
 * before it expires: expiry never shows up as a 401).
 *
 * Only when the server answers 401 anyway does the SDK run its OAuth flow,
 * `auth()`. This provider then supplies the discovery state itself (no
 * RFC 9728 / RFC 8414 requests, nothing about the Core to get wrong) and
 * stops the flow in `prepareTokenRequest()`, before the SDK would post an
 * OAuth grant that the LIME token endpoint does not take: the refused token
 * is dropped, so the next request carries a new one, and the call fails with
 * {@link McpAuthenticationError}. The SDK's `authProvider` contract has no
 * way to replay the request without that grant; the bearer `fetch` of
 * `agent.mcpAuth()` does replay it, so pass it where a client accepts one.
 */
export class LimeOAuthClientProvider implements OAuthClientProvider {
  private readonly source: BearerSource;
  private readonly target: McpTarget;
  private readonly apiBase: string;
  private last: string | undefined;

  constructor(source: BearerSource, target: McpTarget, apiBase: string) {
    this.source = source;
    this.target = target;
    this.apiBase = apiBase;
  }

  /** Non-interactive: no browser, no redirect. */
  get redirectUrl(): undefined {
    return undefined;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: SDK_NAME,
      redirect_uris: [],
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'none',
    };
  }

  clientInformation() {
    return { client_id: SDK_NAME };
  }

  async tokens(): Promise<OAuthTokens> {
    const token: McpAccessToken = await this.source.token(undefined);
    this.last = token.accessToken;
    return {
      access_token: token.accessToken,
      token_type: 'Bearer',
      expires_in: Math.max(0, Math.floor((token.expiresAt.getTime() - Date.now()) / 1000)),
    };
  }

  /** Tokens come from the agent's cache; nothing to store. */
  saveTokens(): void {}

  discoveryState(): OAuthDiscoveryState {
    const authorizationServerUrl = new URL(this.apiBase).origin;
    return {
      authorizationServerUrl,
      authorizationServerMetadata: {
        issuer: authorizationServerUrl,
        authorization_endpoint: MCP_AUTH_DOCS_URL,
        token_endpoint: this.apiBase + PATHS.oauthToken,
        response_types_supported: ['token'],
        grant_types_supported: ['client_credentials'],
      },
      resourceMetadata: {
        resource: this.target.resource,
        authorization_servers: [authorizationServerUrl],
      },
    };
  }

  /** No RFC 8707 `resource` parameter: the provider never posts a grant. */
  async validateResourceURL(): Promise<undefined> {
    return undefined;
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if ((scope === 'all' || scope === 'tokens') && this.last) this.source.invalidate(this.last);
  }

  /** Reached only after the MCP server answered 401 to a current token. */
  prepareTokenRequest(): never {
    if (this.last) this.source.invalidate(this.last);
    throw new McpAuthenticationError(
      `MCP server ${this.target.domain} refused the LIME access token (HTTP 401); the next ` +
        'request carries a new token. The MCP SDK cannot replay this one through an authProvider: ' +
        'pass `fetch: auth.fetch` from agent.mcpAuth() as well where your client accepts a fetch ' +
        '(it refreshes once and replays), and check that the server trusts this LIME Core',
      { status: 401, domain: this.target.domain },
    );
  }

  redirectToAuthorization(): never {
    throw this.interactive();
  }

  saveCodeVerifier(): void {}

  codeVerifier(): never {
    throw this.interactive();
  }

  private interactive(): McpAuthenticationError {
    return new McpAuthenticationError(
      `the MCP SDK tried an interactive OAuth flow for ${this.target.domain}; LIME agents get ` +
        `their tokens from the Core with the agent token, see ${MCP_AUTH_DOCS_URL}`,
      { domain: this.target.domain },
    );
  }
}
