import { InvalidResponseError, OAUTH_TOKEN_RESPONSE_KEYS } from '@lime/wire';

/** Three base64url segments, the first one a JSON object (`eyJ` = `{"`). */
const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface ValidTokenResponse {
  accessToken: string;
  expiresIn: number;
}

/**
 * Check a token endpoint answer strictly (PROTOCOL §7): exactly the keys
 * `access_token`, `token_type`, `expires_in`; `token_type` `Bearer`; a
 * positive `expires_in` (a number, or a decimal string such as `"300"`: the
 * Python agent reads it with `int()`); `Cache-Control: no-store`; a
 * JWT-shaped token. A token that fails any of these is never cached or sent
 * anywhere.
 */
export function validateTokenResponse(body: unknown, headers: Headers): ValidTokenResponse {
  const fail = (what: string) =>
    new InvalidResponseError(
      `the MCP token endpoint answered 200 but ${what} — expected exactly ` +
        `{${OAUTH_TOKEN_RESPONSE_KEYS.join(', ')}} with token_type 'Bearer' and ` +
        'Cache-Control: no-store (PROTOCOL §7); check LIME_API_BASE points at a LIME Core',
      { headers },
    );
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw fail('the body is not a JSON object');
  }
  const keys = Object.keys(body).sort();
  const expected = [...OAUTH_TOKEN_RESPONSE_KEYS].sort();
  if (keys.length !== expected.length || keys.some((k, i) => k !== expected[i])) {
    // Key names only: values may hold the token.
    throw fail(`its keys were [${keys.slice(0, 10).join(', ')}]`);
  }
  const { access_token, token_type, expires_in } = body as Record<string, unknown>;
  if (token_type !== 'Bearer') {
    throw fail(`token_type was ${JSON.stringify(String(token_type).slice(0, 20))}`);
  }
  const lifetime = readExpiresIn(expires_in);
  if (lifetime === undefined) {
    throw fail(
      `expires_in was ${JSON.stringify(expires_in)?.slice(0, 40)}, expected a positive number of seconds (a number or a decimal string)`,
    );
  }
  if (typeof access_token !== 'string' || !JWT_SHAPE.test(access_token)) {
    throw fail('access_token is not a JWT (three base64url segments)');
  }
  const cacheControl = headers.get('cache-control') ?? '';
  const directives = cacheControl.split(',').map((d) => d.trim().toLowerCase());
  if (!directives.includes('no-store')) {
    throw fail(`Cache-Control was '${cacheControl.slice(0, 60)}', not no-store`);
  }
  return { accessToken: access_token, expiresIn: lifetime };
}

/** A positive number of seconds: a finite number, or a string of decimal digits. */
function readExpiresIn(value: unknown): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*\+?\d{1,12}\s*$/.test(value)) n = Number(value);
  else return undefined;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}
