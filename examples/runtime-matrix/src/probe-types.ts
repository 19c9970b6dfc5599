/** What test/runtime-matrix.test.ts hands the probe (src/probe.ts) and the Worker (src/worker.ts). */
export interface ProbeConfig {
  /** The Core's API base (`…/api/v1`). */
  apiBase: string;
  /** The Core's origin, for the MCP verifier and the admin API. */
  origin: string;
  adminToken: string;
  siteToken: string;
  agentToken: string;
  /** An MCP token minted by the Core for `resource`'s host. */
  mcpToken: string;
  resource: string;
  /** A fresh passport for `passportRequestId`, received by a site on Node. */
  passport: string;
  passportRequestId: string;
  /** Difficulties to log in with; empty skips the login checks. */
  difficulties: number[];
}

/** One check's outcome: one JSON line of the probe's output. */
export interface ProbeResult {
  check: string;
  ok: boolean;
  detail?: string;
  /** Hashes per second (the `pow-hash-rate` check). */
  hashRate?: number;
  /** Duration of the check, milliseconds. */
  ms?: number;
}
