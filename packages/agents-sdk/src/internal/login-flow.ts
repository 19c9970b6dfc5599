import type { ApproveData, HttpClient, LoginChallengeData } from '@lime/wire';
import {
  AuthenticationError,
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
import type { PowProgress } from '../pow/index.js';
import type { LoginOptions, LoginProgress, LoginResult, LoginStep } from '../types.js';

export interface LoginDeps {
  http: HttpClient;
  agentToken: string;
  /** Solve the PoW of §3.3; returns the decimal nonce. */
  solve(
    challenge: string,
    difficulty: number,
    signal: AbortSignal,
    onProgress: ((progress: PowProgress) => void) | undefined,
  ): Promise<string>;
  /**
   * A cheap authenticated call (the agent profile), started alongside the
   * challenge and the solve: when the Core refuses the agent token, the login
   * stops within one round trip instead of after the proof of work.
   */
  checkAgentToken?(signal: AbortSignal): Promise<unknown>;
}

/** Name the failed step on the error (`error.step`), unless a deeper step already did. */
function atStep(step: LoginStep, error: unknown): unknown {
  if (error instanceof LimeError) {
    error.step ??= step;
  } else if (error instanceof Error && !('step' in error)) {
    Object.assign(error, { step });
  }
  return error;
}

async function step<T>(name: LoginStep, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw atStep(name, error);
  }
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
  options: LoginOptions,
): Promise<LoginResult> {
  const id = await step('challenge', async () => checkRequestId(requestId));
  const { onProgress } = options;
  const progress = (p: LoginProgress) => {
    try {
      onProgress?.(p);
    } catch {
      // A failing progress callback must not fail the login.
    }
  };
  // Stops the token check when the login ends, and the login when the token is refused.
  const local = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, local.signal]) : local.signal;
  let refused: AuthenticationError | undefined;
  deps.checkAgentToken?.(local.signal).catch((error: unknown) => {
    // Only a refusal stops the login; anything else (no answer, 5xx, a Core
    // without the profile route) is left to approve, which decides.
    if (error instanceof AuthenticationError && !local.signal.aborted) {
      refused = error;
      local.abort(error);
    }
  });
  try {
    progress({ step: 'challenge', difficulty: undefined, pow: undefined });
    const challenge = await step('challenge', () => readChallenge(deps, id, signal));
    const difficulty = challenge.pow_difficulty;
    progress({ step: 'solve', difficulty, pow: undefined });
    const nonce = await step('solve', () =>
      deps.solve(
        challenge.pow_challenge,
        difficulty,
        signal,
        onProgress ? (pow) => progress({ step: 'solve', difficulty, pow }) : undefined,
      ),
    );
    progress({ step: 'approve', difficulty, pow: undefined });
    return await step('approve', () => approveOnce(deps, id, nonce, signal));
  } catch (error) {
    if (refused) {
      // The check's refusal, not the AbortError it caused in the running step.
      refused.step ??= 'approve';
      throw refused;
    }
    throw error;
  } finally {
    local.abort();
  }
}

/** §3.4 with the ambiguity handling described on {@link runLogin}. */
async function approveOnce(
  deps: LoginDeps,
  id: string,
  nonce: string,
  signal: AbortSignal,
): Promise<LoginResult> {
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
  signal: AbortSignal,
): Promise<{ pow_challenge: string; pow_difficulty: number }> {
  const { data, headers } = await deps.http.request<LoginChallengeData>(
    'GET',
    PATHS.loginChallenge(id),
    { signal },
  );
  const bad = (what: string) =>
    new InvalidResponseError(
      `GET ${PATHS.loginChallenge(id)} answered 200 but ${what} — expected the challenge of PROTOCOL §3.2`,
      { headers },
    );
  if (typeof data.pow_challenge !== 'string') throw bad('pow_challenge is not a string');
  const difficulty = readDifficulty(data.pow_difficulty);
  if (difficulty === undefined) {
    throw bad(
      `pow_difficulty was ${JSON.stringify(data.pow_difficulty)?.slice(0, 40)}, expected an integer from 0 to 256 (a number or a decimal string)`,
    );
  }
  return { pow_challenge: data.pow_challenge, pow_difficulty: difficulty };
}

/**
 * PROTOCOL §3.2 [hosted]: the Python agent reads `pow_difficulty` with
 * `int()`, so an integral number or a decimal string (`"15"`) both count.
 * Anything else, or a value no proof of work can meet (outside 0–256), is
 * refused: there would be nothing sensible to solve.
 */
function readDifficulty(value: unknown): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*\+?\d{1,4}\s*$/.test(value)) n = Number(value);
  else return undefined;
  return Number.isInteger(n) && n >= 0 && n <= 256 ? n : undefined;
}

async function approve(
  deps: LoginDeps,
  id: string,
  nonce: string,
  signal: AbortSignal | undefined,
): Promise<LoginResult> {
  const path = PATHS.approveLoginRequest(id);
  const { data, headers } = await deps.http.request<Partial<Record<keyof ApproveData, unknown>>>(
    'POST',
    path,
    {
      signal,
      idempotent: false,
      body: { pow_nonce: nonce },
      headers: { [HEADERS.agentToken]: deps.agentToken },
    },
  );
  return readApproval(data, id, path, headers);
}

/**
 * A `200` from approve means the approval happened (PROTOCOL §3.4 [hosted]).
 * As in the Python agent, `approved_agent_id` is optional and any `status`
 * string is a success: what is missing or unexpected there is reported in
 * `warnings`, never thrown. `site_id` and `expires_at` are required, as the
 * Python agent requires them (it fails on a hosted answer without them, so
 * the hosted platform sends them); a missing one is an
 * `InvalidResponseError` whose `detail.approved` says the approval stands.
 */
function readApproval(
  data: Partial<Record<keyof ApproveData, unknown>>,
  id: string,
  path: string,
  headers: Headers,
): LoginResult {
  const warnings: string[] = [];
  const text = (v: unknown): string | undefined =>
    typeof v === 'string' && v !== ''
      ? v
      : typeof v === 'number' && Number.isFinite(v)
        ? String(v)
        : undefined;
  const shown = (v: unknown) =>
    v === undefined ? 'missing' : `= ${JSON.stringify(v)?.slice(0, 60) ?? String(v)}`;
  const bad = (field: string, v: unknown, expected: string) =>
    new InvalidResponseError(
      `POST ${path} answered 200 — the approval went through — but ${field} was ${shown(v)}, expected ${expected}`,
      { headers, detail: { approved: true, requestId: id } },
    );

  const siteId = text(data.site_id);
  if (siteId === undefined) throw bad('site_id', data.site_id, 'the id of the site');
  const expiresAt = readTime(data.expires_at);
  if (expiresAt === undefined) throw bad('expires_at', data.expires_at, 'an RFC 3339 time');
  const status = text(data.status);
  if (status !== 'APPROVED' && status !== 'DELIVERED') {
    warnings.push(
      `POST ${path} answered 200 with status ${shown(data.status)}, expected APPROVED or DELIVERED; the approval stands`,
    );
  }
  const approvedAgentId = text(data.approved_agent_id);
  if (approvedAgentId === undefined) {
    warnings.push(
      `POST ${path} answered 200 with approved_agent_id ${shown(data.approved_agent_id)}, expected the id of this agent; the approval stands`,
    );
  }
  return {
    requestId: text(data.request_id) ?? id,
    siteId,
    status,
    expiresAt,
    approvedAgentId,
    warnings,
  };
}

/**
 * An ISO 8601 / RFC 3339 time, as Python's `datetime.fromisoformat` reads it:
 * also the basic format (`20300101T000000Z`), which `Date` does not parse.
 */
function readTime(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const basic = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(
    value.trim(),
  );
  const iso = basic
    ? `${basic[1]}-${basic[2]}-${basic[3]}T${basic[4]}:${basic[5]}:${basic[6]}${basic[7] ?? ''}${basic[8] ?? ''}`
    : value;
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** No answer, or an answer that does not say whether the approval landed. */
function isAmbiguous(error: unknown): boolean {
  if (error instanceof ConnectionError || error instanceof TimeoutError) return true;
  if (error instanceof ServerError) return true;
  return error instanceof LimeError && error.status !== undefined && error.status >= 500;
}
