import { LimeError, type LimeErrorOptions } from '@lime/wire';

/**
 * A proof-of-work solve ran past its `timeoutMs` (`powTimeout` on the agent)
 * without finding a nonce. The workers have been told to stop. `detail`
 * carries `difficulty`, `timeoutMs` and `hashes` (work done before the stop).
 *
 * @example
 * try {
 *   await solvePow(challenge, 24, { timeoutMs: 2_000 });
 * } catch (e) {
 *   if (e instanceof PowTimeoutError) console.log(e.code, e.detail?.hashes); // 'POW_TIMEOUT'
 * }
 */
export class PowTimeoutError extends LimeError {
  constructor(message: string, options: LimeErrorOptions = {}) {
    super('POW_TIMEOUT', message, options);
  }
}
