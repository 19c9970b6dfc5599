/**
 * Fast, strict RS256 JWT verification shared by the LIME SDKs (site passports,
 * binding passports, MCP access tokens). Runtime-neutral: no `node:` imports.
 * On Node ≥ 20.16 signatures are checked with the synchronous `crypto.verify`
 * and a cached `KeyObject` (found via `process.getBuiltinModule`); elsewhere
 * with WebCrypto and a cached `CryptoKey`.
 *
 * Usage (create both once, reuse for every token):
 *
 *   import {
 *     AUDIENCE, createJwtVerifier, JwksCache, JwtVerificationError, LIFETIMES, PATHS, toApiBase,
 *     type PassportClaims,
 *   } from '@lime/wire';
 *
 *   const keys = new JwksCache({
 *     jwksUrl: toApiBase(apiBase) + PATHS.jwks,   // or resolveJwksUrl: async () => …
 *     minRefreshIntervalMs: 60_000,               // unknown-kid refetch bound
 *   });
 *   const verifyPassport = createJwtVerifier<PassportClaims>({
 *     keys,
 *     audience: AUDIENCE.sitePassport,           // audienceArray: 'reject' (default)
 *     maxLifetimeSeconds: LIFETIMES.passportMax,
 *     clockToleranceSeconds: 30,
 *     issuer,                                    // optional
 *     requiredClaims: ['jti', 'request_id'],
 *   });
 *   try {
 *     const { header, claims } = await verifyPassport(jwt, { signal });
 *   } catch (e) {
 *     if (e instanceof JwtVerificationError) e.reason; // 'expired' | 'bad_signature' | …
 *   }
 *
 * Import from the package root `@lime/wire` (it exports only "."). The root
 * re-exports createJwtVerifier, verifyJwt, JwksCache, JwtVerificationError,
 * defaultCryptoBackend and the types; the lower-level helpers listed below
 * (importRsaKey, verifyRs256, jwkProblem, base64url) are for this package's
 * own tests and for future needs.
 */

export { decodeBase64urlPortable, encodeBase64url, isStrictBase64url } from './base64url.js';
export type {
  CryptoBackendName,
  CryptoPreference,
  ImportedKey,
  RsaKeyMaterial,
} from './crypto-backend.js';
export { defaultCryptoBackend, importRsaKey, verifyRs256 } from './crypto-backend.js';
export type { JwtFailureReason, JwtVerificationErrorOptions } from './errors.js';
export { JwtVerificationError } from './errors.js';
export type { IgnoredJwk, JwksCacheOptions, JwksCacheStats, JwksKey } from './jwks-cache.js';
export { JwksCache, jwkProblem, KID_PATTERN, rsaModulusBits } from './jwks-cache.js';
export type {
  AudienceArrayPolicy,
  JwtClaims,
  JwtHeader,
  JwtKeySource,
  JwtPolicy,
  JwtVerifierOptions,
  JwtVerifyFunction,
  VerifiedJwt,
} from './verify-jwt.js';
export { createJwtVerifier, verifyJwt } from './verify-jwt.js';
