// Complete headless logins against the reference Core on loopback:
// create (site) → challenge (public) → approve (agent, difficulty 0) → the
// `approved` event observed on the site's SSE stream. N concurrent clients
// for a fixed duration; prints logins/s, latency percentiles and peak RSS.
//
//   pnpm bench:core                          # 50 clients, 10 s
//   pnpm bench:core --clients 100 --duration 5
//   BENCH_CLIENTS=20 BENCH_DURATION=3 pnpm bench:core
//   pnpm bench:core --in-process             # Core in the driver's process
//   BENCH_CORE_PROF=/tmp/prof pnpm bench:core # CPU profile of the Core process
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PATHS } from '@lime/wire';
import { Agent, request } from 'undici';
import { watchDeliveries } from './delivery-watch.js';

function arg(name: string, env: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i >= 0 ? process.argv[i + 1] : process.env[env];
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new TypeError(`--${name} must be a positive number`);
  return n;
}

const clients = arg('clients', 'BENCH_CLIENTS', 50);
const durationS = arg('duration', 'BENCH_DURATION', 10);
const warmupS = Math.min(1, durationS / 5);
const inProcess = process.argv.includes('--in-process');

interface Target {
  apiBase: string;
  siteToken: string;
  agentTokens: string[];
  peakRssMb(): Promise<number>;
  stop(): Promise<void>;
}

async function startTarget(): Promise<Target> {
  if (inProcess) {
    const { startCore } = await import('../src/index.js');
    const core = await startCore({ powDifficulty: 0, rateLimits: false });
    const site = await core.admin.createSite({ name: 'bench' });
    const agentTokens: string[] = [];
    for (let i = 0; i < clients; i++) {
      agentTokens.push((await core.admin.createAgent({ displayName: `a${i}` })).agentToken);
    }
    return {
      apiBase: core.apiBase,
      siteToken: site.siteToken,
      agentTokens,
      peakRssMb: async () => process.resourceUsage().maxRSS / 1024,
      stop: () => core.close(),
    };
  }
  const child = fork(fileURLToPath(new URL('./core-process.ts', import.meta.url)), {
    execArgv: [
      '--import',
      'tsx',
      ...(process.env.BENCH_CORE_PROF
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CORE_PROF}`]
        : []),
    ],
    env: { ...process.env, BENCH_CLIENTS: String(clients) },
  });
  const next = <T>(type: string) =>
    new Promise<T>((resolve, reject) => {
      const onMsg = (m: { type: string }) => {
        if (m.type === type) {
          child.off('message', onMsg);
          resolve(m as T);
        }
      };
      child.on('message', onMsg);
      child.once('exit', (code) => reject(new Error(`core process exited (${code})`)));
    });
  const ready = await next<{ apiBase: string; siteToken: string; agentTokens: string[] }>('ready');
  return {
    ...ready,
    async peakRssMb() {
      const r = next<{ maxRssKb: number }>('stats');
      child.send({ type: 'stats' });
      return (await r).maxRssKb / 1024;
    },
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ type: 'stop' });
      await exited;
    },
  };
}

const target = await startTarget();
const dispatcher = new Agent({ connections: clients + 8, keepAliveTimeout: 30_000, pipelining: 1 });
const url = (p: string) => target.apiBase + p;

// One site stream observes every delivery.
const watch = await watchDeliveries(target.apiBase, target.siteToken);

async function json(
  method: 'GET' | 'POST',
  path: string,
  headers: Record<string, string>,
  body?: object,
) {
  const res = await request(url(path), {
    method,
    headers: body ? { ...headers, 'content-type': 'application/json' } : headers,
    body: body ? JSON.stringify(body) : undefined,
    dispatcher,
  });
  const parsed = (await res.body.json()) as { data?: Record<string, unknown> };
  if (res.statusCode >= 300) throw new Error(`${method} ${path} → ${res.statusCode}`);
  return parsed.data!;
}

async function oneLogin(agentToken: string): Promise<void> {
  const created = await json(
    'POST',
    PATHS.createLoginRequest,
    { 'x-site-token': target.siteToken },
    {},
  );
  const id = created.login_request_id as string;
  const delivered = watch.delivered(id);
  await json('GET', PATHS.loginChallenge(id), {});
  await json(
    'POST',
    PATHS.approveLoginRequest(id),
    { 'x-agent-token': agentToken },
    { pow_nonce: '0' },
  );
  await delivered;
}

const latencies: number[] = [];
let errors = 0;
const errorKinds = new Map<string, number>();
const start = performance.now();
const measureFrom = start + warmupS * 1000;
const end = measureFrom + durationS * 1000;
await Promise.all(
  target.agentTokens.map(async (agentToken) => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await oneLogin(agentToken);
        if (t0 >= measureFrom) latencies.push(performance.now() - t0);
      } catch (error) {
        errors++;
        const kind = error instanceof Error ? error.message : String(error);
        errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
        // A failing login must not turn the client into a busy loop that
        // starves the others and inflates the error count.
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }),
);
const elapsedS = (performance.now() - measureFrom) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
const coreRss = await target.peakRssMb();
watch.close();
await target.stop();
await dispatcher.close();

const rate = latencies.length / elapsedS;
console.log(`complete logins (create → challenge → approve → SSE delivery), difficulty 0`);
console.log(
  `clients: ${clients}, measured: ${elapsedS.toFixed(1)} s after ${warmupS} s warm-up, core: ${inProcess ? 'in-process' : 'own process'}`,
);
console.log(`logins/s: ${rate.toFixed(0)}`);
console.log(`latency p50: ${pct(50).toFixed(1)} ms`);
console.log(`latency p99: ${pct(99).toFixed(1)} ms`);
console.log(`latency max: ${(latencies.at(-1) ?? Number.NaN).toFixed(1)} ms`);
console.log(`errors: ${errors}`);
for (const [kind, n] of errorKinds) console.log(`  ${n} × ${kind}`);
console.log(`peak RSS core: ${coreRss.toFixed(0)} MB`);
console.log(`target: ≥ 500 logins/s with p99 ≤ 100 ms at 50 clients (baseline 500 logins/s)`);
process.exit(0);
