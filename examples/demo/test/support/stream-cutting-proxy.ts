import net from 'node:net';
import { API_PREFIX, PATHS } from '@lime/wire';

/**
 * A TCP proxy in front of the Core that can sever a site's event stream on
 * demand, the way a load balancer or a flaky network does: the socket just
 * dies mid-stream, with no SSE-level goodbye. Everything else (creating login
 * requests, JWKS) passes through untouched.
 *
 * A connection counts as "the stream" once a request line on it is
 * `GET {API_PREFIX}{PATHS.loginEvents}`; it stays so (an SSE response never
 * ends by itself, so nothing else can follow on that connection).
 */
export interface StreamCuttingProxy {
  /** `http://127.0.0.1:PORT`: use `${url}/api/v1` as the site's API base. */
  readonly url: string;
  /** Event-stream connections opened through this proxy so far. */
  readonly streamConnections: number;
  /** Event-stream connections severed by {@link cutStream} so far. */
  readonly cuts: number;
  /** The `Last-Event-ID` each event-stream request carried (`null`: none), in order. */
  readonly streamLastEventIds: ReadonlyArray<string | null>;
  /**
   * Sever every open event-stream connection now; if none is open (the
   * client is between reconnects), wait for the next one and sever it as
   * soon as its request went upstream. Resolves with how many were cut.
   */
  cutStream(): Promise<number>;
  /** Stop listening and destroy every connection. */
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  isStream: boolean;
}

const STREAM_REQUEST_LINE = `GET ${API_PREFIX}${PATHS.loginEvents}`;

/** Start a proxy on 127.0.0.1, port 0, forwarding to `target` (an origin URL). */
export async function startStreamCuttingProxy(target: string): Promise<StreamCuttingProxy> {
  const { hostname, port } = new URL(target);
  const pairs = new Set<Pair>();
  let streamConnections = 0;
  const streamLastEventIds: Array<string | null> = [];
  let cuts = 0;
  let waiters: Array<() => void> = [];
  let closed = false;

  const sever = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
    cuts++;
  };

  const server = net.createServer((client) => {
    const upstream = net.connect({ host: hostname, port: Number(port) });
    const pair: Pair = { client, upstream, isStream: false };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      const text = chunk.toString('latin1');
      if (!pair.isStream && text.includes(STREAM_REQUEST_LINE)) {
        pair.isStream = true;
        streamConnections++;
        streamLastEventIds.push(/^last-event-id: *(.*?)\r$/im.exec(text)?.[1] ?? null);
        const pending = waiters;
        waiters = [];
        for (const wake of pending) wake();
      }
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address() as net.AddressInfo;

  const openStreams = () => [...pairs].filter((p) => p.isStream);

  return {
    url: `http://127.0.0.1:${address.port}`,
    get streamConnections() {
      return streamConnections;
    },
    get cuts() {
      return cuts;
    },
    get streamLastEventIds() {
      return streamLastEventIds;
    },
    async cutStream() {
      let open = openStreams();
      while (open.length === 0) {
        if (closed) return 0;
        await new Promise<void>((resolve) => waiters.push(resolve));
        open = openStreams();
      }
      for (const pair of open) sever(pair);
      return open.length;
    },
    async close() {
      closed = true;
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      pairs.clear();
      for (const wake of waiters) wake();
      waiters = [];
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
