import type { FetchLike } from '@lime/wire';
import { AUDIENCE, AuthenticationError, ENV, HOSTED_API_BASE, toApiBase } from '@lime/wire';
import type { LimeAgentOptions } from '../options.js';

/** {@link LimeAgentOptions} with every default applied and checked. */
export interface ResolvedOptions {
  agentToken: string;
  apiBase: string;
  timeout: number;
  maxRetries: number;
  retryBaseDelay: number;
  retryMaxDelay: number;
  powTimeout: number;
  powWorkers: number | undefined;
  mcpTokenRefreshSkew: number;
  mcpResource: boolean;
  allowInsecureMcp: boolean;
  mcpSdk: 'auto' | 'v1' | 'v2';
  fetch: FetchLike | undefined;
}

function env(name: string): string | undefined {
  const value = typeof process === 'undefined' ? undefined : process.env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function positive(field: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(
      `options.${field} must be a positive number of milliseconds, got ${String(value)}`,
    );
  }
  return value;
}

function nonNegative(field: string, value: number, integer: boolean): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    (integer && !Number.isInteger(value))
  ) {
    const what = integer ? 'a non-negative integer' : 'a non-negative number';
    throw new TypeError(`options.${field} must be ${what}, got ${String(value)}`);
  }
  return value;
}

/**
 * Refuse only what is certainly not an agent token, so lanes never mix — and
 * nothing else: the hosted platform issues agent tokens without the `at_`
 * prefix (PROTOCOL §1), so the prefix is never required.
 * - a site token (`st_…`): the other lane's secret must not be sent as
 *   `X-Agent-Token`;
 * - a LIME-issued JWT (a site or binding passport, an MCP access token),
 *   recognised by its `aud`, not by its shape: an opaque agent token that
 *   happens to be a JWT still passes;
 * - control characters (a pasted newline): they cannot go in an HTTP header,
 *   and `fetch` would fail later with a less helpful message.
 */
function checkAgentToken(token: string): void {
  if (token.startsWith('st_')) {
    throw new AuthenticationError(
      'INVALID_AGENT_TOKEN',
      'agentToken is a site token (st_…), expected an agent token — site tokens belong to ' +
        'site backends (lime-sites-sdk) and are never sent by an agent',
    );
  }
  const audience = limeJwtAudience(token);
  if (audience !== undefined) {
    throw new AuthenticationError(
      'INVALID_AGENT_TOKEN',
      `agentToken is a JWT with aud '${audience}' (${
        audience === AUDIENCE.mcp ? 'an MCP access token' : 'a site passport'
      }), expected an agent token — pass the agent token from the LIME portal or ${ENV.agentToken}`,
    );
  }
  if (/[\u0000-\u001f\u007f]/.test(token)) {
    throw new AuthenticationError(
      'INVALID_AGENT_TOKEN',
      'agentToken contains a control character (a line break?) — check how it was copied',
    );
  }
}

/** The LIME audience of a JWT-shaped string (`lime-site-login`, `lime-binding`, `mcp`), else undefined. */
function limeJwtAudience(token: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  let claims: unknown;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    claims = JSON.parse(
      new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))),
    );
  } catch {
    return undefined;
  }
  if (typeof claims !== 'object' || claims === null) return undefined;
  const aud = (claims as { aud?: unknown }).aud;
  const first = Array.isArray(aud) ? aud[0] : aud;
  const lime: readonly string[] = [AUDIENCE.sitePassport, AUDIENCE.bindingPassport, AUDIENCE.mcp];
  return typeof first === 'string' && lime.includes(first) ? first : undefined;
}

/** Apply defaults (in this one place) and validate; throws before any I/O. */
export function resolveOptions(options: LimeAgentOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('LimeAgent options must be an object');
  }
  const rawToken = options.agentToken ?? env(ENV.agentToken);
  if (rawToken !== undefined && typeof rawToken !== 'string') {
    throw new TypeError('options.agentToken must be a string');
  }
  const agentToken = rawToken?.trim() ?? '';
  if (agentToken === '') {
    throw new AuthenticationError(
      'MISSING_AGENT_TOKEN',
      `no agent token: pass { agentToken } to new LimeAgent() or set ${ENV.agentToken}`,
    );
  }
  checkAgentToken(agentToken);

  const rawBase = options.apiBase ?? env(ENV.apiBase) ?? HOSTED_API_BASE;
  let apiBase: string;
  try {
    const url = new URL(rawBase);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('scheme');
    apiBase = toApiBase(url.href);
  } catch {
    throw new TypeError(
      `options.apiBase must be an http(s) URL such as '${HOSTED_API_BASE}', got '${String(rawBase).slice(0, 100)}'`,
    );
  }

  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new TypeError('options.fetch must be a fetch-compatible function');
  }
  if (options.mcpResource !== undefined && typeof options.mcpResource !== 'boolean') {
    throw new TypeError('options.mcpResource must be a boolean');
  }
  if (options.allowInsecureMcp !== undefined && typeof options.allowInsecureMcp !== 'boolean') {
    throw new TypeError('options.allowInsecureMcp must be a boolean');
  }
  if (options.mcpSdk !== undefined && !['auto', 'v1', 'v2'].includes(options.mcpSdk)) {
    throw new TypeError("options.mcpSdk must be 'auto', 'v1' or 'v2'");
  }
  const powWorkers = options.powWorkers;
  if (powWorkers !== undefined && (!Number.isInteger(powWorkers) || powWorkers < 1)) {
    throw new TypeError(`options.powWorkers must be a positive integer, got ${String(powWorkers)}`);
  }

  const resolved: ResolvedOptions = {
    agentToken,
    apiBase,
    timeout: positive('timeout', options.timeout ?? 30_000),
    maxRetries: nonNegative('maxRetries', options.maxRetries ?? 2, true),
    retryBaseDelay: nonNegative('retryBaseDelay', options.retryBaseDelay ?? 500, false),
    retryMaxDelay: nonNegative('retryMaxDelay', options.retryMaxDelay ?? 8_000, false),
    powTimeout: positive('powTimeout', options.powTimeout ?? 60_000),
    powWorkers,
    mcpTokenRefreshSkew: nonNegative(
      'mcpTokenRefreshSkew',
      options.mcpTokenRefreshSkew ?? 30_000,
      false,
    ),
    mcpResource: options.mcpResource ?? false,
    allowInsecureMcp: options.allowInsecureMcp ?? false,
    mcpSdk: options.mcpSdk ?? 'auto',
    fetch: options.fetch,
  };
  return resolved;
}
