// The README's code runs as written against the reference Core, so the first
// screen and the express example cannot rot.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { PATHS } from '@lime/wire';
import { type Core, startCore } from 'lime-core';
import type { LimeSite } from 'lime-sites-sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
// Inside the package so bare imports (express) resolve like in a user's project.
const dir = new URL('./.tmp/', import.meta.url);

let core: Core;
let siteToken: string;
let agent: { agentId: string; agentToken: string; userId: string };

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  core = await startCore({ powDifficulty: 0 });
  ({ siteToken } = await core.admin.createSite({ name: 'readme' }));
  agent = await core.admin.createAgent({ displayName: 'readme bot' });
  vi.stubEnv('LIME_SITE_TOKEN', siteToken);
  vi.stubEnv('LIME_API_BASE', core.apiBase);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
  await core.close();
});

function write(name: string, code: string): string {
  const file = new URL(name, dir);
  writeFileSync(file, code);
  return file.pathname;
}

async function approve(requestId: string) {
  const res = await fetch(core.apiBase + PATHS.approveLoginRequest(requestId), {
    method: 'POST',
    headers: { 'x-agent-token': agent.agentToken, 'content-type': 'application/json' },
    body: JSON.stringify({ pow_nonce: '0' }),
  });
  expect(res.status).toBe(200);
}

describe('README', () => {
  it('quick start: creates a request, and logs the verified agent once approved', async () => {
    expect(blocks[0]).toContain('site.waitForLogin(loginRequestId)');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const running = import(/* @vite-ignore */ write('quick-start.ts', blocks[0]!));
      await expect.poll(() => log.mock.calls.length, { timeout: 10_000 }).toBeGreaterThan(0);
      const [label, id] = log.mock.calls[0]!;
      expect(label).toBe('hand this to the agent:');
      await approve(id as string);
      await running;
      expect(log.mock.calls[1]).toEqual([
        `agent ${agent.agentId} of user ${agent.userId} logged in`,
      ]);
    } finally {
      log.mockRestore();
    }
  });

  it('several instances: the onLogin + claimPassport snippet completes each login on exactly one instance', async () => {
    const block = blocks.find((b) => b.includes('site.claimPassport(passport); // exactly one'));
    expect(block).toBeDefined();
    const mod = (await import(
      /* @vite-ignore */ write(
        'claim-snippet.ts',
        `import { InvalidPassportError, type LimeSite } from 'lime-sites-sdk';
export function install(site: LimeSite, completeLogin: (id: string, agentId: string) => Promise<void>) {
${block}
}`,
      )
    )) as {
      install: (site: LimeSite, complete: (id: string, agentId: string) => Promise<void>) => void;
    };
    const { LimeSite: Site, MemoryReplayStore } = await import('lime-sites-sdk');
    const replayStore = new MemoryReplayStore(); // stands in for Redis shared by the instances
    const instances = [0, 1, 2].map(() => new Site({ replayStore }));
    const completed: Array<[number, string, string]> = [];
    try {
      instances.forEach((s, i) => {
        mod.install(s, async (id, agentId) => {
          completed.push([i, id, agentId]);
        });
      });
      await Promise.all(instances.map((s) => s.connect()));
      for (let round = 0; round < 2; round++) {
        const { loginRequestId } = await instances[round]!.createLoginRequest();
        await approve(loginRequestId);
        await expect
          .poll(() => completed.filter(([, id]) => id === loginRequestId).length, {
            timeout: 5_000,
          })
          .toBe(1);
      }
      await new Promise((r) => setTimeout(r, 100)); // no late second completion
      expect(completed).toHaveLength(2);
      expect(completed.every(([, , agentId]) => agentId === agent.agentId)).toBe(true);
    } finally {
      await Promise.all(instances.map((s) => s.close()));
    }
  });

  it('login endpoints in five lines: start → agent approves → finish sets the session cookie once', async () => {
    const block = blocks.find((b) => b.includes('toExpressHandler(login.finish)'));
    expect(block).toBeDefined();
    expect(blocks.indexOf(block!)).toBe(1); // the five-line version comes first
    const sessions: string[] = [];
    const mod = (await import(
      /* @vite-ignore */ write(
        'five-lines.ts',
        `${block}
async function createSession(passport: { agentId: string }) {
  (globalThis as { readmeSessions?: string[] }).readmeSessions!.push(passport.agentId);
  return 'session-1';
}
export { app, site };`,
      )
    )) as { app: import('express').Express; site: LimeSite };
    (globalThis as { readmeSessions?: string[] }).readmeSessions = sessions;
    const server = mod.app.listen(0, '127.0.0.1');
    try {
      await new Promise((r) => server.once('listening', r));
      const address = server.address();
      const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const start = await fetch(`${base}/login/start`, { method: 'POST' });
      expect(start.status).toBe(201);
      const { loginRequestId } = (await start.json()) as { loginRequestId: string };
      const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
      await approve(loginRequestId);
      const finish = await fetch(`${base}/login/finish`, { method: 'POST', headers: { cookie } });
      expect(finish.status).toBe(200);
      expect(finish.headers.getSetCookie().some((c) => c.startsWith('sid=session-1;'))).toBe(true);
      expect(sessions).toEqual([agent.agentId]);
      const again = await fetch(`${base}/login/finish`, { method: 'POST', headers: { cookie } });
      expect(again.status).toBe(409);
      expect(sessions).toHaveLength(1);
    } finally {
      await new Promise((r) => server.close(r));
      await mod.site.close();
    }
  });

  it('express backend: start → agent approves → finish gives the agent; a replayed finish is refused', async () => {
    vi.stubEnv('PORT', '0');
    const block = blocks.find((b) => b.includes('export const server = app.listen'));
    expect(block).toBeDefined();
    const mod = (await import(/* @vite-ignore */ write('express-backend.ts', block!))) as {
      server: Server;
      site: LimeSite;
    };
    try {
      if (!mod.server.listening) await new Promise((r) => mod.server.once('listening', r));
      const address = mod.server.address();
      const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const start = await fetch(`${base}/login/start`, { method: 'POST' });
      expect(start.status).toBe(201);
      const { loginRequestId } = (await start.json()) as { loginRequestId: string };
      const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
      expect(cookie).toMatch(/^lime_login=/);
      await approve(loginRequestId);
      const finish = await fetch(`${base}/login/finish`, { method: 'POST', headers: { cookie } });
      expect(finish.status).toBe(200);
      expect(await finish.json()).toEqual({ agentId: agent.agentId, userId: agent.userId });
      const again = await fetch(`${base}/login/finish`, { method: 'POST', headers: { cookie } });
      expect(again.status).toBe(400);
      const stranger = await fetch(`${base}/login/finish`, { method: 'POST' });
      expect(stranger.status).toBe(400);
    } finally {
      await new Promise((r) => mod.server.close(r));
      await mod.site.close();
    }
  });
});
