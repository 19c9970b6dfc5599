// A Cloudflare Worker (run by workerd in test/runtime-matrix.test.ts, bundled
// with esbuild for the `workerd`/`worker`/`browser` conditions and WITHOUT
// nodejs_compat): the verification halves of the SDKs must work on web
// standards alone. POST a ProbeConfig as JSON; the answer is the list of
// ProbeResults.
import { runCheck, verificationChecks } from './checks.js';
import type { ProbeConfig, ProbeResult } from './probe-types.js';

export default {
  async fetch(request: Request): Promise<Response> {
    const config = (await request.json()) as ProbeConfig;
    const results: ProbeResult[] = [];
    for (const [name, run] of verificationChecks(config)) results.push(await runCheck(name, run));
    return Response.json(results);
  },
};
