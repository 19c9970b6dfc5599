// Node's http objects ↔ web-standard Request/Response, for the express and
// Fastify adapters of the login handlers. Node-only: imported by those
// subpaths, never by the root entry.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/**
 * A web `Request` for the handler: method, absolute URL, headers, and a
 * signal that fires when the client goes away before the answer is sent.
 * The body is not forwarded (the login handlers read none; a framework's
 * body parser may have consumed it already).
 */
export function toWebRequest(
  raw: IncomingMessage,
  response: ServerResponse,
  protocol: string | undefined,
  path: string,
): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw.headers as IncomingHttpHeaders)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  const scheme =
    protocol ?? ((raw.socket as { encrypted?: boolean } | null)?.encrypted ? 'https' : 'http');
  const host = raw.headers.host ?? 'localhost';
  const controller = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) controller.abort(new Error('the client went away'));
  });
  return new Request(`${scheme}://${host}${path}`, {
    method: raw.method ?? 'GET',
    headers,
    signal: controller.signal,
  });
}

/** The response's status, headers (every `Set-Cookie` kept apart) and body, in one piece. */
export async function readWebResponse(response: Response): Promise<{
  status: number;
  headers: [string, string][];
  cookies: string[];
  body: Uint8Array | undefined;
}> {
  const headers: [string, string][] = [];
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') headers.push([name, value]);
  }
  const body = response.body === null ? undefined : new Uint8Array(await response.arrayBuffer());
  return { status: response.status, headers, cookies: response.headers.getSetCookie(), body };
}
