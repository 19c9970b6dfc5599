// Next.js as a user runs it: `next build`, `next start`, `next dev`, each a
// child process of the installed `next` CLI, on the Node that runs the tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The example app (where `next.config.ts` and `app/` are). */
export const appDir = fileURLToPath(new URL('..', import.meta.url));

const nextBin = createRequire(`${appDir}package.json`).resolve('next/dist/bin/next');

/**
 * The environment of a Next child: ours minus what would change Next's mode
 * (vitest sets NODE_ENV=test) or leak a LIME credential into it, plus `env`.
 */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
  for (const name of Object.keys(base)) {
    if (name === 'NODE_ENV' || name.startsWith('LIME_')) delete base[name];
  }
  return { ...base, ...env };
}

function run(args: string[], env: Record<string, string>): ChildProcess {
  // Its own process group, so `close()` also ends the workers it forks.
  return spawn(process.execPath, [nextBin, ...args], {
    cwd: appDir,
    env: childEnv(env),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** `next build` with `env`; resolves with its output, rejects with it on failure. */
export async function nextBuild(env: Record<string, string> = {}): Promise<string> {
  const child = run(['build'], env);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`next build exited with ${code}:\n${output}`);
  return output;
}

/** A running `next start` or `next dev`. */
export interface NextServer {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** Everything the server printed so far (the app's console.log included). */
  output(): string;
  /** SIGTERM to the server's process group; resolves once it exited. */
  close(): Promise<void>;
}

/** `next start` or `next dev` on a free port of 127.0.0.1, with `env`. */
export async function startNext(
  command: 'start' | 'dev',
  env: Record<string, string>,
  extraArgs: string[] = [],
): Promise<NextServer> {
  const child = run([command, ...extraArgs, '--port', '0', '--hostname', '127.0.0.1'], env);
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
    await exited;
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`next ${command} was not ready within 60 s:\n${output}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const local = /Local:\s+(http:\/\/\S+)/.exec(output);
      if (local && /Ready in/.test(output)) {
        clearTimeout(timer);
        resolve(local[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`next ${command} exited with ${code}:\n${output}`));
    });
  }).catch(async (error: unknown) => {
    await close();
    throw error;
  });
  return { url, output: () => output, close };
}
