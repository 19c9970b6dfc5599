/**
 * RS256 signature checks on any runtime, fast on Node. Nothing here imports
 * `node:`: on Node (≥ 20.16) the built-ins are found at run time through
 * `process.getBuiltinModule`, so the same bundle loads on edge runtimes and
 * uses WebCrypto there.
 *
 * Why not WebCrypto everywhere: on Node, `crypto.subtle.verify` costs a
 * promise, a thread-pool hop and a copy per call (~8 k/s per core), while the
 * synchronous `crypto.verify` with a cached `KeyObject` reaches ~38 k/s.
 */
import { decodeBase64urlPortable, isStrictBase64url } from './base64url.js';

/** Which implementation checks signatures. */
export type CryptoBackendName = 'node' | 'webcrypto';

/** Preference for {@link JwksCache} and the verifier: `auto` picks `node` when available. */
export type CryptoPreference = 'auto' | CryptoBackendName;

/** The public parts of an RSA JWK the backends need. */
export interface RsaKeyMaterial {
  n: string;
  e: string;
}

/** An imported public key, ready for repeated verification. */
export interface ImportedKey {
  readonly backend: CryptoBackendName;
  /** Node `KeyObject` or WebCrypto `CryptoKey`; opaque to callers. */
  readonly handle: unknown;
}

// Minimal structural views of the Node built-ins, so no `node:` type import is needed.
interface NodeBufferLike extends Uint8Array {
  toString(encoding?: string): string;
  write(text: string, offset: number, length: number, encoding: string): number;
  subarray(start?: number, end?: number): NodeBufferLike;
}
interface NodeBufferStatic {
  from(text: string, encoding: string): NodeBufferLike;
  allocUnsafeSlow(size: number): NodeBufferLike;
}
interface NodeCryptoLike {
  createPublicKey(input: { key: Record<string, string>; format: 'jwk' }): unknown;
  verify(algorithm: string, data: Uint8Array, key: unknown, signature: Uint8Array): boolean;
}
interface NodeBuiltins {
  crypto: NodeCryptoLike;
  Buffer: NodeBufferStatic;
}

let nodeBuiltins: NodeBuiltins | null | undefined;

/** Node's crypto and Buffer when the runtime offers `process.getBuiltinModule`, else `null`. */
export function findNodeBuiltins(): NodeBuiltins | null {
  if (nodeBuiltins !== undefined) return nodeBuiltins;
  nodeBuiltins = null;
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
      .process;
    const get = proc?.getBuiltinModule;
    if (typeof get === 'function') {
      const crypto = get.call(proc, 'node:crypto') as Partial<NodeCryptoLike> | undefined;
      const buffer = get.call(proc, 'node:buffer') as { Buffer?: NodeBufferStatic } | undefined;
      if (
        typeof crypto?.createPublicKey === 'function' &&
        typeof crypto.verify === 'function' &&
        typeof buffer?.Buffer?.from === 'function' &&
        typeof buffer.Buffer.allocUnsafeSlow === 'function'
      ) {
        nodeBuiltins = { crypto: crypto as NodeCryptoLike, Buffer: buffer.Buffer };
      }
    }
  } catch {
    nodeBuiltins = null;
  }
  return nodeBuiltins;
}

/**
 * The backend `auto` resolves to on this runtime.
 *
 * @example
 * defaultCryptoBackend(); // 'node' on Node ≥ 20.16, 'webcrypto' on Workers/Deno without node compat
 */
export function defaultCryptoBackend(): CryptoBackendName {
  return findNodeBuiltins() ? 'node' : 'webcrypto';
}

/** Resolve a preference; `node` where Node is absent is a configuration error. */
export function resolveCryptoBackend(preference: CryptoPreference): CryptoBackendName {
  if (preference === 'auto') return defaultCryptoBackend();
  if (preference === 'node' && !findNodeBuiltins()) {
    throw new TypeError(
      "crypto: 'node' was requested but this runtime has no process.getBuiltinModule('node:crypto') — use 'auto' or 'webcrypto'",
    );
  }
  return preference;
}

const RS256_WEBCRYPTO = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

/**
 * Import an RSA public key once, for repeated RS256 checks. On `node` this is
 * synchronous under the hood (`createPublicKey({format: 'jwk'})`); if the
 * runtime's Node layer refuses the key (partial polyfills), WebCrypto is used.
 *
 * @example
 * const key = await importRsaKey({ n, e: 'AQAB' }, defaultCryptoBackend());
 */
export async function importRsaKey(
  material: RsaKeyMaterial,
  backend: CryptoBackendName,
): Promise<ImportedKey> {
  const jwk = { kty: 'RSA', n: material.n, e: material.e };
  if (backend === 'node') {
    const node = findNodeBuiltins();
    if (node) {
      try {
        return {
          backend: 'node',
          handle: node.crypto.createPublicKey({ key: jwk, format: 'jwk' }),
        };
      } catch {
        // fall through to WebCrypto
      }
    }
  }
  const handle = await globalThis.crypto.subtle.importKey(
    'jwk',
    { ...jwk, alg: 'RS256', ext: true },
    RS256_WEBCRYPTO,
    false,
    ['verify'],
  );
  return { backend: 'webcrypto', handle };
}

const encoder = new TextEncoder();

/**
 * Check an RS256 signature over the ASCII `signingInput` (`header.payload`).
 * Synchronous (returns a boolean) with a Node key, a promise with WebCrypto.
 *
 * @example
 * const ok = await verifyRs256(key, 'header.payload', signatureBytes);
 */
export function verifyRs256(
  key: ImportedKey,
  signingInput: string,
  signature: Uint8Array,
): boolean | Promise<boolean> {
  if (key.backend === 'node') {
    const node = findNodeBuiltins()!;
    return node.crypto.verify(
      'RSA-SHA256',
      node.Buffer.from(signingInput, 'latin1'),
      key.handle,
      signature,
    );
  }
  return globalThis.crypto.subtle.verify(
    RS256_WEBCRYPTO,
    key.handle as CryptoKey,
    signature as Uint8Array<ArrayBuffer>,
    encoder.encode(signingInput),
  );
}

// Reused for the signing input of every Node check: `crypto.verify` reads it
// synchronously, so one buffer serves all calls. It holds `header.payload` of
// the last token (never its signature: not a usable bearer).
let signingScratch: NodeBufferLike | undefined;

/**
 * Check an RS256 signature over `token[0, end)` (the ASCII signing input
 * `header.payload`) without building the substring or a fresh buffer for it.
 * Synchronous with a Node key, a promise with WebCrypto.
 */
export function verifyRs256Prefix(
  key: ImportedKey,
  token: string,
  end: number,
  signature: Uint8Array,
): boolean | Promise<boolean> {
  if (key.backend !== 'node') return verifyRs256(key, token.slice(0, end), signature);
  const node = findNodeBuiltins()!;
  let scratch = signingScratch;
  if (scratch === undefined || scratch.length < end) {
    scratch = node.Buffer.allocUnsafeSlow(Math.max(end, 8_192));
    signingScratch = scratch;
  }
  // Every character is base64url or '.', so latin1 is one byte per character.
  const written = scratch.write(token, 0, end, 'latin1');
  return node.crypto.verify('RSA-SHA256', scratch.subarray(0, written), key.handle, signature);
}

/**
 * Decode `segment` when it is canonical unpadded base64url (RFC 4648 §5: only
 * the 64 alphabet characters, no padding, zero unused trailing bits, not
 * empty); `null` otherwise. On Node: decode with `Buffer`, then re-encode and
 * compare — the encoder only produces canonical text and round-trips bytes,
 * so equality holds exactly for canonical input (cheaper than a scan first).
 */
export function decodeCanonicalSegment(segment: string): Uint8Array | null {
  if (segment.length === 0) return null;
  const node = findNodeBuiltins();
  if (node) {
    const bytes = node.Buffer.from(segment, 'base64url');
    return bytes.toString('base64url') === segment ? bytes : null;
  }
  return isStrictBase64url(segment) ? decodeBase64urlPortable(segment) : null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * UTF-8 text of bytes returned by {@link decodeCanonicalSegment}. Invalid
 * UTF-8 throws on WebCrypto runtimes; on Node it becomes U+FFFD.
 */
export function segmentBytesToText(bytes: Uint8Array): string {
  const node = findNodeBuiltins();
  if (node) return (bytes as NodeBufferLike).toString('utf8');
  return utf8.decode(bytes);
}

/** Decode a valid base64url segment to bytes with the fastest decoder available. */
export function decodeSegmentBytes(segment: string): Uint8Array {
  const node = findNodeBuiltins();
  return node ? node.Buffer.from(segment, 'base64url') : decodeBase64urlPortable(segment);
}
