// lime-sites-sdk/express: the web-standard login handlers on express 4 and 5.
// Node-only, hence a subpath of its own; the root entry stays runtime-neutral.
// Typed with Node's http objects (express's extend them), so this module
// imports nothing from express.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readWebResponse, toWebRequest } from './internal/node-http.js';

/**
 * The express request fields the adapter reads: `protocol` honours express's
 * `trust proxy` (so `Secure` cookies behind a TLS proxy are right).
 */
export type ExpressRequestLike = IncomingMessage & { protocol?: string; originalUrl?: string };

/** An express route handler (express 4 and 5). */
export type ExpressHandler = (
  req: ExpressRequestLike,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/**
 * Mount a web-standard handler (`Request → Response`, such as the ones of
 * `createLoginHandlers`) as an express route. The request's signal fires
 * when the client goes away; an unexpected throw goes to `next(error)`.
 *
 * @example
 * import { toExpressHandler } from 'lime-sites-sdk/express';
 * app.post('/login/start', toExpressHandler(login.start));
 * app.post('/login/finish', toExpressHandler(login.finish));
 */
export function toExpressHandler(handler: (request: Request) => Promise<Response>): ExpressHandler {
  if (typeof handler !== 'function') {
    throw new TypeError(
      'toExpressHandler: handler must be a function (request: Request) => Response',
    );
  }
  return (req, res, next) => {
    const request = toWebRequest(req, res, req.protocol, req.originalUrl ?? req.url ?? '/');
    handler(request)
      .then(readWebResponse)
      .then(({ status, headers, cookies, body }) => {
        if (res.headersSent || res.destroyed) return;
        res.statusCode = status;
        for (const [name, value] of headers) res.setHeader(name, value);
        if (cookies.length > 0) res.setHeader('set-cookie', cookies);
        res.end(body);
      })
      .catch(next);
  };
}
