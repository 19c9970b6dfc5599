// Soak: how much heap each complete login leaves behind while the Core
// retains it (requests: TTL + retention ≈ 15 min; events: retention, 10 min).
// Drives complete logins (create → approve at difficulty 0 → `approved` on
// the site's stream) against an in-process Core over HTTP for a bounded
// time, then measures the heap after forced GCs, three times: with
// everything retained, after the events' retention passed (injected clock),
// and after the requests' retention passed too (the same run with nothing
// retained: the baseline of the run). Not run by CI; `pnpm bench` runs it.
//
//   pnpm bench core-soak                     # 60 s, 20 clients (scripts/bench-all.mjs)
//   SOAK_DURATION=120 SOAK_CLIENTS=50 node --expose-gc --import tsx packages/core/bench/soak.bench.ts
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { MIN_EVENT_RETENTION_MS, PATHS } from '@lime/wire';
import { Agent, request } from 'undici';
import { watchDeliveries } from './delivery-watch.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  // Forced GC needs --expose-gc: run again with it.
  const file = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', file], {
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new TypeError(`${name} must be a positive number`);
  return n;
}

const durationS = envNumber('SOAK_DURATION', 60);
const clients = envNumber('SOAK_CLIENTS', 20);
const warmupS = Math.round(Math.min(5, durationS / 6) * 10) / 10;
/** The 2,000 B per login the Core retained before the issue "never lose a login". */
const BASELINE_BYTES = 2_000;
const TARGET_BYTES = 1_200;
const STEADY_RATE = 2_500;
const TTL_MS = 300_000;
const RETENTION_MS = MIN_EVENT_RETENTION_MS;

if (durationS * 2 + warmupS + 1 >= TTL_MS / 1000) {
  throw new TypeError('SOAK_DURATION must stay under 145 s (the phases rely on the request TTL)');
}

const { startCore } = await import('../src/index.js');
let offset = 0;
const core = await startCore({
  powDifficulty: 0,
  rateLimits: false,
  requestTtlMs: TTL_MS,
  retentionMs: RETENTION_MS,
  // Only the phases below sweep: nothing ages out during the run.
  sweepIntervalMs: 3_600_000,
  clock: () => Date.now() + offset,
});
const site = await core.admin.createSite({ name: 'soak' });
const agentTokens: string[] = [];
for (let i = 0; i < clients; i++) {
  agentTokens.push((await core.admin.createAgent({ displayName: `a${i}` })).agentToken);
}

const dispatcher = new Agent({ connections: clients + 4, keepAliveTimeout: 30_000 });
const url = (p: string) => core.apiBase + p;
// One site stream observes every delivery.
const watch = await watchDeliveries(core.apiBase, site.siteToken);

async function post(path: string, headers: Record<string, string>, body: object) {
  const res = await request(url(path), {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    dispatcher,
  });
  const parsed = (await res.body.json()) as { data?: Record<string, unknown> };
  if (res.statusCode >= 300) throw new Error(`POST ${path} → ${res.statusCode}`);
  return parsed.data!;
}

async function oneLogin(agentToken: string): Promise<void> {
  const created = await post(PATHS.createLoginRequest, { 'x-site-token': site.siteToken }, {});
  const id = created.login_request_id as string;
  const delivered = watch.delivered(id);
  await post(PATHS.approveLoginRequest(id), { 'x-agent-token': agentToken }, { pow_nonce: '0' });
  await delivered;
}

let logins = 0;
let errors = 0;
async function drive(untilMs: number): Promise<void> {
  await Promise.all(
    agentTokens.map(async (token) => {
      while (performance.now() < untilMs) {
        try {
          await oneLogin(token);
          logins++;
        } catch {
          errors++;
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    }),
  );
}

/** Heap in use after full collections (twice: finalizers, weak maps). */
async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((r) => setImmediate(r));
  }
  return getHeapStatistics().used_heap_size;
}

await drive(performance.now() + warmupS * 1000);
const h0 = await settledHeap();
logins = 0;
const started = performance.now();
await drive(started + durationS * 1000);
const elapsedS = (performance.now() - started) / 1000;
const measured = logins;
const measuredAt = Date.now();
const hAll = await settledHeap();

// Phase 2: the events' retention is over (requests stay: created < TTL ago).
offset = RETENTION_MS + (Date.now() - measuredAt) + 1_000;
await core.admin.sweep();
const hNoEvents = await settledHeap();
// Phase 3: the requests' retention is over too: nothing of the run is retained.
offset = TTL_MS + RETENTION_MS + (Date.now() - measuredAt) + durationS * 1000 + 10_000;
await core.admin.sweep();
const hNone = await settledHeap();

watch.close();
await core.close();
await dispatcher.close();

const perLogin = (hAll - hNone) / measured;
const perEvent = (hAll - hNoEvents) / measured;
const perRequest = (hNoEvents - hNone) / measured;
// At a steady rate, the heap holds `retention` seconds of events and
// `TTL + retention` seconds of requests.
const projected =
  STEADY_RATE * (perEvent * (RETENTION_MS / 1000) + perRequest * ((TTL_MS + RETENTION_MS) / 1000));
const mb = (b: number) => (b / 1024 / 1024).toFixed(0);

console.log('soak — complete logins (create → approve → SSE delivery), difficulty 0, in-process');
console.log(
  `clients: ${clients}, measured: ${elapsedS.toFixed(1)} s after ${warmupS} s warm-up, ${measured} logins, errors: ${errors}`,
);
console.log(`logins/s: ${(measured / elapsedS).toFixed(0)}`);
console.log(
  `bytes retained per login: ${perLogin.toFixed(0)} B (baseline ${BASELINE_BYTES} B, before the fix)`,
);
console.log(`  event (kept ${RETENTION_MS / 60_000} min): ${perEvent.toFixed(0)} B`);
console.log(`  request (kept ${(TTL_MS + RETENTION_MS) / 60_000} min): ${perRequest.toFixed(0)} B`);
console.log(`heap retained by the run: ${mb(hAll - hNone)} MB (heap before the run ${mb(h0)} MB)`);
console.log(
  `projected heap at ${STEADY_RATE.toLocaleString('en-US')} logins/s: ${mb(projected)} MB`,
);
console.log(
  `target: ≤ ${TARGET_BYTES.toLocaleString('en-US')} B per login: ${perLogin <= TARGET_BYTES ? 'met' : 'MISSED'}`,
);
process.exit(0);
