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
export interface UndiciModule {
  Agent: new (options: UndiciAgentOptions) => UndiciAgent;
}

/**
 * An undici `Agent` for the global `fetch`'s `dispatcher`, on Node; `undefined`
 * elsewhere, and on Node when undici cannot be loaded: then the caller sends
 * through the plain global `fetch` (Node's own undici, with its defaults) and
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
    // Bun and Deno answer `process.versions.node` too; their fetch needs no agent.
    if (!versions.bun && !versions.deno) {
      const code = (error as { code?: unknown } | null)?.code;
      warnOnce(
        'LIME_NO_UNDICI',
        `${sdk}: undici could not be loaded${typeof code === 'string' ? ` (${code})` : ''}, so requests go through the global fetch with Node's defaults: no ${sdk} keep-alive agent, no connect timeout of its own. A bundler that bundles the SDK (Next.js does) resolves undici from the app: add undici to the app's dependencies, or leave the SDK unbundled (Next.js: serverExternalPackages: ['${sdk}']).`,
        `LIME_NO_UNDICI ${sdk}`,
      );
    }
    return undefined;
  }
}
