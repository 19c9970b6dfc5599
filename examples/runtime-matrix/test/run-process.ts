import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Run `command` in the example's folder (or `cwd`) and collect its output;
 * killed after `timeoutMs`, which the output then says.
 */
export function runProcess(
  command: string,
  args: string[],
  timeoutMs: number,
  env: Record<string, string> = {},
  cwd = fileURLToPath(new URL('..', import.meta.url)),
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      stderr += `\n(killed after ${timeoutMs} ms: the process did not exit — a handle left open by close()?)`;
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
