import { JWT_ALG } from '../claims.js';
import {
  decodeCanonicalSegment,
  nodeSegmentScratch,
  segmentBytesToText,
  verifyRs256,
  verifyRs256Bytes,
} from './crypto-backend.js';
import { describeValue, type JwtFailureReason, JwtVerificationError } from './errors.js';
import { type JwksKey, KID_PATTERN } from './jwks-cache.js';

/** Where the verifier gets keys: a {@link JwksCache} or anything shaped like it. */
export interface JwtKeySource {
  /** Cached key without I/O, or `undefined`. */
  peekKey(kid: string): JwksKey | undefined;
  /** Key for `kid`, fetching if needed; throws `JwtVerificationError`. */
  getKey(kid: string, options?: { signal?: AbortSignal }): Promise<JwksKey>;
}

/**
 * How `aud` arrays are treated (RFC 7519 allows a string or an array):
 * - `reject`: `aud` must be exactly the expected string (LIME passports).
 * - `first`: a string equal to the expected one, or a non-empty array of
 *   strings whose FIRST element is it (LIME MCP tokens: `["mcp", resource]`).
 *   The rest is for the caller to check (e.g. the resource).
 * - `contains`: a string, or an array of strings containing it anywhere.
 */
export type AudienceArrayPolicy = 'reject' | 'first' | 'contains';

/** What a token must satisfy. Checks always on: RS256, kid, exp, iat (and `sub` unless `requireSubject: false`). */
export interface JwtPolicy {
  /** Expected `aud` (e.g. `AUDIENCE.sitePassport`). */
  audience: string;
  /** How `aud` arrays are handled. @default 'reject' */
  audienceArray?: AudienceArrayPolicy;
  /** Expected `iss`; unchecked when absent. */
  issuer?: string;
  /**
   * With `issuer` set: refuse a token that has no `iss` at all. `false`
   * checks `iss` only when the token carries one (docs/protocol.md §4: hosted
   * passports may lack it). @default true
   */
  requireIssuer?: boolean;
  /** Require a non-empty string `sub`. `false` leaves the subject to the caller. @default true */
  requireSubject?: boolean;
  /** Require a header `typ` (checked against `allowedTypes` either way when present). @default false */
  requireType?: boolean;
  /**
   * How far in the future `iat` may be, seconds (0–600): hosts whose clock
   * runs behind the issuer's see fresh tokens "from the future".
   * @default clockToleranceSeconds
   */
  futureIatToleranceSeconds?: number;
  /** Largest `exp − iat`, seconds (e.g. `LIFETIMES.passportMax`). */
  maxLifetimeSeconds: number;
  /** Clock skew allowed on `exp`, `iat`, `nbf`, seconds, 0–300. @default 30 */
  clockToleranceSeconds?: number;
  /** Claims that must be non-empty strings besides `sub` (e.g. `['jti', 'request_id']`). @default [] */
  requiredClaims?: readonly string[];
  /** Claims whose presence refuses the token (e.g. `MCP_FORBIDDEN_CLAIMS`). @default [] */
  forbiddenClaims?: readonly string[];
  /** Longest token accepted, characters; checked before any parsing. @default 8_192 */
  maxTokenLength?: number;
  /** Accepted header `typ` values (case-insensitive) when `typ` is present. @default ['JWT'] */
  allowedTypes?: readonly string[];
}

/** Options of {@link createJwtVerifier}: a policy plus where keys and time come from. */
export interface JwtVerifierOptions extends JwtPolicy {
  /** Key source, usually a {@link JwksCache}. */
  keys: JwtKeySource;
  /** Clock in milliseconds since the epoch. @default Date.now */
  clock?: () => number;
}

/** The protected header of a verified token. */
export interface JwtHeader {
  alg: 'RS256';
  kid: string;
  typ?: string;
  [member: string]: unknown;
}

/** Claims every verified token has (checked), plus whatever else it carries. */
export interface JwtClaims {
  sub: string;
  iat: number;
  exp: number;
  aud: string | string[];
  iss?: string;
  nbf?: number;
  jti?: string;
  [claim: string]: unknown;
}

/** A token that passed every check. */
export interface VerifiedJwt<C extends object = JwtClaims> {
  header: JwtHeader;
  claims: C;
}

/** Verifies one token; see {@link createJwtVerifier}. */
export interface JwtVerifyFunction<C extends object = JwtClaims> {
  (token: string, options?: { signal?: AbortSignal }): Promise<VerifiedJwt<C>>;
  /**
   * The same checks, returning synchronously when the key is cached and the
   * signature backend is synchronous (Node); a promise otherwise. Throws
   * (or rejects) {@link JwtVerificationError}. For hot paths that want to
   * avoid a promise per token.
   */
  verifyNow(
    token: string,
    options?: { signal?: AbortSignal },
  ): VerifiedJwt<C> | Promise<VerifiedJwt<C>>;
}

const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c', 'crit'] as const;
const MAX_TOLERANCE_SECONDS = 300;
const HEADER_CACHE_SIZE = 64;

function fail(reason: JwtFailureReason, message: string): never {
  throw new JwtVerificationError(reason, message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface CompiledPolicy {
  audience: string;
  audienceArray: AudienceArrayPolicy;
  issuer: string | undefined;
  requireIssuer: boolean;
  requireSubject: boolean;
  requireType: boolean;
  maxLifetime: number;
  tolerance: number;
  futureIat: number;
  required: readonly string[];
  forbidden: readonly string[];
  maxTokenLength: number;
  types: ReadonlySet<string>;
}

/** Validate a policy once (TypeError naming the field) and apply defaults. */
function compilePolicy(p: JwtPolicy): CompiledPolicy {
  if (typeof p.audience !== 'string' || p.audience.length === 0) {
    throw new TypeError('JwtPolicy.audience must be a non-empty string');
  }
  const audienceArray = p.audienceArray ?? 'reject';
  if (!['reject', 'first', 'contains'].includes(audienceArray)) {
    throw new TypeError("JwtPolicy.audienceArray must be 'reject', 'first' or 'contains'");
  }
  if (p.issuer !== undefined && (typeof p.issuer !== 'string' || p.issuer.length === 0)) {
    throw new TypeError('JwtPolicy.issuer must be a non-empty string when given');
  }
  if (!Number.isFinite(p.maxLifetimeSeconds) || p.maxLifetimeSeconds <= 0) {
    throw new TypeError('JwtPolicy.maxLifetimeSeconds must be a positive number of seconds');
  }
  const tolerance = p.clockToleranceSeconds ?? 30;
  if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > MAX_TOLERANCE_SECONDS) {
    throw new TypeError(
      `JwtPolicy.clockToleranceSeconds must be between 0 and ${MAX_TOLERANCE_SECONDS} seconds, got ${String(tolerance)}`,
    );
  }
  const futureIat = p.futureIatToleranceSeconds ?? tolerance;
  if (!Number.isFinite(futureIat) || futureIat < 0 || futureIat > 600) {
    throw new TypeError(
      `JwtPolicy.futureIatToleranceSeconds must be between 0 and 600 seconds, got ${String(futureIat)}`,
    );
  }
  for (const flag of ['requireIssuer', 'requireSubject', 'requireType'] as const) {
    if (p[flag] !== undefined && typeof p[flag] !== 'boolean') {
      throw new TypeError(`JwtPolicy.${flag} must be a boolean when given`);
    }
  }
  const maxTokenLength = p.maxTokenLength ?? 8_192;
  if (!Number.isInteger(maxTokenLength) || maxTokenLength < 64) {
    throw new TypeError('JwtPolicy.maxTokenLength must be an integer ≥ 64 (characters)');
  }
  const list = (name: string, v: readonly string[] | undefined): readonly string[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every((c) => typeof c === 'string' && c.length > 0)) {
      throw new TypeError(`JwtPolicy.${name} must be an array of claim names`);
    }
    return [...v];
  };
  const types = list('allowedTypes', p.allowedTypes ?? ['JWT']);
  return {
    audience: p.audience,
    audienceArray,
    issuer: p.issuer,
    requireIssuer: p.requireIssuer ?? true,
    requireSubject: p.requireSubject ?? true,
    requireType: p.requireType ?? false,
    maxLifetime: p.maxLifetimeSeconds,
    tolerance,
    futureIat,
    required: list('requiredClaims', p.requiredClaims),
    forbidden: list('forbiddenClaims', p.forbiddenClaims),
    maxTokenLength,
    types: new Set(types.map((t) => t.toLowerCase())),
  };
}

const NOT_CANONICAL = 'JWT segments must be non-empty, unpadded, canonical base64url';

/** Parse and check a decoded protected header (everything but the key lookup). */
function checkHeader(bytes: Uint8Array, policy: CompiledPolicy): JwtHeader {
  let header: unknown;
  try {
    header = JSON.parse(segmentBytesToText(bytes));
  } catch {
    fail('malformed', 'JWT header is not UTF-8 JSON — expected {"alg":"RS256","kid":…}');
  }
  if (!isObject(header)) fail('malformed', 'JWT header is not a JSON object');
  if (header.alg !== JWT_ALG) {
    fail(
      'unsupported_alg',
      `JWT alg was ${describeValue(header.alg)}, expected '${JWT_ALG}' (LIME signs with RS256 only)`,
    );
  }
  for (const name of FORBIDDEN_HEADERS) {
    if (name in header) {
      fail(
        'forbidden_header',
        name === 'crit'
          ? 'JWT header has crit — no critical extensions are supported, so the token is refused'
          : `JWT header has '${name}' — keys come only from the configured JWK Set, never from the token`,
      );
    }
  }
  if (header.typ === undefined && policy.requireType) {
    fail('forbidden_header', 'JWT header has no typ, and this verifier requires one');
  }
  if (
    header.typ !== undefined &&
    (typeof header.typ !== 'string' || !policy.types.has(header.typ.toLowerCase()))
  ) {
    fail(
      'forbidden_header',
      `JWT typ was ${describeValue(header.typ)}, expected ${[...policy.types].map((t) => `'${t}'`).join(' or ')}`,
    );
  }
  if (header.kid === undefined)
    fail('missing_kid', 'JWT header has no kid — expected the id of a published key');
  if (typeof header.kid !== 'string' || !KID_PATTERN.test(header.kid)) {
    fail(
      'missing_kid',
      `JWT kid ${describeValue(header.kid)} is not 1–128 printable ASCII characters — expected the id of a published key`,
    );
  }
  return header as JwtHeader;
}

/** `v`, the value of claim `name`, as a NumericDate (named reads: cheaper than `claims[name]`). */
function numericClaim(name: string, v: unknown): number {
  if (v === undefined) fail('missing_claim', `JWT has no '${name}' claim — expected a NumericDate`);
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    fail(
      'invalid_claim',
      `JWT '${name}' was ${describeValue(v)}, expected a NumericDate (seconds)`,
    );
  }
  return v;
}

function stringClaim(claims: Record<string, unknown>, name: string): string {
  const v = claims[name];
  if (v === undefined) fail('missing_claim', `JWT has no '${name}' claim`);
  if (typeof v !== 'string' || v.length === 0 || v.length > 1024) {
    fail('invalid_claim', `JWT '${name}' was ${describeValue(v)}, expected a non-empty string`);
  }
  return v;
}

function checkAudience(aud: unknown, policy: CompiledPolicy): void {
  const want = policy.audience;
  if (aud === undefined) fail('missing_claim', `JWT has no 'aud' claim — expected '${want}'`);
  if (typeof aud === 'string') {
    if (aud !== want)
      fail('wrong_audience', `JWT aud was ${describeValue(aud)}, expected '${want}'`);
    return;
  }
  if (!Array.isArray(aud))
    fail('invalid_claim', `JWT aud was ${describeValue(aud)}, expected '${want}'`);
  if (policy.audienceArray === 'reject') {
    fail(
      'wrong_audience',
      `JWT aud was the array ${describeValue(aud)}, expected the string '${want}'`,
    );
  }
  if (aud.length === 0 || aud.length > 16 || !aud.every((a) => typeof a === 'string')) {
    fail('invalid_claim', `JWT aud was ${describeValue(aud)}, expected 1–16 strings`);
  }
  const ok = policy.audienceArray === 'first' ? aud[0] === want : aud.includes(want);
  if (!ok) {
    fail(
      'wrong_audience',
      `JWT aud was ${describeValue(aud)}, expected ${policy.audienceArray === 'first' ? 'an array starting with' : 'an array containing'} '${want}'`,
    );
  }
}

/** Check the claims of a signature-verified payload at time `nowSeconds`. */
function checkClaims(
  claims: Record<string, unknown>,
  policy: CompiledPolicy,
  nowSeconds: number,
): void {
  const exp = numericClaim('exp', claims.exp);
  const iat = numericClaim('iat', claims.iat);
  if (policy.requireSubject) stringClaim(claims, 'sub');
  checkAudience(claims.aud, policy);
  if (policy.issuer !== undefined) {
    const iss = claims.iss;
    if (iss === undefined && policy.requireIssuer)
      fail('missing_claim', `JWT has no 'iss' claim — expected '${policy.issuer}'`);
    if (iss !== undefined && iss !== policy.issuer) {
      fail(
        'wrong_issuer',
        `JWT iss was ${describeValue(iss)}, expected ${describeValue(policy.issuer)}`,
      );
    }
  }
  for (const name of policy.forbidden) {
    if (Object.hasOwn(claims, name)) {
      fail(
        'forbidden_claim',
        `JWT carries '${name}', which this kind of token must not have (aud ${describeValue(claims.aud)}) — is it a token of another kind?`,
      );
    }
  }
  for (const name of policy.required) stringClaim(claims, name);
  const t = policy.tolerance;
  if (exp <= iat) fail('invalid_claim', `JWT exp (${exp}) is not after iat (${iat})`);
  if (exp - iat > policy.maxLifetime) {
    fail(
      'lifetime_too_long',
      `JWT lifetime exp − iat was ${exp - iat} s, expected at most ${policy.maxLifetime} s`,
    );
  }
  if (nowSeconds >= exp + t) {
    fail(
      'expired',
      `JWT expired at ${exp} (now ${Math.floor(nowSeconds)}, tolerance ${t} s) — get a fresh token`,
    );
  }
  if (iat > nowSeconds + policy.futureIat) {
    fail(
      'issued_in_future',
      `JWT iat ${iat} is in the future (now ${Math.floor(nowSeconds)}, tolerance ${policy.futureIat} s) — check the clocks`,
    );
  }
  if (claims.nbf !== undefined) {
    const nbf = numericClaim('nbf', claims.nbf);
    if (nbf > nowSeconds + t) {
      fail(
        'not_yet_valid',
        `JWT nbf ${nbf} is in the future (now ${Math.floor(nowSeconds)}, tolerance ${t} s)`,
      );
    }
  }
}

/**
 * Build a verifier for one token kind. The policy is validated here, once;
 * each call then runs, in order: length cap, strict structure and base64url,
 * header rules (RS256 only, no jku/x5u/jwk/x5c/crit, sane kid), key lookup,
 * signature, then claims. Failures throw {@link JwtVerificationError}.
 *
 * @example
 * const verify = createJwtVerifier<PassportClaims>({
 *   keys: new JwksCache({ jwksUrl }),
 *   audience: AUDIENCE.sitePassport,
 *   maxLifetimeSeconds: LIFETIMES.passportMax,
 *   requiredClaims: ['jti', 'request_id'],
 * });
 * const { claims } = await verify(jwt);
 */
export function createJwtVerifier<C extends object = JwtClaims>(
  options: JwtVerifierOptions,
): JwtVerifyFunction<C> {
  const policy = compilePolicy(options);
  const keys = options.keys;
  if (typeof keys?.peekKey !== 'function' || typeof keys.getKey !== 'function') {
    throw new TypeError('JwtVerifierOptions.keys must be a JwksCache (peekKey/getKey)');
  }
  if (options.clock !== undefined && typeof options.clock !== 'function') {
    throw new TypeError('JwtVerifierOptions.clock must be a function returning milliseconds');
  }
  const clock = options.clock ?? Date.now;
  // Tokens of one issuer share a handful of headers: each distinct header
  // segment is decoded and checked once; the map holds only segments that passed.
  const headers = new Map<string, JwtHeader>();
  // The last header segment seen, and its header: most tokens repeat it, and
  // comparing it in place is cheaper than slicing and hashing for the map.
  let lastSegment = '';
  let lastHeader: JwtHeader | undefined;

  /** Check a decoded header that is not cached yet, and remember it. */
  function admitHeader(segment: string, bytes: Uint8Array): JwtHeader {
    const header = Object.freeze(checkHeader(bytes, policy));
    if (headers.size >= HEADER_CACHE_SIZE) headers.clear();
    headers.set(segment, header);
    return header;
  }

  /** Payload and claims, once the signature is known to be good. */
  function accept(payload: string | Uint8Array, header: JwtHeader): VerifiedJwt<C> {
    let claims: unknown;
    try {
      claims = JSON.parse(typeof payload === 'string' ? payload : segmentBytesToText(payload));
    } catch {
      fail('malformed', 'JWT payload is not UTF-8 JSON');
    }
    if (!isObject(claims)) fail('malformed', 'JWT payload is not a JSON object');
    checkClaims(claims, policy, clock() / 1000);
    return { header, claims: claims as C };
  }

  function refused(key: JwksKey): never {
    fail('bad_signature', `JWT signature does not verify with key ${describeValue(key.kid)}`);
  }

  function withKey(
    token: string,
    d2: number,
    header: JwtHeader,
    payload: string | Uint8Array,
    signature: Uint8Array,
    key: JwksKey,
  ): VerifiedJwt<C> | Promise<VerifiedJwt<C>> {
    const node = scratch !== null && key.imported.backend === 'node';
    if (node && scratch.loaded !== token) {
      // Another token went through the shared buffers since this one was
      // decoded: while it waited for its key, or from inside the key source
      // (user code: a clock, a fetch). Load its bytes and signature again.
      if (!scratch.load(token)) fail('malformed', NOT_CANONICAL);
      const length = scratch.bytes(token.slice(d2 + 1));
      if (length < 0) fail('malformed', NOT_CANONICAL);
      signature = scratch.view(length);
    }
    if (signature.length !== key.signatureBytes) {
      fail(
        'bad_signature',
        `JWT signature is ${signature.length} bytes, expected ${key.signatureBytes} for key ${describeValue(key.kid)}`,
      );
    }
    const checked = node
      ? verifyRs256Bytes(key.imported, scratch.signingInput(d2), signature)
      : verifyRs256(key.imported, token.slice(0, d2), signature);
    if (checked === true) return accept(payload, header);
    if (checked === false) return refused(key);
    return checked.then((ok) => (ok ? accept(payload, header) : refused(key)));
  }

  // Node copies the token once into a shared buffer (proving it ASCII; its
  // prefix is the signing input) and decodes the payload straight to text,
  // the signature into a shared buffer that Node's synchronous crypto.verify
  // reads at once (copied before anything asynchronous). Elsewhere: fresh bytes.
  const scratch = nodeSegmentScratch();

  // Synchronous whenever the key is cached and the backend is (Node): no promise
  // machinery on the hot path. Failures throw synchronously or reject.
  // Order: length cap, structure and canonical base64url of all three segments,
  // header rules, key lookup, signature, claims.
  function verifyNow(
    token: string,
    callOptions?: { signal?: AbortSignal },
  ): VerifiedJwt<C> | Promise<VerifiedJwt<C>> {
    if (typeof token !== 'string') fail('malformed', `JWT must be a string, got ${typeof token}`);
    if (token.length > policy.maxTokenLength) {
      fail(
        'too_large',
        `JWT is ${token.length} characters, expected at most ${policy.maxTokenLength}`,
      );
    }
    const d1 = token.indexOf('.');
    const d2 = d1 < 0 ? -1 : token.indexOf('.', d1 + 1);
    if (d1 < 0 || d2 < 0 || token.indexOf('.', d2 + 1) !== -1) {
      fail(
        'malformed',
        'JWT must have exactly three dot-separated segments (header.payload.signature)',
      );
    }
    const repeated =
      lastHeader !== undefined && d1 === lastSegment.length && token.startsWith(lastSegment);
    const headerSegment = repeated ? lastSegment : token.slice(0, d1);
    const cachedHeader = repeated ? lastHeader : headers.get(headerSegment);
    let headerBytes: Uint8Array | null | undefined;
    let payload: string | Uint8Array | null;
    let signature: Uint8Array | null;
    let shared = false;
    if (scratch) {
      if (!scratch.load(token)) fail('malformed', NOT_CANONICAL);
      headerBytes = cachedHeader ? undefined : decodeCanonicalSegment(headerSegment);
      if (headerBytes === null) fail('malformed', NOT_CANONICAL);
      payload = scratch.text(token.slice(d1 + 1, d2));
      if (payload === null) fail('malformed', NOT_CANONICAL);
      const length = scratch.bytes(token.slice(d2 + 1));
      if (length < 0) fail('malformed', NOT_CANONICAL);
      signature = scratch.view(length);
      shared = true;
    } else {
      headerBytes = cachedHeader ? undefined : decodeCanonicalSegment(headerSegment);
      if (headerBytes === null) fail('malformed', NOT_CANONICAL);
      payload = decodeCanonicalSegment(token.slice(d1 + 1, d2));
      if (payload === null) fail('malformed', NOT_CANONICAL);
      signature = decodeCanonicalSegment(token.slice(d2 + 1));
      if (signature === null) fail('malformed', NOT_CANONICAL);
    }
    const header = cachedHeader ?? admitHeader(headerSegment, headerBytes!);
    if (!repeated) {
      lastSegment = headerSegment;
      lastHeader = header;
    }
    const key = keys.peekKey(header.kid);
    if (key) {
      // Only Node's check is synchronous: a WebCrypto key gets its own copy.
      const own = shared && key.imported.backend !== 'node' ? signature.slice() : signature;
      return withKey(token, d2, header, payload, own, key);
    }
    const own = shared ? signature.slice() : signature;
    return keys
      .getKey(header.kid, callOptions)
      .then((fetched) => withKey(token, d2, header, payload, own, fetched));
  }

  const verify = ((token: string, callOptions?: { signal?: AbortSignal }) => {
    try {
      return Promise.resolve(verifyNow(token, callOptions));
    } catch (error) {
      return Promise.reject(error);
    }
  }) as JwtVerifyFunction<C>;
  verify.verifyNow = verifyNow;
  return verify;
}

/**
 * One-shot form of {@link createJwtVerifier}. Prefer creating the verifier once:
 * this validates the policy on every call and has no header cache.
 *
 * @example
 * const { claims } = await verifyJwt(jwt, { keys, audience: 'mcp', maxLifetimeSeconds: 3600 });
 */
export function verifyJwt<C extends object = JwtClaims>(
  token: string,
  options: JwtVerifierOptions & { signal?: AbortSignal },
): Promise<VerifiedJwt<C>> {
  return createJwtVerifier<C>(options)(token, { signal: options.signal });
}
