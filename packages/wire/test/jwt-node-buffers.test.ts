// The Node fast path decodes segments into reused buffers (the payload to
// text, the signature into one shared buffer). These tests pin that reuse
// never lets one token's bytes stand in for another's, and that the cheaper
// canonical check still refuses what Buffer's lenient decoder would take.
import { describe, expect, it } from 'vitest';
import {
  decodeCanonicalSegment,
  isAsciiText,
  nodeSegmentScratch,
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
