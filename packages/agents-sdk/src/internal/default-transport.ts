import { type FetchLike, loadUndiciAgent, type UndiciAgent } from '@lime/wire';

/** How long an idle keep-alive socket stays open, ms. */
const KEEP_ALIVE_TIMEOUT_MS = 30_000;
/** TCP + TLS connect timeout, ms. */
const CONNECT_TIMEOUT_MS = 10_000;

/** The `fetch` every request goes through, and how to release it. */
export interface Transport {
  fetch: FetchLike;
  close(): Promise<void>;
}

/**
 * The injected `fetch` as is, or the global `fetch` with a keep-alive undici
 * `Agent` as dispatcher (the plain global `fetch` where undici cannot be
 * loaded: see `loadUndiciAgent`). The global is read at call time (not
 * captured), so request interceptors installed later (msw) still see every
 * request.
 */
export function createTransport(injected: FetchLike | undefined): Transport {
  if (injected) return { fetch: injected, close: async () => {} };
  let dispatcher: Promise<UndiciAgent | undefined> | undefined;
  let closed = false;
  const fetch: FetchLike = async (input, init) => {
    if (closed) throw new TypeError('the LimeAgent was closed');
    // Imported on the first request, not with the package: undici takes longer
    // to parse than the rest of the SDK, and a process may never send one.
    dispatcher ??= loadUndiciAgent('lime-agents-sdk', () => import('undici'), {
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      connect: { timeout: CONNECT_TIMEOUT_MS },
    });
    const agent = await dispatcher;
    if (closed) {
      // close() ran while undici loaded: release what was just created.
      if (typeof agent?.destroy === 'function') await agent.destroy().catch(() => {});
      throw new TypeError('the LimeAgent was closed');
    }
    if (!agent) return globalThis.fetch(input, init);
    // `dispatcher` is an undici extension of RequestInit that Node's fetch honours.
    return globalThis.fetch(input, { ...init, dispatcher: agent } as RequestInit);
  };
  return {
    fetch,
    async close() {
      closed = true;
      const d = await dispatcher?.catch(() => undefined);
      dispatcher = undefined;
      // destroy(), not close(): a long-lived MCP event stream must not hold close() open.
      // Bun's built-in `undici` hands out Agents without `destroy()`: nothing to release there.
      if (typeof d?.destroy === 'function') await d.destroy().catch(() => {});
    },
  };
}
