import { LimeError } from '@lime/wire';
import type { ReplayStore } from './replay-store.js';

/**
 * The part of an `ioredis` client (`Redis` or `Cluster`, v5 or v6) that
 * {@link RedisReplayStore} uses: the raw command call. Declared here so the
 * SDK imports no Redis client.
 */
export interface IoRedisLike {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  /** `'ready'`, `'connecting'`, `'reconnecting'`, `'end'`, … */
  readonly status?: string;
}

/**
 * The part of a `redis` (node-redis v4/v5) client from `createClient()` that
 * {@link RedisReplayStore} uses: the raw command call. Declared here so the
 * SDK imports no Redis client.
 */
export interface NodeRedisLike {
  sendCommand(args: string[]): Promise<unknown>;
  /** `false` before `connect()` and after `quit()`/`close()`. */
  readonly isOpen?: boolean;
}

/** A Redis client the store accepts: ioredis or node-redis, told apart by their methods. */
export type RedisClientLike = IoRedisLike | NodeRedisLike;

/**
 * Options of {@link RedisReplayStore}.
 *
 * @example
 * new RedisReplayStore({ client: redis, keyPrefix: 'myapp:lime:', timeout: 1_000 });
 */
export interface RedisReplayStoreOptions {
  /**
   * Your Redis client, connected (node-redis: after `await client.connect()`):
   * an `ioredis` `Redis`/`Cluster` (detected by its `call` method) or a
   * node-redis `createClient()` client (detected by `sendCommand`). Redis ≥
   * 6.2 (`SET … PXAT`).
   */
  client: RedisClientLike;
  /** Prefix of every key the store writes. @default 'lime:replay:' */
  keyPrefix?: string;
  /**
   * Longest wait for Redis to answer one `SET`, milliseconds. A store that
   * does not answer in time fails the claim (fail closed: the passport is
   * refused with reason `replay_check_failed`, and the login can be retried
   * while the passport lives). @default 2_000
   */
  timeout?: number;
}

/**
 * A {@link ReplayStore} on Redis, shared by every instance of your site: one
 * atomic `SET <prefix><id> <random> NX PXAT <expiry ms>` per claim, so across all
 * instances exactly one claim of a passport wins, and the key leaves Redis
 * when the passport could no longer pass verification anyway.
 *
 * Bring your own client — `ioredis` or `redis` (node-redis v4/v5), both
 * optional peer dependencies, never imported by the SDK. When Redis is down,
 * slow (`timeout`) or refuses the command, `consume` throws a `LimeError`
 * with code `REPLAY_STORE_UNAVAILABLE`, and the claim fails closed:
 * `waitForLogin`/`claimPassport`/`verifyPassport` reject with
 * `InvalidPassportError` reason `replay_check_failed` — no passport is
 * accepted without the store.
 *
 * @example
 * import { Redis } from 'ioredis';
 * import { LimeSite, RedisReplayStore } from 'lime-sites-sdk';
 *
 * const site = new LimeSite({
 *   replayStore: new RedisReplayStore({ client: new Redis(process.env.REDIS_URL!) }),
 * });
 */
export class RedisReplayStore implements ReplayStore {
  private readonly send: (args: string[]) => Promise<unknown>;
  private readonly closedReason: () => string | undefined;
  private readonly kind: 'ioredis' | 'node-redis';
  private readonly keyPrefix: string;
  private readonly timeout: number;
  /**
   * Claims of this process that failed or timed out, by key: their `SET`
   * may still reach Redis later (clients queue commands while reconnecting),
   * which would make the passport look claimed by someone else. Each claim
   * writes a value of its own, so a retry that finds one of these values
   * knows the key is its own abandoned attempt — which never bound a
   * session, since it failed — and wins.
   */
  private readonly abandoned = new Map<string, { values: string[]; until: number }>();

  constructor(options: RedisReplayStoreOptions) {
    const client = options?.client as Partial<IoRedisLike & NodeRedisLike> | undefined;
    if (typeof client !== 'object' || client === null) {
      throw new TypeError(
        'RedisReplayStore: client must be your ioredis or node-redis (redis) client',
      );
    }
    if (typeof client.call === 'function') {
      const io = client as IoRedisLike;
      this.kind = 'ioredis';
      this.send = ([command, ...args]) => io.call(command as string, ...args);
      this.closedReason = () =>
        io.status === 'end'
          ? "the ioredis client was closed (status 'end'): it will not reconnect"
          : undefined;
    } else if (typeof client.sendCommand === 'function') {
      const nodeRedis = client as NodeRedisLike;
      this.kind = 'node-redis';
      this.send = (args) => nodeRedis.sendCommand(args);
      this.closedReason = () =>
        nodeRedis.isOpen === false
          ? 'the node-redis client is not open: call `await client.connect()` before using the store (or it was closed)'
          : undefined;
    } else {
      throw new TypeError(
        'RedisReplayStore: client must be an ioredis client (with `call`) or a node-redis client (with `sendCommand`)',
      );
    }
    const keyPrefix = options.keyPrefix ?? 'lime:replay:';
    if (typeof keyPrefix !== 'string') {
      throw new TypeError(`RedisReplayStore: keyPrefix must be a string, got ${typeof keyPrefix}`);
    }
    const timeout = options.timeout ?? 2_000;
    if (!Number.isFinite(timeout) || timeout <= 0) {
      throw new TypeError(
        `RedisReplayStore: timeout must be a positive number of ms, got ${String(timeout)}`,
      );
    }
    this.keyPrefix = keyPrefix;
    this.timeout = timeout;
  }

  /**
   * Record `key` until `expiresAt` with `SET NX PXAT`: `true` when this call
   * set it (first claim), `false` when it was there (replay). Throws a
   * `LimeError` (`REPLAY_STORE_UNAVAILABLE`) when Redis cannot answer.
   */
  async consume(key: string, expiresAt: Date): Promise<boolean> {
    const closed = this.closedReason();
    if (closed !== undefined) throw unavailable(closed);
    const redisKey = this.keyPrefix + key;
    // At least a second ahead: PXAT in the past would store nothing and say OK.
    const until = Math.ceil(Math.max(expiresAt.getTime(), Date.now() + 1_000));
    const value = randomValue();
    let answer: unknown;
    try {
      answer = await this.command(['SET', redisKey, value, 'NX', 'PXAT', String(until)], 'SET NX');
    } catch (error) {
      this.abandon(redisKey, value, until);
      throw error;
    }
    if (isOk(answer)) return true;
    if (answer !== null && answer !== undefined) {
      throw unavailable(
        `Redis answered SET NX with ${JSON.stringify(String(answer)).slice(0, 60)}, expected 'OK' or null`,
      );
    }
    const mine = this.abandoned.get(redisKey);
    if (mine === undefined) return false;
    const held = await this.command(['GET', redisKey], 'GET');
    const heldValue = held instanceof Uint8Array ? new TextDecoder().decode(held) : held;
    if (typeof heldValue !== 'string' || !mine.values.includes(heldValue)) return false;
    this.abandoned.delete(redisKey);
    return true;
  }

  /** One command, bounded by `timeout`; every failure is `REPLAY_STORE_UNAVAILABLE`. */
  private async command(args: string[], what: string): Promise<unknown> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            unavailable(
              `Redis did not answer ${what} within ${this.timeout} ms (${this.kind}) — is Redis up and reachable?`,
            ),
          ),
        this.timeout,
      );
    });
    try {
      return await Promise.race([this.send(args), timedOut]);
    } catch (error) {
      if (error instanceof LimeError && error.code === 'REPLAY_STORE_UNAVAILABLE') throw error;
      throw unavailable(
        `Redis refused or failed ${what} (${this.kind}): ${error instanceof Error ? error.message : String(error)}`,
        error,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private abandon(redisKey: string, value: string, until: number): void {
    const now = Date.now();
    if (this.abandoned.size >= MAX_ABANDONED) {
      for (const [k, entry] of this.abandoned) {
        if (entry.until <= now || this.abandoned.size >= MAX_ABANDONED) this.abandoned.delete(k);
      }
    }
    const entry = this.abandoned.get(redisKey);
    if (entry === undefined) this.abandoned.set(redisKey, { values: [value], until });
    else if (entry.values.length < 16) entry.values.push(value);
  }
}

/** Failed claims remembered per store (each lives ≤ a passport's lifetime). */
const MAX_ABANDONED = 10_000;

function isOk(answer: unknown): boolean {
  if (answer === 'OK') return true;
  // Some clients answer Buffers when configured to.
  return answer instanceof Uint8Array && new TextDecoder().decode(answer) === 'OK';
}

/** 128 random bits, hex: the value one claim writes. */
function randomValue(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}

function unavailable(message: string, cause?: unknown): LimeError {
  return new LimeError('REPLAY_STORE_UNAVAILABLE', `replay store: ${message}`, {
    ...(cause === undefined ? {} : { cause }),
  });
}
