import {
  AUDIENCE,
  type BindingPassportClaims,
  createJwtVerifier,
  type JwksCache,
  type JwtClaims,
  JwtVerificationError,
  type JwtVerifyFunction,
  LIFETIMES,
  type PassportClaims,
  type VerifiedJwt,
} from '@lime/wire';
import { InvalidPassportError } from '../errors.js';
import type { BindingPassport, Passport } from '../passport.js';
import type { ReplayStore } from '../replay-store.js';

export interface PassportVerifierOptions {
  keys: JwksCache;
  issuer: string | undefined;
  clockToleranceSeconds: number;
  maxTokenLength: number;
  clock: () => number;
}

type Kind = 'site' | 'binding';

const FUNCTION_OF: Record<Kind, string> = {
  site: 'verifyPassport()',
  binding: 'verifyBindingPassport()',
};

/**
 * Site-specific checks on top of the shared RS256 verifier: the two audiences
 * and lifetimes, `request_id` binding, typed claims, and single use of `jti`.
 */
export class PassportVerifier {
  private readonly site: JwtVerifyFunction<JwtClaims>;
  private readonly binding: JwtVerifyFunction<JwtClaims>;
  private readonly tolerance: number;
  private readonly clock: () => number;

  constructor(options: PassportVerifierOptions) {
    const common = {
      keys: options.keys,
      clockToleranceSeconds: options.clockToleranceSeconds,
      maxTokenLength: options.maxTokenLength,
      clock: options.clock,
      ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    };
    this.site = createJwtVerifier({
      ...common,
      audience: AUDIENCE.sitePassport,
      maxLifetimeSeconds: LIFETIMES.passportMax,
      requiredClaims: ['jti', 'iss', 'request_id', 'site_id', 'user_id'],
    });
    this.binding = createJwtVerifier({
      ...common,
      audience: AUDIENCE.bindingPassport,
      maxLifetimeSeconds: LIFETIMES.bindingMax,
      requiredClaims: ['jti', 'iss', 'binding_id'],
    });
    this.tolerance = options.clockToleranceSeconds;
    this.clock = options.clock;
  }

  /**
   * Verify a site passport. Synchronous (returns the passport, or throws)
   * when the key is cached, the signature backend is synchronous (Node) and
   * the replay store answers synchronously; a promise otherwise. Callers
   * wrap it in one promise: no async layer per step on the hot path.
   */
  verifyPassport(
    token: string,
    expectedRequestId: string | undefined,
    replay: ReplayStore,
    signal: AbortSignal | undefined,
  ): Passport | Promise<Passport> {
    const verified = this.check('site', this.site, token, signal);
    if (isThenable(verified)) {
      return verified.then((claims) => this.acceptSite(claims, expectedRequestId, replay));
    }
    return this.acceptSite(verified, expectedRequestId, replay);
  }

  /** Verify a binding passport; synchronous or not as {@link verifyPassport}. */
  verifyBindingPassport(
    token: string,
    expectedBindingId: string,
    replay: ReplayStore,
    signal: AbortSignal | undefined,
  ): BindingPassport | Promise<BindingPassport> {
    const verified = this.check('binding', this.binding, token, signal);
    if (isThenable(verified)) {
      return verified.then((claims) => this.acceptBinding(claims, expectedBindingId, replay));
    }
    return this.acceptBinding(verified, expectedBindingId, replay);
  }

  private acceptSite(
    claims: JwtClaims,
    expectedRequestId: string | undefined,
    replay: ReplayStore,
  ): Passport | Promise<Passport> {
    const requestId = claims.request_id as string;
    if (expectedRequestId !== undefined && requestId !== expectedRequestId) {
      throw new InvalidPassportError(
        'request_id_mismatch',
        `passport request_id was ${show(requestId)}, expected ${show(expectedRequestId)} — this passport answers another login request; do not bind it to this session`,
      );
    }
    const passport: Passport = {
      agentId: claims.sub,
      userId: claims.user_id as string,
      userKycLevel: kycLevel(claims.user_kyc_level),
      agentReputation: reputation(claims.agent_reputation),
      requestId,
      siteId: claims.site_id as string,
      jti: claims.jti as string,
      issuer: claims.iss as string,
      issuedAt: new Date(claims.iat * 1000),
      expiresAt: new Date(claims.exp * 1000),
      passportVersion: version(claims.passport_version),
      claims: claims as unknown as PassportClaims,
    };
    return this.consume(replay, passport, claims.exp);
  }

  private acceptBinding(
    claims: JwtClaims,
    expectedBindingId: string,
    replay: ReplayStore,
  ): BindingPassport | Promise<BindingPassport> {
    const bindingId = claims.binding_id as string;
    if (bindingId !== expectedBindingId) {
      throw new InvalidPassportError(
        'binding_id_mismatch',
        `binding passport binding_id was ${show(bindingId)}, expected ${show(expectedBindingId)} — it completes another binding; do not link it to this account`,
      );
    }
    const passport: BindingPassport = {
      agentId: claims.sub,
      bindingId,
      userId: optionalString(claims, 'user_id'),
      siteId: optionalString(claims, 'site_id'),
      jti: claims.jti as string,
      issuer: claims.iss as string,
      issuedAt: new Date(claims.iat * 1000),
      expiresAt: new Date(claims.exp * 1000),
      claims: claims as unknown as BindingPassportClaims,
    };
    return this.consume(replay, passport, claims.exp);
  }

  /**
   * Record an already verified passport's `jti` in `replay` (the moment it
   * is bound to a session). Refuses a passport past `exp` + tolerance (the
   * store may have forgotten its id by then) as `expired`, a `jti` already
   * recorded as `replayed`; a failing store as `replay_check_failed`.
   */
  claim(passport: Passport, replay: ReplayStore): Passport | Promise<Passport> {
    const exp = passport.expiresAt.getTime() / 1000;
    if (this.clock() >= (exp + this.tolerance) * 1000) {
      throw new InvalidPassportError(
        'expired',
        `the passport for '${show(passport.requestId)}' expired at ${passport.expiresAt.toISOString()} before it was claimed — bind it within its lifetime; create a new login request`,
      );
    }
    return this.consume(replay, passport, exp, claimedTwice);
  }

  /** Claims of a token that passed the shared verifier; its errors become `InvalidPassportError`. */
  private check(
    kind: Kind,
    verify: JwtVerifyFunction<JwtClaims>,
    token: string,
    signal: AbortSignal | undefined,
  ): JwtClaims | Promise<JwtClaims> {
    let verified: VerifiedJwt<JwtClaims> | Promise<VerifiedJwt<JwtClaims>>;
    try {
      verified = verify.verifyNow(token, signal ? { signal } : undefined);
    } catch (error) {
      throw translate(kind, token, error);
    }
    if (isThenable(verified)) {
      return verified.then(
        (v) => v.claims,
        (error: unknown) => {
          throw translate(kind, token, error);
        },
      );
    }
    return verified.claims;
  }

  /** Single use of `jti`, then hand out the passport. */
  private consume<P extends { jti: string }>(
    replay: ReplayStore,
    passport: P,
    exp: number,
    refuse: (jti: string) => InvalidPassportError = usedTwice,
  ): P | Promise<P> {
    // Remember the id as long as the token could still pass the expiry check.
    const until = new Date((exp + this.tolerance) * 1000);
    let fresh: boolean | Promise<boolean>;
    try {
      fresh = replay.consume(passport.jti, until);
    } catch (error) {
      throw storeFailed(error);
    }
    if (isThenable(fresh)) {
      return fresh.then(
        (answer) => admit(answer, passport, refuse),
        (error: unknown) => {
          throw storeFailed(error);
        },
      );
    }
    return admit(fresh, passport, refuse);
  }
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function storeFailed(error: unknown): InvalidPassportError {
  return new InvalidPassportError(
    'replay_check_failed',
    'the replay store failed, so single use of the passport could not be checked — refused (fail closed); retry when the store is back',
    { cause: error },
  );
}

function admit<P extends { jti: string }>(
  fresh: boolean,
  passport: P,
  refuse: (jti: string) => InvalidPassportError,
): P {
  if (fresh !== true) throw refuse(passport.jti);
  return passport;
}

function usedTwice(jti: string): InvalidPassportError {
  return new InvalidPassportError(
    'replayed',
    `passport jti ${show(jti)} was already used — passports are single use; a second use means a replay`,
  );
}

function claimedTwice(jti: string): InvalidPassportError {
  return new InvalidPassportError(
    'replayed',
    `passport jti ${show(jti)} was already claimed (by waitForLogin(), claimPassport() or verifyPassport() on this or another instance sharing the replay store) — bind each passport to one session only`,
  );
}

function translate(kind: Kind, token: string, error: unknown): unknown {
  return error instanceof JwtVerificationError ? wrap(kind, token, error) : error;
}

/** Turn the shared verifier's error into an `InvalidPassportError`, naming likely mix-ups. */
function wrap(kind: Kind, token: string, error: JwtVerificationError): InvalidPassportError {
  let message = error.message.replace(/^JWT /, kind === 'site' ? 'passport ' : 'binding passport ');
  if (error.reason === 'wrong_audience' || error.reason === 'lifetime_too_long') {
    const hint = mixUpHint(kind, token);
    if (hint) message += ` — ${hint}`;
  }
  return new InvalidPassportError(error.reason, message, { cause: error });
}

/**
 * Peek (unverified, for the message only) at the audience of a refused token
 * to tell the caller which verifier it was meant for.
 */
function mixUpHint(kind: Kind, token: string): string | undefined {
  let aud: unknown;
  try {
    const payload = token.split('.')[1] ?? '';
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    aud = (JSON.parse(json) as { aud?: unknown }).aud;
  } catch {
    return undefined;
  }
  const first = Array.isArray(aud) ? aud[0] : aud;
  if (first === AUDIENCE.mcp) {
    return `this looks like an MCP access token sent to ${FUNCTION_OF[kind]}; MCP tokens are for MCP servers, never site logins`;
  }
  if (kind === 'site' && first === AUDIENCE.bindingPassport) {
    return 'this looks like a binding passport; use verifyBindingPassport()';
  }
  if (kind === 'binding' && first === AUDIENCE.sitePassport) {
    return 'this looks like a site login passport; use verifyPassport()';
  }
  return undefined;
}

function show(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, '?');
  return `'${printable.length > 60 ? `${printable.slice(0, 57)}...` : printable}'`;
}

function invalid(name: string, value: unknown, expected: string): never {
  throw new InvalidPassportError(
    'invalid_claim',
    `passport '${name}' was ${typeof value === 'string' ? show(value) : String(typeof value)}, expected ${expected}`,
  );
}

function kycLevel(value: unknown): number | string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.length <= 64) return value;
  return invalid('user_kyc_level', value, 'a number, a short string or null');
}

function reputation(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
    return Number(value);
  }
  return invalid('agent_reputation', value, 'a number or null');
}

function version(value: unknown): number | string {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.length > 0 && value.length <= 32) return value;
  if (value === undefined) return 1;
  return invalid('passport_version', value, 'a number or a short string');
}

function optionalString(claims: JwtClaims, name: string): string | undefined {
  const value = claims[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value.length > 0 && value.length <= 1024) return value;
  return invalid(name, value, 'a non-empty string');
}
