import type { FetchLike } from '@lime/wire';
import { ConnectionError } from '@lime/wire';
import { McpAuthenticationError } from '../errors.js';
import type { McpAccessToken } from '../types.js';

/** What the bearer fetch needs from the agent's token cache. */
export interface BearerSource {
  domain: string;
  token(signal: AbortSignal | undefined): Promise<McpAccessToken>;
  /** Forget `refused` if it is still the cached token. */
  invalidate(refused: string): void;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

/**
 * A `fetch` for the MCP transport that attaches the domain's current bearer
 * to every HTTP request (so a refreshed token is used at once) and handles a
 * `401`: invalidate, fetch a new token, replay the request once; a second
 * `401` raises {@link McpAuthenticationError}. Replaying is safe because a
 * server that answers 401 has not processed the message, and the transport's
 * bodies are strings.
 */
export function createBearerFetch(base: FetchLike, source: BearerSource): FetchLike {
  const send = async (input: string | URL | Request, init: RequestInit, bearer: string) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${bearer}`);
    try {
      return await base(input, { ...init, headers });
    } catch (error) {
      if (isAbort(error)) throw error;
      const reason =
        error instanceof Error
          ? ((error.cause as Error | undefined)?.message ?? error.message)
          : String(error);
      throw new ConnectionError(`MCP server ${source.domain} could not be reached: ${reason}`, {
        cause: error,
      });
    }
  };
  return async (input, init = {}) => {
    const signal = init.signal ?? undefined;
    const first = await source.token(signal);
    const response = await send(input, init, first.accessToken);
    if (response.status !== 401) return response;
    await response.body?.cancel().catch(() => {});
    source.invalidate(first.accessToken);
    const second = await source.token(signal);
    const retried = await send(input, init, second.accessToken);
    if (retried.status !== 401) return retried;
    await retried.body?.cancel().catch(() => {});
    const wwwAuthenticate = retried.headers.get('www-authenticate') ?? undefined;
    throw new McpAuthenticationError(
      `MCP server ${source.domain} refused a freshly issued access token (HTTP 401` +
        `${wwwAuthenticate ? `, WWW-Authenticate: ${wwwAuthenticate.slice(0, 200)}` : ''}) — ` +
        'check that the server trusts this LIME Core (issuer, JWKS) and expects this domain',
      { status: 401, headers: retried.headers, domain: source.domain, wwwAuthenticate },
    );
  };
}
