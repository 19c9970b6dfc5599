import { extractJwkSet, MIN_RSA_BITS, RSA_EXPONENT_B64U } from '../claims.js';
import { AbortError } from '../errors.js';
import type { FetchLike } from '../http-client.js';
import { readBodyLimited } from '../http-client.js';
import { isStrictBase64url } from './base64url.js';
import {
  type CryptoBackendName,
  type CryptoPreference,
  decodeSegmentBytes,
  type ImportedKey,
  importRsaKey,
  resolveCryptoBackend,
} from './crypto-backend.js';
import { describeValue, JwtVerificationError } from './errors.js';

/** Options of {@link JwksCache}. Give `jwksUrl` or `resolveJwksUrl`. */
export interface JwksCacheOptions {
  /** Where the JWK Set lives (raw RFC 7517 or in the LIME envelope). */
  jwksUrl?: string | URL;
  /**
   * Find the JWK Set URL on demand (e.g. `jwks_uri` of RFC 8414 metadata).
   * Called before each fetch; may cache on its own. Used when `jwksUrl` is absent.
   */
  resolveJwksUrl?: (options: { signal?: AbortSignal }) => Promise<string | URL>;
  /** `fetch` to use. @default globalThis.fetch */
  fetch?: FetchLike;
  /**
   * Extra request headers of every JWKS fetch — a `user-agent` above all: an
   * edge filter in front of the public key endpoints may refuse a runtime's
   * default (`node`, `undici`), as the hosted-like Core profile does.
   * @default {}
   */
  headers?: Readonly<Record<string, string>>;
  /** How long a fetched key set is fresh, milliseconds. @default 600_000 */
  cacheTtlMs?: number;
  /**
   * Least time between two fetches, milliseconds — whether the last one
   * succeeded or failed. Bounds refetches caused by unknown `kid`s. @default 60_000
   */
  minRefreshIntervalMs?: number;
  /**
   * How long keys stay usable past their freshness while the endpoint fails,
   * milliseconds. @default 3_600_000
   */
  maxStaleMs?: number;
  /** Timeout of one JWKS fetch (including its resolver), milliseconds. @default 5_000 */
  timeoutMs?: number;
  /** Largest JWK Set document accepted, bytes. @default 131_072 */
  maxDocumentBytes?: number;
  /**
   * Keys imported up front from one document: the first and the last
   * `maxKeys / 2` in document order (a publisher lists its newest key first
   * or last). Every other usable key of the set is kept as data and imported
   * the first time a token names it, so no published `kid` is ever
   * unreachable, whatever the size of the set. @default 32
   */
  maxKeys?: number;
  /** Signature implementation: `auto` uses Node's crypto when present. @default 'auto' */
  crypto?: CryptoPreference;
  /** Clock in milliseconds since the epoch. @default Date.now */
  clock?: () => number;
}

/** A usable signing key from the set. */
export interface JwksKey {
  readonly kid: string;
  /** RSA modulus size in bits. */
  readonly bits: number;
  /** Modulus length in bytes = exact length of a valid signature. */
  readonly signatureBytes: number;
  readonly imported: ImportedKey;
}

/** Why a JWK was left out of the usable set. */
export interface IgnoredJwk {
  kid: string | undefined;
  problem: string;
}

/** Counters and state of a {@link JwksCache}, for monitoring and tests. */
export interface JwksCacheStats {
  /** Fetch attempts started (successful or not). */
  fetches: number;
  /** Fetch attempts that failed (network, status, size, shape, no usable key). */
  failures: number;
  /** Usable key ids, in document order. */
  kids: string[];
  /** Keys of the last good document that were refused, with the reason. */
  ignored: IgnoredJwk[];
  /** When the current key set was fetched (ms), if ever. */
  fetchedAt: number | undefined;
  /** Message of the last failure, cleared by a success. */
  lastError: string | undefined;
  /** Signature backend in use. */
  backend: CryptoBackendName;
}

/** A sane `kid`: 1–128 printable ASCII characters, no space, quote or backslash. */
export const KID_PATTERN = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;
const MAX_RSA_BITS = 8192;

interface KeySet {
  keys: Map<string, JwksKey>;
  /** Usable keys of the document not imported yet (imported on first use). */
  deferred: Map<string, { n: string; e: string; bits: number }>;
  ignored: IgnoredJwk[];
  fetchedAt: number;
}

/** After a failed fetch the next may start this soon, doubling per failure… */
const RETRY_FIRST_MS = 250;
/** …up to this (or `minRefreshIntervalMs`, if shorter), ms. */
const RETRY_MAX_MS = 5_000;

function positive(name: string, value: number, allowZero = false): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new TypeError(
      `JwksCache: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * A cache of RS256 verification keys from a JWK Set URL, keyed by `kid`.
 *
 * - Fresh for `cacheTtlMs`; after that a lookup still answers at once with
 *   the cached key while a refetch runs in the background
 *   (stale-while-revalidate), for at most `maxStaleMs` past freshness.
 * - An unknown `kid` refetches at most once per `minRefreshIntervalMs`;
 *   concurrent lookups share one fetch. After a failed fetch the next may
 *   start sooner — 250 ms doubling to 5 s (never later than
 *   `minRefreshIntervalMs`) — so a refused first fetch does not leave a
 *   verifier without keys for the whole interval.
 * - Only RSA keys of 2048–8192 bits with `e = AQAB`, `use` absent or `sig`,
 *   `alg` absent or `RS256` are kept; others are listed in `stats().ignored`.
 * - Documents larger than `maxDocumentBytes` or slower than `timeoutMs` fail.
 *
 * @example
 * const keys = new JwksCache({ jwksUrl: 'https://lime.pics/api/v1/core/.well-known/jwks.json' });
 * await keys.warmup();
 * const key = await keys.getKey('k1');
 */
export class JwksCache {
  /** Signature backend the keys are imported for. */
  readonly backend: CryptoBackendName;
  private readonly jwksUrl: string | undefined;
  private readonly resolveJwksUrl: JwksCacheOptions['resolveJwksUrl'];
  private readonly fetchFn: FetchLike | undefined;
  private readonly headers: Record<string, string>;
  private readonly cacheTtlMs: number;
  private readonly minRefreshIntervalMs: number;
  private readonly maxStaleMs: number;
  private readonly timeoutMs: number;
  private readonly maxDocumentBytes: number;
  private readonly maxKeys: number;
  private readonly clock: () => number;

  private current: KeySet | undefined;
  private inFlight: Promise<void> | undefined;
  private lastAttemptAt: number | undefined;
  private lastAttemptFailed = false;
  /** Failed fetches since the last success (the retry backoff). */
  private consecutiveFailures = 0;
  private fetchCount = 0;
  private failureCount = 0;
  private lastError: string | undefined;

  constructor(options: JwksCacheOptions) {
    if (options.jwksUrl === undefined && typeof options.resolveJwksUrl !== 'function') {
      throw new TypeError('JwksCache: jwksUrl or resolveJwksUrl is required');
    }
    if (options.jwksUrl !== undefined) {
      try {
        this.jwksUrl = new URL(String(options.jwksUrl)).href;
      } catch {
        throw new TypeError(
          `JwksCache: jwksUrl must be an absolute URL, got ${describeValue(String(options.jwksUrl))}`,
        );
      }
    }
    if (options.fetch !== undefined && typeof options.fetch !== 'function') {
      throw new TypeError('JwksCache: fetch must be a function');
    }
    if (options.clock !== undefined && typeof options.clock !== 'function') {
      throw new TypeError('JwksCache: clock must be a function returning milliseconds');
    }
    if (
      options.headers !== undefined &&
      (typeof options.headers !== 'object' ||
        options.headers === null ||
        !Object.values(options.headers).every((v) => typeof v === 'string'))
    ) {
      throw new TypeError('JwksCache: headers must be an object of header strings');
    }
    this.headers = { ...options.headers, accept: 'application/json' };
    this.resolveJwksUrl = options.resolveJwksUrl;
    this.fetchFn = options.fetch;
    this.cacheTtlMs = positive('cacheTtlMs', options.cacheTtlMs ?? 600_000);
    this.minRefreshIntervalMs = positive(
      'minRefreshIntervalMs',
      options.minRefreshIntervalMs ?? 60_000,
      true,
    );
    this.maxStaleMs = positive('maxStaleMs', options.maxStaleMs ?? 3_600_000, true);
    this.timeoutMs = positive('timeoutMs', options.timeoutMs ?? 5_000);
    this.maxDocumentBytes = positive('maxDocumentBytes', options.maxDocumentBytes ?? 131_072);
    this.maxKeys = positive('maxKeys', options.maxKeys ?? 32);
    this.clock = options.clock ?? Date.now;
    this.backend = resolveCryptoBackend(options.crypto ?? 'auto');
  }

  /**
   * The key for `kid` when it is cached and fresh, without any I/O; else
   * `undefined` (then use {@link getKey}). The verifier's fast path.
   */
  peekKey(kid: string): JwksKey | undefined {
    const set = this.current;
    if (!set) return undefined;
    const now = this.clock();
    const age = now - set.fetchedAt;
    if (age < this.cacheTtlMs) return set.keys.get(kid);
    if (!this.usable(set, now)) return undefined;
    const key = set.keys.get(kid);
    // Stale but usable: answer now, refresh in the background.
    if (key && !this.inFlight && this.mayFetch(now)) void this.refresh({});
    return key;
  }

  /**
   * The key for `kid`, fetching the set when it is missing, expired, or lacks
   * `kid` (rate-limited). Throws {@link JwtVerificationError} with reason
   * `unknown_kid` or `jwks_unavailable`.
   */
  async getKey(kid: string, options: { signal?: AbortSignal } = {}): Promise<JwksKey> {
    const fast = this.peekKey(kid);
    if (fast) return fast;
    // Missing, expired, or lacking this kid: refresh when permitted (or join a fetch in flight).
    if (this.inFlight || this.mayFetch(this.clock())) await this.refresh(options);
    const set = this.current;
    const now = this.clock();
    if (set && this.usable(set, now)) {
      const key = set.keys.get(kid) ?? (await this.importDeferred(set, kid));
      if (key) return key;
      // Unknown kid: a verdict only if the latest fetch succeeded; otherwise the
      // kid may be a new key we could not load (answer 503, not 401).
      if (!this.lastAttemptFailed) {
        throw new JwtVerificationError(
          'unknown_kid',
          `kid ${describeValue(kid)} is not in the JWK Set (known: ${[...set.keys.keys()].map((k) => describeValue(k)).join(', ')}) — the token was signed by a key this issuer does not publish`,
        );
      }
    }
    const what = set
      ? `kid ${describeValue(kid)} is not in the cached JWK Set and the latest fetch failed`
      : `no usable JWK Set to look up kid ${describeValue(kid)}`;
    throw new JwtVerificationError(
      'jwks_unavailable',
      `${what}: ${this.lastError ?? 'the key set has not been fetched yet'} (fetches are at most one per ${this.minRefreshIntervalMs} ms)`,
    );
  }

  /** Fetch the key set now (sharing a fetch in flight). Throws on failure with reason `jwks_unavailable`. */
  async warmup(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.refresh(options);
    if (this.lastAttemptFailed) {
      throw new JwtVerificationError('jwks_unavailable', `JWK Set fetch failed: ${this.lastError}`);
    }
  }

  /** Counters and current state. */
  stats(): JwksCacheStats {
    return {
      fetches: this.fetchCount,
      failures: this.failureCount,
      kids: this.current ? [...this.current.keys.keys(), ...this.current.deferred.keys()] : [],
      ignored: this.current ? [...this.current.ignored] : [],
      fetchedAt: this.current?.fetchedAt,
      lastError: this.lastError,
      backend: this.backend,
    };
  }

  private usable(set: KeySet, now: number): boolean {
    return now - set.fetchedAt < this.cacheTtlMs + this.maxStaleMs;
  }

  private mayFetch(now: number): boolean {
    if (this.lastAttemptAt === undefined) return true;
    const wait = this.lastAttemptFailed
      ? Math.min(
          this.minRefreshIntervalMs,
          RETRY_MAX_MS,
          RETRY_FIRST_MS * 2 ** Math.min(this.consecutiveFailures - 1, 16),
        )
      : this.minRefreshIntervalMs;
    return now - this.lastAttemptAt >= wait;
  }

  /** Import a usable key of the set that was kept as data (a large set). */
  private async importDeferred(set: KeySet, kid: string): Promise<JwksKey | undefined> {
    const raw = set.deferred.get(kid);
    if (!raw) return undefined;
    const imported = await importRsaKey({ n: raw.n, e: raw.e }, this.backend);
    const key: JwksKey = { kid, bits: raw.bits, signatureBytes: Math.ceil(raw.bits / 8), imported };
    if (this.current === set) {
      set.deferred.delete(kid);
      set.keys.set(kid, key);
    }
    return key;
  }

  /** Run (or join) one fetch; never throws — the outcome is in the state. */
  private refresh(options: { signal?: AbortSignal }): Promise<void> {
    if (!this.inFlight) {
      this.lastAttemptAt = this.clock();
      this.fetchCount++;
      this.inFlight = this.load()
        .then((set) => {
          this.current = set;
          this.lastAttemptFailed = false;
          this.consecutiveFailures = 0;
          this.lastError = undefined;
        })
        .catch((error: unknown) => {
          this.failureCount++;
          this.consecutiveFailures++;
          this.lastAttemptFailed = true;
          this.lastError = error instanceof Error ? error.message : String(error);
        })
        .finally(() => {
          this.inFlight = undefined;
        });
    }
    const shared = this.inFlight;
    const signal = options.signal;
    if (!signal) return shared;
    // The caller may stop waiting; the shared fetch goes on for the others.
    return new Promise<void>((resolve, reject) => {
      const onAbort = () =>
        reject(new AbortError('JWK Set lookup aborted', { cause: signal.reason }));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      shared.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  private async load(): Promise<KeySet> {
    // Only the timeout aborts the shared fetch: one caller's abort must not fail it for all.
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`JWK Set fetch got no complete answer within ${this.timeoutMs} ms`);
        controller.abort(error);
        reject(error);
      }, this.timeoutMs);
    });
    try {
      // The race bounds the wait even if a custom fetch or resolver ignores the signal.
      return await Promise.race([this.fetchKeySet(controller.signal), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async fetchKeySet(signal: AbortSignal): Promise<KeySet> {
    const url = this.jwksUrl ?? String(await this.resolveJwksUrl!({ signal }));
    const doFetch = this.fetchFn ?? globalThis.fetch;
    let response: Response;
    try {
      response = await doFetch(url, {
        method: 'GET',
        headers: this.headers,
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw new Error(
        `GET ${url} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      throw new Error(`GET ${url} answered HTTP ${response.status}, expected 200 with a JWK Set`);
    }
    let text: string;
    try {
      text = await readBodyLimited(response, this.maxDocumentBytes);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw error;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new Error(`GET ${url} answered a body that is not JSON, expected a JWK Set`);
    }
    const jwks = extractJwkSet(doc);
    if (!jwks) {
      throw new Error(
        `GET ${url} answered JSON without a "keys" array (raw or in {"ok":true,"data":{…}})`,
      );
    }
    const set = await this.importKeys(jwks);
    if (set.keys.size === 0 && set.deferred.size === 0) {
      throw new Error(
        `GET ${url} published no usable RS256 key (${set.ignored.length} ignored: ${set.ignored
          .slice(0, 3)
          .map((i) => `${describeValue(i.kid)} ${i.problem}`)
          .join('; ')})`,
      );
    }
    return set;
  }

  private async importKeys(jwks: unknown[]): Promise<KeySet> {
    const usable: Array<{ kid: string; n: string; e: string; bits: number }> = [];
    const seen = new Set<string>();
    const ignored: IgnoredJwk[] = [];
    for (const jwk of jwks) {
      const kid = (jwk as { kid?: unknown } | null)?.kid;
      const kidText = typeof kid === 'string' ? kid : undefined;
      const problem = jwkProblem(jwk);
      if (problem) {
        ignored.push({ kid: kidText, problem });
        continue;
      }
      if (seen.has(kidText!)) {
        ignored.push({ kid: kidText, problem: 'duplicates an earlier kid' });
        continue;
      }
      const { n, e } = jwk as { n: string; e: string };
      const bits = rsaModulusBits(n);
      if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
        ignored.push({
          kid: kidText,
          problem: `RSA modulus of ${bits} bits, expected ${MIN_RSA_BITS}–${MAX_RSA_BITS}`,
        });
        continue;
      }
      seen.add(kidText!);
      usable.push({ kid: kidText!, n, e, bits });
    }
    // Import the ends of the list now (the newest key is first or last,
    // depending on the publisher); keep the middle for when a token names it.
    const head = Math.ceil(this.maxKeys / 2);
    const tail = Math.floor(this.maxKeys / 2);
    const keys = new Map<string, JwksKey>();
    const deferred: KeySet['deferred'] = new Map();
    for (const [index, k] of usable.entries()) {
      if (index >= head && index < usable.length - tail) {
        deferred.set(k.kid, { n: k.n, e: k.e, bits: k.bits });
        continue;
      }
      try {
        const imported = await importRsaKey({ n: k.n, e: k.e }, this.backend);
        keys.set(k.kid, {
          kid: k.kid,
          bits: k.bits,
          signatureBytes: Math.ceil(k.bits / 8),
          imported,
        });
      } catch (error) {
        ignored.push({
          kid: k.kid,
          problem: `could not be imported: ${error instanceof Error ? error.message : String(error)}`,
        });
      }
    }
    return { keys, deferred, ignored, fetchedAt: this.clock() };
  }
}

/**
 * Why a JWK is not a usable RS256 verification key, or `null`.
 *
 * @example
 * jwkProblem({ kty: 'EC', kid: 'a' }); // "has kty 'EC', expected 'RSA'"
 */
export function jwkProblem(jwk: unknown): string | null {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return 'is not an object';
  const k = jwk as Record<string, unknown>;
  if (k.kty !== 'RSA') return `has kty ${describeValue(k.kty)}, expected 'RSA'`;
  if (typeof k.kid !== 'string' || !KID_PATTERN.test(k.kid)) return 'has no usable kid';
  if (k.use !== undefined && k.use !== 'sig')
    return `has use ${describeValue(k.use)}, expected 'sig'`;
  if (k.alg !== undefined && k.alg !== 'RS256')
    return `has alg ${describeValue(k.alg)}, expected 'RS256'`;
  if (k.key_ops !== undefined && !(Array.isArray(k.key_ops) && k.key_ops.includes('verify'))) {
    return "has key_ops without 'verify'";
  }
  if (k.e !== RSA_EXPONENT_B64U)
    return `has e ${describeValue(k.e)}, expected '${RSA_EXPONENT_B64U}' (65537)`;
  if (typeof k.n !== 'string' || !isStrictBase64url(k.n) || k.n.length > 2000) {
    return 'has an n that is not base64url';
  }
  if ('d' in k || 'p' in k || 'q' in k)
    return 'is a private key (refused; publish public keys only)';
  return null;
}

/**
 * Bit length of a base64url RSA modulus (leading zero bytes/bits discounted).
 *
 * @example
 * rsaModulusBits(jwk.n); // 2048
 */
export function rsaModulusBits(n: string): number {
  const bytes = decodeSegmentBytes(n);
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i]!));
}
