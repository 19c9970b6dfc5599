import { warnOnce } from './process-warning.js';

/** What the SDKs use of an undici `Agent` (Bun's built-in one lacks `close` and `destroy`). */
export interface UndiciAgent {
  close?(): Promise<void>;
  destroy?(): Promise<void>;
}

/** Options passed to `new Agent()`. */
export interface UndiciAgentOptions {
  keepAliveTimeout: number;
  connect: { timeout: number };
  bodyTimeout?: number;
}

/** The `undici` module as far as the SDKs need it. */
interface UndiciModule {
  Agent: new (options: UndiciAgentOptions) => UndiciAgent;
}

/**
 * An undici `Agent` for the global `fetch`'s `dispatcher`, on Node; `undefined`
 * elsewhere, and on Node when undici cannot be loaded or used: then the caller
 * sends through the plain global `fetch` (the process's global dispatcher) and
 * this warns once per SDK (`LIME_NO_UNDICI`), naming the fix. That happens when a
 * bundler puts the SDK into an app (Next.js does, by default) and leaves
 * `import('undici')` to be resolved from the bundle's folder, where a strict
 * pnpm app that does not depend on undici has none.
 *
 * `load` is the SDK's own `import('undici')`, so each SDK keeps the form
 * bundlers should see.
 *
 * @example
 * const agent = await loadUndiciAgent('lime-sites-sdk', () => import('undici'), options);
 */
export async function loadUndiciAgent(
  sdk: string,
  load: () => Promise<unknown>,
  options: UndiciAgentOptions,
): Promise<UndiciAgent | undefined> {
  const versions = (
    globalThis as { process?: { versions?: { node?: string; bun?: string; deno?: string } } }
  ).process?.versions;
  if (!versions?.node) return undefined;
  try {
    const undici = (await load()) as Partial<UndiciModule> | undefined;
    if (typeof undici?.Agent !== 'function') throw new TypeError('undici has no Agent');
    return new undici.Agent(options);
  } catch (error) {
    if (!nodeItself(versions)) return undefined;
    warnOnce(
      'LIME_NO_UNDICI',
      `${sdk}: undici could not be loaded or used (${errorCode(error)}), so requests go through the plain global fetch: the process's global dispatcher (with any proxy, interceptor or TLS setting other code installed there), Node's 10 s connect timeout and 300 s body timeout, instead of the SDK's own keep-alive agent. A bundler that bundles the SDK (Next.js does) resolves undici from the app: add undici to the app's dependencies, or leave the SDK unbundled (Next.js: serverExternalPackages: ['${sdk}']).`,
      `LIME_NO_UNDICI ${sdk}`,
    );
    return undefined;
  }
}

/**
 * Node itself, not a runtime that answers `process.versions.node` for
 * compatibility: Bun and Deno (whose fetch needs no agent), workerd with
 * nodejs_compat (whose fetch ignores one).
 */
function nodeItself(versions: { bun?: string; deno?: string }): boolean {
  if (versions.bun || versions.deno) return false;
  const userAgent = (globalThis as { navigator?: { userAgent?: unknown } }).navigator?.userAgent;
  return userAgent !== 'Cloudflare-Workers';
}

/** The error's `code` (`ERR_MODULE_NOT_FOUND`) or name; never its message, which holds paths. */
function errorCode(error: unknown): string {
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  if (typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code)) return code;
  return typeof name === 'string' && /^[A-Za-z]{1,64}$/.test(name) ? name : 'unknown error';
}
