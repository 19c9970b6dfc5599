// Shared by the Core benchmarks: one site event stream that observes every
// passport delivery, so a driver can wait for "its" login to come out.
import { PATHS } from '@lime/wire';
import { createParser } from 'eventsource-parser';
import { Agent, request } from 'undici';

export interface DeliveryWatch {
  /** Resolves when the `approved` event of `requestId` arrived (before or after the call). */
  delivered(requestId: string): Promise<void>;
  /** Drop the stream. */
  close(): void;
}

/** Open `GET …/events` as the site and track `approved` events by request id. */
export async function watchDeliveries(apiBase: string, siteToken: string): Promise<DeliveryWatch> {
  const waiting = new Map<string, () => void>();
  const early = new Set<string>();
  const stream = await request(apiBase + PATHS.loginEvents, {
    method: 'GET',
    headers: { 'x-site-token': siteToken, accept: 'text/event-stream' },
    dispatcher: new Agent({ connections: 1 }),
  });
  if (stream.statusCode !== 200) throw new Error(`event stream answered ${stream.statusCode}`);
  const parser = createParser({
    onEvent(e) {
      const data = JSON.parse(e.data) as { type: string; login_request_id?: string };
      if (data.type !== 'approved' || !data.login_request_id) return;
      const done = waiting.get(data.login_request_id);
      if (done) {
        waiting.delete(data.login_request_id);
        done();
      } else early.add(data.login_request_id);
    },
  });
  const decoder = new TextDecoder();
  void (async () => {
    try {
      for await (const chunk of stream.body) {
        parser.feed(decoder.decode(chunk as Buffer, { stream: true }));
      }
    } catch {
      // closed at the end
    }
  })();
  return {
    delivered: (requestId) =>
      new Promise<void>((resolve) => {
        if (early.delete(requestId)) resolve();
        else waiting.set(requestId, resolve);
      }),
    close: () => stream.body.destroy(),
  };
}
