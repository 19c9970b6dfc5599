// Proof of work (PROTOCOL.md §3.3): the solver the agent SDK uses for login.
// Node-only (worker_threads).
export { PowTimeoutError } from './errors.js';
export type { HashRateOptions, HashRateResult } from './hash-rate.js';
export { hashRate } from './hash-rate.js';
export { shutdownPowPool } from './shutdown.js';
export type { PowProgress, PowSolution, SolveOptions } from './solve.js';
export { INLINE_MAX_EXPECTED_HASHES, solvePow } from './solve.js';
