// `pnpm bench:verify`: fresh site-passport verifications per second per core,
// LimeSite.verifyPassport() (all checks on: RS256 via Node's synchronous
// crypto.verify with a cached KeyObject, header rules, aud, lifetime ≤ 120 s,
// expiry with tolerance, iss, required claims, request_id binding, jti insert
// into the replay store) against jose's jwtVerify with a WebCrypto key doing
// the same claim checks, in the same process, on the same tokens.
//
// Tokens: a pool of distinct passports (unique jti and request_id) minted
// locally with node:crypto; every pass over the pool starts from an empty
// replay store (LimeSite's default kind, a MemoryReplayStore, cleared), so
// each verification is of a token that store has never seen (nothing is
// cached per token: only keys and the parsed header are). No Core needed.
import { verify as cryptoVerify, generateKeyPairSync, sign } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { importJWK, jwtVerify } from 'jose';
import { bareVerify } from '../../../scripts/lib/bare-verify.js';
import { formatRatio, type PairedRatio, pairedRatios } from '../../../scripts/lib/paired-ratio.js';
import { LimeSite, MemoryReplayStore } from '../src/index.js';

const POOL = Number(process.env.BENCH_POOL ?? 3_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 20);
const ISSUER = 'https://lime.pics';
const API_BASE = 'https://lime.pics/api/v1';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = {
  ...(publicKey.export({ format: 'jwk' }) as object),
  kid: 'bench',
  use: 'sig',
  alg: 'RS256',
};
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

const mintStarted = performance.now();
const header = b64({ alg: 'RS256', kid: 'bench', typ: 'JWT' });
const now = Math.floor(Date.now() / 1000);
const tokens = Array.from({ length: POOL }, (_, i) => {
  const payload = b64({
    iss: ISSUER,
    sub: `ag_${i % 97}`,
    aud: 'lime-site-login',
    iat: now,
    exp: now + 60,
    jti: `jti_${i}_${Math.random().toString(36).slice(2)}`,
    request_id: `lr_${i}`,
    site_id: 'site_bench',
    user_id: `usr_${i % 89}`,
    user_kyc_level: 2,
    agent_reputation: 0.8,
    passport_version: 1,
  });
  const input = `${header}.${payload}`;
  return {
    token: `${input}.${sign('RSA-SHA256', Buffer.from(input), privateKey).toString('base64url')}`,
    requestId: `lr_${i}`,
  };
});
const mintMs = performance.now() - mintStarted;

const store = new MemoryReplayStore();
const site = new LimeSite({
  siteToken: 'st_bench',
  apiBase: API_BASE,
  issuer: ISSUER,
  replayStore: store,
  fetch: async () =>
    new Response(JSON.stringify({ keys: [jwk] }), {
      headers: { 'content-type': 'application/json' },
    }),
});

const cryptoKey = await importJWK(jwk, 'RS256');
const joseStore = new MemoryReplayStore();
async function joseVerify(token: string, requestId: string) {
  const { payload } = await jwtVerify(token, cryptoKey, {
    algorithms: ['RS256'],
    audience: 'lime-site-login',
    issuer: ISSUER,
    maxTokenAge: '120s',
    clockTolerance: 30,
    requiredClaims: ['exp', 'iat', 'sub', 'jti', 'request_id', 'site_id', 'user_id'],
    typ: 'JWT',
  });
  if (payload.request_id !== requestId) throw new Error('request_id mismatch');
  if (!joseStore.consume(payload.jti!, new Date((payload.exp! + 30) * 1000)))
    throw new Error('replay');
}

interface Result {
  count: number;
  wallMs: number;
  cpuMs: number;
}

interface Contender {
  verify: (token: string, requestId: string) => Promise<unknown>;
  reset: () => void;
  inFlight: number;
}

/** One pass over the pool with a fresh replay store, `inFlight` at a time. */
async function pass({ verify, reset, inFlight }: Contender): Promise<void> {
  reset();
  if (inFlight === 1) {
    for (const { token, requestId } of tokens) await verify(token, requestId);
  } else {
    for (let i = 0; i < tokens.length; i += inFlight) {
      await Promise.all(tokens.slice(i, i + inFlight).map((t) => verify(t.token, t.requestId)));
    }
  }
}

/**
 * The machine is shared, so contenders run interleaved in ROUNDS rounds of
 * about SECONDS / ROUNDS each, and each reports its best round (by CPU time):
 * a burst of load from other processes hurts one round, not one contender.
 * Every contender gets the same warm-up (two passes over the pool).
 */
async function compare(contenders: Contender[]): Promise<Result[]> {
  for (const c of contenders) for (let w = 0; w < 2; w++) await pass(c);
  const best: Result[] = contenders.map(() => ({ count: 0, wallMs: 0, cpuMs: Infinity }));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, c] of contenders.entries()) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      let count = 0;
      while (performance.now() - t0 < (SECONDS * 1000) / ROUNDS) {
        await pass(c);
        count += tokens.length;
      }
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const round = { count, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
      const held = best[i]!;
      if (round.count / round.cpuMs > held.count / held.cpuMs) best[i] = round;
    }
  }
  return best;
}

// Ceiling: the signature check alone (node:crypto, cached KeyObject), no parsing or claims.
const raw = tokens.map(({ token }) => {
  const dot = token.lastIndexOf('.');
  return {
    data: Buffer.from(token.slice(0, dot)),
    signature: Buffer.from(token.slice(dot + 1), 'base64url'),
  };
});
const payloadBytes = Buffer.allocUnsafe(8_192);
/** The ceiling's work (scripts/lib/bare-verify.ts, as in bench:mcp-verify): the signature checked, nothing else read. */
function checkSignature(token: string): void {
  if (!bareVerify(token, publicKey)) throw new Error('bad');
}
const contenders: Contender[] = [
  {
    verify: (token, expectedRequestId) => site.verifyPassport(token, { expectedRequestId }),
    reset: () => {
      store.clear();
    },
    inFlight: 1,
  },
  {
    verify: joseVerify,
    reset: () => {
      joseStore.clear();
    },
    inFlight: 1,
  },
  {
    verify: joseVerify,
    reset: () => {
      joseStore.clear();
    },
    inFlight: 64,
  },
  {
    // What the simplest correct code must do to check a token's signature (the
    // MCP bench's ceiling too): signing input and signature taken from the token.
    verify: async (token) => {
      checkSignature(token);
    },
    reset: () => {},
    inFlight: 1,
  },
  {
    verify: async (_token, requestId) => {
      const i = Number(requestId.slice(3));
      if (!cryptoVerify('RSA-SHA256', raw[i]!.data, publicKey, raw[i]!.signature))
        throw new Error('bad');
    },
    reset: () => {},
    inFlight: 1,
  },
  {
    // The floor of any verifier that reads the claims: the ceiling's work plus
    // the payload decoded (into a reused buffer: no allocation) and parsed.
    // No claim checked, nothing recorded.
    verify: async (token) => {
      checkSignature(token);
      const d1 = token.indexOf('.');
      const d2 = token.indexOf('.', d1 + 1);
      const length = payloadBytes.write(token.slice(d1 + 1, d2), 0, 'base64url');
      return JSON.parse(payloadBytes.toString('utf8', 0, length));
    },
    reset: () => {},
    inFlight: 1,
  },
];
const [ours, jose1, jose64, ceiling, prebuilt, floor] = (await compare(contenders)) as [
  Result,
  Result,
  Result,
  Result,
  Result,
  Result,
];
// The issue's figure, robust to the shared machine: see scripts/lib/paired-ratio.ts.
const passOf = (c: Contender) => () => pass(c);
const [vsToken, vsBytes, vsFloor] = (await pairedRatios(
  passOf(contenders[0]!),
  [passOf(contenders[3]!), passOf(contenders[4]!), passOf(contenders[5]!)],
  PAIRS,
)) as [PairedRatio, PairedRatio, PairedRatio];
const [floorVsToken] = (await pairedRatios(
  passOf(contenders[5]!),
  [passOf(contenders[3]!)],
  PAIRS,
)) as [PairedRatio];
await site.close();

const perCore = (r: Result) => Math.round(r.count / (r.cpuMs / 1000));
const perWall = (r: Result) => Math.round(r.count / (r.wallMs / 1000));
const fmt = (n: number) => n.toLocaleString('en-US');

console.log(
  `lime-sites-sdk verify bench — Node ${process.versions.node}, ${availableParallelism()} CPUs visible, pool ${fmt(POOL)} passports (minted in ${Math.round(mintMs)} ms), ${SECONDS} s per contender in ${ROUNDS} interleaved rounds`,
);
console.log(
  'per core = verifications / process CPU seconds (all threads) of the best round; wall = verifications / elapsed seconds of that round; ratios below: median of paired passes',
);
console.log('');
console.log('| path | per core (/s) | wall (/s) | baseline (/s) | ratio |');
console.log('|---|---|---|---|---|');
console.log(
  `| LimeSite.verifyPassport, all checks | ${fmt(perCore(ours))} | ${fmt(perWall(ours))} | ${fmt(perCore(jose1))} | ${(perCore(ours) / perCore(jose1)).toFixed(2)}x |`,
);
console.log(
  `| jose jwtVerify + WebCrypto key, 1 in flight (baseline) | ${fmt(perCore(jose1))} | ${fmt(perWall(jose1))} | | |`,
);
console.log(
  `| jose jwtVerify + WebCrypto key, 64 in flight | ${fmt(perCore(jose64))} | ${fmt(perWall(jose64))} | | |`,
);
console.log(
  `| ceiling: crypto.verify of the token (signature decoded from it), no checks | ${fmt(perCore(ceiling))} | ${fmt(perWall(ceiling))} | | |`,
);
console.log(
  `| crypto.verify of pre-decoded bytes (nothing taken from the token) | ${fmt(perCore(prebuilt))} | ${fmt(perWall(prebuilt))} | | |`,
);
console.log(
  `| floor: crypto.verify of the token + payload JSON.parse, no checks | ${fmt(perCore(floor))} | ${fmt(perWall(floor))} | | |`,
);
// The issue's figure: what all the checks cost on top of the signature check
// itself. The ceiling is bare crypto.verify of the token, as in the MCP bench
// (mcp-verify.bench.ts); against pre-decoded bytes for comparison.
const ratio = Math.round(vsToken.median * 100);
const ratioTarget = 85;
console.log('');
console.log(`verifyPassport per core vs bare crypto.verify of the token: ${formatRatio(vsToken)}`);
console.log(
  `verifyPassport per core vs crypto.verify of pre-decoded bytes: ${formatRatio(vsBytes)}`,
);
// What the target asks against what is possible: a verifier must parse the
// payload to check any claim, so the floor bounds every verifier's ratio.
console.log(
  `floor (signature + payload JSON.parse, no checks) per core vs bare crypto.verify of the token: ${formatRatio(floorVsToken)}`,
);
console.log(`verifyPassport per core vs that floor: ${formatRatio(vsFloor)}`);
console.log(
  `target ≥ ${ratioTarget} % of bare crypto.verify of the token: ${ratio >= ratioTarget ? 'met' : 'NOT met'} (${ratio} %; machine shared, figures are noisy)`,
);
const target = 35_000;
console.log(
  `target ≥ ${fmt(target)}/s per core: ${perCore(ours) >= target ? 'met' : 'NOT met'} (${fmt(perCore(ours))}/s; machine shared, figures are noisy)`,
);
