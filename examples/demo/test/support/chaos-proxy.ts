import net from 'node:net';
import { API_PREFIX, PATHS } from '@lime/wire';

/**
 * A seeded TCP proxy in front of the Core for one site instance, misbehaving
 * the way networks and load balancers do:
 *
 * - **refuses** every new connection during refusal windows (0–3 s each,
 *   a few per minute, and one of 0.5–3 s right at the start): the socket is
 *   reset before a byte is read, so no request ever reaches the Core;
 * - on event-stream connections only (the request line is
 *   `GET …/modules/agent-login/events`), the Core → client bytes are
 *   **cut** at a random offset (mid-frame, mid-UTF-8, right after an `id:`
 *   line: wherever the offset falls), **stalled** for up to 2 s, or
 *   **trickled** a few bytes at a time.
 *
 * Every decision comes from one seeded generator, so a failing seed can be
 * replayed. Other connections (create, status, JWKS) pass through intact
 * once accepted.
 */
export interface ChaosProxy {
  /** `http://127.0.0.1:PORT`: `${url}/api/v1` is the instance's API base. */
  readonly url: string;
  readonly stats: ChaosStats;
  /** Stop the faults (everything passes through from now on). */
  calm(): void;
  close(): Promise<void>;
}

export interface ChaosStats {
  connections: number;
  refused: number;
  streams: number;
  cuts: number;
  stalls: number;
  trickles: number;
  upstreamErrors: number;
}

/** Counters of a proxy that has seen nothing yet. */
export function noChaosYet(): ChaosStats {
  return {
    connections: 0,
    refused: 0,
    streams: 0,
    cuts: 0,
    stalls: 0,
    trickles: 0,
    upstreamErrors: 0,
  };
}

/** mulberry32: a small, good-enough seeded generator. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STREAM_REQUEST_LINE = `GET ${API_PREFIX}${PATHS.loginEvents}`;

export interface ChaosOptions {
  /** The Core's origin. */
  target: string;
  seed: number;
  /** Chance that a stream connection is cut somewhere in its first 32 KiB. @default 0.8 */
  cutChance?: number;
  /** Chance of a stall (≤ 2 s) per forwarded chunk of a stream. @default 0.05 */
  stallChance?: number;
  /** Chance that a stream connection trickles (≤ 8 bytes per write) for a while. @default 0.2 */
  trickleChance?: number;
  /** Mean time between refusal windows, ms. @default 8_000 */
  refusalEveryMs?: number;
}

export async function startChaosProxy(options: ChaosOptions): Promise<ChaosProxy> {
  const random = seededRandom(options.seed);
  const { hostname, port } = new URL(options.target);
  const cutChance = options.cutChance ?? 0.8;
  const stallChance = options.stallChance ?? 0.05;
  const trickleChance = options.trickleChance ?? 0.2;
  const refusalEveryMs = options.refusalEveryMs ?? 8_000;
  const stats = noChaosYet();
  const sockets = new Set<net.Socket>();
  let calm = false;
  // Faults from the very first connection: every proxy opens with a refusal
  // window of 0.5–3 s (the key warm-up and the first stream are refused).
  let refusingUntil = Date.now() + 500 + Math.floor(random() * 2_500);
  let refusalTimer: ReturnType<typeof setTimeout> | undefined;

  const scheduleRefusal = () => {
    refusalTimer = setTimeout(
      () => {
        if (!calm) refusingUntil = Date.now() + Math.floor(random() * 3_000);
        scheduleRefusal();
      },
      Math.floor(refusalEveryMs * (0.5 + random())),
    );
    refusalTimer.unref();
  };
  scheduleRefusal();

  const server = net.createServer((client) => {
    stats.connections++;
    if (!calm && Date.now() < refusingUntil) {
      stats.refused++;
      client.resetAndDestroy();
      return;
    }
    sockets.add(client);
    const upstream = net.connect({ host: hostname, port: Number(port) });
    sockets.add(upstream);
    const destroyBoth = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', destroyBoth);
    client.on('close', destroyBoth);
    upstream.on('error', () => {
      stats.upstreamErrors++;
      destroyBoth();
    });
    upstream.on('close', destroyBoth);

    let isStream: boolean | undefined;
    let head = '';
    client.on('data', (chunk: Buffer) => {
      if (isStream === undefined) {
        head += chunk.toString('latin1');
        if (head.includes('\r\n') || head.length > 200) {
          isStream = head.startsWith(STREAM_REQUEST_LINE);
          if (isStream) stats.streams++;
          plan = isStream && !calm ? planStream() : undefined;
        }
      }
      upstream.write(chunk);
    });

    // Faults on the way back, decided when the connection turns out to be a stream.
    let plan: { cutAt: number | undefined; trickleFor: number } | undefined;
    let forwarded = 0;
    let queue: Promise<void> = Promise.resolve();
    const planStream = () => {
      const cutAt = random() < cutChance ? Math.floor(random() * 32_768) : undefined;
      const trickleFor = random() < trickleChance ? Math.floor(random() * 2_048) : 0;
      if (trickleFor > 0) stats.trickles++;
      return { cutAt, trickleFor };
    };
    const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
    upstream.on('data', (chunk: Buffer) => {
      if (!plan || calm) {
        client.write(chunk);
        return;
      }
      upstream.pause();
      const current = plan;
      queue = queue.then(async () => {
        let data = chunk;
        if (random() < stallChance) {
          stats.stalls++;
          await pause(Math.floor(random() * 2_000));
        }
        while (data.length > 0 && !client.destroyed) {
          if (current.cutAt !== undefined && forwarded + data.length > current.cutAt) {
            const keep = current.cutAt - forwarded;
            if (keep > 0) client.write(data.subarray(0, keep));
            stats.cuts++;
            destroyBoth();
            return;
          }
          const step = forwarded < current.trickleFor ? 1 + Math.floor(random() * 8) : data.length;
          const part = data.subarray(0, step);
          client.write(part);
          forwarded += part.length;
          data = data.subarray(part.length);
          if (data.length > 0) await pause(1);
        }
        upstream.resume();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${own}`,
    stats,
    calm() {
      calm = true;
    },
    async close() {
      clearTimeout(refusalTimer);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
