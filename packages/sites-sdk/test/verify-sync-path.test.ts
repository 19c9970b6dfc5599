// verifyPassport runs synchronously inside one promise when it can: these
// tests pin that every outcome still arrives as a promise (never a throw),
// that synchronous and asynchronous replay stores behave alike, and that
// MemoryReplayStore's skipped sweeps do not change what it accepts.
import {
  InvalidPassportError,
  LimeSite,
  MemoryReplayStore,
  type ReplayStore,
} from 'lime-sites-sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { API_BASE, fakeCore, json } from './helpers/fake-fetch.js';
import {
  ISSUER,
  jwks,
  mintBindingPassport,
  mintPassport,
  reason,
  rsaKey,
} from './helpers/tokens.js';

const key = rsaKey('k1');
const core = fakeCore({ jwks: () => json(jwks(key)) });
const sites: LimeSite[] = [];
function site(replayStore?: ReplayStore) {
  const s = new LimeSite({
    siteToken: 'st_test',
    apiBase: API_BASE,
    fetch: core.fetch,
    issuer: ISSUER,
    ...(replayStore ? { replayStore } : {}),
  });
  sites.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(sites.map((s) => s.close()));
});
const REQ = 'lr_test';

describe('verifyPassport on the synchronous path', () => {
  it('returns a promise for good and bad tokens alike, with keys cached', async () => {
    const s = site();
    await s.verifyPassport(mintPassport({}, key), { expectedRequestId: REQ }); // keys now cached
    const calls = [
      () => s.verifyPassport('not a token', { expectedRequestId: REQ }),
      () => s.verifyPassport(mintPassport({}, key), { expectedRequestId: 'lr_other' }),
      () => s.verifyPassport(mintPassport({ jti: 7 }, key), { expectedRequestId: REQ }),
    ];
    for (const call of calls) {
      let result: Promise<unknown> | undefined;
      expect(() => {
        result = call();
      }).not.toThrow();
      expect(result).toBeInstanceOf(Promise);
      await expect(result).rejects.toBeInstanceOf(InvalidPassportError);
    }
    const good = s.verifyPassport(mintPassport({}, key), { expectedRequestId: REQ });
    expect(good).toBeInstanceOf(Promise);
    await expect(good).resolves.toMatchObject({ requestId: REQ });
  });

  it('a store that throws synchronously fails closed, as an async one does', async () => {
    const syncBroken = site({
      consume: () => {
        throw new Error('disk full');
      },
    });
    const asyncBroken = site({ consume: async () => Promise.reject(new Error('redis down')) });
    for (const s of [syncBroken, asyncBroken]) {
      await expect(
        reason(s.verifyPassport(mintPassport({}, key), { expectedRequestId: REQ })),
      ).resolves.toBe('replay_check_failed');
    }
  });

  it('sync and async stores both refuse the second use', async () => {
    const seen = new Set<string>();
    const consume = (jti: string) => {
      if (seen.has(jti)) return false;
      seen.add(jti);
      return true;
    };
    for (const store of [{ consume }, { consume: async (jti: string) => consume(jti) }]) {
      const s = site(store);
      const token = mintPassport({}, key);
      await expect(reason(s.verifyPassport(token, { expectedRequestId: REQ }))).resolves.toBe(
        'accepted',
      );
      await expect(reason(s.verifyPassport(token, { expectedRequestId: REQ }))).resolves.toBe(
        'replayed',
      );
    }
  });

  it('a store answering anything but true refuses (no truthy shortcut)', async () => {
    const s = site({ consume: () => 1 as unknown as boolean });
    await expect(
      reason(s.verifyPassport(mintPassport({}, key), { expectedRequestId: REQ })),
    ).resolves.toBe('replayed');
  });

  it('binding passports take the same path', async () => {
    const s = site();
    const token = mintBindingPassport({}, key);
    const options = { expectedBindingId: 'bd_test' };
    await expect(s.verifyBindingPassport(token, options)).resolves.toMatchObject({
      bindingId: 'bd_test',
    });
    await expect(reason(s.verifyBindingPassport(token, options))).resolves.toBe('replayed');
  });
});

describe('MemoryReplayStore sweeps', () => {
  it('holds each id until its own expiry, in or out of insertion order', () => {
    let t = 1_000_000;
    const store = new MemoryReplayStore({ now: () => t });
    const at = (ms: number) => new Date(1_000_000 + ms);
    expect(store.consume('late', at(5_000))).toBe(true);
    expect(store.consume('early', at(1_000))).toBe(true); // expires before the older entry
    t = 1_000_000 + 999;
    expect(store.consume('early', at(1_000))).toBe(false);
    expect(store.consume('late', at(5_000))).toBe(false);
    t = 1_000_000 + 1_000;
    expect(store.consume('early', at(9_000))).toBe(true); // its entry expired: accepted again
    expect(store.consume('late', at(5_000))).toBe(false);
    t = 1_000_000 + 5_000;
    expect(store.consume('late', at(9_000))).toBe(true);
  });

  it('drops expired entries once time passes the oldest expiry', () => {
    let t = 0;
    const store = new MemoryReplayStore({ now: () => t });
    for (let i = 0; i < 50; i++) store.consume(`a${i}`, new Date(1_000));
    expect(store.size).toBe(50);
    t = 999;
    store.consume('b', new Date(10_000));
    expect(store.size).toBe(51); // nothing expired yet
    t = 1_000;
    store.consume('c', new Date(10_000));
    expect(store.size).toBe(2); // the 50 expired ids are gone
  });
});
