import {
  ConflictError,
  ExpiredError,
  type LimeAgent,
  LimeError,
  PowTimeoutError,
  RateLimitError,
} from 'lime-agents-sdk';

/** What an agent worker can do about each failure of `login()`. */
export async function loginOrExplain(agent: LimeAgent, loginRequestId: string): Promise<string> {
  try {
    await agent.login(loginRequestId);
    return 'logged in';
  } catch (error) {
    // `instanceof` and `code` both work, across every LIME package.
    if (error instanceof ExpiredError) return 'too late: ask the site for a new request';
    if (error instanceof ConflictError) return 'another agent approved this request';
    if (error instanceof PowTimeoutError) return 'proof of work too slow: raise powTimeout';
    if (error instanceof RateLimitError) return `slow down, retry in ${error.retryAfter} s`;
    if (error instanceof LimeError) {
      switch (error.code) {
        case 'INVALID_AGENT_TOKEN':
        case 'MISSING_AGENT_TOKEN':
          return 'check LIME_AGENT_TOKEN';
        case 'REQUEST_NOT_FOUND':
          return 'unknown request id: is the site talking to the same Core?';
        default:
          return `LIME error ${error.code} (HTTP ${error.status ?? '-'})`;
      }
    }
    throw error;
  }
}
