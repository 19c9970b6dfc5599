import { normalizeMcpDomain, ValidationError } from '@lime/wire';

/** Where an MCP server lives and which token domain it belongs to. */
export interface McpTarget {
  /** The streamable HTTP endpoint. */
  url: URL;
  /** PROTOCOL §7 domain: lowercase host, no port. */
  domain: string;
  /** The RFC 8707 resource: the endpoint without query or fragment. */
  resource: string;
}

const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
/** `localhost`, `localhost:3000`, `localhost:3000/mcp` (no scheme written). */
const BARE_LOCALHOST = /^localhost(:\d+)?(\/|$)/i;

/**
 * Accept a URL (`https://tools.example.com/mcp`) or a bare host
 * (`tools.example.com`, meaning `https://tools.example.com/mcp`; a host with a
 * path, `tools.example.com/v2/mcp`, keeps its path). A bare `localhost`
 * (`localhost:3000/mcp`) means plain `http:`. Throws a
 * `ValidationError` before any I/O when the target is unusable.
 */
export function resolveMcpTarget(target: string | URL, allowInsecure = false): McpTarget {
  const raw = target instanceof URL ? target.href : target;
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw new ValidationError(
      'VALIDATION_ERROR',
      'MCP target must be a URL (https://host/mcp) or a host name, got an empty value',
    );
  }
  const text = raw.trim();
  let domain: string;
  let url: URL;
  try {
    domain = normalizeMcpDomain(text);
    // A bare `localhost[:port]` is a local dev server: plain http, as the
    // examples and most MCP servers serve it (https would fail the TLS
    // handshake with "wrong version number"). Any other bare host is https.
    const scheme = BARE_LOCALHOST.test(text) ? 'http' : 'https';
    url = new URL(
      HAS_SCHEME.test(text)
        ? text
        : text.includes('/')
          ? `${scheme}://${text}`
          : `${scheme}://${text}/mcp`,
    );
  } catch (error) {
    throw new ValidationError(
      'VALIDATION_ERROR',
      `${error instanceof Error ? error.message : String(error)} — pass a URL such as ` +
        `'https://tools.example.com/mcp' or a host such as 'tools.example.com'`,
      { cause: error },
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ValidationError(
      'VALIDATION_ERROR',
      `MCP target scheme was '${url.protocol}', expected https: (or http: for local servers)`,
    );
  }
  if (url.protocol === 'http:' && !allowInsecure && !isLoopbackName(url.hostname)) {
    throw new ValidationError(
      'VALIDATION_ERROR',
      `MCP target '${url.origin}' is plain http: on a non-local host, so the bearer token would ` +
        'cross the network unencrypted — use https:, or set allowInsecureMcp: true if you must',
    );
  }
  url.hash = '';
  return { url, domain, resource: url.origin + url.pathname };
}

/**
 * Whether the runtime will connect to loopback for this URL host. Only the
 * exact name `localhost` qualifies: it is answered from the hosts file.
 * RFC 6761 reserves `*.localhost` too, but Node's resolver (getaddrinfo)
 * sends `tools.localhost` and `localhost.` to DNS, search domains appended,
 * so whoever answers would receive the bearer in clear text. The check reads
 * the URL's host, not the token domain, which drops the trailing dot. IPs
 * never reach here (PROTOCOL §7 refuses them as domains).
 */
function isLoopbackName(hostname: string): boolean {
  return hostname === 'localhost';
}
