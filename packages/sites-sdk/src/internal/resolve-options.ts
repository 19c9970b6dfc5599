import { ConfigurationError, ENV, type FetchLike, HOSTED_API_BASE, toApiBase } from '@lime/wire';
import type { LimeSiteOptions } from '../options.js';
import type { ReplayStore } from '../replay-store.js';
import type { ErrorHandler } from '../site-events.js';

/** {@link LimeSiteOptions} with every default applied and validated. */
export interface ResolvedOptions {
  siteToken: string;
  apiBase: string;
  timeout: number;
  maxRetries: number;
  reconnectMinDelay: number;
  reconnectMaxDelay: number;
  watchdogTimeout: number;
  jwks: {
    url: string | undefined;
    cacheTtl: number;
    minRefreshInterval: number;
    maxStale: number;
    timeout: number;
    maxDocumentBytes: number;
  };
  clockTolerance: number;
  issuer: string | undefined;
  siteId: string | undefined;
  requiredPassportClaims: readonly ('iss' | 'jti' | 'site_id' | 'typ')[];
  authRetryPeriod: number;
  statusCheckInterval: number;
  replayStore: ReplayStore | undefined;
  fetch: FetchLike | undefined;
  onError: ErrorHandler | undefined;
  outcomeBufferSize: number;
  outcomeBufferTtl: number;
  waitTimeout: number;
  maxTokenLength: number;
}

function env(name: string): string | undefined {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env?.[name];
  return value === undefined || value === '' ? undefined : value;
}

function number(
  field: string,
  value: number,
  { min, max, integer = false }: { min: number; max?: number; integer?: boolean },
): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    (max !== undefined && value > max) ||
    (integer && !Number.isInteger(value))
  ) {
    const range = max === undefined ? `≥ ${min}` : `between ${min} and ${max}`;
    throw new TypeError(
      `LimeSite: ${field} must be ${integer ? 'an integer' : 'a number'} ${range}, got ${String(value)}`,
    );
  }
  return value;
}

function optionalFunction<T>(field: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`LimeSite: ${field} must be a function, got ${typeof value}`);
  }
  return value;
}

/** Apply defaults (all in one place) and validate; TypeErrors name the field. */
export function resolveOptions(options: LimeSiteOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('LimeSite: options must be an object');
  }
  const siteToken = options.siteToken ?? env(ENV.siteToken);
  if (siteToken === undefined || siteToken === '') {
    throw new ConfigurationError(
      `LimeSite: no site token — pass { siteToken } or set ${ENV.siteToken} (the st_… token of your site)`,
    );
  }
  if (typeof siteToken !== 'string' || /[\s\0]/.test(siteToken)) {
    throw new TypeError('LimeSite: siteToken must be a string without whitespace');
  }
  if (siteToken.startsWith('at_')) {
    throw new ConfigurationError(
      `LimeSite: siteToken looks like an agent token (at_…) — a site backend uses its site token (st_…, ${ENV.siteToken}); agent tokens belong to agent workers only`,
    );
  }
  const rawBase = options.apiBase ?? env(ENV.apiBase) ?? HOSTED_API_BASE;
  if (typeof rawBase !== 'string' || !/^https?:\/\/[^/]/i.test(rawBase)) {
    throw new TypeError(
      `LimeSite: apiBase must be an http(s) URL like '${HOSTED_API_BASE}', got '${String(rawBase).slice(0, 100)}'`,
    );
  }
  const timeout = number('timeout', options.timeout ?? 30_000, { min: 1 });
  const reconnectMinDelay = number('reconnectMinDelay', options.reconnectMinDelay ?? 500, {
    min: 0,
  });
  const reconnectMaxDelay = number('reconnectMaxDelay', options.reconnectMaxDelay ?? 10_000, {
    min: Math.max(1, reconnectMinDelay),
  });
  const jwks = options.jwks ?? {};
  if (typeof jwks !== 'object' || jwks === null) {
    throw new TypeError('LimeSite: jwks must be an object');
  }
  if (jwks.url !== undefined && (typeof jwks.url !== 'string' || !/^https?:\/\//i.test(jwks.url))) {
    throw new TypeError('LimeSite: jwks.url must be an http(s) URL');
  }
  const envTolerance = env(ENV.jwtVerifyLeeway);
  const clockTolerance = number(
    options.clockTolerance === undefined && envTolerance !== undefined
      ? ENV.jwtVerifyLeeway
      : 'clockTolerance',
    options.clockTolerance ?? (envTolerance === undefined ? 30 : Number(envTolerance)),
    { min: 0, max: 300 },
  );
  if (
    options.issuer !== undefined &&
    (typeof options.issuer !== 'string' || options.issuer === '')
  ) {
    throw new TypeError('LimeSite: issuer must be a non-empty string when given');
  }
  if (
    options.siteId !== undefined &&
    (typeof options.siteId !== 'string' || options.siteId === '')
  ) {
    throw new TypeError('LimeSite: siteId must be a non-empty string when given');
  }
  const requiredPassportClaims = options.requiredPassportClaims ?? [];
  if (
    !Array.isArray(requiredPassportClaims) ||
    !requiredPassportClaims.every((c) => ['iss', 'jti', 'site_id', 'typ'].includes(c))
  ) {
    throw new TypeError(
      "LimeSite: requiredPassportClaims must list only 'iss', 'jti', 'site_id' and 'typ'",
    );
  }
  if (
    options.replayStore !== undefined &&
    typeof (options.replayStore as { consume?: unknown })?.consume !== 'function'
  ) {
    throw new TypeError('LimeSite: replayStore must have a consume(jti, expiresAt) method');
  }
  return {
    siteToken,
    apiBase: toApiBase(rawBase),
    timeout,
    maxRetries: number('maxRetries', options.maxRetries ?? 2, { min: 0, max: 10, integer: true }),
    reconnectMinDelay,
    reconnectMaxDelay,
    watchdogTimeout: number('watchdogTimeout', options.watchdogTimeout ?? 310_000, { min: 1 }),
    authRetryPeriod: number('authRetryPeriod', options.authRetryPeriod ?? 300_000, { min: 0 }),
    statusCheckInterval: number('statusCheckInterval', options.statusCheckInterval ?? 30_000, {
      min: 0,
    }),
    jwks: {
      url: jwks.url,
      cacheTtl: number('jwks.cacheTtl', jwks.cacheTtl ?? 600_000, { min: 1 }),
      minRefreshInterval: number('jwks.minRefreshInterval', jwks.minRefreshInterval ?? 10_000, {
        min: 0,
      }),
      maxStale: number('jwks.maxStale', jwks.maxStale ?? 3_600_000, { min: 0 }),
      timeout: number('jwks.timeout', jwks.timeout ?? 5_000, { min: 1 }),
      maxDocumentBytes: number('jwks.maxDocumentBytes', jwks.maxDocumentBytes ?? 131_072, {
        min: 1_024,
        integer: true,
      }),
    },
    clockTolerance,
    issuer: options.issuer,
    siteId: options.siteId,
    requiredPassportClaims: [...requiredPassportClaims],
    replayStore: options.replayStore,
    fetch: optionalFunction('fetch', options.fetch),
    onError: optionalFunction('onError', options.onError),
    outcomeBufferSize: number('outcomeBufferSize', options.outcomeBufferSize ?? 1_000, {
      min: 1,
      integer: true,
    }),
    outcomeBufferTtl: number('outcomeBufferTtl', options.outcomeBufferTtl ?? 600_000, { min: 1 }),
    waitTimeout: number('waitTimeout', options.waitTimeout ?? 330_000, { min: 1 }),
    maxTokenLength: number('maxTokenLength', options.maxTokenLength ?? 8_192, {
      min: 64,
      integer: true,
    }),
  };
}
