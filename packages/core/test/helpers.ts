import { Agent, request } from 'undici';

/** One keep-alive dispatcher per test file; close it in afterAll. */
export function httpClient() {
  const dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  return {
    dispatcher,
    async call(
      method: string,
      url: string,
      opts: { headers?: Record<string, string>; body?: unknown; rawBody?: string } = {},
    ) {
      const headers: Record<string, string> = { ...opts.headers };
      let body: string | undefined;
      if (opts.rawBody !== undefined) body = opts.rawBody;
      else if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await request(url, { method: method as 'GET', headers, body, dispatcher });
      const text = await res.body.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.statusCode, headers: res.headers, text, json: json as any };
    },
    close: () => dispatcher.close(),
  };
}

export interface SseMessage {
  id: string | undefined;
  data: any;
}

/**
 * Open the login event stream and collect parsed messages. `cutAfterBytes`
 * drops the connection after that many bytes (mid-frame, possibly).
 */
export async function openStream(
  url: string,
  siteToken: string,
  opts: { lastEventId?: string; dispatcher?: Agent; cutAfterBytes?: number } = {},
) {
  const { createParser } = await import('eventsource-parser');
  const ac = new AbortController();
  const headers: Record<string, string> = {
    'x-site-token': siteToken,
    accept: 'text/event-stream',
  };
  if (opts.lastEventId !== undefined) headers['last-event-id'] = opts.lastEventId;
  const res = await request(url, {
    method: 'GET',
    headers,
    signal: ac.signal,
    ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
  });
  const messages: SseMessage[] = [];
  let retry: number | undefined;
  const waiters: Array<() => void> = [];
  const parser = createParser({
    onEvent(e) {
      let data: unknown;
      try {
        data = JSON.parse(e.data);
      } catch {
        data = e.data;
      }
      messages.push({ id: e.id, data });
      for (const w of waiters.splice(0)) w();
    },
    onRetry(r) {
      retry = r;
    },
  });
  let ended = false;
  let bytes = 0;
  const done = (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body) {
        let buf = chunk as Buffer;
        if (opts.cutAfterBytes !== undefined && bytes + buf.length >= opts.cutAfterBytes) {
          buf = buf.subarray(0, Math.max(0, opts.cutAfterBytes - bytes));
          bytes += buf.length;
          parser.feed(decoder.decode(buf, { stream: true }));
          ac.abort();
          break;
        }
        bytes += buf.length;
        parser.feed(decoder.decode(buf, { stream: true }));
      }
    } catch {
      // aborted or reset
    }
    ended = true;
    for (const w of waiters.splice(0)) w();
  })();
  return {
    status: res.statusCode,
    headers: res.headers,
    messages,
    get retry() {
      return retry;
    },
    get ended() {
      return ended;
    },
    /** Resolve once `pred` holds for the collected messages (or the stream ended). */
    async until(pred: (m: SseMessage[]) => boolean, timeoutMs = 5_000): Promise<SseMessage[]> {
      const deadline = Date.now() + timeoutMs;
      while (!pred(messages)) {
        if (ended) throw new Error(`stream ended; got ${JSON.stringify(messages)}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timeout; got ${JSON.stringify(messages)}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return messages;
    },
    done,
    close() {
      ac.abort();
      return done;
    },
  };
}
