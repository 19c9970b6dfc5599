/** Read an environment variable where the runtime has `process.env`; `undefined` elsewhere. */
export function readEnv(name: string): string | undefined {
  try {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
      ?.env;
    const value = env?.[name];
    return value === undefined || value === '' ? undefined : value;
  } catch {
    return undefined;
  }
}

/**
 * A number of seconds from the environment, as the Python verifier reads its
 * `*_SECONDS` variables (`int(os.environ[...])`; a decimal fraction is
 * accepted too). `undefined` when unset; a `TypeError` naming the variable
 * when it is not a number.
 */
export function readEnvSeconds(name: string): number | undefined {
  const raw = readEnv(name);
  if (raw === undefined) return undefined;
  if (!/^\s*\+?\d+(\.\d+)?\s*$/.test(raw)) {
    throw new TypeError(
      `${name} must be a non-negative number of seconds, got '${raw.slice(0, 20)}'`,
    );
  }
  return Number(raw);
}

const warned = new Set<string>();

/**
 * A process warning (`process.emitWarning`, so Node prints it once and
 * `--no-warnings` silences it), once per `code` per process; nothing on
 * runtimes without it. The SDK logs nothing else.
 */
export function warnOnce(code: string, message: string): void {
  if (warned.has(code)) return;
  warned.add(code);
  try {
    const emit = (
      globalThis as {
        process?: { emitWarning?: (message: string, options: { code: string }) => void };
      }
    ).process?.emitWarning;
    emit?.(message, { code });
  } catch {
    // A runtime whose emitWarning throws has nowhere to warn.
  }
}
