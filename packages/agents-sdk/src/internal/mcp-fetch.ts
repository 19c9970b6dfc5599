import type { FetchLike } from '@lime/wire';
import { ConnectionError } from '@lime/wire';
import { McpAuthenticationError } from '../errors.js';
import type { McpAccessToken } from '../types.js';

/** What the bearer fetch needs from the agent's token cache. */
export interface BearerSource {
  domain: string;
  /** The MCP server's origin: the bearer goes to this origin only. */
  origin: string;
  token(signal: AbortSignal | undefined): Promise<McpAccessToken>;
  /** Forget `refused` if it is still the cached token. */
  invalidate(refused: string): void;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

function urlOf(input: string | URL | Request): string {
  return input instanceof Request ? input.url : input.toString();
}

/**
 * A `fetch` for any MCP client that attaches the domain's current bearer to
 * every HTTP request to the MCP server (so a refreshed token is used at
 * once) and handles a `401`: invalidate, fetch a new token (one refresh
 * however many requests saw the 401), replay the request once; a second
 * `401` raises {@link McpAuthenticationError}. Replaying is safe because a
 * server that answers 401 has not processed the message; a `Request` body is
 * cloned before the first attempt, string bodies are reused.
 *
 * Requests to any other origin (an OAuth discovery a client might attempt)
 * pass through without the bearer: the MCP token goes to its server only.
 */
export function createBearerFetch(base: FetchLike, source: BearerSource): FetchLike {
  const send = async (input: string | URL | Request, init: RequestInit, bearer: string) => {
    // A Request's own headers first, then init's (fetch's precedence), then the bearer.
    const headers = new Headers(input instanceof Request ? input.headers : undefined);
    for (const [key, value] of new Headers(init.headers)) headers.set(key, value);
    headers.set('authorization', `Bearer ${bearer}`);
    try {
      return await base(input, { ...init, headers });
    } catch (error) {
      if (isAbort(error)) throw error;
      const reason =
        error instanceof Error
          ? ((error.cause as Error | undefined)?.message ?? error.message)
          : String(error);
      // An https URL pointed at a plain-http server fails in the TLS handshake.
      const tls =
        source.origin.startsWith('https:') &&
        /wrong version number|EPROTO|ssl3?_get_record/i.test(reason)
          ? ` — ${source.origin} did not speak TLS; if the server is plain http, write the scheme: ` +
            `'http://${source.origin.slice('https://'.length)}/…'`
          : '';
      throw new ConnectionError(
        `MCP server ${source.domain} could not be reached: ${reason}${tls}`,
        { cause: error },
      );
    }
  };
  return async (input, init = {}) => {
    let origin: string | undefined;
    try {
      origin = new URL(urlOf(input)).origin;
    } catch {}
    if (origin !== source.origin) return base(input, init);
    const signal = init.signal ?? (input instanceof Request ? input.signal : undefined);
    // Kept for the replay: a Request's body can be read once.
    const spare = input instanceof Request ? input.clone() : input;
    const first = await source.token(signal);
    const response = await send(input, init, first.accessToken);
    if (response.status !== 401) return response;
    await response.body?.cancel().catch(() => {});
    source.invalidate(first.accessToken);
    const second = await source.token(signal);
    const retried = await send(spare, init, second.accessToken);
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
