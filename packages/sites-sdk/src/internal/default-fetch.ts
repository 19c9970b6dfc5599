import { type FetchLike, loadUndiciAgent, type UndiciAgent } from '@lime/wire';

/**
 * The default transport: the global `fetch` (read at call time, so msw and
 * other interceptors work) with an undici `Agent` as dispatcher for
 * keep-alive and a connect timeout. undici is loaded lazily and only on
 * Node, so the package still loads on edge runtimes, where the plain global
 * `fetch` is used.
 */
export class DefaultTransport {
  private dispatcher: Promise<UndiciAgent | undefined> | undefined;
  private closed = false;

  constructor(private readonly connectTimeoutMs: number) {}

  readonly fetch: FetchLike = async (input, init) => {
    const dispatcher = await this.getDispatcher();
    const request = dispatcher ? ({ ...init, dispatcher } as RequestInit) : init;
    return globalThis.fetch(input, request);
  };

  private getDispatcher(): Promise<UndiciAgent | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    this.dispatcher ??= loadAgent(this.connectTimeoutMs);
    return this.dispatcher;
  }

  /** Close idle keep-alive sockets; later calls use the plain global fetch. */
  async close(): Promise<void> {
    this.closed = true;
    const dispatcher = await this.dispatcher;
    this.dispatcher = undefined;
    // `close()` waits for in-flight requests; streams were aborted before this.
    // Bun's built-in `undici` hands out Agents without `close()`: nothing to release there.
    if (typeof dispatcher?.close === 'function') await dispatcher.close().catch(() => {});
  }
}

const UNDICI = 'undici';

function loadAgent(connectTimeoutMs: number): Promise<UndiciAgent | undefined> {
  return loadUndiciAgent(
    'lime-sites-sdk',
    // A specifier bundlers do not follow, so a Worker/edge bundle never pulls in
    // the Node-only undici (only Node ever calls this).
    () => import(/* webpackIgnore: true */ /* @vite-ignore */ UNDICI),
    {
      keepAliveTimeout: 30_000,
      connect: { timeout: connectTimeoutMs },
      // SSE responses are long-lived: no body timeout (our watchdog handles silence).
      bodyTimeout: 0,
    },
  );
}
