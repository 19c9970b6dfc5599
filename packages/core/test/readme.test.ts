// The README's first example runs as written (imports aside), so it cannot rot.
import { readFileSync } from 'node:fs';
import { startCore } from 'lime-core';
import { expect, test } from 'vitest';

test('README quick start runs', async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toContain('startCore');
  const body = block!.replace(/^import .*$/gm, '');
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
    ...args: string[]
  ) => (...a: unknown[]) => Promise<void>;
  const fakeProcess = { env: {} as Record<string, string> };
  let started: Awaited<ReturnType<typeof startCore>> | undefined;
  const tracking = async (o: Parameters<typeof startCore>[0]) => {
    started = await startCore(o);
    return started;
  };
  await new AsyncFunction('startCore', 'process', body)(tracking, fakeProcess);
  expect(fakeProcess.env.LIME_API_BASE).toBe(started!.apiBase);
  // The example closed its Core: the port no longer answers.
  await expect(fetch(`${started!.apiBase}/core/.well-known/jwks.json`)).rejects.toThrow();
});
