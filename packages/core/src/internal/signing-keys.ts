import { createHash, generateKeyPair, type KeyObject, sign } from 'node:crypto';
import { JWT_ALG, type RsaPublicJwk } from '@lime/wire';
import type { JwksShape } from '../options.js';

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  jwk: RsaPublicJwk;
  /** base64url of the JOSE header, computed once. */
  header: string;
}

function generateRsa(modulusLength: number): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength, publicExponent: 0x10001 }, (err, _pub, priv) =>
      err ? reject(err) : resolve(priv),
    );
  });
}

/** How the keyring writes JWT headers and the JWKS document. */
export interface KeyringFormat {
  /** Put `typ: "JWT"` in the JOSE header. */
  typ: boolean;
  jwksShape: JwksShape;
}

async function createKey(modulusLength: number, typ: boolean): Promise<SigningKey> {
  return describeKey(await generateRsa(modulusLength), typ);
}

function describeKey(privateKey: KeyObject, typ: boolean): SigningKey {
  const pub = privateKey.export({ format: 'jwk' }) as { n: string; e: string };
  // RFC 7638 thumbprint as kid: stable, unique, reveals nothing.
  const kid = createHash('sha256')
    .update(JSON.stringify({ e: pub.e, kty: 'RSA', n: pub.n }))
    .digest('base64url');
  const jwk: RsaPublicJwk = { kty: 'RSA', kid, use: 'sig', alg: JWT_ALG, n: pub.n, e: pub.e };
  const header = Buffer.from(
    JSON.stringify(typ ? { alg: JWT_ALG, kid, typ: 'JWT' } : { alg: JWT_ALG, kid }),
  ).toString('base64url');
  return { kid, privateKey, jwk, header };
}

function signAsync(data: Buffer, key: KeyObject): Promise<Buffer> {
  // The callback form runs on the libuv thread pool, off the event loop.
  return new Promise((resolve, reject) => {
    sign('sha256', data, key, (err, sig) => (err ? reject(err) : resolve(sig)));
  });
}

/**
 * The Core's signing keys (PROTOCOL.md §6): one active key signs; every
 * published key appears in the JWKS until it is retired.
 */
export class SigningKeyring {
  private readonly keys = new Map<string, SigningKey>();
  private active!: SigningKey;
  private jwksCache: string | undefined;

  private constructor(
    private readonly modulusLength: number,
    private readonly format: KeyringFormat,
  ) {}

  static async create(
    modulusLength: number,
    first: KeyObject | undefined,
    format: KeyringFormat = { typ: true, jwksShape: 'combined' },
  ): Promise<SigningKeyring> {
    const ring = new SigningKeyring(modulusLength, format);
    const key = first ? describeKey(first, format.typ) : await createKey(modulusLength, format.typ);
    ring.keys.set(key.kid, key);
    ring.active = key;
    return ring;
  }

  get activeKid(): string {
    return this.active.kid;
  }

  publishedKids(): string[] {
    return [...this.keys.keys()];
  }

  /** Publish a new key; it signs from now on when `activate` (the default). */
  async rotate(activate = true): Promise<string> {
    const key = await createKey(this.modulusLength, this.format.typ);
    this.keys.set(key.kid, key);
    if (activate) this.active = key;
    this.jwksCache = undefined;
    return key.kid;
  }

  /** Make a published key the signing key. Returns false when unknown. */
  activate(kid: string): boolean {
    const key = this.keys.get(kid);
    if (!key) return false;
    this.active = key;
    return true;
  }

  /** Unpublish a key. 'unknown' or 'active' when it cannot be retired. */
  retire(kid: string): 'ok' | 'unknown' | 'active' {
    if (!this.keys.has(kid)) return 'unknown';
    if (this.active.kid === kid) return 'active';
    this.keys.delete(kid);
    this.jwksCache = undefined;
    return 'ok';
  }

  /**
   * The §6 document, serialized. `combined`: raw RFC 7517 `keys` and, for
   * clients that unwrap the envelope, the same set under `ok`/`data`;
   * `raw` or `enveloped`: only one of the two.
   */
  jwksJson(): string {
    if (this.jwksCache === undefined) {
      const keys = [...this.keys.values()].map((k) => k.jwk);
      const shape = this.format.jwksShape;
      this.jwksCache = JSON.stringify(
        shape === 'raw'
          ? { keys }
          : shape === 'enveloped'
            ? { ok: true, data: { keys } }
            : { keys, ok: true, data: { keys } },
      );
    }
    return this.jwksCache;
  }

  /** Sign `claims` as an RS256 JWT with the active key. */
  async sign(claims: object): Promise<string> {
    const key = this.active;
    const input = `${key.header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    const sig = await signAsync(Buffer.from(input), key.privateKey);
    return `${input}.${sig.toString('base64url')}`;
  }
}
