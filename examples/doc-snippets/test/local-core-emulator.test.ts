// Copy this file to start your own integration tests: a real Core on a free
// port, real HTTP, your code unchanged except for the API base and tokens.
import { LimeAgent } from 'lime-agents-sdk';
import { type Core, startCore } from 'lime-core';
import { LimeSite, LoginExpiredError } from 'lime-sites-sdk';
import { afterAll, beforeAll, expect, test } from 'vitest';

let core: Core;
let site: LimeSite;
let agent: LimeAgent;
let agentId: string;

beforeAll(async () => {
  // Difficulty 0: no proof of work, so tests stay fast. Use 15 to match hosted.
  core = await startCore({ powDifficulty: 0 });
  const { siteToken } = await core.admin.createSite({ name: 'my site under test' });
  const created = await core.admin.createAgent({ displayName: 'test agent', userKycLevel: 1 });
  agentId = created.agentId;
  site = new LimeSite({ apiBase: core.apiBase, siteToken });
  agent = new LimeAgent({ apiBase: core.apiBase, agentToken: created.agentToken });
});

afterAll(async () => {
  await agent.close();
  await site.close();
  await core.close();
});

test('an agent logs in', async () => {
  const { loginRequestId } = await site.createLoginRequest();
  await agent.login(loginRequestId);
  const passport = await site.waitForLogin(loginRequestId);
  expect(passport.agentId).toBe(agentId);
  expect(passport.userKycLevel).toBe(1);
});

test('a request nobody approves expires', async () => {
  const { loginRequestId } = await site.createLoginRequest();
  const waiting = site.waitForLogin(loginRequestId);
  await core.admin.expireLoginRequest(loginRequestId); // no need to wait 5 minutes
  await expect(waiting).rejects.toBeInstanceOf(LoginExpiredError);
});

test('when two agents race for one request, exactly one wins', async () => {
  const rival = await core.admin.createAgent({ displayName: 'rival' });
  const rivalAgent = new LimeAgent({ apiBase: core.apiBase, agentToken: rival.agentToken });
  const { loginRequestId } = await site.createLoginRequest();
  const results = await Promise.allSettled([
    agent.login(loginRequestId),
    rivalAgent.login(loginRequestId),
  ]);
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  expect(results.find((r) => r.status === 'rejected')).toMatchObject({
    reason: { code: 'REQUEST_ALREADY_APPROVED' },
  });
  const passport = await site.waitForLogin(loginRequestId);
  expect([agentId, rival.agentId]).toContain(passport.agentId);
  await rivalAgent.close();
});

test('a revoked agent token is refused', async () => {
  const other = await core.admin.createAgent({ displayName: 'revoked' });
  await core.admin.revokeAgentToken(other.agentId);
  const revoked = new LimeAgent({ apiBase: core.apiBase, agentToken: other.agentToken });
  const { loginRequestId } = await site.createLoginRequest();
  await expect(revoked.login(loginRequestId)).rejects.toMatchObject({
    code: 'INVALID_AGENT_TOKEN',
  });
  await revoked.close();
});
