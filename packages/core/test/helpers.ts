import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, generateKeyPair, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isValidNonce, meetsDifficulty, PATHS, powPreimage } from '@lime/wire';
import { type Core, type CoreOptions, startCore } from 'lime-core';
import { Agent, request } from 'undici';

// biome-ignore lint/suspicious/noExplicitAny: test responses are inspected loosely
type Json = any;

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Json;
}

let sharedKey: Promise<KeyObject> | undefined;

/**
 * Start a Core with one RSA key shared by the whole test file: key
 * generation is the slowest part of startCore, and these tests are about
 * behaviour, not key generation (rotation still generates fresh keys).
 */
export async function startTestCore(options: CoreOptions = {}): Promise<Core> {
  sharedKey ??= new Promise((resolve, reject) =>
    generateKeyPair('rsa', { modulusLength: 2048 }, (err, _pub, priv) =>
      err ? reject(err) : resolve(priv),
    ),
  );
  return startCore({ signingKey: await sharedKey, ...options });
}

/** One keep-alive dispatcher per test file; close it in afterAll. */
export function httpClient() {
  const dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 128 });
  return {
    dispatcher,
    async call(
      method: string,
      url: string,
      opts: { headers?: Record<string, string>; body?: unknown; rawBody?: string | Buffer } = {},
    ): Promise<HttpResult> {
      const headers: Record<string, string> = { ...opts.headers };
      let body: string | Buffer | undefined;
      if (opts.rawBody !== undefined) body = opts.rawBody;
      else if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await request(url, { method: method as 'GET', headers, body, dispatcher });
      const text = await res.body.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.statusCode, headers: res.headers, text, json: json as Json };
    },
    close: () => dispatcher.close(),
  };
}

export type HttpClient = ReturnType<typeof httpClient>;

/** Solve the §3.3 puzzle by brute force (tests use small difficulties). */
export function solvePow(challenge: string, difficulty: number): string {
  for (let n = 0; ; n++) {
    const nonce = String(n);
    const digest = createHash('sha256').update(powPreimage(challenge, nonce)).digest();
    if (meetsDifficulty(digest, difficulty) && isValidNonce(nonce)) return nonce;
  }
}

/** A site and an agent, freshly provisioned. */
export async function provision(core: Core) {
  const site = await core.admin.createSite({ name: 'test site' });
  const agent = await core.admin.createAgent({
    displayName: 'test bot',
    userKycLevel: 2,
    agentReputation: 0.75,
  });
  return { site, agent };
}

/** Create a login request as the site; returns its id. */
export async function createRequest(http: HttpClient, core: Core, siteToken: string) {
  const r = await http.call('POST', core.apiBase + PATHS.createLoginRequest, {
    headers: { 'x-site-token': siteToken },
    body: {},
  });
  if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text}`);
  return r.json.data.login_request_id as string;
}

/** Read the challenge and approve with a valid nonce. */
export async function approve(http: HttpClient, core: Core, id: string, agentToken: string) {
  const ch = await http.call('GET', core.apiBase + PATHS.loginChallenge(id));
  const nonce =
    ch.status === 200 ? solvePow(ch.json.data.pow_challenge, ch.json.data.pow_difficulty) : '0';
  return http.call('POST', core.apiBase + PATHS.approveLoginRequest(id), {
    headers: { 'x-agent-token': agentToken },
    body: { pow_nonce: nonce },
  });
}

export interface SseMessage {
  id: string | undefined;
  data: Json;
  /** Arrival time (ms). */
  at: number;
}

/**
 * Open the login event stream and collect parsed messages. `cutAfterBytes`
 * drops the connection after that many bytes (mid-frame, possibly).
 */
export async function openStream(
  url: string,
  siteToken: string,
  opts: { lastEventId?: string; dispatcher?: Agent; cutAfterBytes?: number } = {},
) {
  const { createParser } = await import('eventsource-parser');
  const ac = new AbortController();
  const headers: Record<string, string> = {
    'x-site-token': siteToken,
    accept: 'text/event-stream',
  };
  if (opts.lastEventId !== undefined) headers['last-event-id'] = opts.lastEventId;
  const res = await request(url, {
    method: 'GET',
    headers,
    signal: ac.signal,
    ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
  });
  const messages: SseMessage[] = [];
  let retry: number | undefined;
  let raw = '';
  const waiters: Array<() => void> = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  const parser = createParser({
    onEvent(e) {
      let data: unknown;
      try {
        data = JSON.parse(e.data);
      } catch {
        data = e.data;
      }
      messages.push({ id: e.id, data, at: performance.now() });
      wake();
    },
    onRetry(r) {
      retry = r;
    },
  });
  let ended = false;
  let bytes = 0;
  const decoder = new TextDecoder();
  const feed = (buf: Uint8Array) => {
    const s = decoder.decode(buf, { stream: true });
    raw += s;
    parser.feed(s);
  };
  const done = (async () => {
    try {
      for await (const chunk of res.body) {
        let buf = chunk as Buffer;
        if (opts.cutAfterBytes !== undefined && bytes + buf.length >= opts.cutAfterBytes) {
          buf = buf.subarray(0, Math.max(0, opts.cutAfterBytes - bytes));
          bytes += buf.length;
          feed(buf);
          ac.abort();
          break;
        }
        bytes += buf.length;
        feed(buf);
      }
    } catch {
      // aborted or reset
    }
    ended = true;
    wake();
  })();
  return {
    status: res.statusCode,
    headers: res.headers,
    messages,
    get raw() {
      return raw;
    },
    get retry() {
      return retry;
    },
    get ended() {
      return ended;
    },
    /** Resolve once `pred` holds for the collected messages. */
    async until(pred: (m: SseMessage[]) => boolean, timeoutMs = 5_000): Promise<SseMessage[]> {
      const deadline = Date.now() + timeoutMs;
      while (!pred(messages)) {
        if (ended) throw new Error(`stream ended; got ${JSON.stringify(messages)}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timeout; got ${JSON.stringify(messages)}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return messages;
    },
    /** Resolves when the server ends the stream (or it is cut). */
    done,
    close() {
      ac.abort();
      return done;
    },
  };
}

/** Events other than keepalives. */
export function significant(messages: SseMessage[]): Array<Omit<SseMessage, 'at'>> {
  return messages.filter((m) => m.data?.type !== 'keepalive').map(({ id, data }) => ({ id, data }));
}

/**
 * Open the login event stream and keep the raw text, with no SSE parser in
 * between: the hosted profile's per-line frames (`data: {json}\n`, no blank
 * line) are checked byte for byte, and each complete `data:` line is read as
 * one JSON event.
 */
export async function openRawStream(
  url: string,
  siteToken: string,
  opts: { headers?: Record<string, string>; dispatcher?: Agent } = {},
) {
  const ac = new AbortController();
  const res = await request(url, {
    method: 'GET',
    headers: { 'x-site-token': siteToken, accept: 'text/event-stream', ...opts.headers },
    signal: ac.signal,
    ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
  });
  let raw = '';
  let ended = false;
  const waiters: Array<() => void> = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  const decoder = new TextDecoder();
  const done = (async () => {
    try {
      for await (const chunk of res.body) {
        raw += decoder.decode(chunk as Buffer, { stream: true });
        wake();
      }
    } catch {
      // aborted or reset
    }
    ended = true;
    wake();
  })();
  /** Every complete `data:` line, parsed. */
  const events = (): Json[] =>
    raw
      .split('\n')
      .slice(0, -1)
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)));
  return {
    status: res.statusCode,
    headers: res.headers,
    get raw() {
      return raw;
    },
    get ended() {
      return ended;
    },
    events,
    /** Events other than keepalives. */
    significant: () => events().filter((e) => e.type !== 'keepalive'),
    /** Resolve once `pred` holds for the raw text received so far. */
    async until(pred: (raw: string) => boolean, timeoutMs = 5_000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      while (!pred(raw)) {
        if (ended) throw new Error(`stream ended; got ${JSON.stringify(raw)}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timeout; got ${JSON.stringify(raw)}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return raw;
    },
    done,
    close() {
      ac.abort();
      return done;
    },
  };
}

/** Header and payload of a JWT, decoded without verifying. */
export function decodeJwt(jwt: string): { header: Json; payload: Json } {
  const [h, p] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(h!, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')),
  };
}

/** Shape of the Core's event ids (§3.5): `<epoch>-<n>`. */
export const EVENT_ID = /^[A-Za-z0-9_]{1,64}-(0|[1-9][0-9]*)$/;

/** The position part `n` of an event id `<epoch>-<n>` (undefined stays undefined). */
export function seq(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  if (!EVENT_ID.test(id)) throw new Error(`not an event id of the Core: ${JSON.stringify(id)}`);
  return id.slice(id.lastIndexOf('-') + 1);
}

/** The epoch part of an event id `<epoch>-<n>`. */
export function epochOf(id: string | undefined): string {
  if (id === undefined || !EVENT_ID.test(id)) throw new Error(`not an event id: ${id}`);
  return id.slice(0, id.lastIndexOf('-'));
}

/** The epoch of a site's event log, read from the position a fresh stream announces. */
export async function streamEpoch(core: Core, siteToken: string): Promise<string> {
  const s = await openStream(core.apiBase + PATHS.loginEvents, siteToken);
  const [position] = await s.until((m) => m.some((x) => x.id !== undefined));
  await s.close();
  return epochOf(position!.id);
}

const cliPath = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
// By URL: a bare `--import tsx` resolves from the child's working directory.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface RunningCli {
  child: ChildProcess;
  out: string;
  err: string;
  exited: Promise<number | null>;
  /** A value of the banner: `field('site token')`. */
  field(name: string): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Spawn the CLI (from its sources) and wait until it is serving (or has exited). */
export async function runCli(args: string[], cwd?: string): Promise<RunningCli> {
  const child = spawn(process.execPath, ['--import', tsx, cliPath, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: RunningCli = {
    child,
    out: '',
    err: '',
    exited: new Promise((resolve) => child.on('exit', resolve)),
    field(name) {
      const value = new RegExp(`^  ${name}\\s+(\\S+)$`, 'm').exec(run.out)?.[1];
      if (value === undefined) throw new Error(`no '${name}' in the banner:\n${run.out}${run.err}`);
      return value;
    },
    stop() {
      child.kill('SIGTERM');
      return run.exited;
    },
  };
  child.stdout!.on('data', (d) => {
    run.out += d.toString();
  });
  child.stderr!.on('data', (d) => {
    run.err += d.toString();
  });
  let done = false;
  void run.exited.then(() => {
    done = true;
  });
  const deadline = Date.now() + 15_000;
  while (!run.out.includes('Ctrl-C') && !done && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return run;
}
