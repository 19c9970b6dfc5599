// The default transport: the global fetch with a keep-alive undici Agent, or
// the plain global fetch where undici cannot be loaded (the real case, a
// bundle without undici, is examples/runtime-matrix/test/bundled-on-node.test.ts).
import { afterEach, describe, expect, it, vi } from 'vitest';

const loader = vi.hoisted(() => ({ answer: undefined as unknown }));
vi.mock('@lime/wire', async (original) => ({
  ...(await original<typeof import('@lime/wire')>()),
  loadUndiciAgent: vi.fn(async () => loader.answer),
}));

const { createTransport } = await import('../src/internal/default-transport.js');

afterEach(() => {
  vi.unstubAllGlobals();
});

function stubFetch() {
  const seen: Array<RequestInit | undefined> = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_input: unknown, init?: RequestInit) => {
      seen.push(init);
      return new Response('{}');
    }),
  );
  return seen;
}

describe('createTransport', () => {
  it('with an agent: every request carries it as dispatcher; close() destroys it', async () => {
    const agent = { destroy: vi.fn(async () => {}) };
    loader.answer = agent;
    const seen = stubFetch();
    const transport = createTransport(undefined);
    await transport.fetch('http://core.test/a', { method: 'POST' });
    await transport.fetch('http://core.test/b');
    expect(seen.map((i) => (i as { dispatcher?: unknown }).dispatcher)).toEqual([agent, agent]);
    expect(seen[0]?.method).toBe('POST');
    await transport.close();
    expect(agent.destroy).toHaveBeenCalledOnce();
  });

  it('without undici: the plain global fetch, the caller’s init untouched', async () => {
    loader.answer = undefined;
    const seen = stubFetch();
    const transport = createTransport(undefined);
    const init = { method: 'GET', headers: { 'x-test': '1' } };
    const response = await transport.fetch('http://core.test/a', init);
    expect(response.ok).toBe(true);
    expect(seen).toEqual([init]);
    await expect(transport.close()).resolves.toBeUndefined();
  });

  it('closed while undici loads: the request is refused and the new agent released', async () => {
    const agent = { destroy: vi.fn(async () => {}) };
    let release!: () => void;
    const { loadUndiciAgent } = await import('@lime/wire');
    vi.mocked(loadUndiciAgent).mockImplementationOnce(
      () => new Promise((resolve) => (release = () => resolve(agent))),
    );
    stubFetch();
    const transport = createTransport(undefined);
    const request = transport.fetch('http://core.test/a');
    const closing = transport.close();
    release();
    await expect(request).rejects.toThrow(/closed/);
    await closing;
    expect(agent.destroy).toHaveBeenCalled();
  });
});
