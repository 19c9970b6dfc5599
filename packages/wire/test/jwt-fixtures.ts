// Test fixtures for the JWT verifier: real RSA keys and raw token crafting,
// so attacks (alg confusion, forged headers) can be built byte by byte.
import {
  constants,
  createHmac,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
} from 'node:crypto';

export interface TestKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Public JWK as a LIME Core publishes it. */
  jwk: Record<string, unknown>;
}

const keyCache = new Map<string, TestKey>();

/** An RSA key pair (cached per kid+size, key generation is slow). */
export function rsaKey(kid = 'k1', bits = 2048, exponent = 65537): TestKey {
  const id = `${kid}/${bits}/${exponent}`;
  const hit = keyCache.get(id);
  if (hit) return hit;
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicExponent: exponent,
  });
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as object), kid, use: 'sig', alg: 'RS256' };
  const key = { kid, privateKey, publicKey, jwk };
  keyCache.set(id, key);
  return key;
}

export const b64u = (v: string | Buffer | Uint8Array): string =>
  Buffer.from(typeof v === 'string' ? Buffer.from(v, 'utf8') : v).toString('base64url');

export const json64 = (v: unknown): string => b64u(JSON.stringify(v));

/** Sign arbitrary header/payload JSON with RS256 (PKCS#1 v1.5). */
export function signRaw(
  header: unknown,
  payload: unknown,
  key: TestKey,
  algorithm: 'RS256' | 'PS256' = 'RS256',
): string {
  const input = `${typeof header === 'string' ? header : json64(header)}.${
    typeof payload === 'string' ? payload : json64(payload)
  }`;
  const sig =
    algorithm === 'RS256'
      ? nodeSign('RSA-SHA256', Buffer.from(input), key.privateKey)
      : nodeSign('sha256', Buffer.from(input), {
          key: key.privateKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: 32,
        });
  return `${input}.${b64u(sig)}`;
}

/** HS256 token whose HMAC secret is the given bytes (the "public key as secret" attack). */
export function signHs256(header: unknown, payload: unknown, secret: string | Buffer): string {
  const input = `${json64(header)}.${json64(payload)}`;
  return `${input}.${b64u(createHmac('sha256', secret).update(input).digest())}`;
}

export const NOW_MS = 1_800_000_000_000;
export const NOW = NOW_MS / 1000;

/** A valid MCP-like payload at {@link NOW}. */
export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    iss: 'https://core.test/api/v1',
    sub: 'agent_1',
    aud: 'mcp',
    iat: NOW - 10,
    exp: NOW + 290,
    jti: 'jti_1',
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base;
}

export const header = (overrides: Record<string, unknown> = {}, kid = 'k1') => {
  const h: Record<string, unknown> = { alg: 'RS256', kid, typ: 'JWT' };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete h[k];
    else h[k] = v;
  }
  return h;
};

/** A fetch answering a JWK Set (or whatever `body` says), counting calls. */
export function jwksFetch(getBody: () => unknown | Response) {
  const calls: string[] = [];
  const fetch = async (input: string | URL | Request): Promise<Response> => {
    calls.push(String(input));
    const body = getBody();
    if (body instanceof Response) return body;
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fetch, calls };
}
