/**
 * The hosted profile's edge filter on the public key endpoints (JWKS and the
 * OAuth authorization server metadata).
 *
 * Why: the Python MCP verifier (lime-mcp-server-sdk, since 0.1.0) sends
 * `User-Agent: curl/8.5.0` on exactly these two requests, overridable by
 * `LIME_VERIFY_USER_AGENT`; PROTOCOL.md §7 reads that as "an edge filter on
 * these endpoints is likely". Which User-Agents such a filter refuses is not
 * documented anywhere, so this one refuses what a browser-integrity check
 * typically refuses, bounded by what the Python SDKs are known to send:
 *
 * - allowed: `curl/…` (the MCP verifier's default) and `python-httpx/…` (the
 *   Python site SDK fetches the JWKS with httpx's default User-Agent, and it
 *   works against the hosted platform: its integration test verifies a
 *   passport), and everything else that is not listed below;
 * - refused: no User-Agent or a blank one, and the default User-Agent of
 *   the common HTTP libraries and runtimes: {@link REFUSED_PRODUCTS}.
 *
 * The product is the User-Agent's first token up to `/` or a space,
 * compared case-insensitively, so `node`, `Node/20`, `undici` and
 * `Python-urllib/3.12` are refused while `lime-sites-sdk/1.0 node/20` is not.
 */
export const REFUSED_PRODUCTS: ReadonlySet<string> = new Set([
  // Node.js: global fetch sends `node`; undici.request sends none; libraries.
  'node',
  'undici',
  'node-fetch',
  'axios',
  'got',
  // Other runtimes' fetch.
  'deno',
  'bun',
  // Python, except httpx (see above): urllib, requests, aiohttp (`Python/3.x aiohttp/…`).
  'python-urllib',
  'python-requests',
  'python',
  // Go, Java, Ruby, Perl.
  'go-http-client',
  'java',
  'java-http-client',
  'okhttp',
  'apache-httpclient',
  'ruby',
  'libwww-perl',
]);

/** The body of the refusal: what a CDN's browser-signature ban answers (plain text, not JSON). */
export const REFUSAL_BODY = 'error code: 1010';

/** True when the hosted-like edge filter refuses this User-Agent header value. */
export function refusesUserAgent(value: string | undefined): boolean {
  const ua = value?.trim() ?? '';
  if (ua === '') return true;
  const product = ua.split(/[/\s]/, 1)[0]!.toLowerCase();
  return REFUSED_PRODUCTS.has(product);
}
