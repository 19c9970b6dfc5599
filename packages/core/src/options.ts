import { createPrivateKey, type KeyObject } from 'node:crypto';
import { getHeapStatistics } from 'node:v8';
import {
  DEFAULT_POW_DIFFICULTY,
  DEFAULT_RETRY_MS,
  KEEPALIVE_INTERVAL_MS,
  LIFETIMES,
  MAX_POW_DIFFICULTY,
  MIN_EVENT_RETENTION_MS,
  MIN_RSA_BITS,
} from '@lime/wire';
import type { CoreStore } from './store.js';

/**
 * One token bucket: `burst` requests at once, refilled at `perSecond`.
 *
 * @example
 * const bucket: RateLimitBucket = { burst: 100, perSecond: 50 };
 */
export interface RateLimitBucket {
  /** Bucket size: requests allowed in a burst. */
  burst: number;
  /** Refill rate in requests per second. */
  perSecond: number;
}

/**
 * Rate limits of the Core. Every request is counted against its client IP;
 * authenticated requests are also counted against their credential (site,
 * agent or admin). Over the limit the Core answers `429 RATE_LIMIT_EXCEEDED`
 * with `Retry-After` in seconds.
 *
 * @example
 * await startCore({ rateLimits: { perIp: false, perCredential: { burst: 10, perSecond: 1 } } });
 */
export interface RateLimitOptions {
  /**
   * Per client IP address.
   * @default { burst: 10_000, perSecond: 5_000 }
   */
  perIp?: RateLimitBucket | false;
  /**
   * Per credential (one site, one agent, the admin).
   * @default { burst: 2_000, perSecond: 1_000 }
   */
  perCredential?: RateLimitBucket | false;
}

/**
 * A line the Core logs. Never holds a secret.
 *
 * @example
 * await startCore({ log: (e: CoreLogEntry) => console.error(JSON.stringify(e)) });
 */
export interface CoreLogEntry {
  level: 'info' | 'warn' | 'error';
  message: string;
  requestId?: string;
  method?: string;
  path?: string;
  status?: number;
  durationMs?: number;
}

/**
 * Which platform the Core behaves like (see the README, "Profiles").
 *
 * - `'core'`: the reference Core with every [core]/[extension] guarantee of
 *   PROTOCOL.md (resume, broadcast, prefixed ids and tokens, full claims…).
 * - `'hosted'`: hosted-like and strict: every extension off, hosted error
 *   codes, UUID ids, minimal passports, per-line SSE frames, one connection
 *   per event, a User-Agent filter on the key endpoints. For proving that a
 *   client survives the platform as it is.
 *
 * @example
 * const core = await startCore({ profile: 'hosted', powDifficulty: 0 });
 */
export type CoreProfile = 'core' | 'hosted';

/**
 * Shape of the §6 JWKS document.
 *
 * - `'combined'`: `{"keys":[…],"ok":true,"data":{"keys":[…]}}` (raw and enveloped at once)
 * - `'raw'`: `{"keys":[…]}` (RFC 7517 only)
 * - `'enveloped'`: `{"ok":true,"data":{"keys":[…]}}` (older hosted deployments)
 *
 * @example
 * await startCore({ profile: 'hosted', jwksShape: 'raw' });
 */
export type JwksShape = 'combined' | 'raw' | 'enveloped';

/** Profiles and JWKS shapes accepted by {@link resolveCoreOptions}. */
const PROFILES: readonly CoreProfile[] = ['core', 'hosted'];
const JWKS_SHAPES: readonly JwksShape[] = ['combined', 'raw', 'enveloped'];

/** Default keepalive interval of the hosted profile (ms): far apart, well under 310 s. */
export const HOSTED_KEEPALIVE_MS = 120_000;

/**
 * Options of {@link startCore}. Every field is optional.
 *
 * @example
 * const core = await startCore({ powDifficulty: 0, requestTtlMs: 60_000 });
 */
export interface CoreOptions {
  /**
   * `'core'` (the reference Core, every extension on) or `'hosted'` (behave
   * like the hosted platform as it is known, every extension off). Changes
   * the defaults of `keepaliveMs` and `jwksShape`; `retentionMs` and
   * `retryMs` have no effect in `'hosted'` (no replay, no `retry:`).
   * @default 'core'
   */
  profile?: CoreProfile;
  /**
   * TCP port; `0` picks a free one.
   * @default 0
   */
  port?: number;
  /**
   * Interface to listen on.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * Public origin of this Core (no `/api/v1`), used as the `iss` of every
   * token and in URLs it hands out. Set it when the Core sits behind a proxy.
   * @default the listening URL, e.g. 'http://127.0.0.1:8787'
   */
  publicUrl?: string;
  /**
   * Proof-of-work difficulty (leading zero bits) of new login requests, 0–64.
   * @default 15
   */
  powDifficulty?: number;
  /**
   * How long a login request can be approved, in milliseconds.
   * @default 300_000
   */
  requestTtlMs?: number;
  /**
   * Lifetime of a site passport, in seconds (1–120).
   * @default 60
   */
  passportTtlSeconds?: number;
  /**
   * Lifetime of a binding passport, in seconds (1–60).
   * @default 60
   */
  bindingPassportTtlSeconds?: number;
  /**
   * How long a binding request can be completed, in milliseconds.
   * @default 600_000
   */
  bindingTtlMs?: number;
  /**
   * Lifetime of an MCP access token, in seconds.
   * @default 300
   */
  mcpTokenTtlSeconds?: number;
  /**
   * How long each site's login events are kept for `Last-Event-ID` replay,
   * in milliseconds. At least 10 minutes by the protocol; smaller values are
   * accepted for tests.
   * @default 600_000
   */
  retentionMs?: number;
  /**
   * Most events each site's log keeps for replay, whatever their age: past
   * it the oldest go (a client resuming from before them gets `resync`).
   * Bounds the memory of a site that logs in faster than `retentionMs`
   * allows. No effect in `'hosted'` (no log).
   * @default 10_000
   */
  maxEventsPerSite?: number;
  /**
   * Interval of `keepalive` events on open streams, in milliseconds.
   * @default 15_000 (profile 'core'), 120_000 (profile 'hosted')
   */
  keepaliveMs?: number;
  /**
   * The `retry:` the stream announces, in milliseconds. Not sent by the
   * `'hosted'` profile.
   * @default 1_000
   */
  retryMs?: number;
  /**
   * How often expired requests and old events are swept, in milliseconds
   * (expiry is also checked lazily on every request).
   * @default 1_000
   */
  sweepIntervalMs?: number;
  /**
   * Memory bound, in bytes of V8 heap in use: above it the Core sheds load
   * instead of running out of memory — creating and approving login
   * requests answer `503 OVERLOADED` with `Retry-After` (seconds), every
   * other route keeps working (streams, status reads, JWKS, admin). `false`
   * turns it off.
   * @default 85 % of the heap limit (`v8.getHeapStatistics().heap_size_limit`)
   */
  maxHeapBytes?: number | false;
  /** Rate limits; `false` turns them off. @default see {@link RateLimitOptions} */
  rateLimits?: RateLimitOptions | false;
  /**
   * Largest accepted request body, in bytes. Larger bodies get 413.
   * @default 16_384
   */
  maxBodyBytes?: number;
  /**
   * RSA modulus size of signing keys, in bits (≥ 2048).
   * @default 2048
   */
  keySize?: number;
  /**
   * The first signing key: an RSA private key (≥ 2048 bits, e = 65537) as a
   * `KeyObject` or a PEM string. Give the same key to a restarted Core and
   * the passports it issued before still verify. Keys made by
   * `rotateSigningKey` are generated with `keySize`.
   * @default a fresh key of `keySize` bits
   */
  signingKey?: KeyObject | string;
  /**
   * How long a rotated signing key is published before it signs, in
   * milliseconds (PROTOCOL.md §6): longer than the verifiers' JWKS refetch
   * intervals (site SDK `minRefreshInterval` 10 s, MCP verifier 60 s), so
   * no verifier meets a token whose key it has not fetched yet.
   * `rotateSigningKey({ activate: 'now' })` skips the wait (tests).
   * @default 65_000
   */
  signingKeyActivationDelayMs?: number;
  /**
   * How long a signing key stays published after it stopped signing, in
   * milliseconds: the longest token lifetime plus clock skew, so every token
   * it signed verifies until it expires. Then it is unpublished.
   * @default (the longest of `mcpTokenTtlSeconds`, `passportTtlSeconds`,
   * `bindingPassportTtlSeconds`) + 300 s of skew: 600_000 with the defaults
   */
  signingKeyRetireAfterMs?: number;
  /**
   * Most signing keys published at once (2–100). Past it, the oldest key
   * that neither signs nor is scheduled to is unpublished first.
   * @default 4
   */
  maxPublishedSigningKeys?: number;
  /**
   * `max-age` of the JWKS document, in seconds.
   * @default 60
   */
  jwksMaxAgeSeconds?: number;
  /**
   * Shape of the JWKS document (see {@link JwksShape}).
   * @default 'combined' (profile 'core'), 'enveloped' (profile 'hosted')
   */
  jwksShape?: JwksShape;
  /**
   * Admin token for `Authorization: Bearer …` on `/admin/v1`. Generated
   * (and exposed as `core.adminToken`) when absent. At least 16 characters.
   * @default a fresh random token
   */
  adminToken?: string;
  /**
   * The clock, in milliseconds since the epoch. Inject one in tests to move
   * time forward (expiry, retention, token lifetimes).
   * @default Date.now
   */
  clock?: () => number;
  /** Storage. @default a new {@link MemoryStore} */
  store?: CoreStore;
  /**
   * Directory in which the Core keeps its identity across restarts, so that
   * a Core started again on it accepts the same tokens and signs with the
   * same keys (tokens minted before still verify, as long as the issuer —
   * `publicUrl`, else the listening URL — is the same). It holds one file,
   * `state.json` (mode 0600, written atomically): the admin token (unless
   * `adminToken` is given), every signing key — **private keys** — with its
   * rotation schedule, and, unless `store` is given, every site and agent
   * (token hashes only, as in memory). Login requests, bindings and event
   * logs are not kept. Created with mode 0700 when missing; locked while a
   * Core uses it. A state file that cannot be read or parsed is a
   * `ConfigurationError` naming it, never overwritten. For local
   * development: it holds private keys in plain text.
   * @default undefined — nothing is written, everything lives in memory
   */
  stateDir?: string;
  /** Receives log lines (never secrets). @default no logging */
  log?: (entry: CoreLogEntry) => void;
}

/** Options with every default applied. */
export interface ResolvedCoreOptions {
  profile: CoreProfile;
  port: number;
  host: string;
  publicUrl: string | undefined;
  powDifficulty: number;
  requestTtlMs: number;
  passportTtlSeconds: number;
  bindingPassportTtlSeconds: number;
  bindingTtlMs: number;
  mcpTokenTtlSeconds: number;
  retentionMs: number;
  maxEventsPerSite: number;
  keepaliveMs: number;
  retryMs: number;
  sweepIntervalMs: number;
  rateLimits: { perIp: RateLimitBucket | false; perCredential: RateLimitBucket | false };
  maxHeapBytes: number | false;
  maxBodyBytes: number;
  keySize: number;
  signingKey: KeyObject | undefined;
  signingKeyActivationDelayMs: number;
  signingKeyRetireAfterMs: number;
  maxPublishedSigningKeys: number;
  jwksMaxAgeSeconds: number;
  jwksShape: JwksShape;
  adminToken: string | undefined;
  clock: () => number;
  store: CoreStore | undefined;
  stateDir: string | undefined;
  log: ((entry: CoreLogEntry) => void) | undefined;
}

function integerIn(field: string, value: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(
      `CoreOptions.${field} must be an integer from ${min} to ${max}, got ${describe(value)}`,
    );
  }
  return value;
}

/** For enumerated options (never secrets): show the value itself. */
function describeChoice(value: unknown): string {
  return typeof value === 'string' ? `'${value.slice(0, 40)}'` : describe(value);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  return typeof value;
}

function bucket(
  field: string,
  value: RateLimitBucket | false | undefined,
  fallback: RateLimitBucket,
) {
  if (value === undefined) return fallback;
  if (value === false) return false;
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`CoreOptions.${field} must be { burst, perSecond } or false`);
  }
  integerIn(`${field}.burst`, value.burst, 1, 1_000_000_000);
  if (
    typeof value.perSecond !== 'number' ||
    !(value.perSecond > 0) ||
    !Number.isFinite(value.perSecond)
  ) {
    throw new TypeError(
      `CoreOptions.${field}.perSecond must be a positive number, got ${describe(value.perSecond)}`,
    );
  }
  return { burst: value.burst, perSecond: value.perSecond };
}

const DAY_MS = 86_400_000;
/** Verifiers refetch the JWKS at most every 10 s (site SDK) and 60 s (MCP verifier): plus margin. */
const SIGNING_KEY_ACTIVATION_DELAY_MS = 65_000;
/** Clock skew a verifier may allow on `exp`, seconds. */
const CLOCK_SKEW_S = 300;

function signingKey(value: KeyObject | string | undefined): KeyObject | undefined {
  if (value === undefined) return undefined;
  let key: KeyObject;
  try {
    key = typeof value === 'string' ? createPrivateKey(value) : value;
  } catch {
    throw new TypeError(
      'CoreOptions.signingKey must be a PEM-encoded RSA private key or a KeyObject',
    );
  }
  const details = key?.asymmetricKeyDetails;
  if (
    key?.type !== 'private' ||
    key.asymmetricKeyType !== 'rsa' ||
    (details?.modulusLength ?? 0) < MIN_RSA_BITS ||
    details?.publicExponent !== 65537n
  ) {
    throw new TypeError(
      `CoreOptions.signingKey must be an RSA private key of at least ${MIN_RSA_BITS} bits with e = 65537`,
    );
  }
  return key;
}

/** Apply defaults (the only place they live) and validate. */
export function resolveCoreOptions(options: CoreOptions = {}): ResolvedCoreOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('startCore(options): options must be an object');
  }
  const profile = options.profile ?? 'core';
  if (!PROFILES.includes(profile)) {
    throw new TypeError(
      `CoreOptions.profile must be 'core' or 'hosted', got ${describeChoice(profile)}`,
    );
  }
  const hosted = profile === 'hosted';
  const jwksShape = options.jwksShape ?? (hosted ? 'enveloped' : 'combined');
  if (!JWKS_SHAPES.includes(jwksShape)) {
    throw new TypeError(
      `CoreOptions.jwksShape must be 'combined', 'raw' or 'enveloped', got ${describeChoice(jwksShape)}`,
    );
  }
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.length === 0) {
    throw new TypeError(`CoreOptions.host must be a non-empty string, got ${describe(host)}`);
  }
  let publicUrl: string | undefined;
  if (options.publicUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(options.publicUrl);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) {
      throw new TypeError(
        `CoreOptions.publicUrl must be an absolute http(s) origin such as 'https://core.example', got ${describe(options.publicUrl)}`,
      );
    }
    publicUrl = url.href.replace(/\/+$/, '');
  }
  const rl = options.rateLimits;
  if (rl !== undefined && rl !== false && (typeof rl !== 'object' || rl === null)) {
    throw new TypeError('CoreOptions.rateLimits must be an object or false');
  }
  const adminToken = options.adminToken;
  if (adminToken !== undefined && (typeof adminToken !== 'string' || adminToken.length < 16)) {
    throw new TypeError('CoreOptions.adminToken must be a string of at least 16 characters');
  }
  const clock = options.clock ?? Date.now;
  if (typeof clock !== 'function') throw new TypeError('CoreOptions.clock must be a function');
  if (options.log !== undefined && typeof options.log !== 'function') {
    throw new TypeError('CoreOptions.log must be a function');
  }
  const store = options.store;
  if (store !== undefined && (typeof store !== 'object' || store === null)) {
    throw new TypeError('CoreOptions.store must be a CoreStore');
  }
  const stateDir = options.stateDir;
  if (stateDir !== undefined && (typeof stateDir !== 'string' || stateDir.length === 0)) {
    throw new TypeError(
      `CoreOptions.stateDir must be a non-empty directory path, got ${describe(stateDir)}`,
    );
  }
  const passportTtlSeconds = integerIn(
    'passportTtlSeconds',
    options.passportTtlSeconds ?? LIFETIMES.passportIssued,
    1,
    LIFETIMES.passportMax,
  );
  const bindingPassportTtlSeconds = integerIn(
    'bindingPassportTtlSeconds',
    options.bindingPassportTtlSeconds ?? LIFETIMES.bindingMax,
    1,
    LIFETIMES.bindingMax,
  );
  const mcpTokenTtlSeconds = integerIn(
    'mcpTokenTtlSeconds',
    options.mcpTokenTtlSeconds ?? LIFETIMES.mcpToken,
    1,
    86_400,
  );
  const longestTokenS = Math.max(passportTtlSeconds, bindingPassportTtlSeconds, mcpTokenTtlSeconds);
  return {
    profile,
    port: integerIn('port', options.port ?? 0, 0, 65_535),
    host,
    publicUrl,
    powDifficulty: integerIn(
      'powDifficulty',
      options.powDifficulty ?? DEFAULT_POW_DIFFICULTY,
      0,
      MAX_POW_DIFFICULTY,
    ),
    requestTtlMs: integerIn('requestTtlMs', options.requestTtlMs ?? 300_000, 1, DAY_MS),
    passportTtlSeconds,
    bindingPassportTtlSeconds,
    bindingTtlMs: integerIn('bindingTtlMs', options.bindingTtlMs ?? 600_000, 1, DAY_MS),
    mcpTokenTtlSeconds,
    retentionMs: integerIn(
      'retentionMs',
      options.retentionMs ?? MIN_EVENT_RETENTION_MS,
      1,
      7 * DAY_MS,
    ),
    maxEventsPerSite: integerIn(
      'maxEventsPerSite',
      options.maxEventsPerSite ?? 10_000,
      1,
      10_000_000,
    ),
    keepaliveMs: integerIn(
      'keepaliveMs',
      options.keepaliveMs ?? (hosted ? HOSTED_KEEPALIVE_MS : KEEPALIVE_INTERVAL_MS),
      10,
      3_600_000,
    ),
    retryMs: integerIn('retryMs', options.retryMs ?? DEFAULT_RETRY_MS, 0, 3_600_000),
    sweepIntervalMs: integerIn('sweepIntervalMs', options.sweepIntervalMs ?? 1_000, 10, 3_600_000),
    rateLimits:
      rl === false
        ? { perIp: false, perCredential: false }
        : {
            perIp: bucket('rateLimits.perIp', rl?.perIp, { burst: 10_000, perSecond: 5_000 }),
            perCredential: bucket('rateLimits.perCredential', rl?.perCredential, {
              burst: 2_000,
              perSecond: 1_000,
            }),
          },
    maxHeapBytes:
      options.maxHeapBytes === false
        ? false
        : integerIn(
            'maxHeapBytes',
            options.maxHeapBytes ?? Math.floor(getHeapStatistics().heap_size_limit * 0.85),
            1,
            Number.MAX_SAFE_INTEGER,
          ),
    maxBodyBytes: integerIn('maxBodyBytes', options.maxBodyBytes ?? 16_384, 2, 16 * 1024 * 1024),
    keySize: integerIn('keySize', options.keySize ?? MIN_RSA_BITS, MIN_RSA_BITS, 8192),
    signingKey: signingKey(options.signingKey),
    signingKeyActivationDelayMs: integerIn(
      'signingKeyActivationDelayMs',
      options.signingKeyActivationDelayMs ?? SIGNING_KEY_ACTIVATION_DELAY_MS,
      0,
      DAY_MS,
    ),
    signingKeyRetireAfterMs: integerIn(
      'signingKeyRetireAfterMs',
      options.signingKeyRetireAfterMs ?? (longestTokenS + CLOCK_SKEW_S) * 1000,
      0,
      30 * DAY_MS,
    ),
    maxPublishedSigningKeys: integerIn(
      'maxPublishedSigningKeys',
      options.maxPublishedSigningKeys ?? 4,
      2,
      100,
    ),
    jwksMaxAgeSeconds: integerIn('jwksMaxAgeSeconds', options.jwksMaxAgeSeconds ?? 60, 0, 86_400),
    jwksShape,
    adminToken,
    clock,
    store,
    stateDir,
    log: options.log,
  };
}
