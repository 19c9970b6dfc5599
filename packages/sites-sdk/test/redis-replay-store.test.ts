// RedisReplayStore against a real redis-server (started on a free port by the
// test), with each client it accepts: ioredis 5 and 6, node-redis 4 and 5.
// Atomic single use, expiry, fail closed when Redis is down, and recovery.
import { PATHS } from '@lime/wire';
import { Redis as IoRedis6 } from 'ioredis';
import { Redis as IoRedis5 } from 'ioredis5';
import { type Core, startCore } from 'lime-core';
import {
  InvalidPassportError,
  LimeError,
  LimeSite,
  type RedisClientLike,
  RedisReplayStore,
} from 'lime-sites-sdk';
import { createClient as createClient5 } from 'redis';
import { createClient as createClient4 } from 'redis4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, skipRedis, startRedis } from './helpers/redis-server.js';

interface ClientUnderTest {
  client: RedisClientLike;
  raw: (args: string[]) => Promise<unknown>;
  close: () => Promise<void>;
}

const clients: Record<string, (url: string) => Promise<ClientUnderTest>> = {
  'ioredis 6': async (url) => {
    const c = new IoRedis6(url, { maxRetriesPerRequest: null });
    c.on('error', () => {});
    return {
      client: c,
      raw: ([cmd, ...a]) => c.call(cmd!, ...a),
      close: async () => c.disconnect(),
    };
  },
  'ioredis 5': async (url) => {
    const c = new IoRedis5(url, { maxRetriesPerRequest: null });
    c.on('error', () => {});
    return {
      client: c,
      raw: ([cmd, ...a]) => c.call(cmd!, ...a),
      close: async () => c.disconnect(),
    };
  },
  'node-redis 5': async (url) => {
    const c = createClient5({ url });
    c.on('error', () => {});
    await c.connect();
    return { client: c, raw: (a) => c.sendCommand(a), close: async () => void c.destroy() };
  },
  'node-redis 4': async (url) => {
    const c = createClient4({ url });
    c.on('error', () => {});
    await c.connect();
    return {
      client: c,
      raw: (a) => c.sendCommand(a),
      close: async () => void (await c.disconnect()),
    };
  },
};

describe.skipIf(skipRedis)('RedisReplayStore on a real redis-server', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  for (const [name, connect] of Object.entries(clients)) {
    describe(name, () => {
      it('SET NX PXAT: the first consume wins, the second is a replay; the key expires with the token', async () => {
        const { client, raw, close } = await connect(redis.url);
        try {
          const store = new RedisReplayStore({ client, keyPrefix: `t:${name}:` });
          const expiresAt = new Date(Date.now() + 60_000);
          expect(await store.consume('jti-1', expiresAt)).toBe(true);
          expect(await store.consume('jti-1', expiresAt)).toBe(false);
          expect(await store.consume('jti-2', expiresAt)).toBe(true);
          const pttl = Number(await raw(['PTTL', `t:${name}:jti-1`]));
          expect(pttl).toBeGreaterThan(55_000);
          expect(pttl).toBeLessThanOrEqual(60_000);
          // An expiry already past still records the id (for a second), never "OK, stored nothing".
          expect(await store.consume('past', new Date(Date.now() - 5_000))).toBe(true);
          expect(await store.consume('past', new Date(Date.now() - 5_000))).toBe(false);
        } finally {
          await close();
        }
      });

      it('is atomic: 200 concurrent consumes of one id, exactly one wins', async () => {
        const { client, close } = await connect(redis.url);
        try {
          const store = new RedisReplayStore({ client, keyPrefix: `race:${name}:` });
          const expiresAt = new Date(Date.now() + 60_000);
          const answers = await Promise.all(
            Array.from({ length: 200 }, () => store.consume('same', expiresAt)),
          );
          expect(answers.filter((a) => a === true)).toHaveLength(1);
        } finally {
          await close();
        }
      });
    });
  }

  it('tells a closed client apart at once (node-redis before connect(), ioredis after quit)', async () => {
    const notConnected = createClient5({ url: redis.url });
    const store = new RedisReplayStore({ client: notConnected });
    const error = await store.consume('x', new Date(Date.now() + 60_000)).catch((e) => e);
    expect(error).toBeInstanceOf(LimeError);
    expect(error.code).toBe('REPLAY_STORE_UNAVAILABLE');
    expect(error.message).toMatch(/await client\.connect\(\)/);

    const io = new IoRedis6(redis.url);
    await io.quit();
    const closed = await new RedisReplayStore({ client: io })
      .consume('x', new Date(Date.now() + 60_000))
      .catch((e) => e);
    expect(closed.code).toBe('REPLAY_STORE_UNAVAILABLE');
    expect(closed.message).toMatch(/closed/);
  });

  it('a claim that timed out but reached Redis later is won by its retry on this instance only', async () => {
    const io = new IoRedis6(redis.url);
    try {
      let delay = 300;
      const slow = {
        call: async (command: string, ...args: (string | number)[]) => {
          await new Promise((r) => setTimeout(r, delay));
          return io.call(command, ...args);
        },
      };
      const store = new RedisReplayStore({ client: slow, timeout: 100, keyPrefix: 'late:' });
      const other = new RedisReplayStore({ client: io, keyPrefix: 'late:' });
      const expiresAt = new Date(Date.now() + 60_000);
      const error = await store.consume('jti', expiresAt).catch((e: LimeError) => e);
      expect((error as LimeError).code).toBe('REPLAY_STORE_UNAVAILABLE');
      expect((error as LimeError).message).toMatch(/did not answer SET NX within 100 ms/);
      await new Promise((r) => setTimeout(r, 400)); // the abandoned SET lands
      expect(await other.consume('jti', expiresAt)).toBe(false);
      delay = 0;
      expect(await store.consume('jti', expiresAt)).toBe(true);
      expect(await store.consume('jti', expiresAt)).toBe(false);
    } finally {
      io.disconnect();
    }
  });

  it('refuses what is not a Redis client, and bad options, with a TypeError naming the field', () => {
    expect(() => new RedisReplayStore({ client: {} as RedisClientLike })).toThrow(
      /ioredis client \(with `call`\) or a node-redis client/,
    );
    expect(() => new RedisReplayStore(undefined as never)).toThrow(TypeError);
    const client = { call: async () => 'OK' };
    expect(() => new RedisReplayStore({ client, timeout: 0 })).toThrow(/timeout/);
    expect(() => new RedisReplayStore({ client, keyPrefix: 1 as never })).toThrow(/keyPrefix/);
  });

  describe('with LimeSite and the reference Core', () => {
    let core: Core;
    let site: { siteId: string; siteToken: string };
    let agentToken: string;

    beforeAll(async () => {
      core = await startCore({ powDifficulty: 0 });
      site = await core.admin.createSite({ name: 'redis' });
      ({ agentToken } = await core.admin.createAgent({ displayName: 'redis bot' }));
    });
    afterAll(async () => {
      await core?.close();
    });

    async function approve(requestId: string) {
      const res = await fetch(core.apiBase + PATHS.approveLoginRequest(requestId), {
        method: 'POST',
        headers: { 'x-agent-token': agentToken, 'content-type': 'application/json' },
        body: JSON.stringify({ pow_nonce: '0' }),
      });
      expect(res.status).toBe(200);
    }

    it('two instances on one Redis: waitForLogin for the same request resolves on exactly one', async () => {
      const ios = [0, 1].map(() => new IoRedis6(redis.url));
      const instances = ios.map(
        (client) =>
          new LimeSite({
            siteToken: site.siteToken,
            apiBase: core.apiBase,
            replayStore: new RedisReplayStore({ client }),
          }),
      );
      try {
        await Promise.all(instances.map((s) => s.connect()));
        const { loginRequestId } = await instances[0]!.createLoginRequest();
        const waits = instances.map((s) =>
          s.waitForLogin(loginRequestId, { timeout: 10_000 }).then(
            (p) => p,
            (e: unknown) => e,
          ),
        );
        await approve(loginRequestId);
        const results = await Promise.all(waits);
        expect(results.filter((r) => !(r instanceof Error))).toHaveLength(1);
        const loser = results.find((r) => r instanceof Error) as InvalidPassportError;
        expect(loser).toBeInstanceOf(InvalidPassportError);
        expect(loser.reason).toBe('replayed');
      } finally {
        await Promise.all(instances.map((s) => s.close()));
        for (const c of ios) c.disconnect();
      }
    });

    it('Redis down: the claim fails closed (replay_check_failed, within the timeout); back up: the same login completes', async () => {
      for (const name of ['ioredis 6', 'node-redis 5'] as const) {
        const { client, close } = await clients[name]!(redis.url);
        const s = new LimeSite({
          siteToken: site.siteToken,
          apiBase: core.apiBase,
          replayStore: new RedisReplayStore({ client, timeout: 300 }),
        });
        try {
          await s.connect();
          const { loginRequestId } = await s.createLoginRequest();
          await approve(loginRequestId);
          // The passport has reached this instance (verified, unclaimed) before Redis goes.
          await expect
            .poll(() => s.getLoginRequest(loginRequestId).then((r) => r.status))
            .toBe('DELIVERED');
          await redis.stop();
          const started = Date.now();
          const error = await s
            .waitForLogin(loginRequestId, { timeout: 5_000 })
            .catch((e: unknown) => e);
          expect(Date.now() - started).toBeLessThan(3_000);
          expect(error, name).toBeInstanceOf(InvalidPassportError);
          expect((error as InvalidPassportError).reason).toBe('replay_check_failed');
          expect((error as Error).message).toMatch(/Redis/);
          expect(((error as Error).cause as LimeError).code).toBe('REPLAY_STORE_UNAVAILABLE');

          await redis.restart();
          // The clients reconnect by themselves; the passport is still claimable.
          await expect
            .poll(
              () =>
                s.waitForLogin(loginRequestId, { timeout: 5_000 }).then(
                  (p) => p.requestId,
                  (e: unknown) => (e as InvalidPassportError).reason,
                ),
              { timeout: 10_000, interval: 200 },
            )
            .toBe(loginRequestId);
          // And once claimed, it stays claimed.
          const again = await s.waitForLogin(loginRequestId).catch((e: unknown) => e);
          expect((again as InvalidPassportError).reason).toBe('replayed');
        } finally {
          await s.close();
          await close();
        }
      }
    });
  });
});
