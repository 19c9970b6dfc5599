import type { FetchLike } from '@lime/wire';

/**
 * The Python verifier's `User-Agent` on the metadata and JWKS requests
 * (`LimeConfig.user_agent`, since 0.1.0): an edge filter in front of these
 * public endpoints may treat unknown agents differently, so the same default
 * is sent (PROTOCOL.md §7).
 */
export const DEFAULT_VERIFY_USER_AGENT = 'curl/8.5.0';

/**
 * A `fetch` that adds `User-Agent: userAgent` to each request. Never throws
 * because of the header: where the runtime refuses it (browsers treat it as a
 * forbidden header and drop it silently; an exotic runtime might throw when
 * it is set), the request goes out without it.
 */
export function withUserAgent(fetch: FetchLike | undefined, userAgent: string): FetchLike {
  const send: FetchLike = (input, init) => (fetch ?? globalThis.fetch)(input, init);
  if (userAgent === '') return send;
  return (input, init) => {
    let headers: Headers;
    try {
      headers = new Headers(
        init?.headers ??
          (typeof Request !== 'undefined' && input instanceof Request ? input.headers : undefined),
      );
      headers.set('user-agent', userAgent);
    } catch {
      return send(input, init);
    }
    return send(input, { ...init, headers });
  };
}
