/** A resource URL as compared: no fragment, at most one trailing slash removed (as the MCP SDK does). */
export function comparableResource(value: string | URL): string {
  const text = String(value);
  const hash = text.indexOf('#');
  return (hash === -1 ? text : text.slice(0, hash)).replace(/\/$/, '');
}

/** Canonical form of a configured resource URL; TypeError naming `field` if it is not absolute http(s). */
export function canonicalResource(value: string | URL, field: string): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new TypeError(
      `${field} must be an absolute URL of this MCP server, got '${String(value).slice(0, 100)}'`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`${field} must be an http(s) URL, got protocol '${url.protocol}'`);
  }
  if (url.username || url.password) throw new TypeError(`${field} must not contain userinfo`);
  url.hash = '';
  return comparableResource(url.href);
}

/**
 * RFC 9728 §3.1: the metadata of `https://host/path` lives at
 * `https://host/.well-known/oauth-protected-resource/path`.
 */
export function metadataUrlFor(resource: string | URL): string {
  const url = new URL(String(resource));
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}

const PRM_ROOT = '/.well-known/oauth-protected-resource';

/**
 * The paths at which this SDK serves the metadata of `resource`: the RFC 9728
 * path-specific one and the root one (`/.well-known/oauth-protected-resource`),
 * which clients probe when the first is missing. Exact strings, compared as
 * such: a variant (case, trailing slash, encoding) is not metadata, so a guard
 * that exempts these paths exempts nothing else.
 */
export function metadataPathsFor(resource: string | URL): ReadonlySet<string> {
  return new Set([new URL(metadataUrlFor(resource)).pathname, PRM_ROOT]);
}
