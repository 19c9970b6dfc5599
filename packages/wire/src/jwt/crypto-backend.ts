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
  from(bytes: Uint8Array): NodeBufferLike;
  allocUnsafeSlow(size: number): NodeBufferLike;
  byteLength(text: string, encoding: string): number;
}
interface NodeCryptoLike {
  createPublicKey(
    input:
      | { key: Record<string, string>; format: 'jwk' }
      | { key: Uint8Array; format: 'der'; type: 'spki' },
  ): NodeKeyObjectLike;
  verify(algorithm: string, data: Uint8Array, key: unknown, signature: Uint8Array): boolean;
}
interface NodeKeyObjectLike {
  asymmetricKeyType?: string;
  export(options: { format: 'jwk' }): { kty?: string; n?: string; e?: string };
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

function importJwk(node: NodeBuiltins, jwk: Record<string, string>): unknown {
  try {
    return node.crypto.createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/**
 * The key imported from its SubjectPublicKeyInfo (DER built here from `n`
 * and `e`), or `undefined`. On Node 20 `crypto.verify` is about 0.5 µs (of
 * ~28) faster with a key imported this way than with one imported from the
 * JWK (Node 24: the same either way). Kept only when the imported key
 * exports exactly the `n` and `e` it was given.
 */
function importSpki(node: NodeBuiltins, material: RsaKeyMaterial): unknown {
  try {
    const n = unsignedBytes(node.Buffer.from(material.n, 'base64url'));
    const e = unsignedBytes(node.Buffer.from(material.e, 'base64url'));
    if (n.length === 0 || e.length === 0) return undefined;
    const key = node.crypto.createPublicKey({ key: rsaSpkiDer(n, e), format: 'der', type: 'spki' });
    const back = key.export({ format: 'jwk' });
    const same =
      key.asymmetricKeyType === 'rsa' &&
      back.n === node.Buffer.from(n).toString('base64url') &&
      back.e === node.Buffer.from(e).toString('base64url');
    return same ? key : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The DER SubjectPublicKeyInfo (RFC 5280 §4.1, RFC 8017 A.1.1) of the RSA
 * key with modulus `n` and exponent `e` (big-endian, no leading zeros).
 */
export function rsaSpkiDer(n: Uint8Array, e: Uint8Array): Uint8Array {
  const rsaPublicKey = derSequence([derInteger(n), derInteger(e)]);
  // AlgorithmIdentifier rsaEncryption (1.2.840.113549.1.1.1), NULL parameters.
  const algorithm = [
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
  ];
  // BIT STRING with no unused bits, holding the RSAPublicKey.
  const bitString = [0x03, ...derLength(rsaPublicKey.length + 1), 0x00, ...rsaPublicKey];
  return Uint8Array.from(derSequence([algorithm, bitString]));
}

/** Big-endian bytes without leading zeros. */
function unsignedBytes(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  return bytes.subarray(i);
}

function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  if (length < 0x100) return [0x81, length];
  if (length < 0x10000) return [0x82, length >> 8, length & 0xff];
  throw new RangeError('DER length too large');
}

/** A non-negative INTEGER from its minimal big-endian bytes. */
function derInteger(bytes: Uint8Array): number[] {
  const body = (bytes[0]! & 0x80) === 0 ? [...bytes] : [0x00, ...bytes];
  return [0x02, ...derLength(body.length), ...body];
}

function derSequence(parts: number[][]): number[] {
  const body = parts.flat();
  return [0x30, ...derLength(body.length), ...body];
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
      const handle = importSpki(node, material) ?? importJwk(node, jwk);
      if (handle !== undefined) return { backend: 'node', handle };
      // else fall through to WebCrypto
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

/**
 * Check an RS256 signature over `data` (the signing input's bytes) with a
 * Node key: synchronous. For the verifier's Node fast path, where `data` is a
 * view of {@link SegmentScratch.signingInput}.
 */
export function verifyRs256Bytes(
  key: ImportedKey,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  return findNodeBuiltins()!.crypto.verify('RSA-SHA256', data, key.handle, signature);
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
 * Node's allocation-free decoding of a token, for the verifier's hot path;
 * `null` on other runtimes (use {@link decodeCanonicalSegment}). One native
 * copy of the whole token ({@link load}) proves it ASCII and leaves its
 * signing input in a shared buffer; the segments decode into reused buffers.
 * The shared buffers hold one token at a time: read them synchronously
 * (Node's `crypto.verify` is) and {@link load} again after any wait.
 */
export interface SegmentScratch {
  /**
   * Copy `token` into the shared token buffer; `false` (nothing usable
   * loaded) when it holds a non-ASCII character.
   */
  load(token: string): boolean;
  /** The token the shared token buffer holds now, if any. */
  readonly loaded: string | undefined;
  /** Bytes `[0, end)` of the loaded token (`header.payload`: the signing input). */
  signingInput(end: number): Uint8Array;
  /** UTF-8 text of a canonical `segment` (invalid UTF-8 becomes U+FFFD), or `null`. */
  text(segment: string): string | null;
  /**
   * Decode a canonical `segment` into a shared buffer and return its byte
   * count, or -1. {@link view} reads it until the next call.
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
  let tokenBuffer = B.allocUnsafeSlow(3 * 8_192);
  let textBuffer = B.allocUnsafeSlow(8_192);
  let byteBuffer = B.allocUnsafeSlow(1_024);
  let loaded: string | undefined;
  let lastInput: Uint8Array = new Uint8Array(0);
  let lastView: Uint8Array = new Uint8Array(0);
  /** Decode into `target`; the byte count, or -1 when a character was skipped. */
  const write = (segment: string, target: NodeBufferLike): number => {
    const written = target.write(segment, 0, target.length, 'base64url');
    return written === decodedLength(segment.length) ? written : -1;
  };
  return {
    get loaded() {
      return loaded;
    },
    load(token) {
      loaded = undefined;
      // UTF-8 takes 2 or 3 bytes for each non-ASCII UTF-16 unit, so with room
      // for 3 bytes per character nothing is cut short, and the byte count
      // equals the length only for an ASCII token. (With less room, a cut
      // could land exactly on the length.)
      if (tokenBuffer.length < 3 * token.length) {
        tokenBuffer = B.allocUnsafeSlow(3 * token.length);
        lastInput = new Uint8Array(0);
      }
      const written = tokenBuffer.write(token, 0, tokenBuffer.length, 'utf8');
      if (written !== token.length) return false;
      loaded = token;
      return true;
    },
    signingInput(end) {
      // Tokens of one issuer often share a length: one view serves them.
      if (lastInput.length !== end) {
        lastInput = new Uint8Array(tokenBuffer.buffer, tokenBuffer.byteOffset, end);
      }
      return lastInput;
    },
    text(segment) {
      if (!canonicalShape(segment)) return null;
      const need = decodedLength(segment.length);
      if (textBuffer.length < need) textBuffer = B.allocUnsafeSlow(need);
      const written = write(segment, textBuffer);
      if (written < 0) return null;
      return textBuffer.toString('utf8', 0, written);
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
