// lime-sites-sdk/fastify: the web-standard login handlers on Fastify 4 and 5.
// Node-only, hence a subpath of its own. Typed structurally, so this module
// imports nothing from fastify.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readWebResponse, toWebRequest } from './internal/node-http.js';

/** The Fastify request fields the adapter reads (`protocol` honours `trustProxy`). */
export interface FastifyRequestLike {
  raw: IncomingMessage;
  url: string;
  protocol?: string;
}

/** The Fastify reply methods the adapter uses. */
export interface FastifyReplyLike {
  raw: ServerResponse;
  code(statusCode: number): unknown;
  header(name: string, value: string | string[]): unknown;
  send(payload?: Uint8Array): unknown;
}

/**
 * Mount a web-standard handler (`Request → Response`, such as the ones of
 * `createLoginHandlers`) as a Fastify route handler; Fastify's hooks still
 * run. The request's signal fires when the client goes away.
 *
 * @example
 * import { toFastifyHandler } from 'lime-sites-sdk/fastify';
 * app.post('/login/start', toFastifyHandler(login.start));
 * app.post('/login/finish', toFastifyHandler(login.finish));
 */
export function toFastifyHandler(
  handler: (request: Request) => Promise<Response>,
): (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown> {
  if (typeof handler !== 'function') {
    throw new TypeError(
      'toFastifyHandler: handler must be a function (request: Request) => Response',
    );
  }
  return async (request, reply) => {
    const web = toWebRequest(request.raw, reply.raw, request.protocol, request.url);
    const { status, headers, cookies, body } = await readWebResponse(await handler(web));
    reply.code(status);
    for (const [name, value] of headers) reply.header(name, value);
    if (cookies.length > 0) reply.header('set-cookie', cookies);
    return reply.send(body);
  };
}
