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
  toString(encoding?: string, start?: number, end?: number): string;
  write(text: string, offset: number, length: number, encoding: string): number;
  subarray(start?: number, end?: number): NodeBufferLike;
}
interface NodeBufferStatic {
  from(text: string, encoding: string): NodeBufferLike;
  allocUnsafeSlow(size: number): NodeBufferLike;
  byteLength(text: string, encoding: string): number;
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
        typeof buffer.Buffer.allocUnsafeSlow === 'function' &&
        typeof buffer.Buffer.byteLength === 'function'
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
  // A plain view: cheaper to make than a Buffer's subarray, and all crypto.verify needs.
  const data = new Uint8Array(scratch.buffer, scratch.byteOffset, written);
  return node.crypto.verify('RSA-SHA256', data, key.handle, signature);
}

/** Decoded byte length of `length` base64url characters (unpadded). */
function decodedLength(length: number): number {
  return (length * 3) >>> 2;
}

// Value of each base64url character (-1: not in the alphabet), for the tail check.
const TAIL_VALUE = new Int8Array(128).fill(-1);
for (const [i, c] of [
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
].entries()) {
  TAIL_VALUE[c.charCodeAt(0)] = i;
}

/**
 * The cheap half of the canonical check of an ASCII `segment`, before
 * `Buffer` decodes it: not empty, no length of 1 mod 4, none of the standard
 * alphabet's `+` and `/` (which `Buffer` also takes), and zero unused bits
 * in the last character. The other half is the decoded length: `Buffer`
 * skips every other character, so a segment that decodes to fewer than
 * `decodedLength` bytes held one.
 */
function canonicalShape(segment: string): boolean {
  const length = segment.length;
  const rest = length & 3;
  if (length === 0 || rest === 1) return false;
  if (segment.indexOf('+') !== -1 || segment.indexOf('/') !== -1) return false;
  const code = segment.charCodeAt(length - 1);
  const last = code < 128 ? TAIL_VALUE[code]! : -1;
  if (last < 0) return false;
  if (rest === 2) return (last & 0x0f) === 0;
  if (rest === 3) return (last & 0x03) === 0;
  return true;
}

/**
 * True when every character of `text` is ASCII. `Buffer` reads a character
 * beyond Latin-1 by its low byte only (`'Ł'` decodes as `'A'`), so the
 * length check of {@link canonicalShape} holds only for ASCII input.
 */
export function isAsciiText(text: string): boolean {
  const node = findNodeBuiltins();
  if (node) return node.Buffer.byteLength(text, 'utf8') === text.length;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 128) return false;
  return true;
}

/**
 * Decode `segment` when it is canonical unpadded base64url (RFC 4648 §5: only
 * the 64 alphabet characters, no padding, zero unused trailing bits, not
 * empty); `null` otherwise. On Node: the shape checks of
 * {@link canonicalShape}, then `Buffer` decodes, and the byte count proves
 * no other character was skipped (cheaper than re-encoding and comparing).
 */
export function decodeCanonicalSegment(segment: string): Uint8Array | null {
  const node = findNodeBuiltins();
  if (node) {
    if (!canonicalShape(segment) || !isAsciiText(segment)) return null;
    const bytes = node.Buffer.from(segment, 'base64url');
    return bytes.length === decodedLength(segment.length) ? bytes : null;
  }
  return isStrictBase64url(segment) ? decodeBase64urlPortable(segment) : null;
}

/**
 * Node's allocation-free decoding of a token's segments, for the verifier's
 * hot path; `null` on other runtimes (use {@link decodeCanonicalSegment}).
 * Input must be ASCII ({@link isAsciiText} on the whole token, once).
 */
export interface SegmentScratch {
  /** UTF-8 text of a canonical `segment` (invalid UTF-8 becomes U+FFFD), or `null`. */
  text(segment: string): string | null;
  /**
   * Decode a canonical `segment` into a shared buffer and return its byte
   * count, or -1. {@link view} reads it until the next call: use it
   * synchronously (a signature checked by Node's synchronous `crypto.verify`).
   */
  bytes(segment: string): number;
  /** The bytes of the last {@link bytes} call (a view of the shared buffer). */
  view(length: number): Uint8Array;
}

let segmentScratch: SegmentScratch | null | undefined;

/** The Node {@link SegmentScratch}, or `null` where `Buffer` is absent. */
export function nodeSegmentScratch(): SegmentScratch | null {
  if (segmentScratch !== undefined) return segmentScratch;
  const node = findNodeBuiltins();
  segmentScratch = node ? createSegmentScratch(node.Buffer) : null;
  return segmentScratch;
}

function createSegmentScratch(B: NodeBufferStatic): SegmentScratch {
  let textBuffer = B.allocUnsafeSlow(8_192);
  let byteBuffer = B.allocUnsafeSlow(1_024);
  let lastView: Uint8Array = new Uint8Array(0);
  /** Decode into `target`; the byte count, or -1 when a character was skipped. */
  const write = (segment: string, target: NodeBufferLike): number => {
    const expected = decodedLength(segment.length);
    const written = target.write(segment, 0, target.length, 'base64url');
    return written === expected ? written : -1;
  };
  return {
    text(segment) {
      if (!canonicalShape(segment)) return null;
      const need = decodedLength(segment.length);
      if (textBuffer.length < need) textBuffer = B.allocUnsafeSlow(need);
      const written = write(segment, textBuffer);
      return written < 0 ? null : textBuffer.toString('utf8', 0, written);
    },
    bytes(segment) {
      if (!canonicalShape(segment)) return -1;
      const need = decodedLength(segment.length);
      if (byteBuffer.length < need) {
        byteBuffer = B.allocUnsafeSlow(need);
        lastView = new Uint8Array(0);
      }
      return write(segment, byteBuffer);
    },
    view(length) {
      // Signatures of one key share a length: one view serves them all.
      if (lastView.length !== length) {
        lastView = new Uint8Array(byteBuffer.buffer, byteBuffer.byteOffset, length);
      }
      return lastView;
    },
  };
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
