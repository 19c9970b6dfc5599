/**
 * Strict base64url (RFC 4648 §5, no padding) for JWT segments. Validation is
 * separate from decoding so the fast decoder (Node's `Buffer`, found at run
 * time without importing `node:`) never sees input it would leniently accept.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const VALUE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/**
 * True when `text[start, end)` is canonical unpadded base64url: only the 64
 * alphabet characters, a length that is not 1 mod 4, and zero unused bits in
 * the last character (so no two strings decode to the same bytes).
 *
 * @example
 * isStrictBase64url('AA'); // true
 * isStrictBase64url('AB'); // false: unused bits set
 */
export function isStrictBase64url(text: string, start = 0, end = text.length): boolean {
  const length = end - start;
  if (length === 0 || length % 4 === 1) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || VALUE[c]! < 0) return false;
  }
  const last = VALUE[text.charCodeAt(end - 1)]!;
  if (length % 4 === 2) return (last & 0x0f) === 0;
  if (length % 4 === 3) return (last & 0x03) === 0;
  return true;
}

/** Decoded byte length of a valid unpadded base64url string of `length` characters. */
export function base64urlByteLength(length: number): number {
  return Math.floor((length * 3) / 4);
}

/**
 * Portable decoder, used where `Buffer` is not available. Input must be valid.
 *
 * @example
 * decodeBase64urlPortable('AQAB'); // Uint8Array [1, 0, 1]
 */
export function decodeBase64urlPortable(text: string): Uint8Array {
  const out = new Uint8Array(base64urlByteLength(text.length));
  let acc = 0;
  let bits = 0;
  let j = 0;
  for (let i = 0; i < text.length; i++) {
    acc = (acc << 6) | VALUE[text.charCodeAt(i)]!;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/**
 * Base64url-encode bytes (no padding).
 *
 * @example
 * encodeBase64url(new Uint8Array([1, 0, 1])); // 'AQAB'
 */
export function encodeBase64url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out +=
      ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  if (i < bytes.length) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]!;
    if (i + 1 < bytes.length) out += ALPHABET[(n >> 6) & 63]!;
  }
  return out;
}
