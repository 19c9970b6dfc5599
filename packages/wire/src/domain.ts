/**
 * MCP server domain rules of docs/protocol.md §7: host of the MCP server,
 * lowercase, no port, not an IP, no userinfo.
 */

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Why a domain was refused; `null` when it is acceptable. */
export function domainProblem(domain: unknown): string | null {
  if (typeof domain !== 'string' || domain.length === 0) return 'must be a non-empty string';
  if (domain.length > 253) return 'must be at most 253 characters';
  if (domain !== domain.toLowerCase()) return 'must be lowercase';
  if (domain.includes('@')) return 'must not contain userinfo';
  if (domain.includes(':') || domain.includes('[')) return 'must be a host name without port';
  if (IPV4.test(domain)) return 'must be a host name, not an IP address';
  const labels = domain.split('.');
  if (!labels.every((l) => LABEL.test(l))) return 'must be a valid host name';
  return null;
}

/**
 * Turn a user-supplied MCP target (URL or bare host, any case, maybe with a
 * port) into the domain of §7. Throws a `TypeError` saying why when it cannot.
 */
export function normalizeMcpDomain(target: string): string {
  const raw = target.trim();
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`);
  } catch {
    throw new TypeError(`MCP target '${raw.slice(0, 100)}' is neither a URL nor a host name`);
  }
  if (url.username || url.password) {
    throw new TypeError('MCP target must not contain userinfo (user:password@)');
  }
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const problem = domainProblem(host);
  if (problem) throw new TypeError(`MCP target host '${host}' ${problem}`);
  return host;
}
