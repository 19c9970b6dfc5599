const warned = new Set<string>();

/**
 * A process warning (`process.emitWarning`, so `--no-warnings` silences it),
 * once per `key` (the `code` unless given) per process; nothing on runtimes
 * without it. The SDKs log nothing else.
 *
 * @example
 * warnOnce('LIME_HOSTED_DEFAULT', 'no base URL configured: using https://lime.pics');
 */
export function warnOnce(code: string, message: string, key: string = code): void {
  if (warned.has(key)) return;
  warned.add(key);
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
