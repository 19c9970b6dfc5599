// loadUndiciAgent: the undici Agent on Node; where undici cannot be loaded,
// the plain global fetch and one warning per SDK. The real case (a bundle
// that cannot resolve undici) is examples/runtime-matrix/test/bundled-on-node.test.ts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadUndiciAgent, warnOnce } from '../src/index.js';

const options = { keepAliveTimeout: 1_000, connect: { timeout: 1_000 } };
const missing = () =>
  Promise.reject(
    Object.assign(new Error("Cannot find package 'undici'"), { code: 'ERR_MODULE_NOT_FOUND' }),
  );

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('loadUndiciAgent', () => {
  it('builds an Agent from the real undici on Node', async () => {
    const agent = await loadUndiciAgent('sdk-real', () => import('undici'), options);
    const { Agent } = await import('undici');
    expect(agent).toBeInstanceOf(Agent);
    await agent?.close?.();
  });

  it('without undici: undefined and one warning per SDK, naming the fix and the error code', async () => {
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    expect(await loadUndiciAgent('sdk-a', missing, options)).toBeUndefined();
    expect(await loadUndiciAgent('sdk-a', missing, options)).toBeUndefined();
    expect(await loadUndiciAgent('sdk-b', missing, options)).toBeUndefined();
    expect(emit).toHaveBeenCalledTimes(2);
    const [message, opts] = emit.mock.calls[0] as [string, { code: string }];
    expect(opts.code).toBe('LIME_NO_UNDICI');
    expect(message).toMatch(/^sdk-a: undici could not be loaded or used \(ERR_MODULE_NOT_FOUND\)/);
    expect(message).toMatch(/serverExternalPackages: \['sdk-a'\]/);
    expect(String(emit.mock.calls[1]?.[0])).toMatch(/^sdk-b: /);
  });

  it('a module without an Agent counts as missing, named by the error name', async () => {
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    expect(await loadUndiciAgent('sdk-no-agent', async () => ({}), options)).toBeUndefined();
    expect(emit).toHaveBeenCalledTimes(1);
    expect(String(emit.mock.calls[0]?.[0])).toMatch(/could not be loaded or used \(TypeError\)/);
  });

  it("the warning never carries the error's message (it holds paths)", async () => {
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const secretPath = () =>
      Promise.reject(
        Object.assign(new Error('imported from /home/me/app/server.mjs'), {
          code: 'not a code /home',
        }),
      );
    await loadUndiciAgent('sdk-paths', secretPath, options);
    const message = String(emit.mock.calls[0]?.[0]);
    expect(message).toMatch(/\(Error\)/);
    expect(message).not.toMatch(/home|server\.mjs/);
  });

  it('Bun and Deno (which answer process.versions.node too): undefined, no warning', async () => {
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    for (const runtime of ['bun', 'deno']) {
      vi.stubGlobal('process', { ...process, versions: { node: '20.0.0', [runtime]: '1.0.0' } });
      expect(await loadUndiciAgent(`sdk-${runtime}`, missing, options)).toBeUndefined();
    }
    expect(emit).not.toHaveBeenCalled();
  });

  it('workerd with nodejs_compat (answers process.versions.node): undefined, no warning', async () => {
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    vi.stubGlobal('navigator', { userAgent: 'Cloudflare-Workers' });
    expect(await loadUndiciAgent('sdk-workerd', missing, options)).toBeUndefined();
    expect(emit).not.toHaveBeenCalled();
  });

  it('not Node (a Worker): undefined, undici never loaded', async () => {
    vi.stubGlobal('process', undefined);
    const load = vi.fn(missing);
    expect(await loadUndiciAgent('sdk-worker', load, options)).toBeUndefined();
    expect(load).not.toHaveBeenCalled();
  });
});

describe('warnOnce', () => {
  it('once per key, the code by default', () => {
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    warnOnce('LIME_TEST_ONCE', 'first');
    warnOnce('LIME_TEST_ONCE', 'second');
    warnOnce('LIME_TEST_KEYED', 'a', 'a');
    warnOnce('LIME_TEST_KEYED', 'b', 'b');
    expect(emit.mock.calls.map((c) => c[0])).toEqual(['first', 'a', 'b']);
  });

  it('a runtime whose emitWarning throws: nothing thrown', () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {
      throw new Error('no');
    });
    expect(() => warnOnce('LIME_TEST_THROWS', 'x')).not.toThrow();
  });
});
