import { powPool } from './internal/pool.js';

/**
 * Terminate the proof-of-work worker threads. Solves still running reject
 * with an `AbortError`. The pool starts again on the next solve. Not needed
 * for a process to exit (idle workers never keep it alive); use it in tests
 * and when you want the threads gone now.
 *
 * @example
 * afterAll(() => shutdownPowPool());
 */
export function shutdownPowPool(): Promise<void> {
  return powPool().shutdown();
}
