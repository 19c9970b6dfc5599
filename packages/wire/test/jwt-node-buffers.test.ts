// The Node fast path copies each token once into a shared buffer (its prefix
// is the signing input), decodes segments into reused buffers (the payload to
// text, the signature into one shared buffer). These tests pin that reuse
// never lets one token's bytes stand in for another's, that the one copy
// proves a token ASCII, that the cheaper canonical check still refuses what Buffer's lenient decoder
// would take, and that keys imported from DER are the keys of the JWK.
import { Buffer } from 'node:buffer';
import { type createPublicKey, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeCanonicalSegment,
  importRsaKey,
  isAsciiText,
  nodeSegmentScratch,
  rsaSpkiDer,
} from '../src/jwt/crypto-backend.js';
import { createJwtVerifier, JwksCache, JwtVerificationError } from '../src/jwt/index.js';
import { claims, header, jwksFetch, NOW_MS, rsaKey, signRaw } from './jwt-fixtures.js';

const k1 = rsaKey('k1');
const k2 = rsaKey('k2');

function setup(published: () => unknown[]) {
  const { fetch, calls } = jwksFetch(() => ({ keys: published() }));
  const keys = new JwksCache({
    jwksUrl: 'https://core.test/api/v1/core/.well-known/jwks.json',
    fetch,
    crypto: 'node',
    clock: () => NOW_MS,
    minRefreshIntervalMs: 0,
  });
  const verify = createJwtVerifier({
    keys,
    audience: 'mcp',
    maxLifetimeSeconds: 300,
    clock: () => NOW_MS,
  });
  return { verify, keys, calls };
}

describe('segment scratch buffers', () => {
  it('a token waiting for its key keeps its own signature while others verify', async () => {
    let published = [k1.jwk];
    const { verify, keys } = setup(() => published);
    await keys.warmup();
    published = [k1.jwk, k2.jwk];
    // k2 is not cached: this verification goes asynchronous (fetch) …
    const waiting = verify.verifyNow(signRaw(header({ kid: 'k2' }), claims({ sub: 'late' }), k2));
    expect(waiting).toBeInstanceOf(Promise);
    // … while tokens signed by k1 overwrite the shared buffer synchronously.
    for (let i = 0; i < 5; i++) {
      const now = verify.verifyNow(signRaw(header(), claims({ sub: `agent_${i}` }), k1));
      expect(now).not.toBeInstanceOf(Promise);
      expect((now as { claims: { sub: string } }).claims.sub).toBe(`agent_${i}`);
    }
    await expect(waiting).resolves.toMatchObject({ claims: { sub: 'late' } });
  });

  it('a refused signature leaves no trace for the next token', async () => {
    const { verify, keys } = setup(() => [k1.jwk]);
    await keys.warmup();
    const good = signRaw(header(), claims(), k1);
    const forged = `${good.slice(0, good.lastIndexOf('.'))}.${signRaw(header(), claims({ sub: 'x' }), k1).split('.')[2]}`;
    await expect(verify(forged)).rejects.toMatchObject({ reason: 'bad_signature' });
    await expect(verify(good)).resolves.toMatchObject({ claims: { sub: 'agent_1' } });
    await expect(verify(forged)).rejects.toMatchObject({ reason: 'bad_signature' });
  });

  it('a key source that verifies another token meanwhile cannot lend it its signature', async () => {
    const { keys } = setup(() => [k1.jwk]);
    await keys.warmup();
    const genuine = signRaw(header(), claims({ sub: 'agent_1' }), k1);
    const input = genuine.slice(0, genuine.lastIndexOf('.'));
    // Same header and payload, a signature of the right length that is not one.
    const forged = `${input}.${Buffer.alloc(256, 7).toString('base64url')}`;
    let reenter = false;
    const source = {
      peekKey(kid: string) {
        if (reenter) {
          reenter = false;
          verify.verifyNow(genuine); // user code (a clock, a fetch) verifying meanwhile
        }
        return keys.peekKey(kid);
      },
      getKey: (kid: string) => keys.getKey(kid),
    };
    const verify = createJwtVerifier({
      keys: source,
      audience: 'mcp',
      maxLifetimeSeconds: 300,
      clock: () => NOW_MS,
    });
    reenter = true;
    expect(() => verify.verifyNow(forged)).toThrow(
      expect.objectContaining({ reason: 'bad_signature' }),
    );
    reenter = true;
    expect(verify.verifyNow(genuine)).toMatchObject({ claims: { sub: 'agent_1' } });
  });

  it('decodes payload text and signature bytes like Buffer does', () => {
    const scratch = nodeSegmentScratch()!;
    const text = Buffer.from('{"sub":"agent_é"}').toString('base64url');
    expect(scratch.text(text)).toBe('{"sub":"agent_é"}');
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 7) & 255));
    const n = scratch.bytes(bytes.toString('base64url'));
    expect(n).toBe(256);
    expect(Buffer.from(scratch.view(n)).equals(bytes)).toBe(true);
    expect(scratch.bytes('AB')).toBe(-1);
    expect(scratch.text('AA=A')).toBeNull();
  });
});

describe('the shared token, text and signature buffers', () => {
  const scratch = nodeSegmentScratch()!;
  const text = '{"sub":"agent_é","n":[1,2.5,null]}';
  const signature = Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 31 + 7) & 255));

  it('decode every segment to the same text and bytes', () => {
    expect(scratch.text(Buffer.from(text).toString('base64url'))).toBe(text);
    const n = scratch.bytes(signature.toString('base64url'));
    expect(Buffer.from(scratch.view(n)).equals(signature)).toBe(true);
    // Buffer skips a '+' or '.': the byte count refuses it either way.
    expect(scratch.bytes('AAA.AAAA')).toBe(-1);
    expect(scratch.text('AA+A')).toBeNull();
  });

  it('load a token as its ASCII bytes and refuse any other character', () => {
    expect(scratch.load('abc.def.ghi')).toBe(true);
    expect(scratch.loaded).toBe('abc.def.ghi');
    expect(Buffer.from(scratch.signingInput(7)).toString('latin1')).toBe('abc.def');
    for (const odd of ['abc.d\u00e9f.ghi', 'abc.def.gh\u0141', '\u{1f600}.a.b']) {
      expect(scratch.load(odd)).toBe(false);
      expect(scratch.loaded).toBeUndefined();
    }
    // Non-ASCII at both ends of a token as long as a buffer (8,192): a
    // UTF-8 copy cut short at the buffer's end would count 8,192 bytes.
    for (const length of [8_192, 24_576]) {
      const tricky = `\u00e9${'a'.repeat(length - 2)}\u00e9`;
      expect(tricky.length).toBe(length);
      expect(scratch.load(tricky)).toBe(false);
    }
    // A token longer than the buffer gets a bigger one, read whole.
    const long = `${'a'.repeat(10_000)}.b.c`;
    expect(scratch.load(long)).toBe(true);
    expect(Buffer.from(scratch.signingInput(10_002)).toString('latin1')).toBe(
      long.slice(0, 10_002),
    );
  });
});

describe('RSA keys imported from DER', () => {
  it('builds the same SubjectPublicKeyInfo as Node for any size and exponent', () => {
    for (const [bits, exponent] of [
      [2048, 65537],
      [3072, 65537],
      [4096, 3],
      [2048, 3],
    ] as const) {
      const { publicKey } = rsaKey(`der-${bits}-${exponent}`, bits, exponent);
      const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
      const der = rsaSpkiDer(Buffer.from(jwk.n, 'base64url'), Buffer.from(jwk.e, 'base64url'));
      expect(Buffer.from(der).equals(publicKey.export({ format: 'der', type: 'spki' }))).toBe(true);
    }
  });

  it('verifies what the JWK key verifies, also from a modulus with a leading zero byte', async () => {
    const key = rsaKey('der-verify');
    const jwk = key.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
    const padded = Buffer.concat([Buffer.from([0]), Buffer.from(jwk.n, 'base64url')]);
    const token = signRaw(header(), claims(), key);
    const dot = token.lastIndexOf('.');
    const data = Buffer.from(token.slice(0, dot));
    const sig = Buffer.from(token.slice(dot + 1), 'base64url');
    for (const n of [jwk.n, padded.toString('base64url')]) {
      const imported = await importRsaKey({ n, e: jwk.e }, 'node');
      expect(imported.backend).toBe('node');
      const handle = imported.handle as ReturnType<typeof createPublicKey>;
      expect(handle.export({ format: 'jwk' })).toMatchObject({ n: jwk.n, e: jwk.e });
      expect(nodeVerify('RSA-SHA256', data, handle, sig)).toBe(true);
      expect(nodeVerify('RSA-SHA256', Buffer.from(`${data}x`), handle, sig)).toBe(false);
    }
  });
});

describe('canonical base64url beyond Latin-1', () => {
  // Buffer reads a UTF-16 character by its low byte: 'Ł' (U+0141) as 'A'.
  const lookalikes = ['\u0141', '\u0161', '\u2d41', '\uff41'];

  it('refuses characters whose low byte is in the alphabet', () => {
    for (const c of lookalikes) {
      expect(isAsciiText(`AAA${c}`)).toBe(false);
      expect(decodeCanonicalSegment(`AAA${c}`)).toBeNull();
      expect(decodeCanonicalSegment(`AA${c}A`)).toBeNull();
    }
    expect(isAsciiText('AAAA')).toBe(true);
  });

  it('refuses a signed token with such a character in any segment', async () => {
    const { verify, keys } = setup(() => [k1.jwk]);
    await keys.warmup();
    const good = signRaw(header(), claims(), k1);
    const [h, p, s] = good.split('.') as [string, string, string];
    const swap = (seg: string) => {
      const i = Math.max(seg.indexOf('A'), 0);
      return `${seg.slice(0, i)}\u0141${seg.slice(i + 1)}`;
    };
    for (const token of [`${swap(h)}.${p}.${s}`, `${h}.${swap(p)}.${s}`, `${h}.${p}.${swap(s)}`]) {
      const error = await verify(token).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(JwtVerificationError);
      expect((error as JwtVerificationError).reason).toBe('malformed');
    }
  });
});
