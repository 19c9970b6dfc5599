import { createHash, generateKeyPair, type KeyObject, sign } from 'node:crypto';
import { JWT_ALG, type RsaPublicJwk } from '@lime/wire';
import type { JwksShape } from '../options.js';
import { invalidField } from './problem.js';

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  jwk: RsaPublicJwk;
  /** base64url of the JOSE header, computed once. */
  header: string;
  /** When it was published (ms). */
  publishedAt: number;
  /** When it starts signing on its own (ms), or null. */
  activatesAt: number | null;
  /** When it stopped signing (ms), or null while it never did or still does. */
  retiredAt: number | null;
}

function generateRsa(modulusLength: number): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength, publicExponent: 0x10001 }, (err, _pub, priv) =>
      err ? reject(err) : resolve(priv),
    );
  });
}

/** How the keyring writes JWT headers and the JWKS document, and times rotations. */
export interface KeyringFormat {
  /** Put `typ: "JWT"` in the JOSE header. */
  typ: boolean;
  jwksShape: JwksShape;
  /** ms since the epoch. */
  clock: () => number;
  /** A rotated key signs this long after it is published (ms). */
  activationDelayMs: number;
  /** A key that stopped signing is unpublished this long after (ms). */
  retireAfterMs: number;
  /** Most keys published at once (≥ 2). */
  maxPublished: number;
  /** Key generation of `rotate` (tests inject a fast one). @default RSA of `modulusLength` bits */
  generate?: (modulusLength: number) => Promise<KeyObject>;
  /** Called after every rotation, activation and retirement (the state file saves). */
  onChange?: () => void;
}

/** One key as a state file keeps it (see core-state.ts). Times in ms since the epoch. */
export interface SavedSigningKey {
  /** PKCS #8 PEM of the RSA private key. */
  privateKeyPem: string;
  publishedAt: number;
  activatesAt: number | null;
  retiredAt: number | null;
}

/** A whole keyring as a state file keeps it: published keys newest first, and the signing one. */
export interface SavedKeyring {
  activeKid: string;
  keys: SavedSigningKey[];
}

/** The kid of a public key: its RFC 7638 thumbprint. */
export function kidOf(key: KeyObject): string {
  const pub = key.export({ format: 'jwk' }) as { n: string; e: string };
  return createHash('sha256')
    .update(JSON.stringify({ e: pub.e, kty: 'RSA', n: pub.n }))
    .digest('base64url');
}

/**
 * When a rotated key starts signing: after the activation delay
 * (`'scheduled'`), at once (`'now'`), or only when activated by hand (`false`).
 */
export type KeyActivation = 'scheduled' | 'now' | false;

/**
 * The activation an admin `activate` value asks for: absent or
 * `'scheduled'`, `'now'` or `true` (what `true` always meant: sign at once),
 * `false`. Anything else is a 400 naming the field.
 */
export function keyActivation(value: unknown): KeyActivation {
  if (value === undefined || value === 'scheduled') return 'scheduled';
  if (value === 'now' || value === true) return 'now';
  if (value === false) return false;
  throw invalidField('activate', "must be 'scheduled', 'now', true or false");
}

async function createKey(modulusLength: number, typ: boolean, now: number): Promise<SigningKey> {
  return describeKey(await generateRsa(modulusLength), typ, now);
}

function describeKey(privateKey: KeyObject, typ: boolean, now: number): SigningKey {
  const pub = privateKey.export({ format: 'jwk' }) as { n: string; e: string };
  // RFC 7638 thumbprint as kid: stable, unique, reveals nothing.
  const kid = kidOf(privateKey);
  const jwk: RsaPublicJwk = { kty: 'RSA', kid, use: 'sig', alg: JWT_ALG, n: pub.n, e: pub.e };
  const header = Buffer.from(
    JSON.stringify(typ ? { alg: JWT_ALG, kid, typ: 'JWT' } : { alg: JWT_ALG, kid }),
  ).toString('base64url');
  return { kid, privateKey, jwk, header, publishedAt: now, activatesAt: null, retiredAt: null };
}

function signAsync(data: Buffer, key: KeyObject): Promise<Buffer> {
  // The callback form runs on the libuv thread pool, off the event loop.
  return new Promise((resolve, reject) => {
    sign('sha256', data, key, (err, sig) => (err ? reject(err) : resolve(sig)));
  });
}

/**
 * The Core's signing keys (PROTOCOL.md §6): one active key signs; every
 * published key appears in the JWKS, newest first. A rotation publishes the
 * new key at once and, by default, lets it sign only after
 * `activationDelayMs` (verifiers refetch the JWKS by then); the key it
 * replaces stays published for `retireAfterMs` (the longest token lifetime
 * plus clock skew), then goes. At most `maxPublished` keys are published.
 * Scheduled steps happen lazily, on the injected clock, whenever the
 * keyring is used.
 */
export class SigningKeyring {
  /** Newest first. */
  private keys: SigningKey[] = [];
  private active!: SigningKey;
  private jwksCache: string | undefined;

  private constructor(
    private readonly modulusLength: number,
    private readonly format: KeyringFormat,
  ) {}

  static async create(
    modulusLength: number,
    first: KeyObject | undefined,
    format: KeyringFormat,
  ): Promise<SigningKeyring> {
    const ring = new SigningKeyring(modulusLength, format);
    const now = format.clock();
    const key = first
      ? describeKey(first, format.typ, now)
      : await createKey(modulusLength, format.typ, now);
    ring.keys = [key];
    ring.active = key;
    return ring;
  }

  /**
   * A keyring saved by {@link snapshot}: the same keys, published and
   * scheduled as they were (steps that fell due meanwhile happen at once).
   * `first`, when given and not the saved active key, is added and signs at
   * once, as by a rotation with `'now'`: the keys it replaces stay published
   * until they retire, so tokens they signed keep verifying.
   */
  static restore(
    modulusLength: number,
    saved: {
      activeKid: string;
      keys: Array<Omit<SavedSigningKey, 'privateKeyPem'> & { privateKey: KeyObject }>;
    },
    first: KeyObject | undefined,
    format: KeyringFormat,
  ): SigningKeyring {
    const ring = new SigningKeyring(modulusLength, format);
    ring.keys = saved.keys.map((k) => ({
      ...describeKey(k.privateKey, format.typ, k.publishedAt),
      activatesAt: k.activatesAt,
      retiredAt: k.retiredAt,
    }));
    const active = ring.keys.find((k) => k.kid === saved.activeKid);
    if (!active) throw new Error('the saved active kid is not among the saved keys');
    ring.active = active;
    if (first) {
      const kid = kidOf(first);
      const now = format.clock();
      let key = ring.keys.find((k) => k.kid === kid);
      if (!key) {
        key = describeKey(first, format.typ, now);
        ring.keys.unshift(key);
      }
      ring.makeActive(key, now);
    }
    ring.advance();
    return ring;
  }

  /** Every published key with its schedule, for a state file. Holds private keys. */
  snapshot(): SavedKeyring {
    this.advance();
    return {
      activeKid: this.active.kid,
      keys: this.keys.map((k) => ({
        privateKeyPem: k.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
        publishedAt: k.publishedAt,
        activatesAt: k.activatesAt,
        retiredAt: k.retiredAt,
      })),
    };
  }

  get activeKid(): string {
    this.advance();
    return this.active.kid;
  }

  /** Published kids, newest first. */
  publishedKids(): string[] {
    this.advance();
    return this.keys.map((k) => k.kid);
  }

  /** The key scheduled to sign next and when (ms), if any. */
  scheduled(): { kid: string; activatesAt: number } | undefined {
    this.advance();
    const key = this.keys.find((k) => k.activatesAt !== null);
    return key ? { kid: key.kid, activatesAt: key.activatesAt! } : undefined;
  }

  /**
   * Publish a new key. It signs after `activationDelayMs` (`'scheduled'`,
   * the default), at once (`'now'`), or when activated (`false`). A key
   * scheduled earlier that never signed is superseded (unpublished).
   */
  async rotate(activation: KeyActivation = 'scheduled'): Promise<{
    kid: string;
    activatesAt: number | null;
  }> {
    const generate = this.format.generate ?? generateRsa;
    const now = this.format.clock();
    const key = describeKey(await generate(this.modulusLength), this.format.typ, now);
    if (activation === 'scheduled') {
      this.keys = this.keys.filter((k) => k.activatesAt === null);
      key.activatesAt = now + this.format.activationDelayMs;
    }
    this.keys.unshift(key);
    if (activation === 'now') this.makeActive(key, now);
    this.jwksCache = undefined;
    this.advance();
    this.format.onChange?.();
    return { kid: key.kid, activatesAt: key.activatesAt };
  }

  /** Make a published key the signing key. Returns false when unknown. */
  activate(kid: string): boolean {
    this.advance();
    const key = this.keys.find((k) => k.kid === kid);
    if (!key) return false;
    this.makeActive(key, this.format.clock());
    this.advance();
    this.format.onChange?.();
    return true;
  }

  /** Unpublish a key. 'unknown' or 'active' when it cannot be retired. */
  retire(kid: string): 'ok' | 'unknown' | 'active' {
    this.advance();
    const key = this.keys.find((k) => k.kid === kid);
    if (!key) return 'unknown';
    if (this.active === key) return 'active';
    this.keys = this.keys.filter((k) => k !== key);
    this.jwksCache = undefined;
    this.format.onChange?.();
    return 'ok';
  }

  private makeActive(key: SigningKey, now: number): void {
    key.activatesAt = null;
    key.retiredAt = null;
    if (this.active !== key) this.active.retiredAt = now;
    this.active = key;
  }

  /** Apply what is due: a scheduled activation, retirements, the cap. */
  private advance(): void {
    const now = this.format.clock();
    const due = this.keys.find((k) => k.activatesAt !== null && k.activatesAt <= now);
    if (due) this.makeActive(due, now);
    const before = this.keys.length;
    const { retireAfterMs, maxPublished } = this.format;
    this.keys = this.keys.filter(
      (k) => k === this.active || k.retiredAt === null || now < k.retiredAt + retireAfterMs,
    );
    // Over the cap: drop the oldest key that neither signs nor is about to.
    for (let i = this.keys.length - 1; this.keys.length > maxPublished && i >= 0; i--) {
      const k = this.keys[i]!;
      if (k !== this.active && k.activatesAt === null) this.keys.splice(i, 1);
    }
    if (due || this.keys.length !== before) this.jwksCache = undefined;
  }

  /**
   * The §6 document, serialized. `combined`: raw RFC 7517 `keys` and, for
   * clients that unwrap the envelope, the same set under `ok`/`data`;
   * `raw` or `enveloped`: only one of the two.
   */
  jwksJson(): string {
    this.advance();
    if (this.jwksCache === undefined) {
      const keys = this.keys.map((k) => k.jwk);
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
    this.advance();
    const key = this.active;
    const input = `${key.header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    const sig = await signAsync(Buffer.from(input), key.privateKey);
    return `${input}.${sig.toString('base64url')}`;
  }
}
