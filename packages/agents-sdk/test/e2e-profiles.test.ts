// The agent SDK end to end against both Core profiles over real HTTP: the
// reference Core ('core') and the hosted-like one ('hosted': UUID ids,
// unprefixed tokens, hosted error codes, 200 on create, no winner
// idempotency, MCP tokens without the domain extension). Login, profile,
// MCP token and the typed errors must be the same whichever answers.
import { PATHS } from '@lime/wire';
import { decodeJwt } from 'jose';
import { LimeAgent, NotFoundError } from 'lime-agents-sdk';
import { type Core, type CoreProfile, startCore } from 'lime-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe.each<CoreProfile>(['core', 'hosted'])('against the %s profile', (profile) => {
  let core: Core;
  let agent: LimeAgent;
  let agentId: string;
  let agentToken: string;
  let siteToken: string;

  beforeAll(async () => {
    core = await startCore({ profile, powDifficulty: 8 });
    ({ siteToken } = await core.admin.createSite({ name: `agents e2e ${profile}` }));
    ({ agentId, agentToken } = await core.admin.createAgent({ displayName: `${profile}-bot` }));
    agent = new LimeAgent({ apiBase: core.apiBase, agentToken });
  });
  afterAll(async () => {
    await agent?.close();
    await core?.close();
  });

  async function createLoginRequest(): Promise<string> {
    const res = await fetch(core.apiBase + PATHS.createLoginRequest, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-site-token': siteToken },
      body: '{}',
    });
    expect([200, 201]).toContain(res.status);
    return ((await res.json()) as { data: { login_request_id: string } }).data.login_request_id;
  }

  it('logs in (proof of work at difficulty 8) with a token of this profile', async () => {
    if (profile === 'hosted') expect(agentToken).not.toMatch(/^at_/);
    const id = await createLoginRequest();
    const result = await agent.login(id);
    expect(result.requestId).toBe(id);
    expect(['APPROVED', 'DELIVERED']).toContain(result.status);
    expect(result.warnings).toEqual([]);
  });

  it('an unknown id is NotFoundError, whatever code the server spells it with', async () => {
    const error = await agent
      .login('00000000-0000-4000-8000-000000000000')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).code).toBe(
      profile === 'hosted' ? 'SITE_LOGIN_REQUEST_NOT_FOUND' : 'REQUEST_NOT_FOUND',
    );
  });

  it('an approve without a nonce is a 400 (MISSING_POW_NONCE on hosted)', async () => {
    const id = await createLoginRequest();
    const res = await fetch(core.apiBase + PATHS.approveLoginRequest(id), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-agent-token': agentToken },
      body: '{}',
    });
    expect(res.status).toBe(400);
    const code = ((await res.json()) as { error: { code: string } }).error.code;
    expect(code).toBe(profile === 'hosted' ? 'MISSING_POW_NONCE' : 'VALIDATION_ERROR');
  });

  it('reads its profile and gets an MCP token (domain claim only where the Core binds)', async () => {
    const me = await agent.getProfile();
    expect(me.agentId).toBe(agentId);
    const token = await agent.getMcpAccessToken('tools.example.com');
    const claims = decodeJwt(token.accessToken);
    expect(claims).toMatchObject({ sub: agentId, aud: 'mcp' });
    if (profile === 'hosted') expect(claims.domain).toBeUndefined();
    else expect(claims.domain).toBe('tools.example.com');
  });
});
