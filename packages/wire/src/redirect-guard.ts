import type { FetchLike } from './http-client.js';

/** Most same-origin redirects followed for one Core call. */
const MAX_REDIRECTS = 5;

function isRedirect(response: Response): boolean {
  return (
    response.type === 'opaqueredirect' ||
    (response.status >= 300 && response.status < 400 && response.status !== 304)
  );
}

/**
 * A `fetch` for calls that carry a LIME credential (`X-Agent-Token`,
 * `X-Site-Token`). `fetch` follows redirects by default and strips only
 * `Authorization`, `Cookie` and `Proxy-Authorization` when one leaves the
 * origin, so a redirect to another origin would hand the token to that host.
 * Here redirects are followed by hand and only within the request's origin
 * (307/308 for any method, other 3xx for GET); any other redirect becomes a
 * failure envelope that the HTTP client turns into a typed
 * `UNEXPECTED_REDIRECT` error (status 3xx, so never retried). So does an
 * answer the underlying fetch reached by following a redirect itself
 * (`response.redirected`): a fetch that ignores `redirect: 'manual'` has
 * already sent the credential wherever it was sent, and its answer is not
 * taken for the API's.
 *
 * `base` is called per request (not captured), so a `fetch` patched later
 * (msw, instrumentation) is still used.
 *
 * @example
 * const fetch = sameOriginRedirectsOnly(() => globalThis.fetch);
 */
export function sameOriginRedirectsOnly(base: () => FetchLike): FetchLike {
  return async (input, init = {}) => {
    let url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const method = (init.method ?? 'GET').toUpperCase();
    for (let hop = 0; ; hop++) {
      const response = await base()(url.href, { ...init, redirect: 'manual' });
      if (response.redirected) {
        // The fetch ignored `redirect: 'manual'` and followed by itself: the
        // request may already have reached another origin, and this answer
        // need not come from the API. Refuse it rather than pass it on.
        // Not awaited: some fetches (msw) never settle cancel() of such a body.
        void response.body?.cancel().catch(() => {});
        return followedByFetch();
      }
      if (!isRedirect(response)) return response;
      await response.body?.cancel().catch(() => {});
      const location = response.headers.get('location');
      let next: URL | undefined;
      try {
        next = location === null ? undefined : new URL(location, url);
      } catch {
        next = undefined;
      }
      const followable =
        next !== undefined &&
        next.origin === url.origin &&
        hop < MAX_REDIRECTS &&
        (response.status === 307 || response.status === 308 || method === 'GET');
      if (!followable) return refusal(response, url, next, hop >= MAX_REDIRECTS);
      url = next!;
    }
  };
}

function refusal(response: Response, from: URL, to: URL | undefined, tooMany: boolean): Response {
  const where = to ? `to ${to.origin}${to.pathname}` : 'without a usable Location';
  const why = tooMany
    ? `more than ${MAX_REDIRECTS} redirects`
    : to && to.origin !== from.origin
      ? 'a redirect to another origin: LIME credentials are never sent there'
      : 'a redirect that would change the method';
  const message =
    `the LIME API answered ${response.status} ${where} (${why}) — set LIME_API_BASE ` +
    '(or the apiBase option) to the final API base, e.g. https://lime.pics/api/v1';
  return failure(response.status, message);
}

function followedByFetch(): Response {
  return failure(
    399,
    "the fetch in use followed a redirect by itself although redirect: 'manual' was asked, so " +
      'a LIME credential may have left the API origin and the answer was refused — pass a fetch ' +
      'that honours RequestInit.redirect (the global fetch does), and rotate the token if the ' +
      'redirect pointed elsewhere',
  );
}

function failure(status: number, message: string): Response {
  // The status stays 3xx, so no retry; the envelope gives the error its code and message.
  return new Response(
    JSON.stringify({ ok: false, error: { code: 'UNEXPECTED_REDIRECT', message } }),
    {
      status: status >= 300 && status < 400 ? status : 399,
      headers: { 'content-type': 'application/json' },
    },
  );
}
