import { LimeAgent } from 'lime-agents-sdk';
import { type Core, startCore } from 'lime-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SiteBackend, type SiteBackendEvent, startSiteBackend } from '../src/index.js';

let core: Core;
let backend: SiteBackend;
let agent: LimeAgent;
let agentId: string;
let userId: string;
const events: SiteBackendEvent[] = [];

beforeAll(async () => {
  core = await startCore({ powDifficulty: 0 });
  const { siteToken } = await core.admin.createSite({ name: 'shop' });
  const created = await core.admin.createAgent({ displayName: 'bot', userKycLevel: 2 });
  ({ agentId, userId } = created);
  agent = new LimeAgent({ apiBase: core.apiBase, agentToken: created.agentToken });
  backend = await startSiteBackend({
    apiBase: core.apiBase,
    siteToken,
    loginTimeout: 10_000,
    onEvent: (e) => events.push(e),
  });
});

afterAll(async () => {
  await agent?.close();
  await backend?.close();
  await core?.close();
});

/** The JSON answers of the example site, loosely typed for assertions. */
interface SiteAnswer {
  status: number;
  body: { loginRequestId?: string; agent?: Record<string, unknown>; [key: string]: unknown } | null;
}

/** A client with its own cookie. */
function client() {
  let cookie = '';
  return async (path: string, method = 'GET'): Promise<SiteAnswer> => {
    const res = await fetch(backend.url + path, { method, headers: { cookie } });
    const set = res.headers.getSetCookie().map((c) => c.split(';')[0]!);
    if (set.length) cookie = set.filter((c) => !c.endsWith('=')).join('; ');
    return { status: res.status, body: (await res.json().catch(() => null)) as SiteAnswer['body'] };
  };
}

describe('example site backend', () => {
  it('logs an agent in: start → agent approves → finish → /me shows the agent', async () => {
    const call = client();
    expect((await call('/me')).status).toBe(401);
    const start = await call('/login/start', 'POST');
    expect(start.status).toBe(201);
    expect(start.body?.loginRequestId).toMatch(/\S/);
    await agent.login(start.body!.loginRequestId!);
    const finish = await call('/login/finish', 'POST');
    expect(finish).toMatchObject({ status: 200, body: { agentId, userId } });
    const me = await call('/me');
    expect(me.status).toBe(200);
    expect(me.body!.agent).toMatchObject({
      agentId,
      userId,
      userKycLevel: 2,
      loginRequestId: start.body!.loginRequestId!,
    });
    const verified = events.filter((e) => e.type === 'passport-verified');
    expect(verified.map((e) => e.passport.requestId)).toContain(start.body!.loginRequestId!);
    // The login cookie was consumed: finishing again is refused.
    expect((await call('/login/finish', 'POST')).status).toBe(400);
    expect((await call('/logout', 'POST')).status).toBe(204);
  });

  it('refuses to finish a login this client did not start', async () => {
    const stranger = client();
    expect((await stranger('/login/finish', 'POST')).status).toBe(400);
  });

  it('answers 410 when the login request expires unapproved', async () => {
    const call = client();
    const start = await call('/login/start', 'POST');
    const finishing = call('/login/finish', 'POST');
    await core.admin.expireLoginRequest(start.body!.loginRequestId!);
    const finish = await finishing;
    expect(finish.status).toBe(410);
    expect((await call('/me')).status).toBe(401);
  });
});
