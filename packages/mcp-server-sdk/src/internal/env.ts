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
