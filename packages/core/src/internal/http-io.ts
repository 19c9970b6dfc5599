import type { IncomingMessage, ServerResponse } from 'node:http';
import { failureEnvelope } from '@lime/wire';
import { CoreProblem } from './problem.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/** Write a JSON body (already serialized) with the headers every answer carries. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string>,
): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  res.writeHead(status, {
    'Content-Type': JSON_TYPE,
    'Content-Length': String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}

/** Render a problem as the §2 failure envelope. */
export function envelopeBody(problem: CoreProblem): string {
  return JSON.stringify(failureEnvelope(problem.code, problem.message, problem.detail));
}

/** Render a problem as a raw RFC 6749 §5.2 body (the §7 token endpoint). */
export function oauthErrorBody(problem: CoreProblem): string {
  const error = problem.status === 401 ? 'invalid_client' : 'invalid_request';
  return JSON.stringify({ error, error_description: problem.message });
}

function isJsonContentType(value: string): boolean {
  const type = value.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/**
 * Read and parse a JSON request body: 415 when the content type is not JSON,
 * 413 past `limit` bytes, 400 `VALIDATION_ERROR` when it does not parse. An
 * empty body (without content type) reads as `{}`.
 */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const contentType = req.headers['content-type'];
  const declared = req.headers['content-length'];
  const hasBody =
    req.headers['transfer-encoding'] !== undefined || (declared !== undefined && declared !== '0');
  if (contentType === undefined && !hasBody) return Promise.resolve({});
  if (contentType === undefined || !isJsonContentType(contentType)) {
    return Promise.reject(
      new CoreProblem(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'send the body as JSON with Content-Type: application/json',
      ),
    );
  }
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: CoreProblem | null, value?: unknown) => {
      if (done) return;
      done = true;
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      if (err) {
        // Do not read the rest; the connection closes after the answer.
        req.resume();
        reject(err);
      } else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) finish(tooLarge(limit));
      else chunks.push(chunk);
    };
    const onEnd = () => {
      const text =
        chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return finish(null, {});
      try {
        finish(null, JSON.parse(text));
      } catch {
        finish(
          new CoreProblem(400, 'VALIDATION_ERROR', "field 'body' is not valid JSON", {
            field: 'body',
          }),
        );
      }
    };
    const onError = () =>
      finish(
        new CoreProblem(400, 'VALIDATION_ERROR', 'the request body could not be read', {
          field: 'body',
        }),
      );
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function tooLarge(limit: number): CoreProblem {
  return new CoreProblem(
    413,
    'PAYLOAD_TOO_LARGE',
    `the request body is larger than ${limit} bytes`,
    { limit },
    { Connection: 'close' },
  );
}
