import { ConfigurationError } from '@lime/wire';
import type { McpAccessToken } from '../types.js';
import { abortable } from './abortable.js';
import type { ValidTokenResponse } from './token-response.js';

/** Fetches one token; never given a caller's signal because callers share it. */
export type TokenFetcher = (
  domain: string,
  resource: string | undefined,
) => Promise<ValidTokenResponse>;

export interface TokenRequest {
  domain: string;
  /** RFC 8707 resource, when `mcpResource` is on; then part of the cache key. */
  resource: string | undefined;
  forceRefresh?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

/** Below this many cached tokens no sweep runs. */
const SWEEP_MIN_ENTRIES = 64;

/**
 * Per-domain MCP token cache with single flight: however many callers ask
 * for the same domain at once, one token request is in flight. A cached token
 * is handed out until it has less than `skewMs` (at most half its lifetime)
 * to live; the next caller after that triggers the refresh (lazy: no timers).
 */
export class McpTokenCache {
  private readonly entries = new Map<string, McpAccessToken>();
  private readonly inflight = new Map<string, Promise<McpAccessToken>>();
  private closed = false;
  /** Entry count at which the next sweep of expired tokens runs. */
  private sweepAt = SWEEP_MIN_ENTRIES;

  constructor(
    private readonly fetchToken: TokenFetcher,
    private readonly skewMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  static key(domain: string, resource: string | undefined): string {
    return resource === undefined ? domain : `${domain} ${resource}`;
  }

  get(request: TokenRequest): Promise<McpAccessToken> {
    if (this.closed) {
      return Promise.reject(new ConfigurationError('the LimeAgent was closed; create a new one'));
    }
    const key = McpTokenCache.key(request.domain, request.resource);
    if (!request.forceRefresh) {
      const cached = this.entries.get(key);
      if (cached && this.now() < cached.expiresAt.getTime() - this.skewFor(cached)) {
        return Promise.resolve(cached);
      }
    }
    // A refresh already under way is as fresh as a forced one: join it.
    let shared = this.inflight.get(key);
    if (!shared) {
      shared = this.refresh(key, request.domain, request.resource);
      this.inflight.set(key, shared);
    }
    return abortable(shared, request.signal);
  }

  /**
   * Forget a token the MCP server refused, but only if it is still the cached
   * one: when many parallel requests see the same 401, the first invalidates
   * and refreshes, the others find the new token (or join its refresh).
   */
  invalidate(domain: string, resource: string | undefined, refused: string): void {
    const key = McpTokenCache.key(domain, resource);
    if (this.entries.get(key)?.accessToken === refused) this.entries.delete(key);
  }

  /**
   * How long before expiry a token is renewed: the configured skew, but at
   * most half the token's lifetime. A Core that issues short tokens (a few
   * seconds, below the 30 s default skew) would otherwise make every request
   * fetch a new token.
   */
  private skewFor(token: McpAccessToken): number {
    return Math.min(this.skewMs, (token.expiresIn * 1000) / 2);
  }

  /** Current cached token of a key, without fetching (undefined when none). */
  peek(domain: string, resource: string | undefined): McpAccessToken | undefined {
    return this.entries.get(McpTokenCache.key(domain, resource));
  }

  close(): void {
    this.closed = true;
    this.entries.clear();
  }

  /**
   * Drop expired tokens once the map has grown: an agent that visits many
   * domains (or URLs, with `mcpResource`) would otherwise keep every token
   * it ever got. Amortised: a full pass only each time the size doubles.
   */
  private sweep(): void {
    if (this.entries.size < this.sweepAt) return;
    const now = this.now();
    for (const [key, token] of this.entries) {
      if (token.expiresAt.getTime() <= now) this.entries.delete(key);
    }
    this.sweepAt = Math.max(SWEEP_MIN_ENTRIES, this.entries.size * 2);
  }

  private async refresh(key: string, domain: string, resource: string | undefined) {
    try {
      const sentAt = this.now();
      const { accessToken, expiresIn } = await this.fetchToken(domain, resource);
      // Count the lifetime from when the request left: never later than the server meant.
      const token: McpAccessToken = {
        accessToken,
        tokenType: 'Bearer',
        expiresIn,
        expiresAt: new Date(sentAt + expiresIn * 1000),
        domain,
        resource,
      };
      if (!this.closed) {
        this.entries.set(key, token);
        this.sweep();
      }
      return token;
    } finally {
      this.inflight.delete(key);
    }
  }
}
