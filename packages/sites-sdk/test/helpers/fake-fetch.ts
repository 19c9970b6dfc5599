// A controllable in-process "Core" behind an injected fetch: JWKS and event
// stream routes whose behaviour each test scripts, byte by byte. Used for
// shapes the reference Core never produces (cuts, silence, odd statuses).
import type { FetchLike } from 'lime-sites-sdk';

export const API_BASE = 'http://fake.test/api/v1';
export const JWKS_URL = `${API_BASE}/core/.well-known/jwks.json`;
export const EVENTS_URL = `${API_BASE}/modules/agent-login/events`;

/** A streaming SSE body the test pushes bytes into. */
export interface SseHandle {
  response: Response;
  push(chunk: string | Uint8Array): void;
  end(): void;
  fail(error?: unknown): void;
  readonly closed: boolean;
}

const encoder = new TextEncoder();

export function sseResponse(
  init: { status?: number; headers?: Record<string, string> } = {},
  signal?: AbortSignal,
): SseHandle {
  // Pull-based with no internal buffering, so bytes pushed before `fail()` are
  // still read first (as bytes written before a connection reset are).
  const queue: Uint8Array[] = [];
  let finish: { error: unknown } | 'end' | undefined;
  let closed = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          const chunk = queue.shift();
          if (chunk) {
            controller.enqueue(chunk);
            return;
          }
          if (finish === 'end') {
            controller.close();
            return;
          }
          if (finish) {
            controller.error(finish.error);
            return;
          }
          await new Promise<void>((r) => {
            wake = r;
          });
        }
      },
      cancel() {
        closed = true;
        finish ??= 'end';
        notify();
      },
    },
    { highWaterMark: 0 },
  );
  signal?.addEventListener('abort', () => {
    if (closed) return;
    closed = true;
    queue.length = 0;
    finish = { error: signal.reason ?? new Error('aborted') };
    notify();
  });
  const response = new Response(body, {
    status: init.status ?? 200,
    headers: { 'content-type': 'text/event-stream', ...init.headers },
  });
  return {
    response,
    push(chunk) {
      if (closed || finish) return;
      queue.push(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
      notify();
    },
    end() {
      if (closed || finish) return;
      finish = 'end';
      closed = true;
      notify();
    },
    fail(error = new TypeError('terminated')) {
      if (closed || finish) return;
      finish = { error };
      closed = true;
      notify();
    },
    get closed() {
      return closed;
    },
  };
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

export interface StreamRequest {
  lastEventId: string | null;
  siteToken: string | null;
  signal: AbortSignal | undefined;
  index: number;
}

export interface FakeCoreOptions {
  jwks?: (index: number, signal: AbortSignal | undefined) => Response | Promise<Response>;
  stream?: (request: StreamRequest) => Response | Promise<Response>;
  other?: (url: string, init: RequestInit | undefined) => Response | Promise<Response>;
}

/** Route fetch calls to the scripted handlers and record them. */
export function fakeCore(options: FakeCoreOptions) {
  const calls = { jwks: 0, stream: [] as StreamRequest[], other: [] as string[] };
  const fetch: FetchLike = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers = new Headers(init?.headers);
    if (url === JWKS_URL && options.jwks)
      return options.jwks(calls.jwks++, init?.signal ?? undefined);
    if (url === EVENTS_URL && options.stream) {
      const request: StreamRequest = {
        lastEventId: headers.get('last-event-id'),
        siteToken: headers.get('x-site-token'),
        signal: init?.signal ?? undefined,
        index: calls.stream.length,
      };
      calls.stream.push(request);
      return options.stream(request);
    }
    calls.other.push(url);
    if (options.other) return options.other(url, init);
    return json({ ok: false, error: { code: 'NOT_FOUND', message: `no route ${url}` } }, 404);
  };
  return { fetch, calls };
}

/** A promise that never settles until `signal` aborts (then rejects like fetch). */
export function hangUntilAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    signal?.addEventListener('abort', () => reject(signal.reason ?? new Error('aborted')), {
      once: true,
    });
  });
}

/** SSE frame of one JSON event, with an optional id. */
export function frame(data: unknown, id?: number | string): string {
  return `${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`;
}

/** Poll `predicate` on the event loop until true (real timers), or fail after `ms`. */
export async function until(predicate: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
