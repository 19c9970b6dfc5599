// Test-only token factory: real RSA keys and raw token crafting with
// node:crypto, so attacks (alg confusion, forged headers, odd claims) can be
// built byte by byte. Keys are generated once per kid and size.
import { constants, createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

export interface TestKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Public JWK as a LIME Core publishes it. */
  jwk: Record<string, unknown>;
}

const cache = new Map<string, TestKey>();

export function rsaKey(kid = 'k1', bits = 2048, exponent = 65537): TestKey {
  const id = `${kid}/${bits}/${exponent}`;
  const hit = cache.get(id);
  if (hit) return hit;
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicExponent: exponent,
  });
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as object), kid, use: 'sig', alg: 'RS256' };
  const key = { kid, privateKey, publicKey, jwk };
  cache.set(id, key);
  return key;
}

export const b64u = (v: string | Uint8Array): string =>
  Buffer.from(typeof v === 'string' ? Buffer.from(v, 'utf8') : v).toString('base64url');
export const json64 = (v: unknown): string => b64u(JSON.stringify(v));

/** Sign raw header/payload (objects, or pre-encoded segments) with RS256 or PS256. */
export function signRaw(
  header: unknown,
  payload: unknown,
  key: TestKey,
  algorithm: 'RS256' | 'PS256' = 'RS256',
): string {
  const input = `${typeof header === 'string' ? header : json64(header)}.${
    typeof payload === 'string' ? payload : json64(payload)
  }`;
  const signature =
    algorithm === 'RS256'
      ? sign('RSA-SHA256', Buffer.from(input), key.privateKey)
      : sign('sha256', Buffer.from(input), {
          key: key.privateKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: 32,
        });
  return `${input}.${b64u(signature)}`;
}

/** HS256 with an arbitrary secret (the classic "public key as HMAC secret" confusion). */
export function signHs256(header: unknown, payload: unknown, secret: string | Buffer): string {
  const input = `${json64(header)}.${json64(payload)}`;
  return `${input}.${b64u(createHmac('sha256', secret).update(input).digest())}`;
}

export const ISSUER = 'http://127.0.0.1/test-core';

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
