// Test-only token factory for passports. The primitives (real RSA keys, raw
// RS256/PS256/HS256 crafting byte by byte) are the JWT verifier's own
// fixtures in @lime/wire's tests, shared rather than copied.
import { InvalidPassportError } from 'lime-sites-sdk';
import {
  b64u,
  json64,
  rsaKey,
  signHs256,
  signRaw,
  type TestKey,
} from '../../../wire/test/jwt-fixtures.js';

export { b64u, json64, rsaKey, signHs256, signRaw, type TestKey };

export const ISSUER = 'http://127.0.0.1/test-core';

/** `'accepted'`, the reason of an `InvalidPassportError`, or any other error as text. */
export async function reason(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    return error instanceof InvalidPassportError ? error.reason : String(error);
  }
}

let counter = 0;

/** Claims of a valid site passport, issued now, overridable. */
export function passportClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  counter++;
  return {
    iss: ISSUER,
    sub: 'ag_test',
    aud: 'lime-site-login',
    iat: now,
    exp: now + 60,
    jti: `jti-${counter}-${Math.random().toString(36).slice(2)}`,
    request_id: 'lr_test',
    site_id: 'site_test',
    user_id: 'usr_test',
    user_kyc_level: 2,
    agent_reputation: 87.5,
    passport_version: 1,
    ...overrides,
  };
}

/** A valid signed site passport (with optional claim and header overrides). */
export function mintPassport(
  overrides: Record<string, unknown> = {},
  key: TestKey = rsaKey(),
  header: Record<string, unknown> = {},
): string {
  return signRaw(
    { alg: 'RS256', kid: key.kid, typ: 'JWT', ...header },
    passportClaims(overrides),
    key,
  );
}

/** A valid binding passport. */
export function mintBindingPassport(
  overrides: Record<string, unknown> = {},
  key: TestKey = rsaKey(),
): string {
  const now = Math.floor(Date.now() / 1000);
  counter++;
  return signRaw(
    { alg: 'RS256', kid: key.kid, typ: 'JWT' },
    {
      iss: ISSUER,
      sub: 'ag_test',
      aud: 'lime-binding',
      iat: now,
      exp: now + 60,
      jti: `bjti-${counter}`,
      binding_id: 'bd_test',
      user_id: 'usr_test',
      ...overrides,
    },
    key,
  );
}

/** An MCP access token (PROTOCOL.md §7) signed by the same key. */
export function mintMcpToken(key: TestKey = rsaKey()): string {
  const now = Math.floor(Date.now() / 1000);
  return signRaw(
    { alg: 'RS256', kid: key.kid, typ: 'JWT' },
    {
      iss: ISSUER,
      sub: 'ag_test',
      aud: 'mcp',
      iat: now,
      exp: now + 300,
      jti: `mcp-${++counter}`,
      domain: 'mcp.example.com',
      client_id: 'ag_test',
      scope: 'mcp',
    },
    key,
  );
}

export function jwks(...keys: TestKey[]): { keys: Record<string, unknown>[] } {
  return { keys: keys.map((k) => k.jwk) };
}
