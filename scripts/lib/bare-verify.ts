// The ceiling both verifier benches compare against: bare crypto.verify of a
// token, its signing input and signature taken from it, no parsing, no checks.
import { type KeyObject, verify } from 'node:crypto';

/** True when `token`'s RS256 signature verifies with `key`; nothing else is read. */
export function bareVerify(token: string, key: KeyObject): boolean {
  const dot = token.lastIndexOf('.');
  return verify(
    'RSA-SHA256',
    Buffer.from(token.slice(0, dot), 'latin1'),
    key,
    Buffer.from(token.slice(dot + 1), 'base64url'),
  );
}
