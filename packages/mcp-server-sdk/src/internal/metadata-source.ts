import {
  type AuthorizationServerMetadata,
  type FetchLike,
  HttpClient,
  LimeError,
  PATHS,
  toOrigin,
} from '@lime/wire';
import { McpTokenError } from '../errors.js';

export interface MetadataSourceOptions {
  apiBase: string;
  fetch: FetchLike | undefined;
  ttlMs: number;
  minRefreshMs: number;
  maxStaleMs: number;
  timeoutMs: number;
  clock: () => number;
}

/** What the verifier takes from RFC 8414 metadata. */
export interface AuthorizationServerInfo {
  issuer: string;
  jwksUri: string;
  document: AuthorizationServerMetadata;
}

/**
 * The Core's RFC 8414 authorization server metadata (PROTOCOL.md §7): where
 * the keys are (`jwks_uri`) and what `iss` tokens carry (`issuer`). Cached for
 * `ttlMs`, refetched at most once per `minRefreshMs` (also while failing),
 * served stale for at most `maxStaleMs` when the endpoint is down.
 */
export class MetadataSource {
  readonly url: string;
  private readonly http: HttpClient;
  private current: { meta: AuthorizationServerInfo; at: number } | undefined;
  private inFlight: Promise<void> | undefined;
  private lastAttemptAt: number | undefined;
  private lastError: string | undefined;
  fetches = 0;

  constructor(private readonly options: MetadataSourceOptions) {
    this.http = new HttpClient({
      apiBase: options.apiBase,
      headers: {},
      timeoutMs: options.timeoutMs,
      maxRetries: 0,
      maxResponseBytes: 65_536,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.url = this.http.url(PATHS.oauthMetadata);
  }

  /** Fresh metadata without I/O, or `undefined`. */
  peek(): AuthorizationServerInfo | undefined {
    const c = this.current;
    return c && this.options.clock() - c.at < this.options.ttlMs ? c.meta : undefined;
  }

  /** Fresh metadata, refreshing when permitted; stale within bounds; else `metadata_unavailable`. */
  async get(options: { signal?: AbortSignal } = {}): Promise<AuthorizationServerInfo> {
    const fresh = this.peek();
    if (fresh) return fresh;
    const now = this.options.clock();
    if (
      this.inFlight ||
      this.lastAttemptAt === undefined ||
      now - this.lastAttemptAt >= this.options.minRefreshMs
    ) {
      await this.refresh(options.signal);
    }
    const c = this.current;
    if (c && this.options.clock() - c.at < this.options.ttlMs + this.options.maxStaleMs)
      return c.meta;
    throw new McpTokenError(
      'metadata_unavailable',
      `LIME authorization server metadata unavailable (${this.url}): ${this.lastError ?? 'not fetched yet'}`,
    );
  }

  private refresh(signal: AbortSignal | undefined): Promise<void> {
    if (!this.inFlight) {
      this.lastAttemptAt = this.options.clock();
      this.fetches++;
      this.inFlight = this.load()
        .then((meta) => {
          this.current = { meta, at: this.options.clock() };
          this.lastError = undefined;
        })
        .catch((error: unknown) => {
          this.lastError = error instanceof Error ? error.message : String(error);
        })
        .finally(() => {
          this.inFlight = undefined;
        });
    }
    const shared = this.inFlight;
    if (!signal) return shared;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () =>
        reject(new LimeError('ABORTED', 'metadata lookup aborted', { cause: signal.reason }));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      shared.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  private async load(): Promise<AuthorizationServerInfo> {
    // HttpClient aborts its request on timeout; the race also bounds a custom
    // fetch that ignores the abort signal.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`GET ${this.url} got no answer within ${this.options.timeoutMs} ms`)),
        this.options.timeoutMs,
      );
    });
    let data: unknown;
    try {
      ({ data } = await Promise.race([
        this.http.request<unknown>('GET', PATHS.oauthMetadata, { shape: 'raw' }),
        timeout,
      ]));
    } finally {
      clearTimeout(timer);
    }
    const doc = data as Partial<AuthorizationServerMetadata> | null;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      throw new Error('metadata is not a JSON object, expected an RFC 8414 document');
    }
    if (typeof doc.issuer !== 'string' || doc.issuer.length === 0) {
      throw new Error('metadata has no "issuer", expected the Core issuer URL');
    }
    return {
      issuer: doc.issuer,
      jwksUri: resolveJwksUri(doc.jwks_uri, this.options.apiBase),
      document: doc as AuthorizationServerMetadata,
    };
  }
}

/**
 * Where the keys are (PROTOCOL.md §7 [hosted]), resolved as the Python
 * verifier does (`JwksCache._fetch_jwks`): a path starting with `/` is
 * appended to the platform base (`LIME_BASE_URL`, the origin:
 * `/api/v1/core/.well-known/jwks.json` → `https://lime.pics/api/v1/core/…`);
 * an absolute URL must be on the platform's own origin. Other relative
 * references (Python has no working reading of them) resolve on the API base.
 * A `jwks_uri` on another origin is refused: whoever serves the keys decides
 * which tokens are valid, and the metadata alone must not move that trust
 * elsewhere.
 */
export function resolveJwksUri(value: unknown, apiBase: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error('metadata has no "jwks_uri", expected the URL of the Core\'s JWK Set');
  }
  const raw = value.trim();
  const base = toOrigin(apiBase);
  const shown = raw.slice(0, 120);
  let url: URL;
  try {
    if (/^[a-z][a-z0-9+.-]*:/i.test(raw)) url = new URL(raw);
    else if (raw.startsWith('/')) url = new URL(base + raw);
    else url = new URL(raw, `${apiBase}/`);
  } catch {
    throw new Error(`metadata jwks_uri '${shown}' is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`metadata jwks_uri uses '${url.protocol}', expected http(s)`);
  }
  const origin = new URL(base).origin;
  if (url.origin !== origin) {
    throw new Error(
      `metadata jwks_uri '${shown}' is on another origin than ${origin} — refused (cross-origin ` +
        'jwks_uri, as in the Python verifier): the keys must come from the LIME platform itself',
    );
  }
  return url.href;
}
