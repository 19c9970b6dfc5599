import type { ApproveData, HttpClient, LoginChallengeData } from '@lime/wire';
import {
  ConflictError,
  ConnectionError,
  HEADERS,
  InvalidResponseError,
  LimeError,
  PATHS,
  ServerError,
  TimeoutError,
  ValidationError,
} from '@lime/wire';
import type { LoginResult } from '../types.js';

export interface LoginDeps {
  http: HttpClient;
  agentToken: string;
  /** Solve the PoW of §3.3; returns the decimal nonce. */
  solve(challenge: string, difficulty: number, signal: AbortSignal | undefined): Promise<string>;
}

/** Trim and check a login request id; throws before any I/O. */
export function checkRequestId(requestId: unknown): string {
  if (typeof requestId !== 'string') {
    throw new ValidationError(
      'VALIDATION_ERROR',
      `login request id must be a string (the login_request_id the site handed over), got ${typeof requestId}`,
    );
  }
  const id = requestId.trim();
  if (id === '') {
    throw new ValidationError(
      'VALIDATION_ERROR',
      'login request id is empty — pass the login_request_id the site created (lr_…)',
    );
  }
  return id;
}

/**
 * PROTOCOL §3.2 → §3.3 → §3.4: read the challenge, solve it, approve.
 *
 * Approve is not idempotent in general, so it is never retried blindly. Only
 * after an ambiguous failure (no answer, a timeout, a 5xx: the approval may
 * or may not have been recorded) the request is read again and approve is
 * sent once more with the same nonce:
 * - the request is still `PENDING`: the first approve did not land, so this
 *   is a first approve, not a repeat;
 * - it is `APPROVED`/`DELIVERED`: a Core with the idempotent-approve
 *   extension answers `200` again only to the winning agent, so `200` means
 *   this agent won and `409` means another one did. A Core without the
 *   extension answers `409` even to the winner: the `ConflictError` then
 *   carries `detail.afterAmbiguousFailure = true`, saying the outcome could
 *   not be told apart.
 */
export async function runLogin(
  deps: LoginDeps,
  requestId: string,
  signal: AbortSignal | undefined,
): Promise<LoginResult> {
  const id = checkRequestId(requestId);
  const challenge = await readChallenge(deps, id, signal);
  const nonce = await deps.solve(challenge.pow_challenge, challenge.pow_difficulty, signal);
  try {
    return await approve(deps, id, nonce, signal);
  } catch (error) {
    if (!isAmbiguous(error)) throw error;
    // The approval may have been recorded; find out rather than guess.
    await readChallenge(deps, id, signal);
    try {
      return await approve(deps, id, nonce, signal);
    } catch (second) {
      if (second instanceof ConflictError) {
        throw new ConflictError(
          second.code,
          `${second.message} — the first approve of this agent got no clear answer ` +
            `(${(error as Error).message}); the request is now approved by another agent, or, on a ` +
            'Core without idempotent approve (PROTOCOL §3.4 extension), possibly by that first attempt',
          {
            cause: error,
            status: second.status,
            headers: second.headers,
            requestId: second.requestId,
            detail: { ...second.detail, afterAmbiguousFailure: true },
          },
        );
      }
      throw second;
    }
  }
}

async function readChallenge(
  deps: LoginDeps,
  id: string,
  signal: AbortSignal | undefined,
): Promise<LoginChallengeData> {
  const { data, headers } = await deps.http.request<LoginChallengeData>(
    'GET',
    PATHS.loginChallenge(id),
    { signal },
  );
  const bad = (what: string) =>
    new InvalidResponseError(`GET ${PATHS.loginChallenge(id)} answered 200 but ${what}`, {
      headers,
    });
  if (typeof data.pow_challenge !== 'string') throw bad('pow_challenge is not a string');
  if (
    typeof data.pow_difficulty !== 'number' ||
    !Number.isInteger(data.pow_difficulty) ||
    data.pow_difficulty < 0 ||
    data.pow_difficulty > 256
  ) {
    throw bad(`pow_difficulty was ${JSON.stringify(data.pow_difficulty)}`);
  }
  return data;
}

async function approve(
  deps: LoginDeps,
  id: string,
  nonce: string,
  signal: AbortSignal | undefined,
): Promise<LoginResult> {
  const path = PATHS.approveLoginRequest(id);
  const { data, headers } = await deps.http.request<ApproveData>('POST', path, {
    signal,
    idempotent: false,
    body: { pow_nonce: nonce },
    headers: { [HEADERS.agentToken]: deps.agentToken },
  });
  const bad = (what: string) =>
    new InvalidResponseError(`POST ${path} answered 200 but ${what}`, { headers });
  if (typeof data.site_id !== 'string') throw bad('site_id is not a string');
  if (typeof data.approved_agent_id !== 'string') throw bad('approved_agent_id is not a string');
  if (data.status !== 'APPROVED' && data.status !== 'DELIVERED') {
    throw bad(`status was ${JSON.stringify(data.status)}, expected APPROVED or DELIVERED`);
  }
  const expiresAt = new Date(typeof data.expires_at === 'string' ? data.expires_at : Number.NaN);
  if (Number.isNaN(expiresAt.getTime())) throw bad('expires_at is not an RFC 3339 time');
  return {
    requestId: typeof data.request_id === 'string' ? data.request_id : id,
    siteId: data.site_id,
    status: data.status,
    expiresAt,
    approvedAgentId: data.approved_agent_id,
  };
}

/** No answer, or an answer that does not say whether the approval landed. */
function isAmbiguous(error: unknown): boolean {
  if (error instanceof ConnectionError || error instanceof TimeoutError) return true;
  if (error instanceof ServerError) return true;
  return error instanceof LimeError && error.status !== undefined && error.status >= 500;
}
