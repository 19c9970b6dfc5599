// The one decision every adapter (web-standard, express, the convenience
// wrappers) makes about a request: a verified bearer, or the refusal to send.
// It never throws and never answers "let it through" without auth info, so an
// adapter built on it fails closed by construction: its only way to reach the
// handler is the `ok: true` branch.

import type { LimeAuthInfo, LimeMcpVerifier } from '../verifier.js';
import { headerSafe } from './header-safe.js';
import { metadataUrlFor } from './resource.js';

/** What to answer instead of running the handler. */
export interface BearerRefusal {
  status: 401 | 403 | 500 | 503;
  headers: Record<string, string>;
  body: { error: string; error_description: string };
}

/** A verified bearer, or the refusal to send. */
export type BearerDecision =
  | { ok: true; authInfo: LimeAuthInfo }
  | { ok: false; refusal: BearerRefusal };

/** Options shared by every bearer guard. */
export interface BearerCheckOptions {
  verifier: LimeMcpVerifier;
  requiredScopes?: readonly string[] | undefined;
  resourceMetadataUrl?: string | undefined;
  retryAfter?: number | undefined;
}

/** Checks the `Authorization` header value of one request. */
export type BearerCheck = (
  authorization: string | null | undefined,
  options?: { signal?: AbortSignal | undefined },
) => Promise<BearerDecision>;

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The challenge parameters of RFC 6750 §3, values made header-safe. */
function challenge(params: Record<string, string | undefined>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params))
    if (v !== undefined) parts.push(`${k}="${headerSafe(v)}"`);
  return `Bearer ${parts.join(', ')}`;
}

/**
 * Validate the guard options once (a `TypeError` naming the field) and return
 * the per-request check.
 */
export function createBearerCheck(options: BearerCheckOptions, owner: string): BearerCheck {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${owner} options must be an object`);
  }
  const { verifier } = options;
  if (typeof verifier?.verify !== 'function') {
    throw new TypeError(`${owner}: verifier must be a LimeMcpVerifier`);
  }
  const requiredScopes = [...(options.requiredScopes ?? [])];
  if (requiredScopes.some((s) => typeof s !== 'string' || s.length === 0 || /\s/.test(s))) {
    throw new TypeError(`${owner}: requiredScopes must be non-empty scope strings without spaces`);
  }
  const retryAfter = options.retryAfter ?? 30;
  if (!Number.isInteger(retryAfter) || retryAfter < 0) {
    throw new TypeError(`${owner}: retryAfter must be a whole number of seconds ≥ 0`);
  }
  const metadataUrl =
    options.resourceMetadataUrl ??
    (verifier.resource !== undefined ? metadataUrlFor(verifier.resource) : undefined);
  const scope = requiredScopes.length > 0 ? requiredScopes.join(' ') : undefined;

  const refuse = (
    status: BearerRefusal['status'],
    error: string,
    description: string,
    extraHeaders: Record<string, string> = {},
  ): BearerDecision => {
    const safe = headerSafe(description);
    return {
      ok: false,
      refusal: {
        status,
        headers: {
          'www-authenticate': challenge({
            error,
            error_description: safe,
            scope,
            resource_metadata: metadataUrl,
          }),
          'cache-control': 'no-store',
          ...extraHeaders,
        },
        body: { error, error_description: safe },
      },
    };
  };
  const unavailable = (description: string) =>
    refuse(503, 'temporarily_unavailable', description, { 'retry-after': String(retryAfter) });

  return async function checkBearer(authorization, callOptions) {
    try {
      if (typeof authorization !== 'string' || authorization.length === 0) {
        return refuse(
          401,
          'invalid_token',
          'Missing Authorization header, expected Bearer <token>',
        );
      }
      const match = BEARER.exec(authorization);
      if (!match) {
        return refuse(
          401,
          'invalid_token',
          "Invalid Authorization header, expected 'Bearer <token>'",
        );
      }
      const result = await verifier.verify(
        match[1]!,
        callOptions?.signal ? { signal: callOptions.signal } : {},
      );
      if (result.valid !== true) {
        if (result.error?.temporary === true) return unavailable(result.message);
        return refuse(401, 'invalid_token', result.message);
      }
      const { authInfo } = result;
      if (typeof authInfo !== 'object' || authInfo === null || !Array.isArray(authInfo.scopes)) {
        return unavailable('the verifier returned no auth info');
      }
      const missing = requiredScopes.filter((s) => !authInfo.scopes.includes(s));
      if (missing.length > 0) {
        return refuse(
          403,
          'insufficient_scope',
          `token scope '${authInfo.scopes.join(' ')}' lacks '${missing.join(' ')}'`,
        );
      }
      return { ok: true, authInfo };
    } catch {
      // A bug or a broken dependency inside the check: never a pass-through.
      // The message stays generic: an exception text may carry anything.
      return refuse(500, 'server_error', 'the bearer token could not be checked');
    }
  };
}

/** A refusal as a web-standard `Response`. */
export function refusalResponse(refusal: BearerRefusal): Response {
  return new Response(JSON.stringify(refusal.body), {
    status: refusal.status,
    headers: { 'content-type': 'application/json', ...refusal.headers },
  });
}
