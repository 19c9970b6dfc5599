// Runs the Python peer drivers of `../../py/` as child processes: finds a
// Python that has the Debian packages the reference SDKs need, spawns a
// driver with a hard timeout, and reads its stdout as JSON lines.
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The drivers and the `mcp` stub. */
export const PY_DIR = resolve(here, '../../py');
const REPO = resolve(here, '../../../..');
/** The published Python SDKs, read-only, beside the repository (see peer.py). */
export const PYTHON_SDKS_DIR =
  process.env.LIME_PYTHON_SDKS_DIR ?? resolve(REPO, '../shared/reference/python-sdks');

/** Modules the three SDKs import (besides `mcp`, which is stubbed). */
const REQUIRED_MODULES = ['httpx', 'jwt', 'cryptography', 'anyio'];

/** `LIME_SKIP_PYTHON_PEERS=1` turns the suite off (the only way: a missing Python fails it). */
export const SKIP_PYTHON_PEERS = process.env.LIME_SKIP_PYTHON_PEERS === '1';

/**
 * The first interpreter that imports every required module: `LIME_PYTHON`
 * when set, then Debian's `/usr/bin/python3` (where `apt-get install
 * python3-httpx …` puts them), then `python3` from PATH (a pyenv or venv
 * Python usually lacks them).
 *
 * @throws Error naming every candidate and why it failed, and the fix.
 */
export function findPython(): string {
  const candidates = [process.env.LIME_PYTHON, '/usr/bin/python3', 'python3'].filter(
    (c): c is string => Boolean(c),
  );
  const tried: string[] = [];
  for (const candidate of [...new Set(candidates)]) {
    try {
      execFileSync(candidate, ['-c', `import ${REQUIRED_MODULES.join(', ')}`], {
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: 15_000,
      });
      return candidate;
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim().split('\n').pop();
      tried.push(`${candidate}: ${stderr || (err as Error).message}`);
    }
  }
  throw new Error(
    `no Python with ${REQUIRED_MODULES.join(', ')} found (tried ${tried.join('; ')}). ` +
      'Run `bash scripts/install-python-peers.sh` (Debian packages), set LIME_PYTHON to an ' +
      'interpreter that has them, or set LIME_SKIP_PYTHON_PEERS=1 to skip these tests.',
  );
}

/** Throws unless the reference SDK sources are where the drivers look for them. */
export function assertReferenceSdks(): void {
  for (const sdk of ['lime-site-sdk', 'lime-agents-sdk', 'lime-mcp-server-sdk']) {
    const src = join(PYTHON_SDKS_DIR, sdk, 'src');
    if (!existsSync(src)) {
      throw new Error(
        `Python SDK sources missing at ${src}: the repository expects shared/ beside it ` +
          '(or LIME_PYTHON_SDKS_DIR pointing at reference/python-sdks).',
      );
    }
  }
}

/** One JSON line of a driver: `event` names it. */
export interface PeerEvent {
  event: string;
  [field: string]: unknown;
}

export interface PeerRun {
  /** The next line whose `event` is `name`; rejects on an `error` line or exit. */
  next(name: string): Promise<PeerEvent>;
  /** Every line so far. */
  readonly lines: PeerEvent[];
  /** Resolves with the exit code (after stdout has ended). */
  readonly exited: Promise<number | null>;
  readonly child: ChildProcessWithoutNullStreams;
  kill(): void;
}

export interface PeerOptions {
  python: string;
  args?: string[];
  env: Record<string, string>;
  stdin?: string;
  /** Killed after this long. @default 30_000 (milliseconds) */
  timeoutMs?: number;
}

/** Spawn `py/<script>` with only the given environment (plus PATH and the SDK location). */
export function runPeer(script: string, options: PeerOptions): PeerRun {
  const child = spawn(options.python, ['-u', join(PY_DIR, script), ...(options.args ?? [])], {
    cwd: PY_DIR,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LIME_PYTHON_SDKS_DIR: PYTHON_SDKS_DIR,
      PYTHONDONTWRITEBYTECODE: '1',
      ...options.env,
    },
  });
  const timeoutMs = options.timeoutMs ?? 30_000;
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines: PeerEvent[] = [];
  const waiting: Array<{
    name: string;
    resolve: (e: PeerEvent) => void;
    reject: (e: Error) => void;
  }> = [];
  let failure: Error | undefined;
  const fail = (error: Error) => {
    failure ??= error;
    for (const w of waiting.splice(0)) w.reject(failure);
  };
  const describeRun = () => `${script} (stderr: ${stderr.trim().slice(-2_000) || 'empty'})`;

  const rl = createInterface({ input: child.stdout });
  rl.on('line', (raw) => {
    let event: PeerEvent;
    try {
      event = JSON.parse(raw) as PeerEvent;
    } catch {
      fail(new Error(`${script} printed a non-JSON line: ${raw.slice(0, 500)}`));
      return;
    }
    lines.push(event);
    if (event.event === 'error') {
      fail(
        new Error(
          `${script} failed: ${event.type}: ${event.message}` +
            ` (code ${event.code}, HTTP ${event.http_status})\n${event.traceback}`,
        ),
      );
      return;
    }
    const i = waiting.findIndex((w) => w.name === event.event);
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(event);
  });
  const timer = setTimeout(() => {
    fail(new Error(`${describeRun()} still running after ${timeoutMs} ms: killed`));
    child.kill('SIGKILL');
  }, timeoutMs);
  const exited = new Promise<number | null>((resolveExit) => {
    child.on('error', (err) => {
      fail(err);
      resolveExit(null);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      fail(new Error(`${describeRun()} exited with code ${code}`));
      resolveExit(code);
    });
  });
  if (options.stdin !== undefined) child.stdin.end(options.stdin);
  else child.stdin.end();

  return {
    lines,
    exited,
    child,
    next(name) {
      const seen = lines.find((l) => l.event === name && !consumed.has(l));
      if (seen) {
        consumed.add(seen);
        return Promise.resolve(seen);
      }
      if (failure) return Promise.reject(failure);
      return new Promise((res, rej) => {
        waiting.push({
          name,
          resolve: (e) => {
            consumed.add(e);
            res(e);
          },
          reject: rej,
        });
      });
    },
    kill() {
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

const consumed = new WeakSet<PeerEvent>();
