import {
  AUDIENCE,
  createJwtVerifier,
  type JwksCache,
  JwtVerificationError,
  type JwtVerifyFunction,
  LIFETIMES,
  LimeError,
  type ReceivedBindingPassportClaims,
  type ReceivedPassportClaims,
  type VerifiedJwt,
} from '@lime/wire';
import { InvalidPassportError } from '../errors.js';
import type { BindingPassport, Passport } from '../passport.js';
import type { ReplayStore } from '../replay-store.js';

/** Claims checked only when present unless the user asks for them (PROTOCOL.md §4). */
export type OptionalPassportClaim = 'iss' | 'jti' | 'site_id' | 'typ';

export interface PassportVerifierOptions {
  keys: JwksCache;
  issuer: string | undefined;
  /** This site's id, when known: a `site_id` claim must name it. */
  siteId: string | undefined;
  /** Claims of {@link OptionalPassportClaim} the user requires. */
  requiredClaims: readonly OptionalPassportClaim[];
  clockToleranceSeconds: number;
  maxTokenLength: number;
  clock: () => number;
}

/** Claims as the shared verifier hands them on: only what it checked is certain. */
type Claims = ReceivedPassportClaims | ReceivedBindingPassportClaims;

/** A fresh passport's `iat` may run this far ahead of our clock, seconds (PROTOCOL.md §4: ≥ 60). */
const FUTURE_IAT_SECONDS = 60;

type Kind = 'site' | 'binding';

const FUNCTION_OF: Record<Kind, string> = {
  site: 'verifyPassport()',
  binding: 'verifyBindingPassport()',
};

/**
 * Site-specific checks on top of the shared RS256 verifier. What the Python
 * verifier requires (PROTOCOL.md §4, §5: `kid`, signature, `aud`, numeric
 * `exp`/`iat`, lifetime, `request_id` or `binding_id`), plus the checks we
 * add on purpose (alg pinned, `aud` exact, request binding, single use keyed
 * on `jti`, else on the request). `iss`, `jti`, `site_id` and `typ` are
 * checked when present and required only when the user asks; odd claim types
 * are reported in `warnings`, not fatal.
 */
export class PassportVerifier {
  private readonly site: JwtVerifyFunction<ReceivedPassportClaims>;
  private readonly binding: JwtVerifyFunction<ReceivedBindingPassportClaims>;
  private readonly tolerance: number;
  private readonly clock: () => number;
  private readonly siteId: string | undefined;
  private readonly required: ReadonlySet<OptionalPassportClaim>;

  constructor(options: PassportVerifierOptions) {
    this.required = new Set(options.requiredClaims);
    const strings = (names: readonly OptionalPassportClaim[]) =>
      names.filter((n) => n !== 'typ' && this.required.has(n));
    const common = {
      keys: options.keys,
      clockToleranceSeconds: options.clockToleranceSeconds,
      futureIatToleranceSeconds: Math.max(FUTURE_IAT_SECONDS, options.clockToleranceSeconds),
      maxTokenLength: options.maxTokenLength,
      clock: options.clock,
      requireSubject: false,
      requireIssuer: this.required.has('iss'),
      requireType: this.required.has('typ'),
      ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    };
    this.site = createJwtVerifier({
      ...common,
      audience: AUDIENCE.sitePassport,
      maxLifetimeSeconds: LIFETIMES.passportMax,
      requiredClaims: ['request_id', ...strings(['iss', 'jti', 'site_id'])],
    });
    this.binding = createJwtVerifier({
      ...common,
      audience: AUDIENCE.bindingPassport,
      maxLifetimeSeconds: LIFETIMES.bindingMax,
      requiredClaims: ['binding_id', ...strings(['iss', 'jti'])],
    });
    this.tolerance = options.clockToleranceSeconds;
    this.clock = options.clock;
    this.siteId = options.siteId;
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
    claims: ReceivedPassportClaims,
    expectedRequestId: string | undefined,
    replay: ReplayStore,
  ): Passport | Promise<Passport> {
    const requestId = claims.request_id;
    if (expectedRequestId !== undefined && requestId !== expectedRequestId) {
      throw new InvalidPassportError(
        'request_id_mismatch',
        `passport request_id was ${show(requestId)}, expected ${show(expectedRequestId)} — this passport answers another login request; do not bind it to this session`,
      );
    }
    const siteId = optionalString('site_id', claims.site_id);
    if (siteId !== undefined && this.siteId !== undefined && siteId !== this.siteId) {
      throw new InvalidPassportError(
        'wrong_site',
        `passport site_id was ${show(siteId)}, expected ${show(this.siteId)} — it was issued for another site`,
      );
    }
    const warnings: string[] = [];
    const passport: Passport = {
      agentId: agentIdOf(claims, true) as string,
      userId: userIdOf(claims.user_id, warnings),
      userKycLevel: kycLevel(claims.user_kyc_level, warnings),
      agentReputation: reputation(claims.agent_reputation, warnings),
      requestId,
      siteId,
      jti: optionalString('jti', claims.jti),
      issuer: issuerOf(claims, warnings),
      issuedAt: new Date(claims.iat * 1000),
      expiresAt: new Date(claims.exp * 1000),
      passportVersion: version(claims.passport_version, warnings),
      warnings,
      claims,
    };
    return this.consume(replay, passport, replayKeyOf(passport), claims.exp);
  }

  private acceptBinding(
    claims: ReceivedBindingPassportClaims,
    expectedBindingId: string,
    replay: ReplayStore,
  ): BindingPassport | Promise<BindingPassport> {
    const bindingId = claims.binding_id;
    if (bindingId !== expectedBindingId) {
      throw new InvalidPassportError(
        'binding_id_mismatch',
        `binding passport binding_id was ${show(bindingId)}, expected ${show(expectedBindingId)} — it completes another binding; do not link it to this account`,
      );
    }
    const passport: BindingPassport = {
      agentId: agentIdOf(claims, false),
      bindingId,
      userId: optionalString('user_id', claims.user_id),
      siteId: optionalString('site_id', claims.site_id),
      jti: optionalString('jti', claims.jti),
      issuer: issuerOf(claims, []),
      issuedAt: new Date(claims.iat * 1000),
      expiresAt: new Date(claims.exp * 1000),
      claims,
    };
    const key = passport.jti ?? `binding_id:${bindingId}`;
    return this.consume(replay, passport, key, claims.exp);
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
    return this.consume(replay, passport, replayKeyOf(passport), exp, claimedTwice);
  }

  /** Claims of a token that passed the shared verifier; its errors become `InvalidPassportError`. */
  private check<C extends Claims>(
    kind: Kind,
    verify: JwtVerifyFunction<C>,
    token: string,
    signal: AbortSignal | undefined,
  ): C | Promise<C> {
    let verified: VerifiedJwt<C> | Promise<VerifiedJwt<C>>;
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

  /** Single use of `key` (the `jti`, else the request), then hand out the passport. */
  private consume<P>(
    replay: ReplayStore,
    passport: P,
    key: string,
    exp: number,
    refuse: (key: string) => InvalidPassportError = usedTwice,
  ): P | Promise<P> {
    // Remember the id as long as the token could still pass the expiry check.
    const until = new Date((exp + this.tolerance) * 1000);
    let fresh: boolean | Promise<boolean>;
    try {
      fresh = replay.consume(key, until);
    } catch (error) {
      throw storeFailed(error);
    }
    if (isThenable(fresh)) {
      return fresh.then(
        (answer) => admit(answer, passport, key, refuse),
        (error: unknown) => {
          throw storeFailed(error);
        },
      );
    }
    return admit(fresh, passport, key, refuse);
  }
}

/**
 * The replay-store key of a site passport: its `jti` when it has one, else
 * its login request (one approval per request, so one passport per request).
 */
export function replayKeyOf(passport: Passport): string {
  return passport.jti ?? `request_id:${passport.requestId}`;
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function storeFailed(error: unknown): InvalidPassportError {
  // The SDK's own stores (RedisReplayStore) word their errors for this; a
  // user's store error is not echoed (it could name a host or a credential).
  const why =
    error instanceof LimeError && error.code === 'REPLAY_STORE_UNAVAILABLE'
      ? ` (${error.message})`
      : '';
  return new InvalidPassportError(
    'replay_check_failed',
    `the replay store failed${why}, so single use of the passport could not be checked — refused (fail closed); retry when the store is back`,
    { cause: error },
  );
}

function admit<P>(
  fresh: boolean,
  passport: P,
  key: string,
  refuse: (key: string) => InvalidPassportError,
): P {
  if (fresh !== true) throw refuse(key);
  return passport;
}

function usedTwice(key: string): InvalidPassportError {
  return new InvalidPassportError(
    'replayed',
    `passport ${show(key)} was already used — passports are single use; a second use means a replay`,
  );
}

function claimedTwice(key: string): InvalidPassportError {
  return new InvalidPassportError(
    'replayed',
    `passport ${show(key)} was already claimed (by waitForLogin(), claimPassport() or verifyPassport() on this or another instance sharing the replay store) — bind each passport to one session only`,
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
    `passport '${name}' was ${describe(value)}, expected ${expected}`,
  );
}

function describe(value: unknown): string {
  if (typeof value === 'string') return show(value);
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `a${typeof value === 'object' ? 'n object' : ` ${typeof value}`}`;
}

/**
 * The agent: `sub`, else `agent_id` (PROTOCOL.md §4: the hosted platform may
 * use either). Both present and different → refused: which one would we bind?
 */
function agentIdOf(claims: Claims, required: boolean): string | undefined {
  const sub = optionalString('sub', claims.sub);
  const agentId = optionalString('agent_id', claims.agent_id);
  if (sub !== undefined && agentId !== undefined && sub !== agentId) {
    throw new InvalidPassportError(
      'invalid_claim',
      `passport names two agents: sub ${show(sub)} and agent_id ${show(agentId)} — refused`,
    );
  }
  const id = sub ?? agentId;
  if (id === undefined && required) {
    throw new InvalidPassportError(
      'missing_claim',
      "passport names no agent: neither 'sub' nor 'agent_id' is a non-empty string",
    );
  }
  return id;
}

function issuerOf(claims: Claims, warnings: string[]): string | undefined {
  const iss = claims.iss as unknown;
  if (iss === undefined) return undefined;
  if (typeof iss === 'string' && iss.length > 0) return iss;
  warnings.push(`iss was ${describe(iss)}, ignored`);
  return undefined;
}

function userIdOf(value: unknown, warnings: string[]): string | null {
  if (typeof value === 'string' && value.length > 0 && value.length <= 1024) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) {
    warnings.push(`user_id was the number ${value}, read as a string`);
    return String(value);
  }
  warnings.push(value === undefined ? 'no user_id claim' : `user_id was ${describe(value)}`);
  return null;
}

function kycLevel(value: unknown, warnings: string[]): number | string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.length <= 64) return value;
  warnings.push(`user_kyc_level was ${describe(value)}, read as null`);
  return null;
}

function reputation(value: unknown, warnings: string[]): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
    warnings.push(`agent_reputation was the string ${show(value)}, read as a number`);
    return Number(value);
  }
  warnings.push(`agent_reputation was ${describe(value)}, read as null`);
  return null;
}

function version(value: unknown, warnings: string[]): number | string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.length > 0 && value.length <= 32) {
    warnings.push(`passport_version was the string ${show(value)}`);
    return value;
  }
  warnings.push(`passport_version was ${describe(value)}, ignored`);
  return undefined;
}

/** A claim that must be a non-empty string when present (security-relevant: fatal otherwise). */
function optionalString(name: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value.length > 0 && value.length <= 1024) return value;
  return invalid(name, value, 'a non-empty string');
}
